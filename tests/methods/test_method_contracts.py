"""Every registered image method (all methods' contract: test_registry.py; CLIP, SigLIP:
tests/multimodal; text, tables: their own) builds from its digits recipe, one step gives a
finite loss and moves the parameters, and its state (teacher, queue, center, progress)
round-trips."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from contrastkit.augment.build import build_augment
from contrastkit.batches import ImageBatch
from contrastkit.builders import build_method
from contrastkit.config import Config, load_config
from contrastkit.encoders.build import build_encoder
from contrastkit.methods.registry import methods_for

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
IMAGE_METHODS = sorted(methods_for(ImageBatch))
TINY = ["model.width=4", "model.feature_dim=16", "model.proj_hidden_dim=32", "model.proj_dim=16"]


def tiny_config(name: str) -> Config:
    return load_config(CONFIGS / f"digits_{name}.yaml", TINY)


def build(name: str) -> torch.nn.Module:
    cfg = tiny_config(name)
    torch.manual_seed(0)
    return build_method(cfg, lambda: build_encoder(cfg.model, in_channels=1))


def image_batch() -> ImageBatch:
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (16, 1, 8, 8), dtype=torch.uint8, generator=gen)
    return ImageBatch(images=images, labels=torch.arange(16) % 4)


def train_step(method: torch.nn.Module, name: str, progress: float = 0.5) -> torch.Tensor:
    augment = build_augment(tiny_config(name).augment)
    params = [p for p in method.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=0.05)
    loss = method.training_loss(
        image_batch(), augment=augment, generator=torch.Generator().manual_seed(1)
    )
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    method.after_step(progress)
    return loss.detach()


def test_every_image_method_has_a_digits_recipe() -> None:
    for name in IMAGE_METHODS:
        assert (CONFIGS / f"digits_{name}.yaml").is_file(), name


@pytest.mark.parametrize("name", IMAGE_METHODS)
def test_one_step_finite_loss_and_encoder_moves(name: str) -> None:
    method = build(name)
    before = {k: v.clone() for k, v in method.encoder.state_dict().items()}
    loss = train_step(method, name)
    assert loss.ndim == 0 and torch.isfinite(loss)
    moved = [k for k, v in method.encoder.state_dict().items() if not torch.equal(v, before[k])]
    assert any(k.endswith("weight") for k in moved), f"{name}: encoder weights did not change"
    assert method.projection(torch.rand(4, 1, 8, 8)).shape[0] == 4


@pytest.mark.parametrize("name", IMAGE_METHODS)
def test_state_round_trips_through_state_dict(name: str) -> None:
    method = build(name)
    train_step(method, name, progress=0.3)
    train_step(method, name, progress=0.6)
    clone = build(name)
    clone.load_state_dict(method.state_dict())
    for key, value in method.state_dict().items():
        assert torch.equal(value, clone.state_dict()[key]), f"{name}: {key} differs"
    # the restored state gives the same next loss (EMA teacher, queue, center, progress)
    torch.manual_seed(3)
    a = train_step(method, name, progress=0.9)
    torch.manual_seed(3)
    b = train_step(clone, name, progress=0.9)
    torch.testing.assert_close(a, b)


def test_teacher_and_queue_are_in_state_dict_not_optimised() -> None:
    moco = build("moco_v2")
    keys = moco.state_dict().keys()
    assert {"queue.rows", "queue.ptr", "queue.filled"} <= set(keys)
    assert any(k.startswith("target.net.") for k in keys)
    assert all(not p.requires_grad for p in moco.target.parameters())
    dino = build("dino")
    assert {"center", "progress"} <= set(dino.state_dict())


def test_simsiam_stop_gradient_blocks_the_target_branch() -> None:
    """With stop-gradient the loss gradient reaches the projector only through p."""
    method = build("simsiam")
    method.predictor.requires_grad_(False)
    images = ImageBatch(images=torch.rand(8, 1, 8, 8), labels=torch.full((8,), -1))
    loss = method.training_loss(images, augment=lambda x, g: x.float(), generator=None)
    loss.backward()
    with_sg = method.head.net[0].weight.grad.clone()
    method.zero_grad()
    method.stop_gradient = False
    method.training_loss(images, augment=lambda x, g: x.float(), generator=None).backward()
    assert not torch.allclose(with_sg, method.head.net[0].weight.grad)
