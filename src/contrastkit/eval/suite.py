"""The evaluation protocol of a run: the trained encoder against baselines on the same splits.

Everything is computed on the fixed train/test split; the few-label probes of every model use
the same labelled subsets (`fewshot_indices` with the run's seed).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
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

PROBE_STEPS = 10
"""Steps timed to estimate the supervised baseline's cost (and the fewest it is cut to)."""
NO_FROM_SCRATCH = (
    "the encoder starts from pretrained weights: its supervised baseline is the few-label "
    "probe of the pretrained features, not a network trained from scratch on a few labels"
)


def health(
    encoder: nn.Module,
    images: Tensor,
    augment: ViewAugment,
    seed: int,
    *,
    z: Tensor | None = None,
) -> dict[str, float]:
    """Label-free health of the encoder's embedding of `images` (two random views for
    alignment, the clean images for the rest; `z`: that clean embedding, when the caller
    has it already)."""
    gen = torch.Generator().manual_seed(seed)
    z = embed_images(encoder, images) if z is None else z
    z_a = embed_images(encoder, augment(images, gen))
    z_b = embed_images(encoder, augment(images, gen))
    return {
        "rankme": rankme(z),
        "emb_std": embedding_std(z),
        "alignment": alignment(z_a, z_b),
        "uniformity": uniformity(z),
    }


@dataclass(frozen=True)
class DrawCost:
    """What one supervised draw costs: seconds per training step, and the seconds it pays
    whatever its steps (building the model, the first step's set-up, the test pass)."""

    per_step_s: float
    fixed_s: float


def affordable_steps(budget_s: float, *, draws: int, cost: DrawCost, wanted: int) -> int:
    """Training steps per draw such that `draws` draws take about `budget_s` seconds:
    `wanted` when they fit, else as many as fit but at least `PROBE_STEPS` (and never more
    than `wanted`)."""
    fit = int(max(0.0, budget_s - draws * cost.fixed_s) / (cost.per_step_s * draws))
    return wanted if fit >= wanted else min(wanted, max(PROBE_STEPS, fit))


def draw_cost(
    train: Callable[[int], nn.Module],
    test: Callable[[nn.Module], object],
    probe: int,
    clock: Callable[[], float] = time.perf_counter,
) -> DrawCost:
    """The cost of a draw, timed on two short trainings of `probe` and `2 * probe` steps
    and one test pass: the difference of the trainings is `probe` steps without the set-up
    both pay. (One short training alone counts its set-up as steps and overestimates a
    step: about 2.5-fold for 10 steps of resnet_small on 10,000 Fashion-MNIST images, on 2
    CPU cores.)"""
    t0 = clock()
    train(probe)
    t1 = clock()
    model = train(2 * probe)
    t2 = clock()
    test(model)
    short, long = t1 - t0, t2 - t1
    per_step = (long - short) / probe if long > short else long / (2 * probe)
    return DrawCost(per_step, max(0.0, short - probe * per_step) + clock() - t2)


def supervised_baseline(
    make_encoder: Callable[[], nn.Module],
    data: ImageSplit,
    cfg: EvalConfig,
    subsets: list[np.ndarray],
    *,
    augment: ViewAugment,
    feature_dim: int,
    seed: int,
    budget_s: float | None = None,
    log: Callable[[str], None] = lambda _msg: None,
) -> dict[str, Any]:
    """The encoder trained from scratch with cross-entropy on each few-label subset.

    Unless `cfg.full`, the steps are scaled down (with a note) when the estimated time of
    all draws, their test passes included, exceeds `budget_s` seconds (`affordable_steps`);
    progress is logged after each draw with an estimate of the time left.
    """

    def fit(subset: np.ndarray, steps: int, draw: int) -> nn.Module:
        torch.manual_seed(seed + draw)
        return train_supervised(
            make_encoder(),
            data.x_train[subset],
            data.y_train[subset],
            num_classes=data.num_classes,
            feature_dim=feature_dim,
            augment=augment,
            steps=steps,
            seed=seed + draw,
        )

    steps = cfg.supervised_steps
    if not cfg.full and budget_s is not None and subsets:
        cost = draw_cost(  # timing only: every draw reseeds before training
            lambda n: fit(subsets[0], n, 0),
            lambda model: accuracy(model, data.x_test, data.y_test),
            min(PROBE_STEPS, steps),
        )
        steps = affordable_steps(budget_s, draws=len(subsets), cost=cost, wanted=steps)
        if steps < cfg.supervised_steps:
            log(
                f"note: supervised baseline: {steps} steps per draw instead of "
                f"eval.supervised_steps={cfg.supervised_steps}, to take about "
                f"{budget_s:.0f} s (eval.budget_s; unset: the training time, at least 300 s); "
                "eval.full=true runs them all"
            )
    accs = []
    start = time.perf_counter()
    for draw, subset in enumerate(subsets):
        accs.append(accuracy(fit(subset, steps, draw), data.x_test, data.y_test))
        spent = time.perf_counter() - start
        left = spent / (draw + 1) * (len(subsets) - draw - 1)
        log(f"  supervised draw {draw + 1}/{len(subsets)}: {spent:.0f} s, about {left:.0f} s left")
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
    budget_s: float | None = None,
    log: Callable[[str], None] = lambda _msg: None,
    make_pretrained: Callable[[], nn.Module] | None = None,
    from_scratch: bool = True,
) -> dict[str, Any]:
    """Evaluate a trained encoder and, when `cfg.baselines`, the baselines: raw input, the
    random-init encoder, the pretrained encoder as loaded (`make_pretrained`, when the
    encoder starts from pretrained weights and fine-tunes them) and, when `from_scratch`,
    the encoder trained from scratch on the few labels, held to about `budget_s` seconds
    (left out for an encoder that starts from pretrained weights: there the supervised
    baseline that counts is the few-label probe of the pretrained features, and training
    from scratch on a few labels cost most of the evaluation's time for a row near chance).

    Returns:
        `{"eval": ..., "health": ..., "baselines": ...}` as in `metrics.json` (DESIGN.md);
        with unlabeled items (label -1) only the label-free health block is measured.
    """
    labelled = _labelled(data, cfg, seed, log)
    if isinstance(labelled, dict):  # no label metrics: the eval block says why
        return {"eval": labelled, "health": health(encoder, data.x_test, augment, seed)}
    data, cfg, subsets = labelled
    log("evaluating the trained encoder")
    device = next(encoder.parameters()).device  # the metrics run where the encoder does
    train_z, test_z = _embedded(encoder, data, device)
    result: dict[str, Any] = {
        "eval": embedding_scores(data, train_z, test_z, cfg=cfg, subsets=subsets, seed=seed),
        "health": health(encoder, data.x_test, augment, seed, z=test_z),
    }
    if not cfg.baselines:
        return result
    baselines = feature_baselines(
        data, cfg, subsets, make_encoder=make_encoder, make_pretrained=make_pretrained,
        device=device, seed=seed, log=log,
    )  # fmt: skip
    result["baselines"] = baselines
    if not from_scratch:
        baselines["supervised_fewshot"] = {"skipped": NO_FROM_SCRATCH}
        return result
    log(
        f"baseline: supervised from scratch on {cfg.fewshot_labels_per_class} labels per class "
        f"({cfg.fewshot_draws} draws)"
    )
    baselines["supervised_fewshot"] = supervised_baseline(
        make_encoder,
        data,
        cfg,
        subsets,
        augment=augment,
        feature_dim=feature_dim,
        seed=seed,
        budget_s=budget_s,
        log=log,
    )
    return result


def _embedded(encoder: nn.Module, data: ImageSplit, device: torch.device) -> tuple[Tensor, Tensor]:
    """The encoder's embeddings of the split's train and test images, on `device`."""
    return (
        embed_images(encoder, data.x_train).to(device),
        embed_images(encoder, data.x_test).to(device),
    )


def feature_baselines(
    data: ImageSplit,
    cfg: EvalConfig,
    subsets: list[np.ndarray],
    *,
    make_encoder: Callable[[], nn.Module],
    make_pretrained: Callable[[], nn.Module] | None,
    device: torch.device,
    seed: int,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """`embedding_scores` of the raw pixels, of the random-init encoder (seeded with `seed`)
    and, with `make_pretrained`, of the pretrained encoder as loaded, computed on `device`."""
    log("baseline: raw pixels")
    raw_train = to_float(data.x_train).flatten(1).to(device)
    raw_test = to_float(data.x_test).flatten(1).to(device)
    log("baseline: random-init encoder")
    torch.manual_seed(seed)
    rand_train, rand_test = _embedded(make_encoder(), data, device)
    baselines = {
        "raw": embedding_scores(data, raw_train, raw_test, cfg=cfg, subsets=subsets, seed=seed),
        "random_init": embedding_scores(
            data, rand_train, rand_test, cfg=cfg, subsets=subsets, seed=seed
        ),
    }
    if make_pretrained is not None:
        log("baseline: pretrained encoder, not fine-tuned")
        pretrained_z = _embedded(make_pretrained(), data, device)
        baselines["pretrained"] = embedding_scores(
            data, *pretrained_z, cfg=cfg, subsets=subsets, seed=seed
        )
    return baselines


def _labelled(
    data: ImageSplit, cfg: EvalConfig, seed: int, log: Callable[[str], None]
) -> tuple[ImageSplit, EvalConfig, list[np.ndarray]] | dict[str, Any]:
    """The split with the labels `fit_labels` chose, the config with its few-label count and
    the few-label subsets; or, when the labels allow no label metrics, the eval block."""
    if (data.y_train < 0).any() or (data.y_test < 0).any():
        log("some items have no label: label metrics and baselines skipped")
        return {}
    fitted = fit_labels(
        data.y_train.numpy(), data.y_test.numpy(), per_class=cfg.fewshot_labels_per_class
    )
    for note in fitted.notes:
        log(f"note: {note}")
    if fitted.skip is not None:
        log(f"note: {fitted.skip}; label metrics and baselines skipped")
        return {"skipped": fitted.skip}
    data = fitted_split(data, fitted)
    cfg = cfg.model_copy(update={"fewshot_labels_per_class": fitted.per_class})
    subsets = fewshot_indices(
        data.y_train.numpy(),
        per_class=cfg.fewshot_labels_per_class,
        draws=cfg.fewshot_draws,
        seed=seed,
    )
    return data, cfg, subsets
