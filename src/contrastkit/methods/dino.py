"""DINO (Caron et al. 2021, arXiv:2104.14294): a student matches the centred, sharpened
output of an EMA teacher across multi-crop views."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn

from contrastkit.batches import ImageBatch
from contrastkit.distributed import all_reduce_sum, world_size
from contrastkit.heads.projection import ProjectionHead
from contrastkit.losses import dino
from contrastkit.methods.base import MethodContext, MethodOptions, MomentumMethod
from contrastkit.methods.ema import ema_, linear_warmup
from contrastkit.methods.multicrop import LocalCrops, encode_crops, multi_crop


class DINOConfig(MethodOptions):
    """DINO (arXiv:2104.14294): self-distillation with an EMA teacher, centering, sharpening.

    Paper: out_dim 65536, student temperature 0.1, teacher temperature warm-up 0.04 -> 0.07
    over 30 epochs, center momentum 0.9, teacher momentum 0.996 -> 1 (cosine), 2 global +
    local crops. Digits: out_dim 256, warm-up over the first 30% of training, base
    momentum 0.99, 2 x 8 + 4 x 4 crops.
    """

    name: Literal["dino"] = "dino"
    out_dim: int = Field(256, ge=2, le=2**20)
    student_temperature: float = Field(0.1, gt=0.0)
    teacher_temperature: float = Field(0.04, gt=0.0)
    teacher_temperature_final: float = Field(0.07, gt=0.0)
    warmup_teacher_fraction: float = Field(0.3, ge=0.0, le=1.0)
    center_momentum: float = Field(0.9, ge=0.0, le=1.0)
    momentum: float = Field(0.99, ge=0.0, le=1.0)
    local_crops: int = Field(4, ge=0, le=64)
    local_size: int = Field(4, ge=2, le=4096)
    local_scale: tuple[float, float] = (0.2, 0.5)


class DINOHead(nn.Module):
    """MLP to a bottleneck, L2 normalisation, then a weight-normalised linear layer with
    unit-norm rows (the paper's `norm_last_layer=True`).

    Shape:
        (B, in_dim) -> (B, out_dim).
    """

    def __init__(self, in_dim: int, hidden_dim: int, bottleneck_dim: int, out_dim: int) -> None:
        super().__init__()
        self.mlp = ProjectionHead(in_dim, hidden_dim, bottleneck_dim, num_layers=3)
        self.last = nn.Linear(bottleneck_dim, out_dim, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        h = F.normalize(self.mlp(x), dim=1)  # (B, bottleneck)
        return F.linear(h, F.normalize(self.last.weight, dim=1))  # (B, out_dim)


class DINO(MomentumMethod):
    """Student (encoder + DINO head), its EMA teacher (the target) and the center (a buffer).

    Teacher temperature warms up linearly from `teacher_temperature` to
    `teacher_temperature_final` over the first `warmup_fraction` of training; after each
    step the teacher moves by 1 - tau(p) (cosine from `momentum` to 1) and
    center <- c_m * center + (1 - c_m) * mean of the teacher outputs (all ranks).

    Args:
        encoder: (B, C, H, W) -> (B, D).
        head: (B, D) -> (B, K).
        out_dim: K.
    """

    earlier_names: ClassVar = {"teacher.": "target."}
    center: Tensor
    progress: Tensor

    def __init__(
        self,
        encoder: nn.Module,
        head: nn.Module,
        *,
        out_dim: int,
        student_temperature: float,
        teacher_temperature: float,
        teacher_temperature_final: float,
        warmup_fraction: float,
        center_momentum: float,
        momentum: float,
        local_crops: int,
        local_size: int,
        local_scale: tuple[float, float],
    ) -> None:
        super().__init__(encoder, head, momentum=momentum)
        if min(student_temperature, teacher_temperature, teacher_temperature_final) <= 0:
            raise ValueError("DINO temperatures must be > 0")
        self.register_buffer("center", torch.zeros(out_dim))
        self.register_buffer("progress", torch.zeros(()))
        self.student_temperature = student_temperature
        self.teacher_temperature = (teacher_temperature, teacher_temperature_final)
        self.warmup_fraction = warmup_fraction
        self.center_momentum = center_momentum
        self.local = LocalCrops(local_crops, local_size, local_scale)
        self._pending: Tensor | None = None

    def current_teacher_temperature(self) -> float:
        start, end = self.teacher_temperature
        return linear_warmup(
            float(self.progress), start=start, end=end, fraction=self.warmup_fraction
        )

    def training_loss(
        self, batch: ImageBatch, *, augment: Any, generator: torch.Generator | None = None
    ) -> Tensor:
        """DINO loss of one batch. batch.images: Shape: (B, C, H, W)."""
        crops = multi_crop(batch.images, augment, self.local, generator)
        student = encode_crops(self.projection, crops)  # (V, B, K)
        teacher = self.target(torch.cat(crops[:2])).unflatten(0, (2, -1))  # (2, B, K)
        self._pending = teacher.flatten(0, 1).mean(dim=0)
        return dino(
            student,
            teacher,
            self.center,
            student_temperature=self.student_temperature,
            teacher_temperature=self.current_teacher_temperature(),
        )

    def after_step(self, progress: float) -> None:
        """Teacher EMA (cosine momentum), center EMA, and the progress for the warm-up."""
        super().after_step(progress)
        if self._pending is not None:
            batch_center = all_reduce_sum(self._pending) / world_size()
            ema_(self.center, batch_center, self.center_momentum)
            self._pending = None
        self.progress.fill_(progress)


def build_dino(options: DINOConfig, encoder: nn.Module, ctx: MethodContext) -> DINO:
    """DINO with a 3-layer head (hidden `model.proj_hidden_dim`, bottleneck `model.proj_dim`)."""
    m = ctx.model
    return DINO(
        encoder,
        DINOHead(m.feature_dim, m.proj_hidden_dim, m.proj_dim, options.out_dim),
        out_dim=options.out_dim,
        student_temperature=options.student_temperature,
        teacher_temperature=options.teacher_temperature,
        teacher_temperature_final=options.teacher_temperature_final,
        warmup_fraction=options.warmup_teacher_fraction,
        center_momentum=options.center_momentum,
        momentum=options.momentum,
        local_crops=options.local_crops,
        local_size=options.local_size,
        local_scale=options.local_scale,
    )
