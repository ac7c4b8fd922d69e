"""Videos for a run's image tower: video frames are images. A video file or a folder of them
is sampled at `fps` (`data/video.py`), each frame read at the training images' size and
channels and embedded chunk by chunk (memory holds one chunk); each row's id names the video
and the time (``clip.mp4#t=12.000``) and keeps a JPEG thumbnail, and the info lists every
video's duration, so that a search can merge frames into scenes (`index/scenes.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor

from contrastkit.data.video import BadVideo, VideoRead, frame_id, read_frames, video_files
from contrastkit.errors import UserError
from contrastkit.modalities.base import Embedded, EmbedOptions, Log
from contrastkit.modalities.images.query import match_channels

VIDEOS_KEY = "videos"
"""The info key of an index of video frames: {video path: duration in seconds}."""


def embed_videos(
    path: Path,
    *,
    shape: tuple[int, int, int],
    embed: Callable[[Tensor], Tensor],
    options: EmbedOptions,
    log: Log,
) -> Embedded:
    """Every sampled frame of the videos at `path`, embedded.

    Args:
        path: A video file, or a folder searched for video files.
        shape: (C, H, W) of the model's images (frames are scaled and centre-cropped).
        embed: uint8 images (n, C, H, W) -> (n, D) embeddings.
        options: `fps` (frames per second to sample) and `skip_bad`.

    Raises:
        UserError: a video cannot be decoded, has no video stream or is 0 s long (one line
            naming it; with `options.skip_bad` it is left out and counted), or no video
            remains.
    """
    files = video_files(path)
    vectors: list[Tensor] = []
    ids: list[str] = []
    thumbnails: list[bytes] = []
    durations: dict[str, float] = {}
    above_rate: list[float] = []
    skipped = 0
    for file in files:
        read = VideoRead()
        try:
            z, frame_ids, pictures = _embed_video(file, shape, embed, options.fps, read)
        except BadVideo as err:
            if not options.skip_bad:
                raise UserError(f"--data {file}: {err} (pass --skip-bad to leave it out)") from None
            skipped += 1
            log(f"skipped {file}: {err}")
            continue
        vectors.append(z)
        ids.extend(frame_ids)
        thumbnails.extend(pictures)
        durations[str(file.absolute())] = read.duration
        if read.frame_rate is not None and options.fps > read.frame_rate:
            above_rate.append(read.frame_rate)
    if not ids:
        raise UserError(f"--data {path}: no readable video (skipped {skipped} bad files)")
    notes = [f"skipped {skipped} bad video files (--skip-bad)"] if skipped else []
    if above_rate:
        notes.append(
            f"--fps {options.fps:g} is above the frame rate of {len(above_rate)} video(s) "
            f"(at most {max(above_rate):g} frames/s): capped there, each frame kept once"
        )
    c, h, w = shape
    log(
        f"data: {len(durations)} video(s), {sum(durations.values()):.1f} s, {len(ids)} frames "
        f"sampled at up to {options.fps:g}/s, read at {c}x{h}x{w}"
    )
    for note in notes:
        log(f"note: {note}")
    return Embedded(
        torch.cat(vectors),
        ids,
        path.name,
        notes=notes,
        info={"data": path.name, "image_hw": [h, w], "fps": options.fps, VIDEOS_KEY: durations},
        thumbnails=thumbnails,
    )


def _embed_video(
    file: Path,
    shape: tuple[int, int, int],
    embed: Callable[[Tensor], Tensor],
    fps: float,
    read: VideoRead,
) -> tuple[Tensor, list[str], list[bytes]]:
    """One video's frames embedded, with their ids and thumbnails (all or nothing).

    Raises:
        BadVideo: the video cannot be read (see `read_frames`).
    """
    c, h, w = shape
    name = str(file.absolute())
    vectors: list[Tensor] = []
    ids: list[str] = []
    thumbnails: list[bytes] = []
    for chunk in read_frames(file, fps=fps, size=(h, w), read=read):
        vectors.append(embed(match_channels(torch.from_numpy(chunk.frames), c)))
        ids.extend(frame_id(name, t) for t in chunk.times)
        thumbnails.extend(chunk.thumbnails)
    return torch.cat(vectors), ids, thumbnails
