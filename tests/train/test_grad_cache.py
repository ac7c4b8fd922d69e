"""GradCache (`cached_loss` and its backward): parameter gradients equal the uncached step's."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

from contrastkit.losses import SigmoidPairsLoss, nt_xent, supcon
from contrastkit.train.grad_cache import cached_loss


def mlp(seed: int, dropout: float = 0.0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(6, 16), nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, 4)
    ).double()


def grads(*modules: nn.Module) -> list[torch.Tensor]:
    return [p.grad.clone() for m in modules for p in m.parameters() if p.grad is not None]


def cached_step(*args: Any, **kwargs: Any) -> torch.Tensor:
    """`cached_loss` and its backward at once: the loss, detached."""
    loss, backward = cached_loss(*args, **kwargs)
    backward()
    return loss.detach()


def batch(n: int, seed: int) -> torch.Tensor:
    return torch.randn(n, 6, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("chunk_size", [1, 3, 10, 64])
def test_shared_encoder_nt_xent_equals_uncached(chunk_size: int) -> None:
    x_a, x_b = batch(10, 0), batch(10, 1)
    model = mlp(0)
    nt_xent(model(x_a), model(x_b), 0.2).backward()
    want = grads(model)
    model.zero_grad()
    loss = cached_step(model, [x_a, x_b], lambda a, b: nt_xent(a, b, 0.2), chunk_size=chunk_size)
    for got, exp in zip(grads(model), want, strict=True):
        torch.testing.assert_close(got, exp, rtol=1e-10, atol=1e-12)
    assert not loss.requires_grad
    assert loss.item() == pytest.approx(nt_xent(model(x_a), model(x_b), 0.2).item(), rel=1e-12)


def test_two_towers_and_loss_parameters_equal_uncached() -> None:
    image, text = mlp(0), mlp(1)
    siglip = SigmoidPairsLoss().double()
    x_i, x_t = batch(9, 2), batch(9, 3)
    siglip(image(x_i), text(x_t)).backward()
    want = grads(image, text, siglip)
    for m in (image, text, siglip):
        m.zero_grad()
    cached_step([image, text], [x_i, x_t], siglip, chunk_size=4)
    got = grads(image, text, siglip)
    assert len(got) == len(want) == 10
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, rtol=1e-10, atol=1e-12)


def test_dict_inputs_and_single_input_loss() -> None:
    class Tower(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = mlp(0)

        def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
            return self.net(batch["x"]) * batch["w"][:, None]

    tower = Tower()
    views = batch(8, 4)
    inputs = {"x": views, "w": torch.linspace(0.5, 1.5, 8, dtype=torch.float64)}
    labels = torch.tensor([0, 1, 0, 1, 2, 2, 3, 3])
    supcon(tower(inputs)[:, None], labels).backward()
    want = grads(tower)
    tower.zero_grad()
    cached_step(tower, [inputs], lambda z: supcon(z[:, None], labels), chunk_size=3)
    for g, w in zip(grads(tower), want, strict=True):
        torch.testing.assert_close(g, w, rtol=1e-10, atol=1e-12)


def test_dropout_randomness_is_replayed() -> None:
    # With dropout the reference must draw masks chunk by chunk in the same order.
    model = mlp(0, dropout=0.5)
    x_a, x_b = batch(8, 5), batch(8, 6)
    torch.manual_seed(123)
    emb = [torch.cat([model(x[s : s + 3]) for s in range(0, 8, 3)]) for x in (x_a, x_b)]
    nt_xent(*emb, 0.3).backward()
    want = grads(model)
    model.zero_grad()
    torch.manual_seed(123)
    cached_step(model, [x_a, x_b], lambda a, b: nt_xent(a, b, 0.3), chunk_size=3)
    for g, w in zip(grads(model), want, strict=True):
        torch.testing.assert_close(g, w, rtol=1e-10, atol=1e-12)


def test_scale_loss_scales_every_gradient() -> None:
    model = mlp(0)
    x_a, x_b = batch(6, 0), batch(6, 1)
    cached_step(model, [x_a, x_b], lambda a, b: nt_xent(a, b), chunk_size=4)
    plain = grads(model)
    model.zero_grad()
    cached_step(
        model, [x_a, x_b], lambda a, b: nt_xent(a, b), chunk_size=4, scale_loss=lambda x: 8 * x
    )
    for g, w in zip(grads(model), plain, strict=True):
        torch.testing.assert_close(g, 8 * w)


def test_errors() -> None:
    model = mlp(0)
    x = batch(4, 0)
    with pytest.raises(ValueError, match="chunk_size must be >= 1"):
        cached_step(model, [x, x], nt_xent, chunk_size=0)
    with pytest.raises(ValueError, match="same batch size"):
        cached_step(model, [x, x[:3]], nt_xent, chunk_size=2)
    with pytest.raises(ValueError, match="2 encoders for 1 inputs"):
        cached_step([model, model], [x], nt_xent, chunk_size=2)
