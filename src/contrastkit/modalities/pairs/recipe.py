"""What a speech run starts from when the config names no method (`train --data
manifest.csv`): the recipe of `configs/audio_text_languages.yaml` (CLIP, the audio CNN, a
character text tower that spells the accents of Latin-script languages, 20 epochs),
applied key by key where the config is silent."""

from __future__ import annotations

from contrastkit.modalities.base import Fitted

SPEECH_RECIPE = (
    ("method", {"name": "clip", "text_max_len": 24, "text_alphabet": "latin"}),
    ("model", {"encoder": "audio_cnn", "width": 16, "feature_dim": 128}),
    ("train", {"epochs": 20, "batch_size": 128, "lr": 0.003, "warmup_epochs": 2}),
)
"""(section, values) of the recipe, as in configs/audio_text_languages.yaml."""


def speech_recipe(name: str) -> list[Fitted]:
    """The recipe's choices for the speech manifest called `name`."""
    return [
        Fitted(section, values, f"spoken words ({name})", recipe=True)  # type: ignore[arg-type]
        for section, values in SPEECH_RECIPE
    ]
