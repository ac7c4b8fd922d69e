"""Small generated video files for the video tests: a clip whose frame number can be read
back from its pixels, and the three kinds of bad file (not a video, no video stream, 0 s)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from contrastkit.data.video_synth import write_video

SQUARE = 8
STEP = 4
"""The white square of frame n starts at x = STEP * n."""


def square_frames(count: int, *, height: int = 64, width: int = 256) -> list[np.ndarray]:
    """Frame n: a dark frame with a white SQUARE x SQUARE square at x = STEP * n."""
    frames = []
    for n in range(count):
        rgb = np.full((height, width, 3), 16, dtype=np.uint8)
        top = (height - SQUARE) // 2
        rgb[top : top + SQUARE, STEP * n : STEP * n + SQUARE] = 235
        frames.append(rgb)
    return frames


def square_number(frame: np.ndarray) -> float:
    """The frame number a (3, H, W) frame of `square_frames` shows (from the square's centre)."""
    columns = frame.astype(np.float64).mean(axis=(0, 1)) - 16
    weights = np.clip(columns, 0, None)
    centre = float((weights * np.arange(len(weights))).sum() / weights.sum())
    return (centre - (SQUARE - 1) / 2) / STEP


def square_clip(
    path: Path, *, seconds: float = 2.0, rate: int = 25, codec: str = "libx264"
) -> Path:
    write_video(path, square_frames(round(seconds * rate)), rate=rate, crf=18, codec=codec)
    return path


def not_a_video(path: Path) -> Path:
    path.write_bytes(b"these bytes are not a video file " * 8)
    return path


def audio_only(path: Path) -> Path:
    """An .mp4 holding one AAC audio stream (a second of silence) and no video."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        for i in range(16):
            frame = av.AudioFrame.from_ndarray(
                np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
            )
            frame.sample_rate, frame.pts = 16000, i * 1024
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def zero_seconds(path: Path) -> Path:
    """An .mkv with an H.264 video stream and no frame in it."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        container.start_encoding()
        packet = av.Packet(b"")
        packet.stream, packet.pts, packet.dts = stream, 0, 0
        container.mux(packet)
    return path
