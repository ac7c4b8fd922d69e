"""The first hour on a folder of pictures: start from the ImageNet-pretrained EfficientNet-Lite0
when its weights are installed, and fine-tune it the way a pretrained backbone wants.

Every value below was chosen by measurement on folders the project was not designed for
(docs/pretrained.md, `benchmarks/pretrained.py`).
"""

from __future__ import annotations

from typing import Any

from contrastkit.encoders.efficientnet_lite import LITE_ARCHS
from contrastkit.encoders.lite_weights import weights_installed
from contrastkit.encoders.options import ModelConfig
from contrastkit.encoders.registry import ENCODERS
from contrastkit.modalities.base import Fitted

PRETRAINED_ENCODER = "efficientnet_lite0"
MIN_SIDE, MAX_SIDE = 64, 128
"""The resolution the encoder resizes to: twice the images' side, rounded up to a multiple of
32, within these bounds (docs/pretrained.md: 96 px cost a third of 160 px for 2-4 kNN points
less on 96x96 clip art; 28x28 Fashion-MNIST loses under a point at 64 px against 96 px)."""

FINE_TUNING: dict[str, Any] = {
    "epochs": 5,
    "lr": 1e-3,
    "encoder_lr_scale": 0.3,
    "warmup_epochs": 0,
    "frozen_epochs": 0,
}
"""Contrastive fine-tuning of a pretrained encoder (docs/pretrained.md has what each
changed): 5 epochs, the encoder's last stages at 0.3 x the heads' learning rate, no frozen
warm-up."""
FROZEN_PARTS = 6
"""The stem and the first five of the seven block stages keep their ImageNet weights: only
the last two stages and the head convolution fine-tune (cheaper steps, and on 674 clip-art
pictures kNN 63.5 against 61.1 with 4 parts frozen and 58.6 with none)."""


def pretrained_resolution(side: int) -> int:
    """The encoder's input side for images of side `side`."""
    return min(MAX_SIDE, max(MIN_SIDE, -(-2 * side // 32) * 32))


def loads_pretrained(model: ModelConfig) -> bool:
    """Whether `model`'s encoder starts from pretrained weights (fine-tuned or kept frozen)."""
    return model.pretrained and ENCODERS[model.encoder].loads_weights


def starts_pretrained(model: ModelConfig) -> bool:
    """Whether `model` starts from pretrained weights and fine-tunes them."""
    return loads_pretrained(model) and not model.freeze


def pretrained_defaults(model: ModelConfig, side: int, *, choose: bool) -> list[Fitted]:
    """The fitted defaults of a pretrained start on images of side `side`: the encoder (when
    `choose`, the config names none and the weights are installed), its resolution, and the
    fine-tuning settings (when the encoder starts from pretrained weights), or one epoch when
    it is kept frozen."""
    fitted = []
    chosen = (
        choose and "encoder" not in model.model_fields_set and weights_installed(PRETRAINED_ENCODER)
    )
    if chosen:
        package = LITE_ARCHS[PRETRAINED_ENCODER].package
        values = {"encoder": PRETRAINED_ENCODER, "pretrained": True}
        fitted.append(Fitted("model", values, f"its ImageNet weights ({package} is installed)"))
    if chosen or model.encoder in LITE_ARCHS:
        side_px = pretrained_resolution(side)
        fitted.append(Fitted("model", {"resolution": side_px}, f"{side}x{side} images"))
        if not model.freeze:
            fitted.append(Fitted("model", {"frozen_parts": FROZEN_PARTS}, "fine-tuning"))
    if model.freeze and (chosen or model.encoder in LITE_ARCHS):
        fitted.append(Fitted("train", {"epochs": 1}, "a frozen encoder (nothing in it trains)"))
    elif chosen or starts_pretrained(model):
        fitted.append(Fitted("train", dict(FINE_TUNING), "fine-tuning a pretrained encoder"))
    return fitted


def fine_tuning_verdict(metrics: dict[str, Any], n_test: int) -> str | None:
    """One line on whether fine-tuning beat the pretrained encoder as loaded, on kNN and the
    few-label probe, or None without a "pretrained" baseline. A difference counts only beyond
    the noise: the standard error of a kNN accuracy on `n_test` items, sqrt(p (1 - p) / n),
    and the few-label probe's std over its draws."""
    base = metrics.get("baselines", {}).get("pretrained")
    tuned = metrics.get("eval", {})
    if not isinstance(base, dict) or "knn_top1" not in tuned:
        return None
    knn, knn_base = tuned["knn_top1"], base["knn_top1"]
    few, few_base = tuned["fewshot"]["linear_top1_mean"], base["fewshot"]["linear_top1_mean"]
    knn_noise = (knn_base * (1 - knn_base) / max(n_test, 1)) ** 0.5
    few_noise = max(tuned["fewshot"]["linear_top1_std"], base["fewshot"]["linear_top1_std"])
    scores = (
        f"kNN {100 * knn:.1f} against {100 * knn_base:.1f} (noise ±{100 * knn_noise:.1f}), "
        f"few-label {100 * few:.1f} against {100 * few_base:.1f} (±{100 * few_noise:.1f})"
    )
    if knn - knn_base > knn_noise and few - few_base > few_noise:
        return f"fine-tuning beat the pretrained encoder as loaded: {scores}"
    worse = knn_base - knn > knn_noise or few_base - few > few_noise
    return (
        f"note: fine-tuning {'did worse than' if worse else 'was equal within noise to'} the "
        f"pretrained encoder as loaded: {scores}. To embed, index and serve with the "
        "pretrained encoder as it is, train again with --set model.freeze=true (one epoch; "
        "nothing in the encoder trains)"
    )
