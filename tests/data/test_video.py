"""Video decoding (data/video.py): a generated clip decoded at known time stamps in three
containers, the rate cap, thumbnails, and the three kinds of bad file named."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.data.videos import (
    audio_only,
    not_a_video,
    square_clip,
    square_number,
    zero_seconds,
)

from contrastkit.data.video import (
    BadVideo,
    VideoRead,
    holds_videos,
    read_frames,
    video_files,
)
from contrastkit.errors import UserError


def _all(path: Path, fps: float, size: tuple[int, int] = (64, 256)) -> tuple[np.ndarray, ...]:
    read = VideoRead()
    chunks = list(read_frames(path, fps=fps, size=size, read=read))
    frames = np.concatenate([c.frames for c in chunks])
    times = np.concatenate([c.times for c in chunks])
    thumbs = [t for c in chunks for t in c.thumbnails]
    return frames, times, np.array([read.duration, read.frame_rate, read.sampled]), thumbs


@pytest.mark.parametrize(
    ("suffix", "codec"), [(".mp4", "libx264"), (".mkv", "libx264"), (".webm", "libvpx-vp9")]
)
def test_frames_at_known_times(tmp_path: Path, suffix: str, codec: str) -> None:
    """25 frames/s sampled at 2/s keeps the first frame of each half second: frame
    n = ceil(12.5 k) at n / 25 s, and its pixels show that frame number."""
    clip = square_clip(tmp_path / f"clip{suffix}", codec=codec)
    frames, times, (duration, rate, sampled), _ = _all(clip, fps=2.0)
    expected = np.ceil(12.5 * np.arange(4)).astype(int)  # 0, 13, 25, 38
    np.testing.assert_allclose(times, expected / 25, atol=1e-6)
    shown = [square_number(f) for f in frames]
    np.testing.assert_allclose(shown, expected, atol=0.3)
    assert (duration, rate, sampled) == (pytest.approx(2.0), 25.0, 4)


def test_a_rate_above_the_videos_keeps_every_frame_once(tmp_path: Path) -> None:
    frames, times, (_, _, sampled), _ = _all(square_clip(tmp_path / "c.mp4"), fps=1000.0)
    assert sampled == 50
    np.testing.assert_allclose(times, np.arange(50) / 25, atol=1e-6)
    np.testing.assert_allclose([square_number(f) for f in frames], np.arange(50), atol=0.3)


def test_frames_are_scaled_and_centre_cropped_and_thumbnailed(tmp_path: Path) -> None:
    """A 64x256 frame read at 16x16: scaled by 1/4 to 16x64 and the middle columns 24-39
    kept. Frame n's square (columns 4n..4n+7) becomes columns n..n+1, so it is at
    n - 24 + 0.5 in the crop, and not in it for frames 5 and 45. The thumbnail is the
    whole frame, 160x40."""
    frames, _, _, thumbs = _all(square_clip(tmp_path / "c.mp4"), fps=25.0, size=(16, 16))
    assert frames.shape == (50, 3, 16, 16) and frames.dtype == np.uint8
    for n in (26, 30, 34):
        columns = np.clip(frames[n].astype(float).mean(axis=(0, 1)) - 16, 0, None)
        centre = (columns * np.arange(16)).sum() / columns.sum()
        assert centre == pytest.approx(n - 24 + 0.5, abs=0.25)
    assert frames[5].max() < 40 and frames[45].max() < 40
    picture = Image.open(io.BytesIO(thumbs[10]))
    assert picture.format == "JPEG" and picture.size == (160, 40)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (not_a_video, "cannot open as a video (Invalid data found when processing input)"),
        (audio_only, "has no video stream (only audio)"),
        (zero_seconds, "is 0 s long"),
    ],
)
def test_bad_files_say_why(tmp_path: Path, make, message: str) -> None:
    suffix = ".mkv" if make is zero_seconds else ".mp4"
    path = make(tmp_path / f"bad{suffix}")
    with pytest.raises(BadVideo) as err:
        list(read_frames(path, fps=1.0, size=(8, 8)))
    assert message in str(err.value) and str(tmp_path) not in str(err.value)


def test_video_files_and_folders(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    a = square_clip(tmp_path / "sub" / "b.MKV", seconds=0.2)
    b = square_clip(tmp_path / "a.mp4", seconds=0.2)
    (tmp_path / "notes.txt").write_text("not a video")
    assert video_files(tmp_path) == [b, a] and video_files(a) == [a]
    assert holds_videos(tmp_path) and holds_videos(a) and not holds_videos(tmp_path / "notes.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no video files in this folder"):
        video_files(tmp_path / "empty")
    with pytest.raises(UserError, match="no such file or folder"):
        video_files(tmp_path / "missing")
    with pytest.raises(ValueError, match="fps must be a positive number"):
        next(read_frames(b, fps=0.0, size=(8, 8)))
