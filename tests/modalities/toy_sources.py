"""The sources the recipe test adds to a copy of the package: a toy method (one file and
its registry line) and a toy image modality with a metrics table of its own (one package
and its registry line), written as a user following docs/architecture.md would."""

from __future__ import annotations

TOY_METHOD = '''"""A toy method: two views, alignment plus uniformity on the unit sphere (Wang and
Isola 2020, arXiv:2005.10242)."""

from __future__ import annotations

from functools import partial
from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn

from contrastkit.methods.base import MethodContext, MethodOptions, TwoViewMethod
from contrastkit.methods.projectors import projection_head


class ToyAlignConfig(MethodOptions):
    name: Literal["toy_align"] = "toy_align"
    uniformity: float = Field(1.0, gt=0.0)


def align_uniform(z_a: Tensor, z_b: Tensor, *, uniformity: float) -> Tensor:
    """Alignment of the two views plus uniformity on the sphere. Shape: (B, P) each."""
    a, b = F.normalize(z_a, dim=1), F.normalize(z_b, dim=1)
    align = (a - b).pow(2).sum(dim=1).mean()
    uniform = torch.pdist(a).pow(2).mul(-2.0).exp().mean().log()
    return align + uniformity * uniform


class ToyAlign(TwoViewMethod):
    def __init__(self, encoder: nn.Module, head: nn.Module, *, uniformity: float) -> None:
        super().__init__(encoder, head, loss=partial(align_uniform, uniformity=uniformity))


def build_toy_align(options: ToyAlignConfig, encoder: nn.Module, ctx: MethodContext) -> ToyAlign:
    return ToyAlign(encoder, projection_head(ctx.model), uniformity=options.uniformity)
'''
TOY_METHOD_IMPORT = "from contrastkit.methods.toy_align import ToyAlignConfig, build_toy_align"
TOY_METHOD_LINE = "    MethodSpec(ToyAlignConfig, build_toy_align, ImageBatch),"

TOY_MODALITY = '''"""Toy squares: 8x8 grey images of a bright 3x3 square, class 0 when it
lies in the left half and 1 in the right; evaluated by its own metrics block `toy`."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from rich.table import Table
from torch import Tensor, nn

from contrastkit.augment.build import build_views
from contrastkit.batches import ImageBatch
from contrastkit.data.items import TensorItems
from contrastkit.data.preprocess import ImagePreprocess
from contrastkit.encoders.build import build_encoder
from contrastkit.encoders.traceable import ImageInput
from contrastkit.errors import UserError
from contrastkit.eval.embed import embed_images
from contrastkit.methods.registry import MethodSpec
from contrastkit.modalities.base import (
    Embedded,
    EmbedOptions,
    ExportSpec,
    ExportTower,
    Log,
    Modality,
    Training,
)
from contrastkit.modalities.metrics_table import MetricsTable
from contrastkit.modalities.pictures import Pictures, memory_pictures

TRAIN, TEST = 64, 32


def squares(n: int, seed: int) -> tuple[Tensor, Tensor]:
    """Shape: (n, 1, 8, 8) uint8 images and (n,) labels."""
    g = torch.Generator().manual_seed(seed)
    rows = torch.randint(0, 6, (n,), generator=g)
    cols = torch.randint(0, 6, (n,), generator=g)
    images = torch.zeros(n, 1, 8, 8, dtype=torch.uint8)
    for i in range(n):
        images[i, 0, rows[i] : rows[i] + 3, cols[i] : cols[i] + 3] = 255
    return images, (cols >= 3).long()


def toy_table(metrics: dict[str, Any], title: str) -> Table:
    table = Table(title=title)
    table.add_column("1-NN top-1 (%)")
    table.add_row(f"{100 * metrics['toy']['knn_top1']:.1f}")
    return table


class ToyModality(Modality):
    name = "toy_squares"
    sources = ("toy_squares",)
    batch_types = (ImageBatch,)
    tables = (MetricsTable("toy", "Toy squares", "toy squares 1-NN", toy_table),)

    @cached_property
    def data(self) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        x, y = squares(TRAIN + TEST, self.settings.seed)
        return x[:TRAIN], y[:TRAIN], x[TRAIN:], y[TRAIN:]

    def new_encoder(self) -> nn.Module:
        return build_encoder(self.settings.model, in_channels=1, image_size=8)

    def training(self, spec: MethodSpec, log: Log) -> Training:
        x, y, _, _ = self.data
        return Training(
            items=TensorItems(ImageBatch(images=x, labels=y)),
            views=build_views(self.settings.augment, image_size=(8, 8)),
            name="toy squares",
        )

    def evaluate(
        self, method: nn.Module, run_dir: Path, log: Log, *, budget_s: float | None = None
    ) -> dict[str, Any]:
        x, y, x_test, y_test = self.data
        train = F.normalize(embed_images(method.encoder, x), dim=1)
        test = F.normalize(embed_images(method.encoder, x_test), dim=1)
        nearest = (test @ train.T).argmax(dim=1)
        return {"toy": {"knn_top1": float((y[nearest] == y_test).float().mean()), "test": TEST}}

    def _all(self) -> tuple[Tensor, list[str]]:
        x, y, x_test, y_test = self.data
        ids = [f"train:{i}:{int(c)}" for i, c in enumerate(y)]
        ids += [f"test:{i}:{int(c)}" for i, c in enumerate(y_test)]
        return torch.cat([x, x_test]), ids

    def embed(
        self, method: nn.Module, data: str, log: Log, options: EmbedOptions = EmbedOptions()
    ) -> Embedded:
        if data != "train":
            raise UserError(f"--data {data}: toy runs embed their own squares only ('train')")
        images, ids = self._all()
        return Embedded(embed_images(method.encoder, images), ids, "toy squares")

    def export_spec(self, method: nn.Module, *, max_items: int = 512) -> ExportSpec:
        x = self.data[0]
        tower = ExportTower(
            folder="",
            module=ImageInput(method.encoder),
            example_inputs=(x[:8],),
            input_names=("images",),
            preprocess=ImagePreprocess(height=8, width=8, channels=1),
        )
        return ExportSpec((tower,), note="toy squares: no int8 task")

    def pictures(self, ids: list[str]) -> Pictures | None:
        images, own = self._all()
        return memory_pictures(images, own, ids)
'''
TOY_MODALITY_IMPORT = "from contrastkit.modalities.toy_squares import ToyModality"
TOY_MODALITY_LINE = "    ToyModality,"

TOY_CONFIG = """seed: 3
data:
  source: toy_squares
model:
  encoder: small_cnn
  width: 4
  feature_dim: 16
  proj_hidden_dim: 32
  proj_dim: 8
method:
  name: toy_align
  uniformity: 0.5
train:
  epochs: 3
  batch_size: 32
  warmup_epochs: 0
"""
