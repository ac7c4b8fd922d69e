"""Test videos with a known scene list: held-out images shown as scenes of random length, with
transitions, sensor noise and camera-like motion, encoded as H.264 with PyAV.

Each scene shows one image (a Fashion-MNIST test image, say) on a dark background, the
camera slowly zooming and panning with a little hand shake; the image is blended over the
background so that its black pixels show the background (as a bright object on a dark set).
Consecutive scenes of a video show different classes and are joined by a cut, a crossfade
or a fade through black; a scene's ground-truth range runs from the middle of the transition
into it to the middle of the transition out of it. Every frame gets Gaussian noise and a
small brightness flicker, and H.264 adds its own artefacts.

`scenes.json` beside the videos holds the ground truth:

    {"rate": 25, "size": [144, 256], "seed": 0, "videos": [{"file": "scenes_0.mp4",
     "duration": 61.2, "scenes": [{"start": 0.0, "end": 7.4, "label": 7,
     "class": "Sneaker", "image": 1234}, ...]}]}

Example:
    >>> truth = write_scene_videos(test.images.numpy(), test.labels.numpy(), names, out)
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from contrastkit.atomic import write_text_atomic
from contrastkit.data.video import import_av

TRUTH_FILE = "scenes.json"
TRANSITIONS = ("cut", "crossfade", "fade")
VIDEO_SIZE = (144, 256)
"""(H, W) of the generated videos (16:9)."""


@dataclass(frozen=True)
class SceneTruth:
    """One ground-truth scene: seconds [start, end) of `video` show image `image` of class
    `label` (`name`)."""

    video: str
    start: float
    end: float
    label: int
    name: str
    image: int


@dataclass(frozen=True)
class _Shot:
    """A scene as drawn: its picture and its camera path (zoom and pan, start to end)."""

    picture: np.ndarray  # (H', W', 3) float32 in [0, 1]
    start: float
    end: float
    zoom: tuple[float, float]
    pan: tuple[tuple[float, float], tuple[float, float]]
    shake: tuple[float, float]  # amplitude in pixels, phase
    background: float


def write_video(
    path: Path,
    frames: Iterable[np.ndarray],
    *,
    rate: int = 25,
    crf: int = 28,
    codec: str = "libx264",
) -> None:
    """Encode RGB frames (H, W, 3) uint8 at `rate` frames per second (yuv420p), H.264 unless
    `codec` says otherwise ("libvpx-vp9" for .webm); the container follows the suffix (.mp4,
    .mkv, .webm). H and W must be even."""
    av = import_av()
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate, options={"crf": str(crf)})
        if not isinstance(stream, av.VideoStream):
            raise ValueError(f"{codec!r} is not a video codec")
        stream.pix_fmt = "yuv420p"
        for i, rgb in enumerate(frames):
            if i == 0:
                stream.height, stream.width = int(rgb.shape[0]), int(rgb.shape[1])
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def _order(labels: np.ndarray, videos: int, rng: np.random.Generator) -> list[list[int]]:
    """The scenes (positions into `labels`) of each video, no two neighbours of one class."""
    for _ in range(1000):
        order = rng.permutation(len(labels))
        parts = np.array_split(order, videos)
        if all((labels[p[1:]] != labels[p[:-1]]).all() for p in parts):
            return [p.tolist() for p in parts]
    raise ValueError("cannot order the scenes with no two neighbours of one class")


def _picture(image: np.ndarray, height: int) -> np.ndarray:
    """An image (C, h, w) uint8 scaled to `height` rows, RGB float in [0, 1]."""
    c, h, w = image.shape
    rgb = np.repeat(image, 3, axis=0) if c == 1 else image
    scaled = Image.fromarray(rgb.transpose(1, 2, 0)).resize(
        (max(1, round(w * height / h)), height), Image.Resampling.BICUBIC
    )
    return np.asarray(scaled, dtype=np.float32) / 255.0


def _draw(shot: _Shot, t: float, size: tuple[int, int]) -> np.ndarray:
    """The shot's frame at time `t`: its picture placed by the camera path, over its
    background. Shape: (H, W, 3) float32."""
    h, w = size
    u = (t - shot.start) / max(shot.end - shot.start, 1e-6)
    zoom = shot.zoom[0] + (shot.zoom[1] - shot.zoom[0]) * u
    (x0, y0), (x1, y1) = shot.pan
    amplitude, phase = shot.shake
    cx = w / 2 + x0 + (x1 - x0) * u + amplitude * math.sin(2 * math.pi * 1.3 * t + phase)
    cy = h / 2 + y0 + (y1 - y0) * u + amplitude * math.cos(2 * math.pi * 0.9 * t + phase)
    ph, pw = shot.picture.shape[:2]
    # PIL's affine maps each output pixel (x, y) to the input pixel (a x + b y + c, d x + e y + f)
    inverse = (1 / zoom, 0.0, pw / 2 - cx / zoom, 0.0, 1 / zoom, ph / 2 - cy / zoom)
    layer = Image.fromarray((shot.picture * 255).astype(np.uint8)).transform(
        (w, h), Image.Transform.AFFINE, inverse, resample=Image.Resampling.BILINEAR
    )
    item = np.asarray(layer, dtype=np.float32) / 255.0
    return shot.background * (1 - item) + item


def _frames(
    shots: list[_Shot], fades: list[tuple[str, float]], duration: float, rate: int, seed: int
) -> Iterable[np.ndarray]:
    """Every frame of one video: the shots, their transitions, noise and flicker."""
    rng = np.random.default_rng(seed)
    size = (VIDEO_SIZE[0], VIDEO_SIZE[1])
    for n in range(round(duration * rate)):
        t = n / rate
        j = next(i for i, s in enumerate(shots) if t < s.end or i == len(shots) - 1)
        frame = _draw(shots[j], t, size)
        for side in (j - 1, j):  # the transition into the shot and the one out of it
            if not 0 <= side < len(fades):
                continue
            kind, length = fades[side]
            boundary = shots[side].end
            a = (t - (boundary - length / 2)) / length  # 0 -> 1 across the transition
            if kind == "cut" or not 0 <= a <= 1:
                continue
            before, after = _draw(shots[side], t, size), _draw(shots[side + 1], t, size)
            frame = (
                (1 - a) * before + a * after
                if kind == "crossfade"
                else (before * (1 - 2 * a) if a < 0.5 else after * (2 * a - 1))
            )
        frame = frame * (1 + rng.normal(0, 0.02)) + rng.normal(0, 0.03, frame.shape)
        yield (np.clip(frame, 0, 1) * 255).astype(np.uint8)


def write_scene_videos(
    images: np.ndarray,
    labels: np.ndarray,
    class_names: list[str],
    out: Path,
    *,
    scenes_per_class: int = 3,
    videos: int = 4,
    seconds: tuple[float, float] = (4.0, 12.0),
    rate: int = 25,
    seed: int = 0,
) -> list[SceneTruth]:
    """Write `videos` H.264 videos `scenes_<i>.mp4` into `out`, together holding
    `scenes_per_class` scenes of each class (a different image each, drawn with `seed`),
    and their ground truth as `scenes.json`.

    Args:
        images: Shape: (N, C, h, w) uint8, the images to show (held out from training).
        labels: Shape: (N,) class of each image.
        class_names: Name of each class.
        out: The folder to write (created).
        seconds: The range of a scene's length, drawn uniformly.

    Returns:
        The ground-truth scenes, video by video in time order.
    """
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    chosen = np.concatenate(
        [rng.choice(np.flatnonzero(labels == c), scenes_per_class, replace=False) for c in classes]
    )
    out.mkdir(parents=True, exist_ok=True)
    truth: list[SceneTruth] = []
    record = []
    for v, positions in enumerate(_order(labels[chosen], videos, rng)):
        name = f"scenes_{v}.mp4"
        shots, fades, t = [], [], 0.0
        for p in positions:
            length = float(rng.uniform(*seconds))
            shots.append(_shot(images[chosen[p]], t, t + length, rng))
            fades.append((str(rng.choice(TRANSITIONS)), float(rng.uniform(0.4, 1.0))))
            t += length
        duration = round(t * rate) / rate
        write_video(out / name, _frames(shots, fades[:-1], duration, rate, seed + v), rate=rate)
        ends = [s.end for s in shots[:-1]] + [duration]  # the last scene runs to the end
        scenes = [
            SceneTruth(
                name,
                round(s.start, 3),
                round(end, 3),
                int(labels[chosen[p]]),
                class_names[int(labels[chosen[p]])],
                int(chosen[p]),
            )
            for s, end, p in zip(shots, ends, positions, strict=True)
        ]
        truth.extend(scenes)
        record.append({"file": name, "duration": duration, "scenes": [_public(s) for s in scenes]})
    summary = {"rate": rate, "size": list(VIDEO_SIZE), "seed": seed, "videos": record}
    write_text_atomic(out / TRUTH_FILE, json.dumps(summary, indent=1) + "\n")
    return truth


def _public(scene: SceneTruth) -> dict[str, object]:
    fields = asdict(scene)
    fields["class"] = fields.pop("name")
    del fields["video"]
    return fields


def _shot(image: np.ndarray, start: float, end: float, rng: np.random.Generator) -> _Shot:
    h = VIDEO_SIZE[0]
    zoom = (float(rng.uniform(0.85, 1.0)), float(rng.uniform(1.0, 1.2)))
    if rng.random() < 0.5:
        zoom = (zoom[1], zoom[0])
    pan = tuple(tuple(float(x) for x in rng.uniform(-0.08 * h, 0.08 * h, 2)) for _ in range(2))
    return _Shot(
        picture=_picture(image, round(0.9 * h)),
        start=start,
        end=end,
        zoom=zoom,
        pan=pan,  # type: ignore[arg-type]  # two (x, y) pairs
        shake=(float(rng.uniform(0.5, 2.0)), float(rng.uniform(0, 2 * math.pi))),
        background=float(rng.uniform(0.03, 0.15)),
    )


def read_truth(folder: Path) -> list[SceneTruth]:
    """The ground-truth scenes of a folder written by `write_scene_videos`."""
    summary = json.loads((folder / TRUTH_FILE).read_text())
    return [
        SceneTruth(v["file"], s["start"], s["end"], s["label"], s["class"], s["image"])
        for v in summary["videos"]
        for s in v["scenes"]
    ]
