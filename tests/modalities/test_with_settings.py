"""`Modality.with_settings` (how `run.py: settle` applies the defaults fitted to the data):
the data read so far is kept when only settings the reading does not use change, and read
again when the reading changes (a recipe's method, a guessed label column)."""

from __future__ import annotations

from contrastkit.config import config_from_dict, settings_of, updated
from contrastkit.modalities.images.modality import ImageModality
from contrastkit.modalities.registry import modality_for


def test_with_settings_keeps_the_data_read_unless_the_reading_changes() -> None:
    cfg = config_from_dict({"data": {"source": "digits"}})
    modality = modality_for(settings_of(cfg))
    assert isinstance(modality, ImageModality)
    data = modality.data  # read once, cached
    views = modality.with_settings(settings_of(updated(cfg, "augment", hflip_prob=0.5)))
    assert isinstance(views, ImageModality) and views.data is data
    assert views.settings.augment.hflip_prob == 0.5 and modality.settings.augment.hflip_prob == 0
    split = modality.with_settings(settings_of(updated(cfg, "data", test_fraction=0.5)))
    assert isinstance(split, ImageModality) and split.data is not data
    assert len(split.data.y_test) == 899 and len(data.y_test) == 540  # 1,797 digits
