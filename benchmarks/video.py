"""Scenes in videos by text and by picture: generated test videos of held-out Fashion-MNIST
images with a known scene list, indexed at 1 frame/s with an image-text run and searched with
one query per class.

    python benchmarks/video.py --run runs/fashion_clip [--videos build/video_bench] [--fps 1]

Trains `configs/fashion_clip.yaml` into --run first when it holds no trained run. Writes
benchmarks/results/video.json and prints:
- scene recall@5 and mean average precision of the returned time ranges per query kind (a
  range counts for a scene when their tIoU is >= 0.5, `eval/scene_retrieval.py`): a text
  per class ("a photo of a sneaker"), a held-out picture per class (an image the videos do
  not show), and, as the peer measured in the same run, the text queries answered by single
  frames instead of merged scenes;
- indexing speed: frames indexed per second and video seconds per second of wall time, with
  the time spent decoding alone;
- query latency: embedding the query and finding the scenes, the run and index loaded.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from contrastkit.config import load_config
from contrastkit.data.fashion_captions import FASHION_WORDS
from contrastkit.data.fashion_mnist import read_fashion_mnist
from contrastkit.data.video import import_av, read_frames, video_files
from contrastkit.data.video_synth import (
    TRUTH_FILE,
    SceneTruth,
    read_truth,
    write_scene_videos,
    write_video,
)
from contrastkit.eval.scene_retrieval import Range, average_precision, match_ranges, recall_at_k
from contrastkit.index.scenes import Scene, search_scenes
from contrastkit.index.store import load_index, search
from contrastkit.modalities.base import EmbedOptions
from contrastkit.run import load_run, train_run
from contrastkit.rundir import CHECKPOINT
from contrastkit.use import INDEXES, index_run
from machine import load_average, run_header  # benchmarks/machine.py

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "video.json"
INDEX = "bench_videos"
TEMPLATE = "a photo of a {}"
RANKED = 20
"""Ranges returned per query for the average precision (recall@5 reads the first five)."""
REPEATS = 5


def trained_run(run: Path, config: Path, sets: list[str]) -> dict[str, Any]:
    """Train `config` into `run` unless it holds a trained run; what training took."""
    if (run / CHECKPOINT).is_file():
        return {"trained_here": False}
    cfg = load_config(config, sets)
    t0 = time.perf_counter()
    metrics = train_run(cfg, run, show_progress=False, log=print)
    return {
        "trained_here": True,
        "wall_s": time.perf_counter() - t0,
        "train_time_s": metrics["train_time_s"],
        "crossmodal": metrics.get("crossmodal"),
    }


def test_videos(folder: Path, seed: int) -> tuple[list[SceneTruth], dict[str, Any]]:
    """The ground truth of the videos in `folder`, generated there first when missing."""
    if (folder / TRUTH_FILE).is_file():
        return read_truth(folder), {"generated_here": False}
    _, test = read_fashion_mnist()
    t0 = time.perf_counter()
    truth = write_scene_videos(
        test.images.numpy(), test.labels.numpy(), test.class_names, folder, seed=seed
    )
    return truth, {"generated_here": True, "wall_s": time.perf_counter() - t0}


def held_out_pictures(truth: list[SceneTruth], folder: Path, seed: int) -> dict[int, Path]:
    """A test image per class that no video shows, saved as a PNG query."""
    _, test = read_fashion_mnist()
    shown = {s.image for s in truth}
    rng = np.random.default_rng(seed + 1)
    labels = test.labels.numpy()
    out = {}
    for c in sorted({s.label for s in truth}):
        free = [i for i in np.flatnonzero(labels == c) if i not in shown]
        i = int(rng.choice(free))
        path = folder / "queries" / f"class{c}_test{i}.png"
        path.parent.mkdir(exist_ok=True)
        Image.fromarray(test.images[i, 0].numpy()).save(path)
        out[c] = path
    return out


def timed_index(run: Path, folder: Path, fps: float, name: str = INDEX) -> dict[str, Any]:
    """Index the videos (decode, embed, write) and, alone, decode them; wall seconds."""
    t0 = time.perf_counter()
    report = index_run(
        run, str(folder), name=name, options=EmbedOptions(fps=fps), overwrite=True, log=print
    )
    index_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    frames = sum(
        len(chunk.times)
        for video in video_files(folder)
        for chunk in read_frames(video, fps=fps, size=(28, 28))
    )
    decode_s = time.perf_counter() - t0
    return {"frames": report.count, "index_s": index_s, "decode_s": decode_s, "decoded": frames}


def hd_copy(folder: Path) -> Path:
    """The first test video re-encoded at 1280x720 (H.264, same frames scaled up), to time
    indexing at a common resolution; made once into `folder`/hd/."""
    out = folder / "hd" / "scenes_0_720p.mp4"
    if out.is_file():
        return out.parent
    out.parent.mkdir(exist_ok=True)
    av = import_av()
    with av.open(str(folder / "scenes_0.mp4")) as source:
        frames = (
            frame.reformat(width=1280, height=720, format="rgb24").to_ndarray()
            for frame in source.decode(video=0)
        )
        write_video(out, frames, rate=25, crf=23)
    return out.parent


def ranges(scenes: list[Scene]) -> list[Range]:
    return [(Path(s.video).name, s.start, s.end) for s in scenes]


def frame_ranges(named: Any, z: np.ndarray, k: int, step: float) -> list[Range]:
    """The peer without merging: the k best frames, each as [t, t + 1/fps)."""
    _, ids = search(named, z, k)
    out = []
    for identifier in ids[0]:
        video, _, t = identifier.rpartition("#t=")
        out.append((Path(video).name, float(t), float(t) + step))
    return out


def score(returned: list[Range], relevant: list[Range]) -> dict[str, float]:
    hits = match_ranges(returned, relevant)
    return {
        "recall_at_5": recall_at_k(hits, len(relevant), k=5),
        "ap": average_precision(hits, len(relevant)),
    }


def evaluate(run: Path, truth: list[SceneTruth], pictures: dict[int, Path], fps: float) -> dict:
    """Per class: the three query kinds scored, and the latency of each text query."""
    _, modality, method = load_run(run)
    named = load_index(run / INDEXES, INDEX, expect_fingerprint=None)
    info = dict(named.meta["info"])
    per_class: dict[str, dict[str, Any]] = {}
    latencies = []
    for c in sorted(pictures):
        relevant = [(s.video, s.start, s.end) for s in truth if s.label == c]
        text = TEMPLATE.format(FASHION_WORDS[c])
        times = []
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            z = modality.query_text(method, text, info).numpy()
            found = search_scenes(named, z, RANKED)
            times.append(time.perf_counter() - t0)
        latencies.extend(times)
        picture = modality.query(method, str(pictures[c]), info).numpy()
        per_class[truth_name(truth, c)] = {
            "text": text,
            "relevant": len(relevant),
            "text_scenes": score(ranges(found), relevant),
            "picture_scenes": score(ranges(search_scenes(named, picture, RANKED)), relevant),
            "text_frames": score(frame_ranges(named, z, RANKED, 1.0 / fps), relevant),
            "top5": [[Path(s.video).name, s.start, s.end, round(s.score, 4)] for s in found[:5]],
        }
    return {"per_class": per_class, "latency_s": latencies}


def truth_name(truth: list[SceneTruth], label: int) -> str:
    return next(s.name for s in truth if s.label == label)


def summary(per_class: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    kinds = ("text_scenes", "picture_scenes", "text_frames")
    return {
        kind: {
            metric: float(np.mean([row[kind][metric] for row in per_class.values()]))
            for metric in ("recall_at_5", "ap")
        }
        for kind in kinds
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=ROOT / "runs" / "fashion_clip")
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "fashion_clip.yaml")
    parser.add_argument("--set", dest="sets", action="append", default=[])
    parser.add_argument("--videos", type=Path, default=ROOT / "build" / "video_bench")
    parser.add_argument("--fps", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    header = run_header(args)
    training = trained_run(args.run, args.config, args.sets)
    truth, generated = test_videos(args.videos, args.seed)
    seconds = sum(
        max(s.end for s in truth if s.video == v) for v in sorted({s.video for s in truth})
    )
    pictures = held_out_pictures(truth, args.videos, args.seed)
    speed = timed_index(args.run, args.videos, args.fps)
    hd_seconds = max(s.end for s in truth if s.video == "scenes_0.mp4")
    hd = timed_index(args.run, hd_copy(args.videos), args.fps, name=f"{INDEX}_720p")
    result = evaluate(args.run, truth, pictures, args.fps)
    mean = summary(result["per_class"])
    record = {
        **header,
        "training": training,
        "videos": {**generated, "count": len({s.video for s in truth}), "seconds": seconds,
                   "scenes": len(truth), "folder": str(args.videos)},
        "indexing": {**speed, "frames_per_s": speed["frames"] / speed["index_s"],
                     "video_s_per_s": seconds / speed["index_s"]},
        "indexing_720p": {**hd, "seconds": hd_seconds,
                          "video_s_per_s": hd_seconds / hd["index_s"]},
        "latency_ms": {"median": 1000 * statistics.median(result["latency_s"]),
                       "max": 1000 * max(result["latency_s"])},
        "mean": mean,
        "per_class": result["per_class"],
        "load_average_after": load_average(),
    }  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(table(record))


def table(record: dict[str, Any]) -> str:
    """The markdown table of docs/video.md."""
    m, ix, lat = record["mean"], record["indexing"], record["latency_ms"]
    hd = record["indexing_720p"]
    lines = [
        "| query | answer | scene recall@5 | mAP |",
        "|---|---|---|---|",
        *(
            f"| {q} | {a} | {m[k]['recall_at_5']:.3f} | {m[k]['ap']:.3f} |"
            for q, a, k in [
                ("text per class", "scenes", "text_scenes"),
                ("held-out picture per class", "scenes", "picture_scenes"),
                ("text per class", "single frames (peer)", "text_frames"),
            ]
        ),
        "",
        f"indexing: {ix['frames']} frames of {record['videos']['seconds']:.0f} s of video in "
        f"{ix['index_s']:.1f} s ({ix['frames_per_s']:.1f} frames/s, "
        f"{ix['video_s_per_s']:.1f}x real time; decoding alone {ix['decode_s']:.1f} s); "
        f"the first video at 1280x720: {hd['seconds']:.0f} s in {hd['index_s']:.1f} s "
        f"({hd['video_s_per_s']:.1f}x real time, decoding alone {hd['decode_s']:.1f} s); "
        f"query latency median {lat['median']:.1f} ms, max {lat['max']:.1f} ms; load average "
        f"{record['load_average_before']} before, {record['load_average_after']} after",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
