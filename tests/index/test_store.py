"""Named indexes on disk: round trip, no silent replacement, fingerprint check, listing."""

from __future__ import annotations

import json
from pathlib import Path

import faiss
import numpy as np
import pytest

from contrastkit.errors import UserError
from contrastkit.index.ann import build_index
from contrastkit.index.store import list_indexes, load_index, save_index, search


def built_over(x: np.ndarray, kind: str = "flat"):  # type: ignore[no-untyped-def]
    return build_index(iter([x]), dim=x.shape[1], kind=kind, count=len(x))  # type: ignore[arg-type]


def test_round_trip_and_search(tmp_path: Path) -> None:
    x = np.random.default_rng(0).standard_normal((40, 8)).astype(np.float32)
    ids = [f"img/{i}.png" for i in range(40)]
    folder = save_index(tmp_path, "train", built_over(x), ids, fingerprint="m1")
    assert sorted(p.name for p in folder.iterdir()) == ["ids.json", "index.faiss", "meta.json"]
    named = load_index(tmp_path, "train", expect_fingerprint="m1")
    assert named.meta["kind"] == "flat" and named.meta["count"] == 40 and named.meta["dim"] == 8
    scores, hits = search(named, 5 * x[[3, 17]], k=3)
    assert [h[0] for h in hits] == ["img/3.png", "img/17.png"]
    np.testing.assert_allclose(scores[:, 0], 1.0, atol=1e-5)
    assert scores.shape == (2, 3)


def test_ivf_round_trip_keeps_nprobe_and_recall(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x = (
        rng.standard_normal((10, 8))[rng.integers(0, 10, 2000)]
        + 0.3 * rng.standard_normal((2000, 8))
    ).astype(np.float32)
    built = built_over(x, "ivf")
    save_index(tmp_path, "big", built, [str(i) for i in range(2000)], fingerprint="m1")
    named = load_index(tmp_path, "big", expect_fingerprint=None)
    assert named.meta["recall_at_10"] == built.recall_at_10 is not None
    assert named.meta["params"]["nprobe"] == built.params["nprobe"]
    assert faiss.extract_index_ivf(named.index).nprobe == built.params["nprobe"]


def test_existing_name_needs_overwrite(tmp_path: Path) -> None:
    x = np.eye(4, dtype=np.float32)
    save_index(tmp_path, "a", built_over(x), list("pqrs"), fingerprint="m1")
    with pytest.raises(UserError, match="exists.*--overwrite"):
        save_index(tmp_path, "a", built_over(x[:2]), list("pq"), fingerprint="m2")
    assert load_index(tmp_path, "a", expect_fingerprint="m1").count == 4
    save_index(tmp_path, "a", built_over(x[:2]), list("pq"), fingerprint="m2", overwrite=True)
    assert load_index(tmp_path, "a", expect_fingerprint="m2").ids == ["p", "q"]
    assert [p.name for p in tmp_path.iterdir()] == ["a"]  # no temporary folder left


def test_fingerprint_mismatch_says_rebuild(tmp_path: Path) -> None:
    save_index(
        tmp_path, "a", built_over(np.eye(3, dtype=np.float32)), list("xyz"), fingerprint="run-A"
    )
    with pytest.raises(UserError, match="built by another model/run.*run-A.*--overwrite"):
        load_index(tmp_path, "a", expect_fingerprint="run-B")


def test_list_and_missing_and_bad_names(tmp_path: Path) -> None:
    assert list_indexes(tmp_path / "none") == []
    for name in ("b", "a"):
        save_index(
            tmp_path, name, built_over(np.eye(3, dtype=np.float32)), list("xyz"), fingerprint="f"
        )
    (tmp_path / ".c.123.tmp").mkdir()
    assert [m["name"] for m in list_indexes(tmp_path)] == ["a", "b"]
    with pytest.raises(UserError, match="no index named 'z' .indexes here: a, b"):
        load_index(tmp_path, "z", expect_fingerprint=None)
    with pytest.raises(UserError, match="index name"):
        save_index(
            tmp_path, "../x", built_over(np.eye(3, dtype=np.float32)), list("xyz"), fingerprint="f"
        )


def test_inconsistent_files_and_wrong_query_size(tmp_path: Path) -> None:
    folder = save_index(
        tmp_path, "a", built_over(np.eye(3, dtype=np.float32)), list("xyz"), fingerprint="f"
    )
    named = load_index(tmp_path, "a", expect_fingerprint="f")
    with pytest.raises(UserError, match="3-d vectors"):
        search(named, np.ones((1, 4)), k=1)
    (folder / "ids.json").write_text(json.dumps(["x"]))
    with pytest.raises(UserError, match="has 1 ids"):
        load_index(tmp_path, "a", expect_fingerprint="f")


def test_ids_follow_the_stream_although_the_held_out_sample_is_added_last(tmp_path: Path) -> None:
    x = np.random.default_rng(3).standard_normal((300, 8)).astype(np.float32)
    built = build_index((x[i : i + 70] for i in range(0, 300, 70)), dim=8, check_queries=25)
    assert sorted(built.positions.tolist()) == list(range(300))
    assert built.positions.tolist() != list(range(300))  # the sample went in last
    save_index(tmp_path, "s", built, [f"row{i}" for i in range(300)], fingerprint="f")
    named = load_index(tmp_path, "s", expect_fingerprint="f")
    _, hits = search(named, x, k=1)
    assert [h[0] for h in hits] == [f"row{i}" for i in range(300)]


def test_fewer_hits_than_k_give_nan_scores(tmp_path: Path) -> None:
    x = np.random.default_rng(4).standard_normal((1200, 8)).astype(np.float32)
    built = built_over(x, "ivf")
    save_index(tmp_path, "i", built, [str(i) for i in range(1200)], fingerprint="f")
    named = load_index(tmp_path, "i", expect_fingerprint="f")
    faiss.extract_index_ivf(named.index).nprobe = 1  # one list: fewer than 1000 rows
    scores, hits = search(named, x[:2], k=1000)
    assert scores.shape == (2, 1000)
    for row, found in zip(scores, hits, strict=True):
        assert len(found) == int(np.isfinite(row).sum()) < 1000
        assert np.isnan(row[len(found) :]).all()
