"""The evaluation protocol of a run: the trained encoder against baselines on the same splits.

Everything is computed on the fixed train/test split; the few-label probes of every model use
the same labelled subsets (`fewshot_indices` with the run's seed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from contrastkit.augment.image import ViewAugment, to_float
from contrastkit.data.split import ImageSplit
from contrastkit.eval.adapt import FittedLabels, fit_labels
from contrastkit.eval.embed import embed_images
from contrastkit.eval.health import alignment, embedding_std, rankme, uniformity
from contrastkit.eval.linear import fewshot_indices
from contrastkit.eval.options import EvalConfig
from contrastkit.eval.scores import embedding_scores
from contrastkit.eval.supervised import accuracy, train_supervised


def probe_features(
    train: Tensor,
    test: Tensor,
    data: ImageSplit,
    cfg: EvalConfig,
    subsets: list[np.ndarray],
    seed: int,
) -> dict[str, Any]:
    """`embedding_scores` of fixed features of the split's train and test images."""
    return embedding_scores(
        train,
        data.y_train,
        test,
        data.y_test,
        num_classes=data.num_classes,
        cfg=cfg,
        subsets=subsets,
        seed=seed,
    )


def health(encoder: nn.Module, images: Tensor, augment: ViewAugment, seed: int) -> dict[str, float]:
    """Label-free health of the encoder's embedding of `images` (two random views for
    alignment, the clean images for the rest)."""
    gen = torch.Generator().manual_seed(seed)
    z = embed_images(encoder, images)
    z_a = embed_images(encoder, augment(images, gen))
    z_b = embed_images(encoder, augment(images, gen))
    return {
        "rankme": rankme(z),
        "emb_std": embedding_std(z),
        "alignment": alignment(z_a, z_b),
        "uniformity": uniformity(z),
    }


def supervised_baseline(
    make_encoder: Callable[[], nn.Module],
    data: ImageSplit,
    cfg: EvalConfig,
    subsets: list[np.ndarray],
    *,
    augment: ViewAugment,
    feature_dim: int,
    seed: int,
) -> dict[str, Any]:
    """The encoder trained from scratch with cross-entropy on each few-label subset."""
    accs = []
    for draw, subset in enumerate(subsets):
        torch.manual_seed(seed + draw)
        model = train_supervised(
            make_encoder(),
            data.x_train[subset],
            data.y_train[subset],
            num_classes=data.num_classes,
            feature_dim=feature_dim,
            augment=augment,
            steps=cfg.supervised_steps,
            seed=seed + draw,
        )
        accs.append(accuracy(model, data.x_test, data.y_test))
    return {"top1_mean": float(np.mean(accs)), "top1_std": float(np.std(accs)), "draws": accs}


def fitted_split(data: ImageSplit, fitted: FittedLabels) -> ImageSplit:
    """`data` with the labels `fit_labels` chose (test items of unseen classes left out)."""
    keep = torch.from_numpy(fitted.keep_test)
    return replace(
        data,
        y_train=torch.from_numpy(fitted.y_train),
        x_test=data.x_test[keep],
        y_test=torch.from_numpy(fitted.y_test),
        class_names=[
            data.class_names[int(c)] if int(c) < len(data.class_names) else str(c)
            for c in fitted.class_index
        ],
    )


def evaluate(
    encoder: nn.Module,
    data: ImageSplit,
    cfg: EvalConfig,
    *,
    augment: ViewAugment,
    make_encoder: Callable[[], nn.Module],
    feature_dim: int,
    seed: int,
    log: Callable[[str], None] = lambda _msg: None,
) -> dict[str, Any]:
    """Evaluate a trained encoder and, when `cfg.baselines`, the baselines.

    Returns:
        `{"eval": ..., "health": ..., "baselines": ...}` as in `metrics.json` (DESIGN.md);
        with unlabeled items (label -1) only the label-free health block is measured.
    """
    if (data.y_train < 0).any() or (data.y_test < 0).any():
        log("some items have no label: label metrics and baselines skipped")
        return {"eval": {}, "health": health(encoder, data.x_test, augment, seed)}
    fitted = fit_labels(
        data.y_train.numpy(), data.y_test.numpy(), per_class=cfg.fewshot_labels_per_class
    )
    for note in fitted.notes:
        log(f"note: {note}")
    if fitted.skip is not None:
        log(f"note: {fitted.skip}; label metrics and baselines skipped")
        return {
            "eval": {"skipped": fitted.skip},
            "health": health(encoder, data.x_test, augment, seed),
        }
    data = fitted_split(data, fitted)
    cfg = cfg.model_copy(update={"fewshot_labels_per_class": fitted.per_class})
    subsets = fewshot_indices(
        data.y_train.numpy(),
        per_class=cfg.fewshot_labels_per_class,
        draws=cfg.fewshot_draws,
        seed=seed,
    )
    log("evaluating the trained encoder")
    train_z, test_z = embed_images(encoder, data.x_train), embed_images(encoder, data.x_test)
    result: dict[str, Any] = {
        "eval": probe_features(train_z, test_z, data, cfg, subsets, seed),
        "health": health(encoder, data.x_test, augment, seed),
    }
    if not cfg.baselines:
        return result
    log("baseline: raw pixels")
    raw_train = to_float(data.x_train).flatten(1)
    raw_test = to_float(data.x_test).flatten(1)
    log("baseline: random-init encoder")
    torch.manual_seed(seed)
    random_encoder = make_encoder()
    rand_train, rand_test = (
        embed_images(random_encoder, data.x_train),
        embed_images(random_encoder, data.x_test),
    )
    log(
        f"baseline: supervised from scratch on {cfg.fewshot_labels_per_class} labels per class "
        f"({cfg.fewshot_draws} draws)"
    )
    result["baselines"] = {
        "raw": probe_features(raw_train, raw_test, data, cfg, subsets, seed),
        "random_init": probe_features(rand_train, rand_test, data, cfg, subsets, seed),
        "supervised_fewshot": supervised_baseline(
            make_encoder, data, cfg, subsets, augment=augment, feature_dim=feature_dim, seed=seed
        ),
    }
    return result
