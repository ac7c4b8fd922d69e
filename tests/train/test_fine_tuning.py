"""Fine-tuning options of a pretrained encoder: the encoder's learning-rate scale (param
groups), the frozen warm-up (through the real loop), and the run's verdict against the
pretrained encoder as loaded."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from contrastkit.augment.image import ViewAugment
from contrastkit.batches import ImageBatch
from contrastkit.encoders.small_cnn import SmallCNN
from contrastkit.heads.projection import ProjectionHead
from contrastkit.methods.simclr import SimCLR
from contrastkit.modalities.images.pretrained import fine_tuning_verdict
from contrastkit.train.frozen_warmup import FrozenWarmup
from contrastkit.train.loop import fit
from contrastkit.train.optim import build_optimizer, param_groups, set_lr
from contrastkit.train.options import TrainConfig


def _method() -> SimCLR:
    """A method whose encoder is a linear layer and a BatchNorm, its head one linear layer."""
    encoder = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    return SimCLR(encoder, nn.Linear(4, 2), temperature=0.5)


def test_encoder_groups_get_the_scaled_learning_rate() -> None:
    method = _method()
    groups = param_groups(method, 0.1, encoder_lr_scale=0.25)
    as_ids = [({id(p) for p in g["params"]}, g["weight_decay"], g["lr_scale"]) for g in groups]  # type: ignore[attr-defined]
    enc, head = method.encoder, method.head
    assert as_ids == [
        ({id(head.weight)}, 0.1, 1.0),
        ({id(head.bias)}, 0.0, 1.0),
        ({id(enc[0].weight)}, 0.1, 0.25),  # type: ignore[index]
        ({id(enc[0].bias), id(enc[1].weight), id(enc[1].bias)}, 0.0, 0.25),  # type: ignore[index]
    ]
    optimizer = build_optimizer(method, TrainConfig(lr=0.4, encoder_lr_scale=0.25))
    set_lr(optimizer, 0.4)
    assert [g["lr"] for g in optimizer.param_groups] == [0.4, 0.4, 0.1, 0.1]


def test_frozen_warmup_holds_the_encoder_then_releases_it() -> None:
    method = _method()
    method.encoder[0].bias.requires_grad_(False)  # type: ignore[index]  # frozen by its owner
    warmup = FrozenWarmup(method.encoder, epochs=2)
    method.train()
    for epoch in range(3):
        warmup.on_epoch_start(SimpleNamespace(epoch=epoch))  # type: ignore[arg-type]
        frozen = epoch < 2
        assert method.encoder[1].training is not frozen  # type: ignore[index]
        assert method.encoder[0].weight.requires_grad is not frozen  # type: ignore[index]
        assert not method.encoder[0].bias.requires_grad  # type: ignore[index]  # stays frozen
    with pytest.raises(ValueError, match=">= 0"):
        FrozenWarmup(method.encoder, epochs=-1)


def test_the_loop_keeps_the_encoder_fixed_during_frozen_epochs(tmp_path: Path) -> None:
    def run(max_steps: int) -> dict[str, torch.Tensor]:
        torch.manual_seed(0)
        method = SimCLR(SmallCNN(width=4, feature_dim=8), ProjectionHead(8, 8, 4), temperature=0.5)
        cfg = TrainConfig(epochs=2, batch_size=16, frozen_epochs=1, warmup_epochs=0, lr=0.05,
                          max_steps=max_steps, channels_last=False)  # fmt: skip
        images = ImageBatch(images=torch.rand(32, 1, 8, 8), labels=torch.zeros(32).long())
        out = tmp_path / str(max_steps)
        fit(method, images, augment=ViewAugment(), cfg=cfg, seed=0, run_dir=out,
            device=torch.device("cpu"), show_progress=False)  # fmt: skip
        return {k: v.clone() for k, v in method.state_dict().items()}

    torch.manual_seed(0)
    start = SimCLR(SmallCNN(width=4, feature_dim=8), ProjectionHead(8, 8, 4), temperature=0.5)
    first, both = run(2), run(4)  # 2 steps per epoch: the frozen epoch, then both
    for key, value in start.state_dict().items():
        moved_first, moved_later = (
            not torch.equal(first[key], value),
            not torch.equal(both[key], first[key]),
        )
        if key.startswith("encoder.") and value.is_floating_point():
            assert not moved_first, key  # weights and BatchNorm statistics kept
        if key.endswith("weight") and value.ndim > 1:
            assert moved_later, key
            assert key.startswith("encoder.") or moved_first, key  # the head learns at once


def test_verdict_counts_a_difference_only_beyond_the_noise() -> None:
    def block(knn: float, few: float, std: float = 0.01) -> dict[str, object]:
        return {"knn_top1": knn, "fewshot": {"linear_top1_mean": few, "linear_top1_std": std}}

    def verdict(tuned: dict[str, object], base: dict[str, object]) -> str | None:
        return fine_tuning_verdict({"eval": tuned, "baselines": {"pretrained": base}}, 100)

    assert verdict(block(0.8, 0.7), block(0.6, 0.5)).startswith(  # type: ignore[union-attr]
        "fine-tuning beat the pretrained encoder as loaded: kNN 80.0 against 60.0 (noise ±4.9)"
    )
    assert "was equal within noise" in verdict(block(0.62, 0.7), block(0.6, 0.5))  # type: ignore[operator]
    worse = verdict(block(0.5, 0.7), block(0.6, 0.5))
    assert worse is not None and "did worse than" in worse and "model.freeze=true" in worse
    assert fine_tuning_verdict({"eval": block(0.5, 0.5), "baselines": {}}, 100) is None
