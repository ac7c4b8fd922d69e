"""Scenes in videos end to end: `index` a folder of generated videos on an image-text run,
an image run and a Hugging Face CLIP run, then `search` by text and by picture; bad videos
and text queries on an image run exit 2 with one line. Marked slow (trained runs)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from sklearn.datasets import load_digits
from tests.data.videos import not_a_video
from tests.multimodal.hf_clip import save_tiny_clip
from tests.use.conftest import TINY_EVAL, _train, run_cli

from contrastkit.data.video import read_frames
from contrastkit.data.video_synth import TRUTH_FILE, write_scene_videos
from contrastkit.index.thumbnails import read_thumbnail

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two videos of digit scenes (classes 1, 3, 7; two scenes each, 2-3 s long)."""
    digits = load_digits()
    keep = np.isin(digits.target, [1, 3, 7])
    images = (digits.images[keep] * 255 / 16).astype(np.uint8)[:, None]
    out = tmp_path_factory.mktemp("videos")
    names = [str(i) for i in range(10)]
    write_scene_videos(
        images, digits.target[keep], names, out, scenes_per_class=2, videos=2, seconds=(2.0, 3.0)
    )
    return out


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return " ".join(err.split())


def _durations(videos: Path) -> dict[str, float]:
    summary = json.loads((videos / TRUTH_FILE).read_text())
    return {str((videos / v["file"]).absolute()): v["duration"] for v in summary["videos"]}


def _frame_png(video: Path, index: int, size: int, out: Path) -> tuple[Path, float]:
    """Frame `index` of `video` at 1 frame/s as the index reads it, saved as a PNG."""
    chunk = next(read_frames(video, fps=1.0, size=(size, size)))
    Image.fromarray(chunk.frames[index].transpose(1, 2, 0)).save(out)
    return out, float(chunk.times[index])


def _check_scenes(result: dict, durations: dict[str, float], k: int) -> list[dict]:
    scenes = result["scenes"]
    assert 1 <= len(scenes) <= k and [s["rank"] for s in scenes] == list(range(1, len(scenes) + 1))
    for scene in scenes:
        assert 0 <= scene["start"] <= scene["best"] < scene["end"] <= durations[scene["video"]]
    scores = [s["score"] for s in scenes]
    assert scores == sorted(scores, reverse=True)
    assert [h["score"] for h in result["hits"]] == scores
    return scenes


def test_scenes_by_text_and_by_picture(
    captions_run: Path, videos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    run, folder = str(captions_run), tmp_path / "clips"
    folder.mkdir()
    for video in sorted(videos.glob("*.mp4")):
        (folder / video.name).write_bytes(video.read_bytes())
    bad = not_a_video(folder / "broken.mp4")
    args = ["index", "--run", run, "--data", str(folder), "--name", "clips"]
    assert run_cli(monkeypatch, *args) == 2
    assert f"--data {bad}: cannot open as a video" in _err(capsys)
    assert run_cli(monkeypatch, *args, "--skip-bad") == 0
    out = " ".join(capsys.readouterr().out.split())
    durations = {str(folder / Path(v).name): d for v, d in _durations(videos).items()}
    frames = sum(int(np.ceil(d - 1e-9)) for d in durations.values())  # one per second
    assert f"skipped {bad}" in out and "note: skipped 1 bad video files" in out
    assert f"index 'clips': flat, {frames} vectors" in out
    meta = json.loads((captions_run / "indexes" / "clips" / "meta.json").read_text())
    assert meta["info"]["videos"] == pytest.approx(durations) and meta["info"]["fps"] == 1.0

    args = ["search", "--run", run, "--index", "clips", "--text", "a handwritten seven"]
    assert run_cli(monkeypatch, *args, "--k", "3", "--json") == 0
    scenes = _check_scenes(json.loads(capsys.readouterr().out), durations, k=3)
    assert run_cli(monkeypatch, *args, "--k", "3") == 0
    printed = capsys.readouterr().out
    first = scenes[0]
    assert "for 'a handwritten seven'" in printed and f"{first['video']}  0:" in printed

    # a frame of the index as the query: its own scene first, similarity 1
    png, t = _frame_png(folder / "scenes_1.mp4", 4, 8, tmp_path / "frame.png")
    args = ["search", "--run", run, "--index", "clips", "--query", str(png), "--json"]
    assert run_cli(monkeypatch, *args) == 0
    best = json.loads(capsys.readouterr().out)["scenes"][0]
    assert best["video"] == str(folder / "scenes_1.mp4") and best["best"] == pytest.approx(t)
    assert best["score"] == pytest.approx(1.0, abs=1e-4)
    picture = read_thumbnail(captions_run / "indexes" / "clips", 0)
    assert picture is not None and picture[:2] == b"\xff\xd8"  # a JPEG


def test_an_image_run_indexes_videos_but_takes_no_text(
    digits_run: Path, videos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    run = str(digits_run)
    args = ["index", "--run", run, "--data", str(videos), "--name", "v", "--fps", "1000"]
    assert run_cli(monkeypatch, *args) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "note: --fps 1000 is above the frame rate of 2 video(s) (at most 25 frames/s)" in out
    args = ["search", "--run", run, "--index", "v", "--text", "a seven"]
    assert run_cli(monkeypatch, *args) == 2
    message = _err(capsys)
    assert "images runs have no text tower" in message and "clip or siglip" in message
    png, t = _frame_png(videos / "scenes_0.mp4", 2, 8, tmp_path / "f.png")
    args = ["search", "--run", run, "--index", "v", "--query", str(png), "--json", "--k", "2"]
    assert run_cli(monkeypatch, *args) == 0
    scenes = _check_scenes(json.loads(capsys.readouterr().out), _durations(videos), k=2)
    assert scenes[0]["start"] <= t < scenes[0]["end"]
    args = ["index", "--run", run, "--data", str(videos), "--name", "w", "--fps", "0"]
    assert run_cli(monkeypatch, *args) == 2
    assert "--fps must be a positive number" in _err(capsys)


def test_a_hugging_face_clip_run_searches_videos_by_text(
    tmp_path_factory: pytest.TempPathFactory, videos: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    folder = save_tiny_clip(tmp_path_factory.mktemp("hf") / "clip")
    config = yaml.safe_load(Path("configs/digits_text_siglip.yaml").read_text())
    config["method"] = {"name": "clip", "embed_dim": 64}  # SigLIP's init_scale/bias go
    recipe = tmp_path_factory.mktemp("config") / "digits_text_clip.yaml"
    recipe.write_text(yaml.safe_dump(config))
    sets = ["model.encoder=hf", f"model.name={folder}", "train.epochs=1",
            "train.warmup_epochs=0", *TINY_EVAL]  # fmt: skip
    run = _train(tmp_path_factory, "hf_clip", str(recipe), sets)
    assert run_cli(monkeypatch, "index", "--run", str(run), "--data", str(videos)) == 0
    assert "of dimension 12" in capsys.readouterr().out  # CLIP's own shared space
    args = ["search", "--run", str(run), "--text", "a handwritten seven", "--json", "--k", "4"]
    assert run_cli(monkeypatch, *args) == 0
    _check_scenes(json.loads(capsys.readouterr().out), _durations(videos), k=4)
