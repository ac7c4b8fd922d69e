"""The shared row-block autograd function: layout rules, block sizes, and what it keeps
for backward (O(N x D), never the N x N logits)."""

from __future__ import annotations

import pytest
import torch

from contrastkit.losses import info_nce, nt_xent, sigmoid_pairs, supcon
from contrastkit.losses.blocked import PairLayout, block_rows, logit_stats


def saved_bytes(fn) -> int:  # type: ignore[no-untyped-def]
    """Bytes of all tensors autograd saves for backward while running fn()."""
    total = 0

    def pack(t: torch.Tensor) -> torch.Tensor:
        nonlocal total
        total += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return total


@pytest.mark.parametrize(
    "loss",
    [
        lambda a, b: nt_xent(a, b, 0.1),
        lambda a, b: info_nce(a, b, 0.1),
        lambda a, b: supcon(torch.stack([a, b], 1), torch.arange(a.shape[0]) % 7),
        lambda a, b: sigmoid_pairs(a, b),
    ],
)
def test_saved_for_backward_grows_linearly_not_quadratically(loss) -> None:  # type: ignore[no-untyped-def]
    d = 8
    sizes = {}
    for n in (256, 1024):
        a = torch.randn(n, d, requires_grad=True)
        b = torch.randn(n, d, requires_grad=True)
        sizes[n] = saved_bytes(lambda a=a, b=b: loss(a, b))
    # 4x the rows: about 4x the bytes (16x if the logits were kept)
    assert sizes[1024] <= 5 * sizes[256]
    assert sizes[1024] < 1024 * 1024 * 4  # far below one float32 N x N matrix


def test_block_rows() -> None:
    assert block_rows(10, 10, 3) == 3
    assert block_rows(10, 10, 50) == 10
    assert block_rows(10, 10, None) == 10  # small: one block (the dense form)
    assert block_rows(100_000, 100_000, None) == (1 << 22) // 100_000


def test_layout_needs_exactly_one_way_to_name_positives() -> None:
    with pytest.raises(ValueError, match="pos_cols, or anchor_ids and cand_ids"):
        PairLayout()
    with pytest.raises(ValueError, match="pos_cols, or anchor_ids and cand_ids"):
        PairLayout(pos_cols=torch.arange(3), anchor_ids=torch.arange(3), cand_ids=torch.arange(3))


def test_fast_path_equals_id_path() -> None:
    g = torch.Generator().manual_seed(0)
    a = torch.randn(6, 3, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(8, 3, generator=g, dtype=torch.float64, requires_grad=True)
    drop = torch.zeros(6, 8, dtype=torch.bool)
    drop[0, 5] = drop[2, 2] = True
    cols = torch.tensor([1, 0, 3, 2, 5, 4])
    fast = PairLayout(pos_cols=cols, drop=drop, exclude_positives=True)
    by_id = PairLayout(anchor_ids=cols, cand_ids=torch.arange(8), drop=drop, exclude_positives=True)
    out_fast = logit_stats(a, b, scale=2.0, layout=fast, chunk_size=4)
    out_id = logit_stats(a, b, scale=2.0, layout=by_id, chunk_size=4)
    for x, y in zip(out_fast, out_id, strict=True):
        torch.testing.assert_close(x, y)
    g_fast = torch.autograd.grad(out_fast[0].sum() - out_fast[1].sum(), (a, b))
    g_id = torch.autograd.grad(out_id[0].sum() - out_id[1].sum(), (a, b))
    for x, y in zip(g_fast, g_id, strict=True):
        torch.testing.assert_close(x, y)


def test_bad_chunk_size_raises() -> None:
    a = torch.randn(4, 3)
    with pytest.raises(ValueError, match="chunk_size must be None or >= 1"):
        nt_xent(a, a, chunk_size=0)
    with pytest.raises(ValueError, match="chunk_size must be None or >= 1"):
        info_nce(a, a, chunk_size=-2)
