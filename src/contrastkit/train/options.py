"""Options of the training loop and its health monitor."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from contrastkit.options import Strict


class TrainConfig(Strict):
    """The training loop. Every number is finite (`lr=inf` is refused here, not after a
    NaN step)."""

    epochs: int = Field(200, ge=1)
    batch_size: int = Field(256, ge=2)
    optimizer: Literal["adamw", "sgd"] = "adamw"
    lr: float = Field(2e-3, gt=0.0)
    weight_decay: float = Field(1e-4, ge=0.0)
    warmup_epochs: int = Field(10, ge=0)
    grad_clip: float | None = Field(None, gt=0.0)
    amp: bool = False
    device: str = "auto"
    log_every: int = Field(10, ge=1)
    sync_batchnorm: bool = False


class HealthConfig(Strict):
    """Training-health monitor (`contrastkit.train.health`): label-free statistics of the
    encoder's embedding of a fixed probe set, every `every` steps (0: off). Collapse: the
    projection's std * sqrt(D) below `min_std` or below `max_std_drop` x its best so far,
    or its RankMe below `min_rankme`."""

    every: int = Field(20, ge=0)
    samples: int = Field(512, ge=8)
    knn: bool = True

    min_std: float = Field(0.2, ge=0.0)
    max_std_drop: float = Field(0.4, ge=0.0, le=1.0)
    min_rankme: float = Field(1.5, ge=0.0)
    stop_on_collapse: bool = False
