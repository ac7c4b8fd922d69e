"""Multi-crop and BYOL view sets: shapes, sizes, the paper's asymmetric probabilities,
determinism, and the config builder."""

from __future__ import annotations

import pytest
import torch

from contrastkit.augment.build import build_augment, build_views
from contrastkit.augment.image import ViewAugment
from contrastkit.augment.views import MultiCrop, byol_views, make_views, multicrop, simclr_view
from contrastkit.config import AugmentConfig


def _images(b: int = 6, c: int = 3, size: int = 16) -> torch.Tensor:
    return torch.randint(
        0, 256, (b, c, size, size), generator=torch.Generator().manual_seed(0), dtype=torch.uint8
    )


def test_multicrop_gives_global_then_local_views_at_their_sizes() -> None:
    views = multicrop(global_size=12, local_size=6, num_local=3)(
        _images(), torch.Generator().manual_seed(1)
    )
    assert [tuple(v.shape) for v in views] == [(6, 3, 12, 12)] * 2 + [(6, 3, 6, 6)] * 3
    assert all(v.dtype == torch.float32 for v in views)


def test_local_crops_differ_from_each_other() -> None:
    views = multicrop(local_size=8, num_local=2)(_images(), torch.Generator().manual_seed(1))
    assert not torch.allclose(views[2], views[3])


def test_byol_views_have_the_papers_blur_and_solarize_split() -> None:
    first, second = byol_views().global_views
    assert (first.blur_prob, first.solarize_prob) == (1.0, 0.0)
    assert (second.blur_prob, second.solarize_prob) == (0.1, 0.2)
    views = byol_views(size=8)(_images(), torch.Generator().manual_seed(0))
    assert [tuple(v.shape) for v in views] == [(6, 3, 8, 8)] * 2


def test_dino_multicrop_is_asymmetric_on_the_globals_only() -> None:
    views = multicrop(local_size=8, asymmetric=True)
    assert [v.blur_prob for v in views.global_views] == [1.0, 0.1]
    assert [v.solarize_prob for v in views.global_views] == [0.0, 0.2]
    assert views.local_view is not None and views.local_view.solarize_prob == 0.0


def test_view_sets_are_deterministic_with_a_seed() -> None:
    aug = multicrop(local_size=8, num_local=2, asymmetric=True)
    a = aug(_images(), torch.Generator().manual_seed(5))
    b = aug(_images(), torch.Generator().manual_seed(5))
    for x, y in zip(a, b, strict=True):
        torch.testing.assert_close(x, y, rtol=0, atol=0)


def test_make_views_calls_a_single_view_augment_count_times() -> None:
    views = make_views(simclr_view(), _images(), torch.Generator().manual_seed(0), count=3)
    assert len(views) == 3 and not torch.allclose(views[0], views[1])
    assert len(make_views(byol_views(), _images())) == 2


def test_multicrop_rejects_local_crops_without_a_local_view() -> None:
    with pytest.raises(ValueError, match="local_view"):
        MultiCrop(global_views=(ViewAugment(),), num_local=2)


def test_build_views_follows_the_config() -> None:
    assert isinstance(build_views(AugmentConfig(), image_size=(8, 8)), ViewAugment)
    pair = build_views(AugmentConfig(views="pair", asymmetric=True), image_size=(8, 8))
    assert isinstance(pair, MultiCrop) and [v.blur_prob for v in pair.global_views] == [1.0, 0.1]
    crops = build_views(AugmentConfig(views="multicrop", local_crops=4), image_size=(8, 8))
    assert isinstance(crops, MultiCrop) and crops.num_views == 6
    assert crops.local_view is not None and crops.local_view.size == 4
    assert build_augment(AugmentConfig(size=5)).size == 5


def test_build_augment_takes_every_setting_of_the_section() -> None:
    """Each `augment:` key that names a `ViewAugment` setting reaches it (off its default),
    and a setting the section does not have (solarize_threshold) keeps the default."""
    cfg = AugmentConfig(
        crop_scale=(0.3, 0.9), crop_ratio=(0.8, 1.2), rotation_deg=7.0, blur_prob=0.25,
        blur_sigma=(0.2, 0.7), noise_std=0.05, hflip_prob=0.5, size=6, jitter_prob=0.6,
        brightness=0.3, contrast=0.2, saturation=0.1, hue=0.05, grayscale_prob=0.15,
        solarize_prob=0.35,
    )  # fmt: skip
    aug = build_augment(cfg)
    for name in cfg.model_fields_set:
        assert getattr(aug, name) == getattr(cfg, name) != getattr(ViewAugment(), name), name
    assert aug.solarize_threshold == ViewAugment().solarize_threshold
