"""Scenes from frame scores (index/scenes.py): hand-made score sequences worked out by the
rule (peak, median baseline, half height), and its properties on random scores."""

from __future__ import annotations

import numpy as np
import pytest

from contrastkit.data.video import frame_id, parse_frame_id
from contrastkit.errors import UserError
from contrastkit.index.scenes import FrameTable, find_scenes


def _table(frames: list[tuple[str, float]], durations: dict[str, float]) -> FrameTable:
    return FrameTable.from_ids([frame_id(v, t) for v, t in frames], durations)


def test_frame_ids_name_the_video_and_the_time() -> None:
    assert frame_id("clips/a.mp4", 12.5) == "clips/a.mp4#t=12.500"
    assert parse_frame_id("odd#t=1/b.mp4#t=2.500") == ("odd#t=1/b.mp4", 2.5)
    assert parse_frame_id("digits[3]") is None
    assert parse_frame_id("a.mp4#t=soon") is None
    assert parse_frame_id("#t=2.0") is None


def test_two_scenes_by_hand() -> None:
    """Median of the ten scores (0.1 + 0.45) / 2 = 0.275. Peak 0.9 at 2 s: threshold
    0.275 + (0.9 - 0.275) / 2 = 0.5875 takes 0.8 and 0.6 (2-4 s, so [2, 5)); the next free
    peak 0.5 at 7 s: threshold 0.3875 takes 0.45 ([7, 9)); 0.1 is below the median: stop."""
    scores = np.array([0.0, 0.1, 0.9, 0.8, 0.6, 0.1, 0.0, 0.5, 0.45, 0.0])
    table = _table([("a.mp4", float(t)) for t in range(10)], {"a.mp4": 10.0})
    scenes = find_scenes(table, scores, k=5)
    assert [(s.video, s.start, s.end, s.best, s.row) for s in scenes] == [
        ("a.mp4", 2.0, 5.0, 2.0, 2),
        ("a.mp4", 7.0, 9.0, 7.0, 7),
    ]
    assert [s.score for s in scenes] == pytest.approx([0.9, 0.5])
    assert len(find_scenes(table, scores, k=1)) == 1


def test_rows_in_any_order_and_the_last_frame_ends_with_the_video() -> None:
    """Rows shuffled across two videos give the same scenes; a scene reaching a video's last
    frame ends at the video's duration (3.5 s), not at the next sample. Median 0: only the
    peak 0.9 and its neighbour 0.8 stand above it."""
    frames = [("b.mp4", 3.0), ("a.mp4", 1.0), ("b.mp4", 0.0), ("a.mp4", 0.0), ("b.mp4", 2.0),
              ("b.mp4", 1.0), ("a.mp4", 2.0)]  # fmt: skip
    scores = np.array([0.9, -0.2, 0.0, -0.1, 0.8, 0.0, -0.2])
    table = _table(frames, {"a.mp4": 3.0, "b.mp4": 3.5})
    (scene,) = find_scenes(table, scores, k=3)
    assert (scene.video, scene.start, scene.end, scene.best, scene.row) == (
        "b.mp4", 2.0, 3.5, 3.0, 0,
    )  # fmt: skip


def test_unscored_frames_never_match_and_split_a_run() -> None:
    """A frame left out of the scoring (NaN: beyond an approximate index's best rows) is not
    part of any scene, even between two matching frames."""
    scores = np.array([0.9, np.nan, 0.9, 0.0, 0.0])
    table = _table([("a.mp4", float(t)) for t in range(5)], {"a.mp4": 5.0})
    scenes = find_scenes(table, scores, k=5)
    assert [(s.start, s.end) for s in scenes] == [(0.0, 1.0), (2.0, 3.0)]
    assert find_scenes(table, np.full(5, np.nan), k=5) == []
    assert find_scenes(table, np.full(5, 0.3), k=5) == []  # no frame stands out


def test_bad_ids_and_missing_durations_are_named() -> None:
    with pytest.raises(UserError, match="'digits\\[0\\]' is not a video frame"):
        FrameTable.from_ids(["digits[0]"], {})
    with pytest.raises(UserError, match="no duration for a.mp4"):
        FrameTable.from_ids([frame_id("a.mp4", 0.0)], {})


@pytest.mark.parametrize("seed", range(20))
def test_properties_on_random_scores(seed: int) -> None:
    """Scenes are disjoint, best first; every frame of a scene reaches its threshold and
    the frames just outside it do not (or belong to a better scene)."""
    rng = np.random.default_rng(seed)
    n = 60
    frames = [("a.mp4" if i < 35 else "b.mp4", float(i if i < 35 else i - 35)) for i in range(n)]
    scores = np.cumsum(rng.normal(0, 0.2, n))  # smooth-ish, with peaks
    table = _table(frames, {"a.mp4": 35.0, "b.mp4": 25.0})
    scenes = find_scenes(table, scores, k=50)
    base = float(np.median(scores))
    owner = np.full(n, -1)
    for rank, scene in enumerate(scenes):
        rows = [r for r in range(n) if table.videos[r] == scene.video
                and scene.start <= table.times[r] < scene.end]  # fmt: skip
        assert (owner[rows] == -1).all()
        owner[rows] = rank
        threshold = base + 0.5 * (scene.score - base)
        assert (scores[rows] >= threshold - 1e-12).all() and scene.score == scores[scene.row]
        for edge in (table.before[min(rows)], table.after[max(rows)]):
            assert edge < 0 or owner[edge] not in (-1, rank) or scores[edge] < threshold
            assert edge < 0 or owner[edge] != -1 or scores[edge] < threshold
    assert [s.score for s in scenes] == sorted((s.score for s in scenes), reverse=True)
    assert len(scenes) < 50 and (scores[owner == -1] <= base).all()  # each free peak was taken
