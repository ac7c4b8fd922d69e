"""Scoring time ranges returned for a query against the ground-truth scenes it should find.

A returned range counts for a relevant scene of the same video when they overlap by at
least half: their temporal intersection over union (tIoU, the usual rule of temporal
localisation benchmarks) is at least `MIN_IOU` = 0.5. This implies that the intersection
covers at least half of the scene and half of the returned range, so one long range cannot
count for several scenes. Ranges are matched greedily in rank order, each scene at most once
(a second range on a found scene is a false positive), to the unmatched scene it overlaps
most.

    recall@k = (relevant scenes found in the first k ranges) / min(k, relevant scenes)
    AP       = (1 / relevant scenes) * sum over ranks r of a hit: precision@r

Example:
    >>> hits = match_ranges([("a.mp4", 0, 4), ("a.mp4", 9, 12)], [("a.mp4", 0, 5)])
    >>> hits, recall_at_k(hits, 1, k=5), average_precision(hits, 1)
    ([True, False], 1.0, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence

MIN_IOU = 0.5

Range = tuple[str, float, float]
"""(video, start, end) in seconds, end > start."""


def temporal_iou(a: Range, b: Range) -> float:
    """Intersection over union of two time ranges; 0 for different videos."""
    if a[0] != b[0]:
        return 0.0
    inter = max(0.0, min(a[2], b[2]) - max(a[1], b[1]))
    union = (a[2] - a[1]) + (b[2] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def match_ranges(
    ranked: Sequence[Range], relevant: Sequence[Range], *, min_iou: float = MIN_IOU
) -> list[bool]:
    """For each returned range in rank order, whether it finds a relevant scene not found
    by a better-ranked range (tIoU >= `min_iou`)."""
    found = [False] * len(relevant)
    hits = []
    for returned in ranked:
        best, best_iou = -1, 0.0
        for j, scene in enumerate(relevant):
            iou = temporal_iou(returned, scene)
            if not found[j] and iou >= min_iou and iou > best_iou:
                best, best_iou = j, iou
        if best >= 0:
            found[best] = True
        hits.append(best >= 0)
    return hits


def recall_at_k(hits: Sequence[bool], relevant: int, *, k: int) -> float:
    """The share of the relevant scenes found in the first k ranges, out of at most k."""
    if relevant < 1 or k < 1:
        raise ValueError(f"need relevant >= 1 and k >= 1, got {relevant}, {k}")
    return sum(hits[:k]) / min(k, relevant)


def average_precision(hits: Sequence[bool], relevant: int) -> float:
    """Mean over the relevant scenes of the precision at the rank each was found (0 for a
    scene never found)."""
    if relevant < 1:
        raise ValueError(f"need relevant >= 1, got {relevant}")
    total, found = 0.0, 0
    for rank, hit in enumerate(hits, start=1):
        if hit:
            found += 1
            total += found / rank
    return total / relevant
