"""Scenes of videos from the scores of their sampled frames: what a search of a video index
answers (video, start, end, best score) instead of single frames.

An index of video frames (`contrastkit index --data VIDEOS`) keeps one row per sampled frame,
with the id ``<video>#t=<seconds>`` (`data/video.py`) and each video's duration in its info.
A query scores the frames by cosine similarity s_i. The best frame not yet in a scene is a
peak; its scene is the run of consecutive frames of its video around it that match:

    s_i >= b + LEVEL * (s_peak - b)

where b is the median score of the frames (a typical frame, unrelated to the query): the
scene is where the score stays above half of the peak's height over the typical frame, as a
peak's full width at half maximum. Peaks are taken best first, a frame belongs to at most
one scene, and a peak no higher than b ends the search. A frame stands for the time until the next
sampled frame of its video (the last one until the video's end), so frames at
t_a .. t_b give the range [t_a, t_{b+1}).

Example:
    >>> table = FrameTable.from_ids(["a.mp4#t=0.000", "a.mp4#t=1.000"], {"a.mp4": 2.0})
    >>> find_scenes(table, np.array([0.9, 0.1]), k=5)
    [Scene(video='a.mp4', start=0.0, end=1.0, score=0.9, best=0.0, row=0)]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from contrastkit.data.video import parse_frame_id
from contrastkit.errors import UserError
from contrastkit.index.ann import search_rows
from contrastkit.index.store import NamedIndex, check_queries
from contrastkit.modalities.images.videos import VIDEOS_KEY

LEVEL = 0.5
"""How far from the typical frame's score to the peak's a frame must score to join the
peak's scene (0.5: half the height, as a full width at half maximum)."""
MAX_SCORED = 200_000
"""Frames scored per query: all of them up to this many (about 55 hours at 1 frame/s); in a
larger index the frames below the best MAX_SCORED count as not matching."""


@dataclass(frozen=True)
class Scene:
    """A time range of one video that matches a query.

    Attributes:
        video: The video file, as the index names it.
        start, end: Seconds from the video's first frame.
        score: The best frame's cosine similarity to the query.
        best: The best frame's time.
        row: The best frame's index row (its thumbnail).
    """

    video: str
    start: float
    end: float
    score: float
    best: float
    row: int


@dataclass(frozen=True)
class FrameTable:
    """The index's frames in time order per video.

    Attributes:
        videos: The video of each row.
        times: Shape: (N,) seconds of each row.
        before, after: Shape: (N,) the row of the previous / next frame of the same video
            (-1 at the video's start / end).
        ends: Shape: (N,) when each frame's span ends (the next frame's time, or the end
            of the video).
    """

    videos: list[str]
    times: np.ndarray
    before: np.ndarray
    after: np.ndarray
    ends: np.ndarray

    @classmethod
    def from_ids(cls, ids: list[str], durations: dict[str, float]) -> FrameTable:
        """The table of an index's row ids, with each video's duration in seconds.

        Raises:
            UserError: an id that is not a frame id, or a video without a duration.
        """
        parsed = [parse_frame_id(i) for i in ids]
        bad = next((i for i, p in zip(ids, parsed, strict=True) if p is None), None)
        if bad is not None:
            raise UserError(f"index row {bad!r} is not a video frame (VIDEO#t=SECONDS)")
        videos = [p[0] for p in parsed if p is not None]
        times = np.array([p[1] for p in parsed if p is not None], dtype=np.float64)
        n = len(ids)
        before, after = np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64)
        ends = np.zeros(n, dtype=np.float64)
        for video, rows in _rows_by_video(videos, times).items():
            if video not in durations:
                raise UserError(f"the index has no duration for {video}; rebuild it")
            before[rows[1:]], after[rows[:-1]] = rows[:-1], rows[1:]
            ends[rows] = np.append(times[rows[1:]], max(durations[video], times[rows[-1]]))
        return cls(videos, times, before, after, ends)


def _rows_by_video(videos: list[str], times: np.ndarray) -> dict[str, np.ndarray]:
    grouped: dict[str, list[int]] = {}
    for row, video in enumerate(videos):
        grouped.setdefault(video, []).append(row)
    return {
        video: np.array(sorted(rows, key=lambda r: times[r]), dtype=np.int64)
        for video, rows in grouped.items()
    }


def find_scenes(
    table: FrameTable, scores: np.ndarray, k: int, *, level: float = LEVEL
) -> list[Scene]:
    """The `k` best scenes, best first (see the module docstring for the rule).

    Args:
        table: The index's frames.
        scores: Shape: (N,) each row's similarity to the query; NaN for a frame not scored.
        k: Scenes to return at most.
        level: The share of the peak's height over the median a frame must reach.

    Raises:
        ValueError: `scores` does not have one value per frame, or k < 1.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.shape != table.times.shape:
        raise ValueError(f"scores of shape {s.shape} for {len(table.times)} frames")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    scored = np.isfinite(s)
    if not scored.any():
        return []
    s = np.where(scored, s, -np.inf)
    base = float(np.median(s[scored]))
    taken = np.zeros(len(s), dtype=bool)
    scenes: list[Scene] = []
    for peak in np.argsort(-s, kind="stable"):
        if len(scenes) == k or s[peak] <= base:
            break
        if taken[peak]:
            continue
        threshold = base + level * (s[peak] - base)
        first = last = int(peak)
        while table.before[first] >= 0 and _joins(table.before[first], s, taken, threshold):
            first = int(table.before[first])
        while table.after[last] >= 0 and _joins(table.after[last], s, taken, threshold):
            last = int(table.after[last])
        taken[_run(table, first, last)] = True
        scenes.append(
            Scene(
                video=table.videos[peak],
                start=float(table.times[first]),
                end=float(table.ends[last]),
                score=float(s[peak]),
                best=float(table.times[peak]),
                row=int(peak),
            )
        )
    return scenes


def _joins(row: int, s: np.ndarray, taken: np.ndarray, threshold: float) -> bool:
    return not taken[row] and s[row] >= threshold


def _run(table: FrameTable, first: int, last: int) -> list[int]:
    rows = [first]
    while rows[-1] != last:
        rows.append(int(table.after[rows[-1]]))
    return rows


def is_video_index(meta: dict[str, Any]) -> bool:
    """True when an index's rows are video frames (its info lists the videos)."""
    return isinstance(meta.get("info", {}).get(VIDEOS_KEY), dict)


def frame_table(named: NamedIndex) -> FrameTable:
    """The frames of a video index (`is_video_index`), in time order per video."""
    durations = {str(v): float(d) for v, d in named.meta["info"][VIDEOS_KEY].items()}
    return FrameTable.from_ids(named.ids, durations)


def search_scenes(
    named: NamedIndex, query: np.ndarray, k: int, *, table: FrameTable | None = None
) -> list[Scene]:
    """The `k` scenes of a video index best matching one query embedding.

    Args:
        named: A video index (`is_video_index`).
        query: Shape: (1, D), from the model that built the index.
        k: Scenes to return at most.
        table: `frame_table(named)`, when the caller keeps it between queries.
    """
    table = table if table is not None else frame_table(named)
    q = check_queries(named, query)
    top, rows = search_rows(named.index, q, min(named.count, MAX_SCORED))
    scores = np.full(named.count, np.nan)
    hit = rows[0] >= 0
    scores[rows[0][hit]] = top[0][hit]
    return find_scenes(table, scores, k)
