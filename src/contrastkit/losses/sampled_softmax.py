"""In-batch sampled softmax for two-tower retrieval with the log-Q popularity correction
(Yi et al. 2019, "Sampling-Bias-Corrected Neural Modeling for Large Corpus Item
Recommendations", RecSys '19, doi:10.1145/3298689.3346996)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from contrastkit.distributed import all_gather_no_grad, all_gather_with_grad, rank, world_size
from contrastkit.losses.module import LossModule
from contrastkit.losses.precision import autocast_off, upcast
from contrastkit.losses.validation import check_pair, check_positive, check_rows

__all__ = ["SampledSoftmaxLoss", "sampled_softmax"]


def sampled_softmax(
    user: Tensor,
    item: Tensor,
    log_q: Tensor | None = None,
    *,
    temperature: float = 0.05,
    item_ids: Tensor | None = None,
    normalize: bool = True,
    gather: bool = False,
) -> Tensor:
    """Each user picks its own item among the batch's items, popularity-corrected.

    The other items of the batch are the negatives, so popular items are negatives more
    often than under uniform sampling; subtracting their log sampling probability
    ``log q_j`` corrects this bias (Yi et al. 2019, Eq. 3). With ``s = 1 / temperature``::

        logits_ij = s cos(u_i, v_j) - log q_j          # (B, B)
        L = (1/B) sum_i [ -logits_ii + log sum_{j in C_i} exp(logits_ij) ]

    where ``C_i`` is every column except the other copies of user i's item (with
    ``item_ids``, ``j != i`` and ``item_ids[j] == item_ids[i]`` are left out: the same
    item twice in a batch is not a negative of itself). With q uniform (or None) this is
    plain InfoNCE (`contrastkit.losses.info_nce`) over the batch.

    Args:
        user: User-tower embeddings. Shape: (B, D).
        item: Item-tower embeddings, row i the item user i interacted with. Shape: (B, D).
        log_q: Log-probability that each in-batch item is sampled into a batch (e.g. the
            log of its frequency in the training interactions), Shape: (B,); None = uniform.
        temperature: tau > 0; the logit scale is s = 1 / tau.
        item_ids: Item id of each row, Shape: (B,); masks in-batch duplicates.
        normalize: L2-normalise rows first (cosine); False uses dot products.
        gather: The items of every rank are the candidates (with their log_q and ids;
            same batch size on every rank); no-op without a process group. See
            ``contrastkit.distributed`` for the gradient convention.

    The dense (B, W*B) logit matrix is built at once: 64 MiB at B = W*B = 4096 in float32.

    Returns:
        Scalar loss (float32 math under autocast; float64 stays float64).

    Raises:
        ValueError: Mismatched shapes, temperature <= 0, or non-finite log_q.

    Example:
        >>> loss = sampled_softmax(u, v, torch.log(freq[item_ids]), item_ids=item_ids)
    """
    check_positive("temperature", temperature)
    check_pair("user", user, "item", item)
    b = user.shape[0]
    if log_q is not None:
        check_rows("log_q", log_q, b, "log sampling probability of each item")
        if not torch.isfinite(log_q).all():
            raise ValueError("log_q must be finite (no item has sampling probability 0)")
    if item_ids is not None:
        check_rows("item_ids", item_ids, b, "item id of each row")
    w, r = (world_size(), rank()) if gather else (1, 0)
    with autocast_off(user):
        u, v = upcast(user), upcast(item).to(upcast(user).dtype)
        if normalize:
            u, v = F.normalize(u, dim=1), F.normalize(v, dim=1)
        cands = all_gather_with_grad(v) if w > 1 else v  # (W*B, D), rank order
        logits = (u @ cands.T) / temperature  # (B, W*B): user i x item j
        target = r * b + torch.arange(b, device=logits.device)  # own item's column
        if log_q is not None:
            all_q = all_gather_no_grad(log_q.detach()) if w > 1 else log_q
            logits = logits - all_q.to(logits.dtype)[None, :]
        if item_ids is not None:
            all_ids = all_gather_no_grad(item_ids) if w > 1 else item_ids
            same = item_ids[:, None] == all_ids[None, :]  # (B, W*B)
            same[torch.arange(b, device=same.device), target] = False  # the positive stays
            logits = logits.masked_fill(same, float("-inf"))
        return F.cross_entropy(logits, target)


class SampledSoftmaxLoss(LossModule, function=sampled_softmax):
    """Module form of :func:`sampled_softmax`."""
