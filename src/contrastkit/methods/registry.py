"""Every method, registered once: its options section, its builder and the data it trains on.

The config's `method` union, the CLI's list of methods and the data/method compatibility
checks are all derived from `METHODS`; a method's name is written once, in its options
class (`name: Literal["simclr"]`). Adding a method: its file (options, module, builder)
and one line here.

Example:
    >>> spec = method_spec("simclr")
    >>> method = build_from_spec(spec, spec.options(), encoder, ctx)
    >>> loss = method.training_loss(ImageBatch(images=x, labels=y), augment=views)
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from torch import nn

from contrastkit.batches import (
    Batch,
    ImageBatch,
    InteractionBatch,
    PairBatch,
    RowBatch,
    SentenceBatch,
    TextPairBatch,
)
from contrastkit.errors import UserError
from contrastkit.methods.barlow_twins import BarlowTwinsConfig, build_barlow_twins
from contrastkit.methods.base import Method, MethodContext, MethodOptions
from contrastkit.methods.byol import BYOLConfig, build_byol
from contrastkit.methods.clip import CLIPConfig, build_clip
from contrastkit.methods.dcl import DCLConfig, build_dcl
from contrastkit.methods.dino import DINOConfig, build_dino
from contrastkit.methods.moco import MoCoV2Config, MoCoV3Config, build_moco_v2, build_moco_v3
from contrastkit.methods.nnclr import NNCLRConfig, build_nnclr
from contrastkit.methods.scarf import SCARFConfig, build_scarf
from contrastkit.methods.siglip import SigLIPConfig, build_siglip
from contrastkit.methods.simclr import SimCLRConfig, build_simclr
from contrastkit.methods.simcse import SimCSEConfig, build_simcse
from contrastkit.methods.simsiam import SimSiamConfig, build_simsiam
from contrastkit.methods.supcon import SupConConfig, build_supcon
from contrastkit.methods.swav import SwAVConfig, build_swav
from contrastkit.methods.text_pairs import TextPairsConfig, build_text_pairs
from contrastkit.methods.two_tower_rec import TwoTowerConfig, build_two_tower
from contrastkit.methods.vicreg import VICRegConfig, build_vicreg

OptionsT = TypeVar("OptionsT", bound=MethodOptions)


@dataclass(frozen=True)
class MethodSpec(Generic[OptionsT]):
    """One method: what a config names, how it is built, what it trains on.

    Attributes:
        options: The method's options section (a `MethodOptions` whose `name` is a
            `Literal`); `name` is read from it.
        build: `build(options, encoder, ctx) -> method`: wraps an encoder in the method's
            heads, loss and state.
        batch: The typed batch its `training_loss` reads (`ImageBatch`, `PairBatch`, ...):
            the kind of data the method needs.
        needs_labels: Every training item must carry a label (SupCon).
        name: The method's name, `options`' default `name`.
    """

    options: type[OptionsT]
    build: Callable[[OptionsT, nn.Module, MethodContext], Method[Any]]
    batch: type[Batch]
    needs_labels: bool = False
    name: str = field(init=False)

    def __post_init__(self) -> None:
        name = self.options.model_fields["name"].default
        if not isinstance(name, str) or not name:
            raise ValueError(f"{self.options.__name__}.name needs a default (the method's name)")
        object.__setattr__(self, "name", name)


_SPECS: tuple[MethodSpec[Any], ...] = (
    MethodSpec(SimCLRConfig, build_simclr, ImageBatch),
    MethodSpec(MoCoV2Config, build_moco_v2, ImageBatch),
    MethodSpec(MoCoV3Config, build_moco_v3, ImageBatch),
    MethodSpec(BYOLConfig, build_byol, ImageBatch),
    MethodSpec(SimSiamConfig, build_simsiam, ImageBatch),
    MethodSpec(SwAVConfig, build_swav, ImageBatch),
    MethodSpec(BarlowTwinsConfig, build_barlow_twins, ImageBatch),
    MethodSpec(VICRegConfig, build_vicreg, ImageBatch),
    MethodSpec(DINOConfig, build_dino, ImageBatch),
    MethodSpec(NNCLRConfig, build_nnclr, ImageBatch),
    MethodSpec(SupConConfig, build_supcon, ImageBatch, needs_labels=True),
    MethodSpec(DCLConfig, build_dcl, ImageBatch),
    MethodSpec(CLIPConfig, build_clip, PairBatch),
    MethodSpec(SigLIPConfig, build_siglip, PairBatch),
    MethodSpec(SimCSEConfig, build_simcse, SentenceBatch),
    MethodSpec(TextPairsConfig, build_text_pairs, TextPairBatch),
    MethodSpec(SCARFConfig, build_scarf, RowBatch),
    MethodSpec(TwoTowerConfig, build_two_tower, InteractionBatch),
)

METHODS: dict[str, MethodSpec[Any]] = {spec.name: spec for spec in _SPECS}
"""Method name -> its spec, in the order the CLI and the docs list them."""

DEFAULT_METHOD = "simclr"


def method_spec(name: str) -> MethodSpec[Any]:
    """The spec of `name`.

    Raises:
        UserError: `name` is not registered (names the nearest one and all known ones).
    """
    if name in METHODS:
        return METHODS[name]
    close = difflib.get_close_matches(name, list(METHODS), n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise UserError(f"method.name: unknown method {name!r}{hint} (known: {', '.join(METHODS)})")


def methods_for(batch: type[Batch]) -> tuple[str, ...]:
    """The names of the methods that train on `batch` (e.g. `PairBatch`: clip, siglip)."""
    return tuple(name for name, spec in METHODS.items() if spec.batch is batch)


def build_from_spec(
    spec: MethodSpec[OptionsT], options: MethodOptions, encoder: nn.Module, ctx: MethodContext
) -> Method[Any]:
    """`spec.build` on `encoder`, after checking `options` is the spec's section.

    Raises:
        ValueError: `options` is another method's section.
    """
    if not isinstance(options, spec.options):
        raise ValueError(
            f"method {spec.name!r} needs a {spec.options.__name__} section, got "
            f"{type(options).__name__} (name={options.name!r})"
        )
    return spec.build(options, encoder, ctx)
