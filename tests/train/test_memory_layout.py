"""`train.channels_last` and `train.compile`: the same training in another memory layout or
compiled, with the weights handed back in the usual layout, under the usual names, and not
compiled any more."""

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import Tensor, nn

from contrastkit.augment.image import ViewAugment
from contrastkit.batches import ImageBatch
from contrastkit.config import TrainConfig
from contrastkit.data.digits import load_digits
from contrastkit.encoders.small_cnn import SmallCNN
from contrastkit.heads.projection import ProjectionHead
from contrastkit.methods.simclr import SimCLR
from contrastkit.train.loop import fit


class LayoutSpy(SimCLR):
    """SimCLR that records, at every step, whether its multi-channel conv weights are
    stored channels-last."""

    def __init__(self) -> None:
        torch.manual_seed(0)
        super().__init__(
            SmallCNN(width=4, feature_dim=16), ProjectionHead(16, 16, 8), temperature=0.5
        )
        self.seen: list[bool] = []

    def training_loss(
        self, batch: ImageBatch, *, augment: object, generator: torch.Generator | None = None
    ) -> Tensor:
        self.seen.append(
            all(w.is_contiguous(memory_format=torch.channels_last) for w in convs(self))
        )
        return super().training_loss(batch, augment=augment, generator=generator)  # type: ignore[arg-type]


def convs(module: nn.Module) -> list[Tensor]:
    """Conv weights with more than one input channel (a 1-channel kernel is both layouts)."""
    return [m.weight for m in module.modules() if isinstance(m, nn.Conv2d) and m.in_channels > 1]


class Interrupted(LayoutSpy):
    """Stops on its third step as Ctrl-C would."""

    def training_loss(
        self, batch: ImageBatch, *, augment: object, generator: torch.Generator | None = None
    ) -> Tensor:
        if len(self.seen) == 2:
            raise KeyboardInterrupt
        return super().training_loss(batch, augment=augment, generator=generator)


def train(run_dir: Path, method: LayoutSpy | None = None, **options: Any) -> LayoutSpy:
    images = load_digits().x_train[:128]
    cfg = TrainConfig(epochs=2, batch_size=64, warmup_epochs=1, lr=1e-2, **options)
    method = method or LayoutSpy()
    fit(
        method,
        ImageBatch(images=images, labels=torch.full((len(images),), -1)),
        augment=ViewAugment(),
        cfg=cfg,
        seed=3,
        run_dir=run_dir,
        device=torch.device("cpu"),
        show_progress=False,
    )
    return method


def test_channels_last_while_training_then_the_usual_layout(tmp_path: Path) -> None:
    method = train(tmp_path, channels_last=True)
    assert convs(method) and method.seen == [True] * 4
    assert all(p.is_contiguous() for p in method.parameters())
    assert not any(w.is_contiguous(memory_format=torch.channels_last) for w in convs(method))


def test_an_interrupted_run_hands_back_the_usual_layout(tmp_path: Path) -> None:
    method = Interrupted()
    with pytest.raises(KeyboardInterrupt):
        train(tmp_path, method, channels_last=True)
    assert method.seen == [True, True]
    assert all(p.is_contiguous() for p in method.parameters())
    assert not any(w.is_contiguous(memory_format=torch.channels_last) for w in convs(method))


def test_channels_last_trains_the_same_weights(tmp_path: Path) -> None:
    # SGD: AdamW divides by the root of near-zero second moments, which turns float rounding
    # of near-zero gradients into lr-sized steps whatever the layout.
    last = train(tmp_path / "last", channels_last=True, optimizer="sgd")
    usual = train(tmp_path / "usual", channels_last=False, optimizer="sgd")
    assert usual.seen == [False] * 4
    for (name, a), (_, b) in zip(
        last.state_dict().items(), usual.state_dict().items(), strict=True
    ):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=name)


@pytest.mark.slow
def test_compiled_encoder_trains_the_same_weights_under_the_same_names(tmp_path: Path) -> None:
    compiled = train(tmp_path / "compiled", compile=True, channels_last=False, optimizer="sgd")
    eager = train(tmp_path / "eager", channels_last=False, optimizer="sgd")
    assert list(compiled.state_dict()) == list(eager.state_dict())
    # compiled for the time of training only: evaluation and embed run it eagerly
    assert all(m._compiled_call_impl is None for m in compiled.modules())
    for (name, a), (_, b) in zip(
        compiled.state_dict().items(), eager.state_dict().items(), strict=True
    ):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-4, msg=name)
