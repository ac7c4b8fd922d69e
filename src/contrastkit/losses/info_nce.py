"""InfoNCE with in-batch and queued negatives (van den Oord et al., 2018, arXiv:1807.03748;
MoCo, He et al., 2019, arXiv:1911.05722)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from contrastkit.distributed import all_gather_no_grad, all_gather_with_grad, rank, world_size
from contrastkit.losses.blocked import PairLayout
from contrastkit.losses.module import LossModule
from contrastkit.losses.precision import autocast_off, upcast
from contrastkit.losses.reduction import mean_positive_nll
from contrastkit.losses.validation import (
    check_chunk_size,
    check_columns,
    check_mask,
    check_pair,
    check_positive,
    check_rows,
)

__all__ = ["InfoNCELoss", "info_nce"]


def info_nce(
    query: Tensor,
    key: Tensor,
    temperature: float = 0.07,
    negatives: Tensor | None = None,
    *,
    normalize: bool = True,
    ids: Tensor | None = None,
    mask: Tensor | None = None,
    chunk_size: int | None = None,
    gather: bool = False,
) -> Tensor:
    """InfoNCE: each query picks its own key among all keys and the extra negatives.

    With ``s(q, k) = cos(q, k) / temperature`` and candidates ``C = keys + negatives``::

        L = (1/N) sum_i [ -s(q_i, k_i) + log sum_{c in C} exp(s(q_i, c)) ]

    That is ``cross_entropy(logits, arange(N))`` over the (N, N + K) logits. With ``ids``
    every key with the query's id is a positive (numerator averaged over them); queued
    negatives are never positives.

    Args:
        query: Queries. Shape: (N, D).
        key: Keys, row n the positive of query n. Shape: (N, D).
        temperature: tau > 0 (MoCo: 0.07); logits are scaled by 1 / tau.
        negatives: Extra negatives, e.g. a MoCo queue (owned by the method).
            Shape: (K, D).
        normalize: L2-normalise rows first (cosine similarity); False uses dot products.
        ids: Sample ids (>= 0); keys with the query's id are positives. Shape: (N,).
        mask: Known false negatives among the in-batch keys: ``mask[i, j]`` leaves key j
            out of query i's negatives. Shape: (N, N), or (N, world_size * N) with gather.
        chunk_size: Query rows per block of the logit matrix; None chooses.
        gather: Keys from all ranks are negatives (no-op without a process group); the
            queue is used as given. See ``contrastkit.distributed`` for gradients.

    Returns:
        Scalar loss (float32 math).

    Raises:
        ValueError: On mismatched shapes, negative ids, or temperature <= 0.

    Example:
        >>> loss = info_nce(torch.randn(8, 16), torch.randn(8, 16), negatives=torch.randn(32, 16))
    """
    check_positive("temperature", temperature)
    check_chunk_size(chunk_size)
    check_pair("query", query, "key", key)
    if negatives is not None:
        check_columns("negatives", negatives, query.shape[1])
    n = query.shape[0]
    with autocast_off(query):
        q, k = upcast(query), upcast(key).to(upcast(query).dtype)
        neg = None if negatives is None else upcast(negatives).to(q.dtype)
        if normalize:
            q, k = F.normalize(q, dim=1), F.normalize(k, dim=1)
            neg = None if neg is None else F.normalize(neg, dim=1)
        w, r = (world_size(), rank()) if gather else (1, 0)
        keys = all_gather_with_grad(k) if w > 1 else k  # (Wn, D)
        cands = keys if neg is None else torch.cat([keys, neg])  # (Wn + K, D)
        n_extra = 0 if neg is None else neg.shape[0]
        drop = None
        if mask is not None:
            check_mask(mask, n, w * n)
            drop = F.pad(mask, (0, n_extra))  # queue columns are never dropped
        if ids is None:
            layout = PairLayout(pos_cols=r * n + torch.arange(n, device=q.device), drop=drop)
        else:
            check_rows("ids", ids, n, "one id per query; equal ids are positives")
            if ids.numel() and int(ids.min()) < 0:
                raise ValueError("ids must be >= 0 (queued negatives use -1)")
            all_ids = all_gather_no_grad(ids) if w > 1 else ids
            queue_ids = torch.full((n_extra,), -1, dtype=all_ids.dtype, device=all_ids.device)
            layout = PairLayout(anchor_ids=ids, cand_ids=torch.cat([all_ids, queue_ids]), drop=drop)
        return mean_positive_nll(
            q, cands, temperature=temperature, layout=layout, chunk_size=chunk_size, gather=gather
        )


class InfoNCELoss(LossModule, function=info_nce):
    """Module form of :func:`info_nce` (the queue of negatives is the method's)."""
