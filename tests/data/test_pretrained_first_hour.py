"""The first hour on a folder of pictures with the EfficientNet-Lite0 weights installed:
`train --data FOLDER` starts from them (printed among the chosen defaults), the table has the
"pretrained, not fine-tuned" row and the run says how fine-tuning compares; a frozen run is
the pretrained encoder itself and embed / index / search use it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from contrastkit.cli import app
from contrastkit.encoders.build import build_encoder
from contrastkit.eval.embed import embed_images
from contrastkit.eval.suite import NO_FROM_SCRATCH
from contrastkit.run import load_run
from contrastkit.train.checkpoint import load_checkpoint

from .images import make_folder

SMALL = ["--set", "train.batch_size=8", "--no-progress"]


def _cli(args: list[str]) -> str:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, (result.output, result.exception)
    return " ".join(result.output.split())


@pytest.mark.slow
def test_first_hour_starts_pretrained_and_a_frozen_run_serves_it(tmp_path: Path) -> None:
    pictures = make_folder(tmp_path / "pictures", ["discs", "squares"], per_class=12, size=24)
    run = tmp_path / "tuned"
    out = _cli(["train", "--data", str(pictures), "--out", str(run), *SMALL])
    assert "chose model.encoder=efficientnet_lite0, model.pretrained=True for its ImageNet" in out
    assert "chose model.resolution=64 for 24x24 images" in out
    assert "chose train.epochs=5, train.lr=0.001, train.encoder_lr_scale=0.3" in out
    assert "pretrained, not fine-tuned" in out and "pretrained encoder as loaded" in out
    assert "supervised from scratch" not in out  # no network trained from scratch on them
    assert "No 'supervised, few labels' row: the encoder starts from pretrained weights" in out
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0.0 <= metrics["baselines"]["pretrained"]["knn_top1"] <= 1.0
    assert metrics["baselines"]["supervised_fewshot"] == {"skipped": NO_FROM_SCRATCH}
    assert metrics["epochs"] == 5
    load_checkpoint(run / "checkpoint.pt")  # tensors only: read with weights_only

    frozen = tmp_path / "frozen"
    out = _cli(["train", "--data", str(pictures), "--out", str(frozen), "--set",
                "model.freeze=true", *SMALL])  # fmt: skip
    assert "chose train.epochs=1 for a frozen encoder" in out
    baselines = json.loads((frozen / "metrics.json").read_text())["baselines"]
    assert "pretrained" not in baselines and "skipped" in baselines["supervised_fewshot"]
    cfg, modality, method = load_run(frozen)
    images = torch.cat([modality.data.x_train, modality.data.x_test])
    as_loaded = build_encoder(cfg.model.pretrained_frozen(), 3, image_size=24)
    frozen_vectors = embed_images(method.encoder, images)
    torch.testing.assert_close(frozen_vectors, embed_images(as_loaded, images))

    vectors = tmp_path / "vectors.npy"
    _cli(["embed", "--run", str(frozen), "--data", str(pictures), "--out", str(vectors)])
    assert np.load(vectors).shape == (24, 1280)
    _cli(["index", "--run", str(frozen)])
    query = sorted((pictures / "discs").iterdir())[0]
    found = _cli(["search", "--run", str(frozen), "--query", str(query), "--k", "3"])
    assert f"1 +1.0000 {query}" in found
