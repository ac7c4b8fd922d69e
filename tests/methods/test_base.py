"""The method base (`methods/base.py`): a method with in-batch negatives is its three calls
(views, embedders, loss over the embeddings), GradCache over those calls gives the
gradient of the whole batch, and checkpoints written with the earlier names of heads and
EMA targets still load."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from tests.methods.test_registry import build

from contrastkit.methods.base import InBatchMethod, Method
from contrastkit.methods.registry import METHODS
from contrastkit.train.grad_cache import cached_loss

IN_BATCH = sorted(n for n, spec in METHODS.items() if isinstance(build(spec)[0], InBatchMethod))


def test_the_methods_with_in_batch_negatives_expose_the_three_calls() -> None:
    assert {"simclr", "supcon", "clip", "siglip", "text_pairs"} <= set(IN_BATCH)
    for spec in METHODS.values():
        assert isinstance(build(spec)[0], Method), spec.name


@pytest.mark.parametrize("name", IN_BATCH)
def test_training_loss_is_the_loss_over_the_embeddings_of_the_views(name: str) -> None:
    method, batch, augment = build(METHODS[name])
    assert isinstance(method, InBatchMethod)
    torch.manual_seed(5)  # dropout
    want = method.training_loss(batch, augment=augment, generator=torch.Generator().manual_seed(1))
    torch.manual_seed(5)
    inputs = method.views(batch, augment=augment, generator=torch.Generator().manual_seed(1))
    assert torch.equal(method.embedding_loss(method.embed_views(inputs), batch), want)


@pytest.mark.parametrize("name", IN_BATCH)
def test_embed_views_gives_each_row_its_embedders_embedding(name: str) -> None:
    """What the step embeds in one pass (texts grouped by length) is what the embedders
    that GradCache calls give (eval mode: no dropout)."""
    method, batch, augment = build(METHODS[name])
    assert isinstance(method, InBatchMethod)
    method.eval()
    inputs = method.views(batch, augment=augment, generator=torch.Generator().manual_seed(1))
    together = method.embed_views(inputs)
    assert len(together) == len(inputs)
    for i, (z, x) in enumerate(zip(together, inputs, strict=True)):
        torch.testing.assert_close(z, method.embedder(i)(x), rtol=1e-5, atol=1e-6)


def _grads(method: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: p.grad.clone() for k, p in method.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("name", IN_BATCH)
def test_grad_cache_over_the_three_calls_gives_the_whole_batch_gradient(name: str) -> None:
    """In eval mode (BatchNorm on its running statistics, no dropout) a chunk's embedding
    does not depend on the rest of the batch, so chunks of 5 must give the same gradient."""
    method, batch, augment = build(METHODS[name])
    assert isinstance(method, InBatchMethod)
    method.eval()
    inputs = method.views(batch, augment=augment, generator=torch.Generator().manual_seed(1))

    def loss_fn(*embeddings: Any) -> torch.Tensor:
        return method.embedding_loss(embeddings, batch)

    whole = loss_fn(*(method.embedder(i)(x) for i, x in enumerate(inputs)))
    whole.backward()
    want = _grads(method)
    method.zero_grad(set_to_none=True)
    encoders = [method.embedder(i) for i in range(len(inputs))]
    cached, backward = cached_loss(encoders, list(inputs), loss_fn, chunk_size=5)
    backward()
    torch.testing.assert_close(cached.detach(), whole.detach())
    got = _grads(method)
    assert got.keys() == want.keys() and want
    for key, value in want.items():
        torch.testing.assert_close(got[key], value, rtol=1e-4, atol=1e-6, msg=key)


EARLIER = {
    "barlow_twins": {"head.": "projector."},
    "vicreg": {"head.": "expander."},
    "byol": {"head.": "projector."},
    "moco_v2": {"target.": "key."},
    "moco_v3": {"head.": "projector.", "target.": "key."},
    "dino": {"target.": "teacher."},
    "swav": {"head.": "projector."},
}


@pytest.mark.parametrize("name", sorted(EARLIER))
def test_a_checkpoint_with_the_earlier_names_loads(name: str) -> None:
    method = build(METHODS[name])[0]
    state = method.state_dict()
    earlier = {}
    for key, value in state.items():
        for new, old in EARLIER[name].items():
            if key.startswith(new):
                key = old + key[len(new) :]
                break
        earlier[key] = value
    assert earlier.keys() != state.keys()
    torch.manual_seed(7)
    fresh = build(METHODS[name])[0]
    fresh.load_state_dict(earlier)  # strict: every key found
    for key, value in fresh.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_two_tower_checkpoints_with_the_other_objectives_parameters_load() -> None:
    clip, siglip = build(METHODS["clip"])[0], build(METHODS["siglip"])[0]
    extra = {"siglip.log_scale": torch.tensor(2.3), "siglip.bias": torch.tensor(-10.0)}
    clip.load_state_dict({**clip.state_dict(), **extra})
    siglip.load_state_dict({**siglip.state_dict(), "log_scale": torch.tensor(2.65)})
    with pytest.raises(RuntimeError, match="Unexpected key"):
        clip.load_state_dict({**clip.state_dict(), "log_scale_x": torch.tensor(0.0)})
