"""A run's method from its config: the registry's spec, built on a new encoder.

The registry itself is `contrastkit.methods.registry.METHODS`; code below the application
(the modalities) builds with `build_from_spec` and a `MethodContext`, without a `Config`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from contrastkit.config import Config
from contrastkit.encoders.build import encoder_feature_dim
from contrastkit.methods.base import Method, MethodContext
from contrastkit.methods.registry import build_from_spec, method_spec

Log = Callable[[str], None]
"""Where a run's progress lines go (`print`, a rich console)."""


def method_context(cfg: Config) -> MethodContext:
    """What a method builder reads from the config beyond its own section. The heads take
    the encoder's own output size (`encoder_feature_dim`: 512 for resnet18, the config's
    `feature_dim` for small_cnn)."""
    model = cfg.model.model_copy(update={"feature_dim": encoder_feature_dim(cfg.model)})
    return MethodContext(model=model, epochs=cfg.train.epochs, batch_size=cfg.train.batch_size)


def build_method(cfg: Config, make_encoder: Callable[[], nn.Module]) -> Method[Any]:
    """`cfg.method.name`'s method on a new encoder (made once the name is known good).

    Raises:
        UserError: the name is not registered (names the nearest and the known ones).
    """
    spec = method_spec(cfg.method.name)
    return build_from_spec(spec, cfg.method, make_encoder(), method_context(cfg))
