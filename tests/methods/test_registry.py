"""The registry's contract, over every registered method (timm-style): each spec builds on a
small encoder, its `training_loss` on a batch of its `batch` type is a finite scalar whose
gradient reaches the encoder, its options' defaults validate, and the config union and the
CLI list each method exactly once. Methods import nothing above their layer."""

from __future__ import annotations

import re
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import Tensor, nn

from contrastkit.augment.build import build_augment, build_table_augment, build_views
from contrastkit.augment.options import AugmentConfig
from contrastkit.augment.text import dropout_views
from contrastkit.batches import (
    Batch,
    ImageBatch,
    InteractionBatch,
    PairBatch,
    RowBatch,
    SentenceBatch,
    TextPairBatch,
)
from contrastkit.config import METHOD_CONFIGS, Config, load_config
from contrastkit.encoders.build import build_encoder, build_table_encoder
from contrastkit.encoders.item_tower import ItemTower, RecommenderTowers, UserTower
from contrastkit.encoders.options import ModelConfig
from contrastkit.errors import UserError
from contrastkit.methods.base import MethodContext
from contrastkit.methods.registry import (
    METHODS,
    MethodSpec,
    build_from_spec,
    method_spec,
    methods_for,
)

METHODS_DIR = Path(__file__).resolve().parents[2] / "src" / "contrastkit" / "methods"
N = 16


class TinyText(nn.Module):
    """(ids (B, L), mask (B, L)) -> (B, 16): mean of embedded tokens, with dropout."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(50, 16)
        self.drop = nn.Dropout(0.1)

    def forward(self, ids: Tensor, mask: Tensor) -> Tensor:
        h = self.drop(self.embed(ids)) * mask[..., None]
        return h.sum(dim=1) / mask.sum(dim=1, keepdim=True)


def _gen() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def _images() -> Tensor:
    return torch.randint(0, 256, (N, 1, 8, 8), dtype=torch.uint8, generator=_gen())


def _tokens() -> tuple[Tensor, Tensor]:
    ids = torch.randint(1, 50, (N, 6), generator=_gen())
    mask = torch.ones(N, 6, dtype=torch.long)
    mask[:, 4:] = 0
    return ids, mask


def _rows() -> tuple[Tensor, Tensor]:
    return torch.randn(N, 3, generator=_gen()), torch.randint(0, 3, (N, 2), generator=_gen())


MODEL = ModelConfig(width=4, feature_dim=16, proj_hidden_dim=32, proj_dim=16)
TABLE_MODEL = MODEL.model_copy(update={"encoder": "mlp"})


def _image_kit() -> tuple[nn.Module, Batch, Any]:
    batch = ImageBatch(images=_images(), labels=torch.arange(N) % 4)
    return build_encoder(MODEL, 1), batch, build_views(AugmentConfig(), image_size=(8, 8))


def _pair_kit() -> tuple[nn.Module, Batch, Any]:
    ids, _ = _tokens()
    batch = PairBatch(inputs=_images(), tokens=ids % 10, groups=torch.arange(N) % 5)
    return build_encoder(MODEL, 1), batch, build_augment(AugmentConfig())


def _sentence_kit() -> tuple[nn.Module, Batch, Any]:
    ids, mask = _tokens()
    return TinyText(), SentenceBatch(ids=ids, mask=mask), dropout_views


def _text_pair_kit() -> tuple[nn.Module, Batch, Any]:
    ids, mask = _tokens()
    text = torch.arange(N) % 5
    batch = TextPairBatch(ids, mask, text, ids.flip(0), mask, text.flip(0) + 5, ids, mask)
    return TinyText(), batch, dropout_views


def _row_kit() -> tuple[nn.Module, Batch, Any]:
    numeric, codes = _rows()
    encoder = build_table_encoder(TABLE_MODEL, num_numeric=3, cardinalities=[3, 3])
    augment = build_table_augment(AugmentConfig(), numeric, codes)
    return encoder, RowBatch(numeric=numeric, codes=codes), augment


def _interaction_kit() -> tuple[nn.Module, Batch, Any]:
    towers = RecommenderTowers(
        UserTower(num_users=6, dim=8), ItemTower(num_items=5, num_features=3, dim=8, hidden=8)
    )
    items = torch.arange(N) % 5
    batch = InteractionBatch(
        users=torch.arange(N) % 6,
        item_ids=items,
        features=torch.randn(5, 3)[items],
        log_q=torch.full((N,), -1.6),
    )
    return towers, batch, None


KITS: dict[type[Batch], Callable[[], tuple[nn.Module, Batch, Any]]] = {
    ImageBatch: _image_kit,
    PairBatch: _pair_kit,
    SentenceBatch: _sentence_kit,
    TextPairBatch: _text_pair_kit,
    RowBatch: _row_kit,
    InteractionBatch: _interaction_kit,
}
"""Per batch type: a small encoder, a batch of that type and a view augment."""

CTX = MethodContext(model=MODEL, epochs=3, batch_size=N)


def build(spec: MethodSpec[Any]) -> tuple[nn.Module, Batch, Any]:
    torch.manual_seed(0)
    encoder, batch, augment = KITS[spec.batch]()
    return build_from_spec(spec, spec.options(), encoder, CTX), batch, augment


@pytest.mark.parametrize("name", list(METHODS))
def test_every_method_builds_and_gives_a_finite_scalar_loss_with_gradient(name: str) -> None:
    spec = METHODS[name]
    assert spec.batch in KITS, f"{name}: add a kit for {spec.batch.__name__} to this test"
    method, batch, augment = build(spec)
    loss = method.training_loss(batch, augment=augment, generator=torch.Generator().manual_seed(1))
    assert isinstance(loss, Tensor) and loss.ndim == 0 and torch.isfinite(loss), name
    loss.backward()
    encoder = method.encoder
    assert isinstance(encoder, nn.Module)
    grads = [p.grad for p in encoder.parameters() if p.grad is not None]
    assert grads and any(float(g.abs().sum()) > 0 for g in grads), f"{name}: no encoder gradient"
    method.after_step(0.5)  # every method has the state hook the loop calls


@pytest.mark.parametrize("name", list(METHODS))
def test_options_defaults_validate_and_name_the_method(name: str) -> None:
    spec = METHODS[name]
    options = spec.options()
    assert spec.name == name == options.name
    assert spec.options.model_validate(options.model_dump()) == options
    assert typing.get_args(spec.options.model_fields["name"].annotation) == (name,)
    cfg = load_config(None, [f"method.name={name}"])
    assert type(cfg.method) is spec.options and cfg.method == options


def test_config_union_lists_every_method_once() -> None:
    assert list(METHOD_CONFIGS) == list(METHODS)
    union = Config.model_fields["method"].annotation  # Annotated[section, Tag(name)], ...
    members = [typing.get_args(member) for member in typing.get_args(union)]
    assert [section for section, _ in members] == [spec.options for spec in METHODS.values()]
    assert [tag.tag for _, tag in members] == list(METHODS)


def test_cli_list_names_every_method_once(capsys: pytest.CaptureFixture[str]) -> None:
    from contrastkit.cli import app

    with pytest.raises(SystemExit) as done:
        app(["list"])
    assert done.value.code == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("methods:"))
    assert line.removeprefix("methods:").strip().split(", ") == list(METHODS)


def test_what_a_method_needs_is_on_its_spec() -> None:
    assert [n for n, s in METHODS.items() if s.needs_labels] == ["supcon"]
    assert methods_for(PairBatch) == ("clip", "siglip")
    assert methods_for(SentenceBatch) + methods_for(TextPairBatch) == ("simcse", "text_pairs")
    assert methods_for(RowBatch) == ("scarf",)
    assert methods_for(InteractionBatch) == ("two_tower",)
    assert sum(len(methods_for(b)) for b in KITS) == len(METHODS)


def test_unknown_method_names_the_nearest_and_the_known_ones() -> None:
    with pytest.raises(UserError, match=r"unknown method 'simclir'; did you mean 'simclr'\?"):
        method_spec("simclir")
    with pytest.raises(UserError, match=r"known: simclr, moco_v2, .*scarf, two_tower\)"):
        method_spec("zzz")
    with pytest.raises(UserError, match=r"method\.name: unknown method 'mocov2'.*'moco_v2'"):
        load_config(None, ["method.name=mocov2"])


def test_build_from_spec_rejects_another_methods_section() -> None:
    spec = METHODS["simclr"]
    with pytest.raises(ValueError, match="SimCLRConfig section, got DINOConfig"):
        build_from_spec(spec, METHODS["dino"].options(), build_encoder(MODEL, 1), CTX)


def test_methods_import_nothing_above_their_layer() -> None:
    above = re.compile(
        r"^\s*(from|import)\s+contrastkit\.(config|train|modalities|run\w*|cli|builders|report)\b",
        re.M,
    )
    offenders = [
        f"{path.name}: {m.group(0).strip()}"
        for path in sorted(METHODS_DIR.glob("*.py"))
        for m in above.finditer(path.read_text())
    ]
    assert offenders == []
