"""contrastkit.augment: batched, per-sample random views (see `image.py`, `views.py`)."""

from contrastkit.augment.image import ViewAugment, ViewParams
from contrastkit.augment.views import MultiCrop, byol_views, make_views, multicrop, simclr_view

__all__ = [
    "MultiCrop",
    "ViewAugment",
    "ViewParams",
    "byol_views",
    "make_views",
    "multicrop",
    "simclr_view",
]
