"""The overlap rule and the scene metrics (eval/scene_retrieval.py), worked by hand."""

from __future__ import annotations

import pytest

from contrastkit.eval.scene_retrieval import (
    average_precision,
    match_ranges,
    recall_at_k,
    temporal_iou,
)


def test_temporal_iou_by_hand() -> None:
    assert temporal_iou(("a", 0, 4), ("a", 2, 6)) == pytest.approx(2 / 6)
    assert temporal_iou(("a", 0, 4), ("a", 0, 4)) == 1.0
    assert temporal_iou(("a", 0, 4), ("a", 4, 6)) == 0.0
    assert temporal_iou(("a", 0, 4), ("b", 0, 4)) == 0.0


def test_half_overlap_counts_and_each_scene_once() -> None:
    """(0, 10) overlaps scenes (0, 5) and (5, 10) by exactly half (tIoU 0.5): it finds the
    first; a second range on a found scene is a miss; (0, 11) has tIoU 5/11 < 0.5."""
    scenes = [("a", 0.0, 5.0), ("a", 5.0, 10.0)]
    assert match_ranges([("a", 0.0, 10.0), ("a", 5.0, 10.0)], scenes) == [True, True]
    assert match_ranges([("a", 0.0, 10.0), ("a", 0.0, 5.0)], scenes[:1]) == [True, False]
    assert match_ranges([("a", 0.0, 11.0)], scenes[:1]) == [False]
    assert match_ranges([("b", 0.0, 5.0)], scenes) == [False]


def test_the_best_overlapping_scene_is_found() -> None:
    """(4, 10) overlaps (0, 5) by 1/10 and (5, 10) by 5/6: it finds the second."""
    scenes = [("a", 0.0, 5.0), ("a", 5.0, 10.0)]
    assert match_ranges([("a", 4.0, 10.0), ("a", 0.0, 5.0)], scenes) == [True, True]


def test_recall_and_average_precision_by_hand() -> None:
    hits = [True, False, True]
    assert recall_at_k(hits, 3, k=2) == pytest.approx(1 / 2)
    assert recall_at_k(hits, 3, k=5) == pytest.approx(2 / 3)
    assert average_precision(hits, 3) == pytest.approx((1 / 1 + 2 / 3) / 3)
    assert average_precision([False, True], 1) == pytest.approx(1 / 2)
    with pytest.raises(ValueError, match="relevant >= 1"):
        average_precision([], 0)
