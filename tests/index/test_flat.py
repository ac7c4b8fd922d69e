"""The flat cosine index: same ranking and similarities as brute force; save/load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from contrastkit.errors import UserError
from contrastkit.index.flat import FlatIndex


def test_search_equals_brute_force_cosine() -> None:
    g = torch.Generator().manual_seed(0)
    z, q = torch.randn(50, 8, generator=g) * 3, torch.randn(4, 8, generator=g)
    index = FlatIndex.from_embeddings(z, [f"p{i}" for i in range(50)])
    hits = index.search(q, k=5)
    zn = z / z.norm(dim=1, keepdim=True)
    qn = q / q.norm(dim=1, keepdim=True)
    sims = (qn @ zn.T).numpy()
    for row, found in zip(sims, hits, strict=True):
        order = np.argsort(-row)[:5]
        assert [p for p, _ in found] == [f"p{i}" for i in order]
        np.testing.assert_allclose([s for _, s in found], row[order], atol=1e-5)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    z = torch.randn(6, 3)
    index = FlatIndex.from_embeddings(z, list("abcdef"), {"image_hw": [4, 4]})
    index.save(tmp_path / "idx")
    loaded = FlatIndex.load(tmp_path / "idx")
    np.testing.assert_array_equal(loaded.vectors, index.vectors)
    assert loaded.sources == list("abcdef") and loaded.info == {"image_hw": [4, 4]}
    assert loaded.search(z[2:3], k=1)[0][0][0] == "c"


def test_k_larger_than_the_index_and_bad_queries() -> None:
    index = FlatIndex.from_embeddings(torch.eye(3), ["a", "b", "c"])
    assert len(index.search(torch.ones(1, 3), k=10)[0]) == 3
    with pytest.raises(ValueError, match=r"query must be \(Q, 3\)"):
        index.search(torch.ones(1, 4), k=1)


def test_missing_index_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no saved index"):
        FlatIndex.load(tmp_path / "nothing")
