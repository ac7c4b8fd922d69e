"""The method registry's type and its one lookup (the registry itself is `cli.METHODS`)."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from contrastkit.config import Config
from contrastkit.errors import UserError

MethodBuilder = Callable[[Config, nn.Module], nn.Module]
"""`builder(cfg, encoder) -> method`: wraps an encoder in a method's heads and loss."""

Log = Callable[[str], None]
"""Where a run's progress lines go (`print`, a rich console)."""


def build_method(
    cfg: Config, methods: dict[str, MethodBuilder], make_encoder: Callable[[], nn.Module]
) -> nn.Module:
    """`cfg.method.name`'s builder on a new encoder (made once the name is known good).

    Raises:
        UserError: the name is not registered (lists the known names).
    """
    if cfg.method.name not in methods:
        raise UserError(
            f"method.name: unknown method {cfg.method.name!r} (known: {', '.join(sorted(methods))})"
        )
    return methods[cfg.method.name](cfg, make_encoder())
