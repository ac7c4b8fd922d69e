"""The evaluation suite on data without labels measures health only (no crash)."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from contrastkit.augment.build import build_augment
from contrastkit.config import load_config
from contrastkit.encoders.build import build_encoder
from contrastkit.eval.embed import embed_images
from contrastkit.eval.health import rankme
from contrastkit.eval.suite import evaluate
from contrastkit.modalities.images.sources import load_image_data


def test_unlabeled_split_gets_health_only() -> None:
    cfg = load_config(None, ["model.width=4", "model.feature_dim=8"])
    data = load_image_data(cfg.data)
    data = dataclasses.replace(data, y_train=torch.full_like(data.y_train, -1))
    torch.manual_seed(0)
    encoder = build_encoder(cfg.model, 1)
    out = evaluate(
        encoder,
        data,
        cfg.eval,
        augment=build_augment(cfg.augment),
        make_encoder=lambda: build_encoder(cfg.model, 1),
        feature_dim=8,
        seed=0,
    )
    assert out["eval"] == {} and "baselines" not in out
    assert out["health"]["rankme"] == pytest.approx(rankme(embed_images(encoder, data.x_test)))
