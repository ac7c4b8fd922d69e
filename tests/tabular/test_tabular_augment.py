"""SCARF and VIME corruption: per-sample loop references and the statistics of the draws."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from contrastkit.augment.tabular import (
    ScarfCorruption,
    VimeCorruption,
    scarf_corrupt,
    vime_corrupt,
)


def pool(n: int = 50, dn: int = 3, dc: int = 2, seed: int = 0) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    num = torch.randn(n, dn, generator=g)
    cat = torch.randint(0, 5, (n, dc), generator=g)
    return num, cat


def scarf_reference(num, cat, pool_num, pool_cat, rate, generator):
    """One row at a time, from the same random numbers as the batched version."""
    b, dn = num.shape
    f = dn + cat.shape[1]
    q = max(1, int(rate * f))
    scores = torch.rand(b, f, generator=generator)
    rows = torch.randint(pool_num.shape[0], (b, f), generator=generator)
    out_num, out_cat = num.clone(), cat.clone()
    for i in range(b):
        for j in np.argsort(-scores[i].numpy(), kind="stable")[:q]:
            if j < dn:
                out_num[i, j] = pool_num[rows[i, j], j]
            else:
                out_cat[i, j - dn] = pool_cat[rows[i, j], j - dn]
    return out_num, out_cat


def test_scarf_matches_per_sample_reference() -> None:
    num, cat = pool(8, seed=1)
    pool_num, pool_cat = pool(50)
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    out_num, out_cat, mask = scarf_corrupt(num, cat, pool_num, pool_cat, rate=0.6, generator=g1)
    ref_num, ref_cat = scarf_reference(num, cat, pool_num, pool_cat, 0.6, g2)
    torch.testing.assert_close(out_num, ref_num, rtol=0, atol=0)
    torch.testing.assert_close(out_cat, ref_cat, rtol=0, atol=0)
    assert mask.shape == (8, 5) and torch.all(mask.sum(1) == 3)  # q = floor(0.6 * 5)


def test_scarf_statistics() -> None:
    """Exactly q features per row; every feature equally often; replaced values follow the
    column's empirical distribution in the pool; untouched entries stay."""
    n_pool, b = 40, 20000
    pool_num = torch.arange(n_pool, dtype=torch.float32)[:, None].repeat(1, 2) * torch.tensor(
        [1.0, -1.0]
    )
    pool_cat = (torch.arange(n_pool) % 4)[:, None]  # categories 0..3, 10 rows each
    pool_cat[:20, 0] = 0  # column frequencies: 0 -> 25/40, 1/2/3 -> 5/40 each
    num = torch.full((b, 2), 1000.0)  # never in the pool: replaced entries are obvious
    cat = torch.full((b, 1), 7)
    g = torch.Generator().manual_seed(0)
    out_num, out_cat, mask = scarf_corrupt(num, cat, pool_num, pool_cat, rate=0.5, generator=g)
    assert torch.all(mask.sum(1) == 1)  # q = floor(0.5 * 3) = 1
    changed = torch.cat([out_num != 1000.0, out_cat != 7], dim=1)
    assert torch.equal(changed, mask)
    freq = mask.float().mean(0)
    assert torch.allclose(freq, torch.full((3,), 1 / 3), atol=0.015)  # 3 sigma ~ 0.01
    drawn = out_num[mask[:, 0], 0]
    counts = torch.bincount(drawn.long(), minlength=n_pool).float()
    expected = len(drawn) / n_pool
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 80  # 39 degrees of freedom: p < 1e-4 above 80
    cats = out_cat[mask[:, 2], 0]
    probs = torch.bincount(cats, minlength=4).float() / len(cats)
    assert torch.allclose(probs, torch.tensor([25, 5, 5, 5]) / 40, atol=0.02)
    assert torch.all(out_num[mask[:, 1], 1] <= 0)  # column 1 draws from column 1 only


def test_scarf_is_seeded_and_per_sample() -> None:
    num, cat = pool(64, seed=1)
    p = pool(50)
    a = scarf_corrupt(num, cat, *p, rate=0.4, generator=torch.Generator().manual_seed(5))
    b = scarf_corrupt(num, cat, *p, rate=0.4, generator=torch.Generator().manual_seed(5))
    c = scarf_corrupt(num, cat, *p, rate=0.4, generator=torch.Generator().manual_seed(6))
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not torch.equal(a[2], c[2])
    assert len({tuple(row.tolist()) for row in a[2]}) > 3  # rows get different masks


def test_scarf_callable_and_dtypes() -> None:
    num, cat = pool(10, seed=1)
    aug = ScarfCorruption(*pool(50), rate=0.6)
    out_num, out_cat = aug((num.double(), cat), torch.Generator().manual_seed(0))
    assert out_num.dtype == torch.float64 and out_cat.dtype == torch.int64
    assert out_num.shape == (10, 3) and out_cat.shape == (10, 2)


def vime_reference(num, cat, rate, generator):
    b, dn = num.shape
    f = dn + cat.shape[1]
    mask = torch.rand(b, f, generator=generator) < rate
    perm = torch.rand(b, f, generator=generator).argsort(dim=0)
    full = torch.cat([num.double(), cat.double()], dim=1)
    out = full.clone()
    for j in range(f):
        shuffled = full[perm[:, j], j]  # column j permuted
        for i in range(b):
            if mask[i, j]:
                out[i, j] = shuffled[i]
    return out[:, :dn].to(num.dtype), out[:, dn:].long(), mask


def test_vime_matches_per_sample_reference() -> None:
    num, cat = pool(16, seed=2)
    g1, g2 = torch.Generator().manual_seed(9), torch.Generator().manual_seed(9)
    out = vime_corrupt(num, cat, rate=0.3, generator=g1)
    ref = vime_reference(num, cat, 0.3, g2)
    for x, y in zip(out, ref, strict=True):
        torch.testing.assert_close(x, y, rtol=0, atol=0)


def test_vime_statistics() -> None:
    b = 4000
    num = torch.arange(b, dtype=torch.float32)[:, None].repeat(1, 4)
    cat = torch.zeros(b, 0, dtype=torch.int64)
    _, _, mask = vime_corrupt(num, cat, rate=0.3, generator=torch.Generator().manual_seed(0))
    assert abs(float(mask.float().mean()) - 0.3) < 0.01  # 3 sigma = 0.0063
    assert mask.sum(1).float().var() > 0.5  # Bernoulli per entry, not a fixed count per row
    # Replacement values come from a permutation of the batch column: all distinct (drawing
    # rows with replacement would repeat some) and all from the column.
    out, _, m = vime_corrupt(num, cat, rate=0.9, generator=torch.Generator().manual_seed(1))
    for j in range(4):
        replaced = out[m[:, j], j]
        assert len(torch.unique(replaced)) == len(replaced)
        assert torch.all((replaced >= 0) & (replaced < b) & (replaced == replaced.round()))


@pytest.mark.parametrize("rate", [0.0, 1.0, -0.1])
def test_bad_rate_and_shapes(rate: float) -> None:
    num, cat = pool(4)
    with pytest.raises(ValueError, match="rate"):
        VimeCorruption(rate=rate)
    with pytest.raises(ValueError, match="rate"):
        scarf_corrupt(num, cat, num, cat, rate=rate)
    with pytest.raises(ValueError, match="share B"):
        scarf_corrupt(num, cat[:2], num, cat, rate=0.5)
    with pytest.raises(ValueError, match="do not match"):
        scarf_corrupt(num, cat, num[:, :2], cat, rate=0.5)
