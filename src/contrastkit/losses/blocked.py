"""Similarity matrices in row blocks, recomputed in backward: O(M x block) memory.

Every pairwise loss here reduces to statistics of the logit matrix
``L = scale * A @ B.T`` between M anchors ``A`` and K candidates ``B``:

* :func:`logit_stats` returns, per anchor ``i``, ``logsumexp_j L_ij`` over the columns
  that are not left out, the sum of ``L_ij`` over its positives and their count
  (InfoNCE, NT-Xent, SupCon, DCL, N-pair).
* :func:`sigmoid_pair_sum` returns ``sum_ij softplus(-y_ij * (L_ij + bias))`` with
  ``y = +1`` on positives and ``-1`` elsewhere (SigLIP).

Both run a custom ``torch.autograd.Function`` that walks the rows of ``A`` in blocks of
``block`` rows, keeps only (M,)-sized results, and recomputes each block's logits in
backward. Peak memory is O(block x K) on top of the inputs; values and gradients equal
the dense form. The math runs in float32 (float64 inputs stay float64) with autocast off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from contrastkit.losses.precision import autocast_off, upcast

__all__ = ["PairLayout", "block_rows", "logit_stats", "sigmoid_pair_sum"]

# Automatic block: about 4M logits (16 MiB in float32) per block.
_BLOCK_ELEMENTS = 1 << 22


@dataclass(frozen=True)
class PairLayout:
    """Which (anchor, candidate) pairs are positives and which are left out.

    Give either ``pos_cols`` (exactly one positive per anchor, the fast path) or both
    ``anchor_ids`` and ``cand_ids`` (pair ``(i, j)`` is positive when the ids are equal).

    Attributes:
        pos_cols: Column of each anchor's single positive. Shape: (M,), long.
        anchor_ids: Identity (label, sample id) of each anchor. Shape: (M,), long.
        cand_ids: Identity of each candidate. Shape: (K,), long.
        self_cols: Column of each anchor's own row among the candidates, left out of
            everything (not a positive, not a negative). Shape: (M,), long.
        drop: Known false negatives, left out of the log-sum-exp; ignored where the pair
            is a positive. Shape: (M, K), bool.
        exclude_positives: Leave positives out of the log-sum-exp (decoupled loss).
    """

    pos_cols: Tensor | None = None
    anchor_ids: Tensor | None = None
    cand_ids: Tensor | None = None
    self_cols: Tensor | None = None
    drop: Tensor | None = None
    exclude_positives: bool = False

    def __post_init__(self) -> None:
        by_ids = self.anchor_ids is not None and self.cand_ids is not None
        if (self.pos_cols is None) == (not by_ids):
            raise ValueError("PairLayout needs pos_cols, or anchor_ids and cand_ids (not both)")

    def block(self, start: int, stop: int) -> tuple[Tensor | None, Tensor | None]:
        """Positive mask (ids path only) and left-out mask (drop / ids path only) of rows
        start:stop; the single-column exclusions are applied by :meth:`exclude`.

        Returns:
            ``(pos, out)``, each (stop - start, K) bool or None when not needed.
        """
        pos: Tensor | None = None
        if self.anchor_ids is not None and self.cand_ids is not None:
            pos = self.anchor_ids[start:stop, None] == self.cand_ids[None, :]  # (b, K)
            if self.self_cols is not None:
                pos.scatter_(1, self.self_cols[start:stop, None], False)
        out: Tensor | None = None
        if self.drop is not None:
            out = self.drop[start:stop].clone()
            if pos is not None:
                out &= ~pos
            elif self.pos_cols is not None:
                out.scatter_(1, self.pos_cols[start:stop, None], False)
        if self.exclude_positives and pos is not None:
            out = pos.clone() if out is None else out.logical_or_(pos)
        return pos, out

    def exclude(self, logits: Tensor, start: int, stop: int) -> None:
        """Set to -inf, in place, the single columns left out: own row, fast-path positive."""
        if self.self_cols is not None:
            logits.scatter_(1, self.self_cols[start:stop, None], float("-inf"))
        if self.exclude_positives and self.pos_cols is not None:
            logits.scatter_(1, self.pos_cols[start:stop, None], float("-inf"))


def block_rows(m: int, k: int, chunk_size: int | None) -> int:
    """Rows per block: ``chunk_size`` if given, else about 4M logits per block."""
    if chunk_size is not None:
        return max(1, min(m, chunk_size))
    return max(1, min(m, _BLOCK_ELEMENTS // max(k, 1)))


def _block_logits(
    a: Tensor, b: Tensor, layout: PairLayout, start: int, stop: int
) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
    """Left-out-masked logits of rows start:stop (``a`` is pre-scaled), their positive
    sum and count (before masking), and the positive mask on the ids path."""
    logits = torch.mm(a[start:stop], b.T)  # (b, K)
    pos, out = layout.block(start, stop)
    if pos is None:
        assert layout.pos_cols is not None
        pos_sum = logits.gather(1, layout.pos_cols[start:stop, None]).squeeze(1)  # (b,)
        pos_count = torch.ones_like(pos_sum)
    else:
        pos_sum = torch.where(pos, logits, 0.0).sum(1)
        pos_count = pos.sum(1).to(logits.dtype)
    if out is not None:
        logits.masked_fill_(out, float("-inf"))
    layout.exclude(logits, start, stop)
    return logits, pos_sum, pos_count, pos


class _LogitStats(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any, a: Tensor, b: Tensor, scale: float, layout: PairLayout, block: int
    ) -> tuple[Tensor, Tensor, Tensor]:
        m = a.shape[0]
        a_scaled = a * scale  # (M, D): logits = a_scaled @ b.T
        lse = a.new_empty(m)
        pos_sum = a.new_empty(m)
        pos_count = a.new_empty(m)
        for start in range(0, m, block):
            stop = min(m, start + block)
            logits, ps, pc, _ = _block_logits(a_scaled, b, layout, start, stop)
            lse[start:stop] = torch.logsumexp(logits, dim=1)
            pos_sum[start:stop] = ps
            pos_count[start:stop] = pc
        ctx.save_for_backward(a, b, lse)
        ctx.scale, ctx.layout, ctx.block = scale, layout, block
        ctx.mark_non_differentiable(pos_count)
        return lse, pos_sum, pos_count

    @staticmethod
    def backward(
        ctx: Any, g_lse: Tensor, g_pos: Tensor, _g_count: Tensor
    ) -> tuple[Tensor | None, Tensor | None, None, None, None]:
        a, b, lse = ctx.saved_tensors
        scale, layout, block = ctx.scale, ctx.layout, ctx.block
        # Rows whose every column is left out have lse = -inf and no gradient.
        lse = torch.where(torch.isinf(lse), torch.zeros_like(lse), lse)
        a_scaled = a * scale
        grad_a = torch.empty_like(a)
        grad_b = torch.zeros_like(b)
        with autocast_off(a):
            for start in range(0, a.shape[0], block):
                stop = min(a.shape[0], start + block)
                logits, _, _, pos = _block_logits(a_scaled, b, layout, start, stop)
                # dL/dlogit_ij = g_lse_i * softmax_ij + g_pos_i * [j positive]; the row
                # factors go on the (b, D) operands, not on the (b, K) matrix.
                p = logits.sub_(lse[start:stop, None]).exp_()  # (b, K) softmax rows
                g_l = g_lse[start:stop, None]
                g_p = g_pos[start:stop, None]
                a_blk = a_scaled[start:stop]  # d logit_ij / d b_j = scale * a_i
                if pos is None:
                    cols = layout.pos_cols[start:stop]
                    grad_a_blk = torch.mm(p, b).mul_(g_l).add_(b[cols] * g_p)
                    grad_b.addmm_(p.T, a_blk * g_l)
                    grad_b.index_add_(0, cols, a_blk * g_p)
                else:
                    g = p.mul_(g_l).add_(pos.to(p.dtype).mul_(g_p))
                    grad_a_blk = torch.mm(g, b)
                    grad_b.addmm_(g.T, a_blk)
                grad_a[start:stop] = grad_a_blk.mul_(scale)
        return grad_a, grad_b, None, None, None


def logit_stats(
    anchors: Tensor,
    cands: Tensor,
    *,
    scale: float,
    layout: PairLayout,
    chunk_size: int | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Per-anchor log-sum-exp, positive-logit sum and positive count, in row blocks.

    With ``L = scale * anchors @ cands.T`` and ``S_i`` the columns kept for anchor ``i``
    (not its own row, not a dropped false negative, not a positive if
    ``layout.exclude_positives``)::

        lse_i = log sum_{j in S_i} exp(L_ij)
        pos_sum_i = sum_{p in P(i)} L_ip,     pos_count_i = |P(i)|

    Args:
        anchors: Shape: (M, D).
        cands: Shape: (K, D).
        scale: Logit scale (1 / temperature).
        layout: Positives and left-out pairs.
        chunk_size: Rows per block; None picks about 4M logits per block.

    Returns:
        ``(lse, pos_sum, pos_count)``, each (M,), in float32 (float64 for float64 input);
        ``pos_count`` carries no gradient.
    """
    with autocast_off(anchors):
        a, b = upcast(anchors), upcast(cands).to(upcast(anchors).dtype)
        block = block_rows(a.shape[0], b.shape[0], chunk_size)
        out: tuple[Tensor, Tensor, Tensor] = _LogitStats.apply(a, b, scale, layout, block)
    return out


def _sigmoid_block(
    a: Tensor, b: Tensor, scale: Tensor, bias: Tensor, layout: PairLayout, start: int, stop: int
) -> tuple[Tensor, Tensor | None, Tensor | None]:
    """Logits ``scale * a b^T + bias`` of rows start:stop, positive mask (ids path) and
    dropped mask."""
    x = torch.addmm(bias, a[start:stop] * scale, b.T)  # (b, K)
    pos, out = layout.block(start, stop)
    return x, pos, out


class _SigmoidPairSum(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any,
        a: Tensor,
        b: Tensor,
        scale: Tensor,
        bias: Tensor,
        layout: PairLayout,
        block: int,
    ) -> Tensor:
        total = a.new_zeros(())
        for start in range(0, a.shape[0], block):
            stop = min(a.shape[0], start + block)
            x, pos, out = _sigmoid_block(a, b, scale, bias, layout, start, stop)
            # -log sigmoid(-x) = softplus(x) on negatives; softplus(-x) = softplus(x) - x
            if pos is None:
                assert layout.pos_cols is not None
                total -= x.gather(1, layout.pos_cols[start:stop, None]).sum()
            else:
                total -= torch.where(pos, x, 0.0).sum()
            val = F.softplus(x)
            if out is not None:
                val.masked_fill_(out, 0.0)
            total += val.sum()
        ctx.save_for_backward(a, b, scale, bias)
        ctx.layout, ctx.block = layout, block
        return total

    @staticmethod
    def backward(ctx: Any, g_out: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, None, None]:
        a, b, scale, bias = ctx.saved_tensors
        layout, block = ctx.layout, ctx.block
        grad_a = torch.empty_like(a)
        grad_b = torch.zeros_like(b)
        grad_scale = torch.zeros_like(scale)
        grad_bias = torch.zeros_like(bias)
        with autocast_off(a):
            for start in range(0, a.shape[0], block):
                stop = min(a.shape[0], start + block)
                x, pos, out = _sigmoid_block(a, b, scale, bias, layout, start, stop)
                g = torch.sigmoid_(x)  # dL/dx = sigmoid(x) - [positive], 0 where dropped
                if out is not None:
                    g.masked_fill_(out, 0.0)
                if pos is None:
                    assert layout.pos_cols is not None
                    g.scatter_add_(
                        1, layout.pos_cols[start:stop, None], g.new_full((stop - start, 1), -1.0)
                    )
                else:
                    g.sub_(pos.to(g.dtype))
                a_blk = a[start:stop]
                gb = torch.mm(g, b)  # (b, D); also gives sum_ij g_ij cos_ij cheaply
                grad_a[start:stop] = gb * (scale * g_out)
                grad_b.addmm_(g.T, a_blk * (scale * g_out))
                grad_scale += (a_blk * gb).sum() * g_out
                grad_bias += g.sum() * g_out
        return grad_a, grad_b, grad_scale, grad_bias, None, None


def sigmoid_pair_sum(
    a: Tensor,
    b: Tensor,
    *,
    scale: Tensor,
    bias: Tensor,
    layout: PairLayout,
    chunk_size: int | None = None,
) -> Tensor:
    """``sum_ij -log sigmoid(y_ij * (scale * a_i . b_j + bias))`` in row blocks.

    ``y_ij = +1`` for positive pairs of ``layout``, ``-1`` otherwise; pairs in
    ``layout.drop`` that are not positives are left out of the sum.

    Args:
        a: Shape: (M, D).
        b: Shape: (K, D).
        scale: Logit scale, a 0-dim tensor (may require grad).
        bias: Logit bias, a 0-dim tensor (may require grad).
        layout: Positives and dropped pairs (``self_cols`` is not used).
        chunk_size: Rows per block; None picks about 4M logits per block.

    Returns:
        0-dim tensor in float32 (float64 for float64 input).
    """
    with autocast_off(a):
        a32 = upcast(a)
        dtype = a32.dtype
        block = block_rows(a.shape[0], b.shape[0], chunk_size)
        out: Tensor = _SigmoidPairSum.apply(
            a32, b.to(dtype), scale.to(dtype), bias.to(dtype), layout, block
        )
    return out
