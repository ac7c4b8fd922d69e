"""The test-video generator (data/video_synth.py): its ground truth tiles each video, keeps
classes apart, and a decoded frame in the middle of each scene shows that scene's image."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from contrastkit.data.fashion_mnist import read_fashion_mnist
from contrastkit.data.video import read_frames
from contrastkit.data.video_synth import TRUTH_FILE, read_truth, write_scene_videos


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory):
    _, test = read_fashion_mnist()
    keep = np.flatnonzero(test.labels.numpy() < 4)  # four classes, two scenes each
    images, labels = test.images.numpy()[keep], test.labels.numpy()[keep]
    out = tmp_path_factory.mktemp("scenes")
    truth = write_scene_videos(
        images, labels, test.class_names, out, scenes_per_class=2, videos=2, seconds=(2.0, 3.0)
    )
    return out, truth, images, labels


def test_ground_truth_tiles_each_video(generated) -> None:
    out, truth, images, labels = generated
    summary = json.loads((out / TRUTH_FILE).read_text())
    assert read_truth(out) == truth and len(truth) == 8
    for video in summary["videos"]:
        scenes = [s for s in truth if s.video == video["file"]]
        assert scenes[0].start == 0.0 and scenes[-1].end == pytest.approx(video["duration"])
        assert all(a.end == b.start for a, b in zip(scenes, scenes[1:], strict=False))
        assert all(2.0 <= s.end - s.start <= 3.0 for s in scenes[1:-1])
        assert all(a.label != b.label for a, b in zip(scenes, scenes[1:], strict=False))
    assert sorted(s.label for s in truth) == [0, 0, 1, 1, 2, 2, 3, 3]
    assert len({s.image for s in truth}) == 8
    assert all(labels[s.image] == s.label for s in truth)
    assert all(s.name == ["T-shirt/top", "Trouser", "Pullover", "Dress"][s.label] for s in truth)


def test_each_scene_shows_its_image(generated) -> None:
    """The frame in the middle of each scene, centre-cropped to 28x28 grey, correlates with
    the scene's own image (r > 0.5, though zoomed and panned) and best with an image of the
    scene's class among all the scenes' images."""
    out, truth, images, labels = generated
    shown = {s.image: images[s.image, 0].astype(np.float64).ravel() for s in truth}
    for scene in truth:
        middle = (scene.start + scene.end) / 2
        frames = [
            (t, f)
            for chunk in read_frames(out / scene.video, fps=25.0, size=(28, 28))
            for t, f in zip(chunk.times, chunk.frames, strict=True)
        ]
        _, frame = min(frames, key=lambda tf: abs(tf[0] - middle))
        grey = np.asarray(Image.fromarray(frame.transpose(1, 2, 0)).convert("L"), np.float64)
        corr = {i: np.corrcoef(grey.ravel(), pixels)[0, 1] for i, pixels in shown.items()}
        assert corr[scene.image] > 0.5, (scene, corr)
        assert labels[max(corr, key=corr.__getitem__)] == scene.label, (scene, corr)
