"""What a text run starts from when the config names no method: the recipes of
`configs/text_pairs.yaml` (pairs: in-batch negatives, SBERT's MultipleNegativesRankingLoss)
and `configs/text_simcse.yaml` (plain lines: SimCSE's dropout views), applied key by key
where the config is silent."""

from __future__ import annotations

from typing import Any

from contrastkit.modalities.base import Fitted

SCHEDULE: dict[str, Any] = {
    "epochs": 1,
    "weight_decay": 0.01,
    "warmup_epochs": 0,
    "grad_clip": 1.0,
    "log_every": 10,
}
"""What both recipes share: one epoch of fine-tuning from the pretrained model."""
RECIPES: dict[str, tuple[tuple[str, dict[str, Any]], ...]] = {
    "text_pairs": (
        ("method", {"name": "text_pairs", "temperature": 0.05}),
        ("train", {**SCHEDULE, "batch_size": 32, "lr": 5e-5}),
    ),
    "text_lines": (
        ("method", {"name": "simcse", "temperature": 0.05}),
        ("train", {**SCHEDULE, "batch_size": 64, "lr": 1e-5}),
    ),
}
"""data.source -> (section, values) of its recipe (wordnet takes the pairs' recipe)."""


def text_recipe(source: str, name: str) -> list[Fitted]:
    """The recipe's choices for text data `name` read as `source`."""
    kind = "pairs" if source != "text_lines" else "lines"
    return [
        Fitted(section, values, f"text {kind} ({name})", recipe=True)  # type: ignore[arg-type]
        for section, values in RECIPES["text_lines" if source == "text_lines" else "text_pairs"]
    ]
