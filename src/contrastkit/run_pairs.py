"""The paired-data side of `contrastkit train` / `eval`: load pairs, pick the view
augmentation, and evaluate a two-tower run (retrieval both ways, zero-shot, a picture).

`run.py` dispatches here when `data.source` names paired data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from contrastkit.augment.build import build_augment
from contrastkit.augment.specaugment import SpecAugment
from contrastkit.augment.types import Augment
from contrastkit.batches import PairBatch
from contrastkit.builders import Log
from contrastkit.config import Config
from contrastkit.data.caption_csv import load_caption_pairs
from contrastkit.data.digit_captions import load_digit_captions
from contrastkit.data.pairs import PairData, PairSplit
from contrastkit.data.speech_pairs import load_speech_pairs
from contrastkit.errors import UserError
from contrastkit.eval.crossmodal import retrieval_metrics, zero_shot_accuracy
from contrastkit.methods.clip import TwoTower
from contrastkit.methods.registry import method_spec, methods_for
from contrastkit.viz.similarity_matrix import similarity_figure, write_png

PAIR_SOURCES = frozenset({"digits_captions", "caption_csv", "speech"})
SIMILARITY_PNG = "similarity.png"


def check_pairing(cfg: Config) -> None:
    """Paired data needs a two-tower method and the other way round."""
    paired_data = cfg.data.source in PAIR_SOURCES
    if paired_data != (method_spec(cfg.method.name).batch is PairBatch):
        raise UserError(
            f"method.name={cfg.method.name!r} does not fit data.source={cfg.data.source!r}: "
            f"the two-tower methods ({', '.join(sorted(methods_for(PairBatch)))}) need paired data "
            f"({', '.join(sorted(PAIR_SOURCES))}) and the others need images"
        )
    if cfg.data.source == "speech" and cfg.model.encoder != "audio_cnn":
        raise UserError("data.source='speech' needs model.encoder='audio_cnn'")
    if cfg.data.source != "speech" and cfg.model.encoder == "audio_cnn":
        raise UserError(f"model.encoder='audio_cnn' reads spectrograms, not {cfg.data.source!r}")


def captions_digits_config(cfg: Config) -> Config:
    """The config of the labelled digits behind "digits_captions": where the image tower
    is evaluated (probes, baselines) and mapped in the report."""
    return cfg.model_copy(update={"data": cfg.data.model_copy(update={"source": "digits"})})


def pair_in_channels(cfg: Config) -> int:
    """Channels of the non-text tower's input (RGB for a caption CSV)."""
    return 3 if cfg.data.source == "caption_csv" else 1


def load_pair_data(cfg: Config, log: Log = print) -> PairData:
    """The pairs `cfg.data` names; bad files are counted and reported with `skip_bad`."""
    check_pairing(cfg)
    if cfg.data.source == "speech":
        data = load_speech_pairs(
            cfg.audio,
            manifest=cfg.data.path,
            split_seed=cfg.data.split_seed,
            skip_bad=cfg.data.skip_bad,
            log=log,
        )
    elif cfg.data.source == "caption_csv":
        if cfg.data.path is None:
            raise UserError("data.source='caption_csv' needs data.path: a CSV image_path,caption")
        data = load_caption_pairs(
            cfg.data.path,
            image_size=cfg.data.image_size or 32,
            test_fraction=cfg.data.test_fraction,
            split_seed=cfg.data.split_seed,
            skip_bad=cfg.data.skip_bad,
        )
    else:
        data = load_digit_captions(
            test_fraction=cfg.data.test_fraction, split_seed=cfg.data.split_seed
        )
    if data.skipped:
        log(f"skipped {data.skipped} bad input files (--skip-bad)")
    return data


def pair_augment(cfg: Config) -> Augment:
    """SpecAugment for spectrograms, the image views otherwise; texts are not augmented."""
    if cfg.data.source == "speech":
        a = cfg.audio
        return SpecAugment(
            time_masks=a.time_masks,
            time_mask_width=a.time_mask_width,
            freq_masks=a.freq_masks,
            freq_mask_width=a.freq_mask_width,
        )
    return build_augment(cfg.augment)


def as_two_tower(method: nn.Module) -> TwoTower:
    if not isinstance(method, TwoTower):
        raise UserError(f"paired data needs a two-tower method, got {type(method).__name__}")
    return method


def training_batch(data: PairData, method: nn.Module) -> PairBatch:
    """What the loop indexes: inputs (N, ...), token ids (N, L), group ids (N,)."""
    tokens = as_two_tower(method).tokenizer.encode(data.train.texts)
    return PairBatch(inputs=data.train.x, tokens=tokens, groups=data.train.ids)


def split_report(method: TwoTower, split: PairSplit, modality: str) -> dict[str, Any]:
    """Retrieval both ways (candidates: each distinct text once; all samples) and the
    zero-shot accuracy from the split's prompts (mean prompt embedding per class)."""
    x_emb = method.embed_inputs(split.x)
    texts, t_ids = split.unique_texts()
    t_emb = method.embed_texts(texts)
    report: dict[str, Any] = {
        f"{modality}_to_text": retrieval_metrics(x_emb, t_emb, split.ids, t_ids),
        f"text_to_{modality}": retrieval_metrics(t_emb, x_emb, t_ids, split.ids),
    }
    if split.prompts:
        class_ids = sorted(split.prompts)
        class_emb = torch.stack(
            [method.embed_texts(split.prompts[c]).mean(dim=0) for c in class_ids]
        )  # (K, E)
        report["zero_shot_top1"] = zero_shot_accuracy(
            x_emb, class_emb, split.ids, torch.tensor(class_ids)
        )
        report["zero_shot_chance"] = 1.0 / len(class_ids)
    return report


def similarity_picture(method: TwoTower, data: PairData, path: Path, n_pairs: int) -> None:
    """One sample per distinct text of the first test split (up to `n_pairs`) against
    those texts, as `similarity.png`."""
    name, split = next(iter(data.tests.items()))
    first: dict[int, int] = {}
    for i, idx in enumerate(split.ids.tolist()):
        first.setdefault(idx, i)
    rows = list(first.values())[:n_pairs]
    labels = [split.texts[i] for i in rows]
    sim = method.embed_inputs(split.x[rows]) @ method.embed_texts(labels).T  # (n, n)
    title = f"{data.name} {name}: {data.modality}-text cosine similarity (true pairs boxed)"
    write_png(similarity_figure(sim.numpy(), labels, row_name=data.modality, title=title), path)


def evaluate_pairs(cfg: Config, method: nn.Module, run_dir: Path, log: Log) -> dict[str, Any]:
    """The `crossmodal` block of metrics.json; also writes `similarity.png` to `run_dir`."""
    tower = as_two_tower(method)
    data = load_pair_data(cfg, log)
    log(f"cross-modal retrieval and zero-shot on {', '.join(data.tests)}")
    block: dict[str, Any] = {
        name: split_report(tower, split, data.modality) for name, split in data.tests.items()
    }
    block["logit_scale"] = tower.logit_scale()
    if tower.objective == "siglip":
        block["logit_bias"] = float(tower.siglip.bias.detach())
    block["skipped_bad_files"] = data.skipped
    block["similarity_png"] = SIMILARITY_PNG
    similarity_picture(tower, data, run_dir / SIMILARITY_PNG, cfg.pairs.similarity_pairs)
    return block
