"""Run directories for the export and serve tests, made without training: the config and
a checkpoint of the method freshly initialised with a fixed seed (what `contrastkit
train` writes, minus the metrics), so each kind of run takes a second, not minutes."""

from __future__ import annotations

from pathlib import Path

import torch

from contrastkit.builders import build_method
from contrastkit.config import dump_config, load_config
from contrastkit.run import resolve
from contrastkit.rundir import CHECKPOINT, CONFIG
from contrastkit.train.checkpoint import save_checkpoint

CONFIGS = Path(__file__).parents[2] / "configs"

IMAGE = ["model.width=4", "model.feature_dim=16"]
TABLE = ["data.source=wine", "model.width=32", "model.feature_dim=16", "model.proj_dim=8"]
PAIRS = ["model.width=4", "model.feature_dim=16", "method.embed_dim=8", "method.text_width=8"]


def make_run(out: Path, config: str, overrides: list[str]) -> Path:
    """Write `out/config.yaml` and `out/checkpoint.pt` (seed 0, untrained); returns `out`.
    An image encoder's BatchNorm layers get a few train-mode passes over the digits so its
    statistics are the data's, not (0, 1), and its outputs are centred on the data."""
    cfg = load_config(CONFIGS / config, overrides)
    modality = resolve(cfg)
    torch.manual_seed(0)
    method = build_method(cfg, modality.new_encoder)
    if cfg.data.source == "digits":  # BatchNorm statistics of the data, not (0, 1)
        encoder = method.encoder.train()
        x = modality.data.x_train[:512].float() / 255
        with torch.no_grad():
            for _ in range(3):
                encoder(x)
            # centre the outputs on the data (as training spreads them): an untrained
            # CNN's pooled ReLU features share one direction (cosines ~0.9999)
            encoder.eval()
            if isinstance(getattr(encoder, "fc", None), torch.nn.Linear):
                encoder.fc.bias -= encoder(x).mean(dim=0)
    out.mkdir(parents=True, exist_ok=True)
    (out / CONFIG).write_text(dump_config(cfg))
    save_checkpoint(out / CHECKPOINT, {"model": method.state_dict()})
    return out


def text_run(out: Path, tiny_model: str) -> Path:
    """A SimCSE run on the tiny BERT with a held-out pair task (Recall@1 for int8)."""
    corpus = out.parent / f"{out.name}-corpus.txt"
    words = ["red fox", "blue sea", "green tree", "old dog", "tall tower", "small cat"]
    corpus.write_text("".join(f"the {w} is here today\n" for w in words) + "a b\n")
    pairs = out.parent / f"{out.name}-eval.csv"
    pairs.write_text("anchor,positive\nthe red fox,fox\nthe blue sea,sea\na dog,dog\n")
    return make_run(
        out,
        "text_simcse.yaml",
        [
            "data.source=text_lines",
            f"data.path={corpus}",
            f"text.eval_pairs={pairs}",
            f"text.model={tiny_model}",
        ],
    )
