"""Every loss does float32 math under bf16/fp16 autocast: finite at temperature 0.05 and
close to the float32 result."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from contrastkit import losses as L

Z = torch.Tensor
LABELS = torch.tensor([0, 1, 2, 3] * 8)

# name -> loss of two (32, 16) embeddings at temperature 0.05 where there is one
CASES: dict[str, Callable[[Z, Z], Z]] = {
    "nt_xent": lambda a, b: L.nt_xent(a, b, 0.05),
    "info_nce": lambda a, b: L.info_nce(a, b, 0.05, negatives=b.flip(0)),
    "supcon": lambda a, b: L.supcon(torch.stack([a, b], 1), LABELS, 0.05),
    "dcl": lambda a, b: L.dcl(a, b, 0.05, sigma=0.5),
    "n_pair": lambda a, b: L.n_pair(a, b, normalize=False),
    "sigmoid_pairs": lambda a, b: L.sigmoid_pairs(a, b, 20.0, -10.0),
    "margin_contrastive": lambda a, b: L.margin_contrastive(a, b, LABELS == 0),
    "triplet": lambda a, b: L.triplet(a, b, b.flip(0)),
    "barlow_twins": lambda a, b: L.barlow_twins(a, b),
    "vicreg": lambda a, b: L.vicreg(a, b),
    "byol": lambda a, b: L.byol(a, b),
    "swav": lambda a, b: L.swav(torch.stack([a, b]), temperature=0.05),
    "dino": lambda a, b: L.dino(
        torch.stack([a, b]), torch.stack([b, a]), a[0].detach(), student_temperature=0.05
    ),
}


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("name", sorted(CASES))
def test_finite_and_close_to_float32_under_autocast(name: str, dtype: torch.dtype) -> None:
    g = torch.Generator().manual_seed(0)
    x = 3 * torch.randn(32, 16, generator=g)
    torch.manual_seed(0)
    layer = torch.nn.Linear(16, 16)
    loss_fn = CASES[name]
    with torch.autocast("cpu", dtype=dtype):
        a, b = layer(x), layer(x + 0.1 * torch.randn(32, 16, generator=g))
        assert a.dtype == dtype  # the encoder really ran in low precision
        low = loss_fn(a, b)
    assert low.dtype == torch.float32
    assert torch.isfinite(low)
    low.backward()
    assert all(torch.isfinite(p.grad).all() for p in layer.parameters())  # type: ignore[arg-type]
    # Same low-precision embeddings, loss without autocast: float32 math either way.
    same_inputs = loss_fn(a.float(), b.float())
    assert low.item() == pytest.approx(same_inputs.item(), rel=1e-5, abs=1e-5)
    full = loss_fn(layer(x), layer(x + 0.1 * torch.randn(32, 16, generator=g.manual_seed(0))))
    assert torch.isfinite(full)
    if name != "swav":  # Sinkhorn codes at epsilon 0.05 amplify bf16 rounding of inputs
        assert low.item() == pytest.approx(full.item(), rel=0.1, abs=0.05)
