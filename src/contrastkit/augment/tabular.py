"""Random views of table rows: SCARF and VIME corruption, batched, per sample, seeded.

A row is a pair (numeric (B, Dn) float, codes (B, Dc) int64) and its F = Dn + Dc features
are corrupted jointly: the mask is drawn over all F columns, numeric first.

SCARF (Bahri et al. 2022, arXiv:2106.15147): for each row, a uniformly random subset of
exactly q = max(1, floor(rate * F)) features is replaced; feature j of row b takes the
value of column j in a uniformly drawn row of a reference table (the training set), i.e. a
sample of the column's empirical marginal distribution.

VIME (Yoon et al. 2020, arXiv:2006.06775, Sec. 4.1): mask m_bj ~ Bernoulli(rate) per
entry, x~ = (1 - m) * x + m * x_bar, where x_bar takes column j from a random permutation
of the batch's rows, drawn independently per column (the batch's empirical marginal).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

TableRows = tuple[Tensor, Tensor]
"""(numeric Shape: (B, Dn) float, codes Shape: (B, Dc) int64), indexed together."""

RowAugment = Callable[[TableRows, torch.Generator | None], TableRows]
"""A random view of table rows: `augment(rows, generator) -> rows` (`ScarfCorruption`, ...)."""


def _check_rows(numeric: Tensor, codes: Tensor) -> None:
    if numeric.ndim != 2 or codes.ndim != 2 or numeric.shape[0] != codes.shape[0]:
        raise ValueError(
            f"numeric (B, Dn) and codes (B, Dc) must share B, got {tuple(numeric.shape)} and "
            f"{tuple(codes.shape)}"
        )
    if numeric.shape[1] + codes.shape[1] == 0:
        raise ValueError("a row needs at least one feature (Dn + Dc >= 1)")


def _check_rate(rate: float) -> None:
    if not 0.0 < rate < 1.0:
        raise ValueError(f"rate must be in (0, 1), got {rate}")


def _replace(
    numeric: Tensor, codes: Tensor, mask: Tensor, new_num: Tensor, new_cat: Tensor
) -> TableRows:
    """Where mask (B, F) is set, take new values; numeric columns are the first Dn."""
    dn = numeric.shape[1]
    return (
        torch.where(mask[:, :dn], new_num.to(numeric.dtype), numeric),
        torch.where(mask[:, dn:], new_cat, codes),
    )


def scarf_corrupt(
    numeric: Tensor,
    codes: Tensor,
    pool_numeric: Tensor,
    pool_codes: Tensor,
    *,
    rate: float,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """SCARF corruption of a batch of rows (see the module docstring).

    Args:
        numeric: Shape: (B, Dn). codes: Shape: (B, Dc).
        pool_numeric: Shape: (N, Dn), the reference table (training rows).
        pool_codes: Shape: (N, Dc).
        rate: Fraction of the F = Dn + Dc features to replace per row, in (0, 1).
        generator: Random source (on the batch's device); None uses the global one.

    Returns:
        (numeric view (B, Dn), codes view (B, Dc), mask (B, F) bool: which were replaced).
        A replaced value may equal the original (the drawn row can share it).

    Raises:
        ValueError: shapes disagree or rate is outside (0, 1).
    """
    _check_rows(numeric, codes)
    _check_rows(pool_numeric, pool_codes)
    _check_rate(rate)
    if pool_numeric.shape[1] != numeric.shape[1] or pool_codes.shape[1] != codes.shape[1]:
        raise ValueError(
            f"pool columns {tuple(pool_numeric.shape)}, {tuple(pool_codes.shape)} do not match "
            f"the batch {tuple(numeric.shape)}, {tuple(codes.shape)}"
        )
    b, dn = numeric.shape
    f = dn + codes.shape[1]
    q = max(1, int(rate * f))
    device = numeric.device
    scores = torch.rand(b, f, generator=generator, device=device)  # (B, F)
    rows = torch.randint(pool_numeric.shape[0], (b, f), generator=generator, device=device)
    chosen = scores.topk(q, dim=1).indices  # (B, q): a uniform q-subset per row
    mask = torch.zeros(b, f, dtype=torch.bool, device=device).scatter_(1, chosen, True)
    cols = torch.arange(f, device=device)
    pool_num, pool_cat = pool_numeric.to(device), pool_codes.to(device)
    new_num = pool_num[rows[:, :dn], cols[:dn]]  # (B, Dn): column j from row rows[b, j]
    new_cat = pool_cat[rows[:, dn:], cols[dn:] - dn]  # (B, Dc)
    out_num, out_cat = _replace(numeric, codes, mask, new_num, new_cat)
    return out_num, out_cat, mask


def vime_corrupt(
    numeric: Tensor,
    codes: Tensor,
    *,
    rate: float,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """VIME mask corruption of a batch of rows (see the module docstring).

    Args:
        numeric: Shape: (B, Dn). codes: Shape: (B, Dc).
        rate: Bernoulli probability p_m that an entry is replaced, in (0, 1).
        generator: Random source (on the batch's device); None uses the global one.

    Returns:
        (numeric view (B, Dn), codes view (B, Dc), mask (B, F) bool), the mask being VIME's
        mask-estimation target.
    """
    _check_rows(numeric, codes)
    _check_rate(rate)
    b, dn = numeric.shape
    f = dn + codes.shape[1]
    device = numeric.device
    mask = torch.rand(b, f, generator=generator, device=device) < rate  # (B, F)
    perm = torch.rand(b, f, generator=generator, device=device).argsort(dim=0)  # (B, F)
    new_num = numeric.gather(0, perm[:, :dn])  # (B, Dn): column j permuted by perm[:, j]
    new_cat = codes.gather(0, perm[:, dn:])  # (B, Dc)
    out_num, out_cat = _replace(numeric, codes, mask, new_num, new_cat)
    return out_num, out_cat, mask


class ScarfCorruption:
    """`scarf_corrupt` as the loop's augment callable, holding the reference table.

    Args:
        pool_numeric: Shape: (N, Dn), the training rows' numeric columns.
        pool_codes: Shape: (N, Dc), their category codes.
        rate: Fraction of features replaced per row, in (0, 1) (SCARF default 0.6).
    """

    def __init__(self, pool_numeric: Tensor, pool_codes: Tensor, *, rate: float) -> None:
        _check_rows(pool_numeric, pool_codes)
        _check_rate(rate)
        self.pool_numeric = pool_numeric
        self.pool_codes = pool_codes
        self.rate = rate

    def __call__(self, rows: TableRows, generator: torch.Generator | None = None) -> TableRows:
        numeric, codes = rows
        if self.pool_numeric.device != numeric.device:
            self.pool_numeric = self.pool_numeric.to(numeric.device)
            self.pool_codes = self.pool_codes.to(numeric.device)
        out_num, out_cat, _ = scarf_corrupt(
            numeric,
            codes,
            self.pool_numeric,
            self.pool_codes,
            rate=self.rate,
            generator=generator,
        )
        return out_num, out_cat


class VimeCorruption:
    """`vime_corrupt` as the loop's augment callable.

    Args:
        rate: Probability that an entry is replaced, in (0, 1) (VIME uses 0.3).
    """

    def __init__(self, *, rate: float) -> None:
        _check_rate(rate)
        self.rate = rate

    def __call__(self, rows: TableRows, generator: torch.Generator | None = None) -> TableRows:
        out_num, out_cat, _ = vime_corrupt(*rows, rate=self.rate, generator=generator)
        return out_num, out_cat
