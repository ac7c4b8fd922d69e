"""The type of a view augment, shared by the methods (which call it) and the loop (which
passes it on)."""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

Augment = Callable[..., Tensor | list[Tensor]]
"""Random views: `augment(x, generator) -> view`, per sample, batched (e.g. `ViewAugment`),
or `-> [view, ...]` for a view set (`MultiCrop`: BYOL's asymmetric pair, multi-crop).
Table rows have their own `contrastkit.augment.tabular.RowAugment`."""
