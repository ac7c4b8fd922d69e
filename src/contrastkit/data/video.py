"""Video files as frames sampled in time, decoded with PyAV (`av` on PyPI, which ships its own
FFmpeg): paths in, uint8 frames with their time stamps and JPEG thumbnails out.

Sampling at `fps` keeps the first decoded frame of each time slot ``[k / fps, (k + 1) / fps)``,
so a 25 frame/s video sampled at 1 frame/s gives the frames at 0, 1, 2, ... s, and a rate
above the video's own gives every frame once. Time stamps are seconds from the first frame
(what an HTML5 player's `currentTime` counts). Each kept frame is scaled so that its shorter
side fits the model's input, then centre-cropped to it, as CLIP's image processor does.

A frame's id is ``<video path>#t=<seconds>`` (the W3C media-fragment form), so an answer
names the file and the moment.

Example:
    >>> for chunk in read_frames(Path("clip.mp4"), fps=1.0, size=(224, 224)):
    ...     chunk.frames.shape, chunk.times[:3]   # (n, 3, 224, 224), [0.0, 1.0, 2.0]
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from contrastkit.errors import UserError

VIDEO_SUFFIXES = (".mp4", ".webm", ".mkv", ".mov", ".m4v", ".avi")
THUMBNAIL_SIDE = 160
"""The longer side of a frame's JPEG thumbnail, in pixels."""
THUMBNAIL_QUALITY = 80
CHUNK = 128
"""Frames handed out at a time (memory holds one chunk of model inputs)."""
_FRAGMENT = "#t="


class BadVideo(Exception):
    """A file that cannot be read as a video; the message says why (without the path)."""


def import_av() -> Any:
    """The PyAV module (the `video` extra).

    Raises:
        UserError: PyAV is not installed (how to install it).
    """
    try:
        import av
    except ImportError:
        raise UserError(
            "videos are decoded with PyAV: pip install 'contrastkit[video]' (or pip install av)"
        ) from None
    return av


def frame_id(video: str, seconds: float) -> str:
    """The id of the frame of `video` at `seconds`: ``clip.mp4#t=12.000``."""
    return f"{video}{_FRAGMENT}{seconds:.3f}"


def parse_frame_id(identifier: str) -> tuple[str, float] | None:
    """(video, seconds) of a frame id, or None when `identifier` is not one."""
    video, sep, seconds = identifier.rpartition(_FRAGMENT)
    if not sep or not video:
        return None
    try:
        return video, float(seconds)
    except ValueError:
        return None


def is_video_file(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


def holds_videos(path: Path) -> bool:
    """True for a video file, or a folder with at least one video file under it."""
    if path.is_dir():
        return any(p.is_file() and is_video_file(p) for p in path.rglob("*"))
    return is_video_file(path)


def video_files(path: Path) -> list[Path]:
    """`path` itself (a video file) or the video files under a folder, sorted.

    Raises:
        UserError: no such path, or no video file (mp4, webm, mkv, mov, m4v, avi) in it.
    """
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise UserError(f"--data {path}: no such file or folder")
    found = sorted(p for p in path.rglob("*") if p.is_file() and is_video_file(p))
    if not found:
        raise UserError(
            f"--data {path}: no video files in this folder ({', '.join(VIDEO_SUFFIXES)})"
        )
    return found


@dataclass(frozen=True)
class FrameChunk:
    """Consecutive sampled frames of one video.

    Attributes:
        frames: Shape: (n, 3, H, W) uint8 RGB, the model's input size.
        times: Shape: (n,) float64, seconds from the video's first frame.
        thumbnails: n JPEG images of the whole frame (longer side `THUMBNAIL_SIDE`).
    """

    frames: np.ndarray
    times: np.ndarray
    thumbnails: list[bytes]


@dataclass
class VideoRead:
    """What reading one video found, filled in as its chunks are read.

    Attributes:
        duration: Seconds from the first frame to the end of the last one.
        frame_rate: The video's average frames per second (None when it does not say).
        sampled: Frames kept.
    """

    duration: float = 0.0
    frame_rate: float | None = None
    sampled: int = 0


def read_frames(
    path: Path, *, fps: float, size: tuple[int, int], read: VideoRead | None = None
) -> Iterator[FrameChunk]:
    """The frames of `path` sampled at `fps`, scaled and centre-cropped to `size` (H, W).

    Args:
        path: A video file.
        fps: Frames per second to keep (> 0); above the video's own rate every frame is kept
            once.
        size: (H, W) of the model's input.
        read: Filled in with the duration, rate and count as the chunks are read.

    Raises:
        BadVideo: the file cannot be opened or decoded, has no video stream, or has no
            frame (0 s long).
    """
    if not fps > 0 or not math.isfinite(fps):
        raise ValueError(f"fps must be a positive number, got {fps}")
    read = read if read is not None else VideoRead()
    av = import_av()
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, UnicodeDecodeError) as err:
        raise BadVideo(f"cannot open as a video ({_reason(err)})") from None
    with container:
        if not container.streams.video:
            kinds = sorted({s.type for s in container.streams})
            found = f"only {', '.join(kinds)}" if kinds else "no streams at all"
            raise BadVideo(f"has no video stream ({found})")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = stream.average_rate
        read.frame_rate = float(rate) if rate else None
        yield from _sample(container, stream, fps=fps, size=size, read=read)
    if read.sampled == 0:
        raise BadVideo("is 0 s long (no frame could be decoded)")


def _sample(
    container: Any, stream: Any, *, fps: float, size: tuple[int, int], read: VideoRead
) -> Iterator[FrameChunk]:
    av = import_av()
    frames: list[np.ndarray] = []
    times: list[float] = []
    thumbs: list[bytes] = []
    start: float | None = None
    last_slot = -1
    last_time = 0.0
    try:
        for number, frame in enumerate(container.decode(stream)):
            t = _frame_time(frame, number, stream)
            start = t if start is None else start
            t = max(t - start, 0.0)
            last_time = max(last_time, t)
            slot = math.floor(t * fps + 1e-6)
            if slot <= last_slot:
                continue
            last_slot = slot
            frames.append(_model_input(frame, size))
            thumbs.append(_thumbnail(frame))
            times.append(t)
            if len(frames) == CHUNK:
                read.sampled += len(frames)
                yield FrameChunk(np.stack(frames), np.asarray(times), thumbs)
                frames, times, thumbs = [], [], []
    except (av.FFmpegError, OSError) as err:
        raise BadVideo(f"cannot be decoded ({_reason(err)})") from None
    if frames:
        read.sampled += len(frames)
        yield FrameChunk(np.stack(frames), np.asarray(times), thumbs)
    if read.sampled:
        step = 1.0 / read.frame_rate if read.frame_rate else 0.0
        read.duration = last_time + step


def _reason(err: BaseException) -> str:
    """The library's reason without the path (the caller names the file)."""
    reason = getattr(err, "strerror", None) or str(err)
    return " ".join(str(reason).split()) or type(err).__name__


def _frame_time(frame: Any, number: int, stream: Any) -> float:
    """The frame's presentation time in seconds; its number over the rate when it has none."""
    if frame.time is not None:
        return float(frame.time)
    rate = stream.average_rate or Fraction(25)
    return number / float(rate)


def _model_input(frame: Any, size: tuple[int, int]) -> np.ndarray:
    """The frame scaled so that it covers `size` (H, W), then centre-cropped: (3, H, W)."""
    h, w = size
    scale = max(h / frame.height, w / frame.width)
    sh = max(h, round(frame.height * scale))
    sw = max(w, round(frame.width * scale))
    rgb = frame.reformat(width=sw, height=sh, format="rgb24", interpolation="AREA").to_ndarray()
    top, left = (sh - h) // 2, (sw - w) // 2
    return np.ascontiguousarray(rgb[top : top + h, left : left + w].transpose(2, 0, 1))


def _thumbnail(frame: Any) -> bytes:
    """The whole frame as a JPEG, its longer side `THUMBNAIL_SIDE` (never enlarged)."""
    scale = min(1.0, THUMBNAIL_SIDE / max(frame.width, frame.height))
    tw, th = max(1, round(frame.width * scale)), max(1, round(frame.height * scale))
    rgb = frame.reformat(width=tw, height=th, format="rgb24", interpolation="AREA").to_ndarray()
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="JPEG", quality=THUMBNAIL_QUALITY)
    return out.getvalue()
