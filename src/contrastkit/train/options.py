"""Options of the training loop and its health monitor."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from contrastkit.options import Strict


class TrainConfig(Strict):
    """The training loop. Every number is finite (`lr=inf` is refused here, not after a
    NaN step).

    `max_steps` stops the run after that many training steps (batches, a skipped
    non-finite step included) with the checkpoint and metrics written as usual; the
    learning-rate schedule still spans `epochs`, so a stopped run is the exact prefix of
    the full one and `--resume` (with a larger or no `max_steps`) continues it bit for bit.
    `workers`: DataLoader worker processes that read and decode items; None chooses 0 for
    data held in memory and min(4, usable CPU cores - 1) for data read from disk (an image
    folder). With workers, each keeps `prefetch_factor` batches in flight and stays alive
    between epochs; batches are read into pinned memory when training on CUDA.
    `keep_freed_memory`: on the CPU, glibc's malloc keeps the memory a step frees for the
    next step instead of returning it to the kernel (`train/allocator.py`: about 1.3-1.5x
    faster steps; the process holds its peak memory until it ends).
    `channels_last`: convolution weights are stored channels-last while training, so
    convolutions run in the layout oneDNN and tensor cores prefer (`benchmarks/layout.py`,
    2 CPU cores: 1.17x faster resnet_small steps on 28x28, 1.47x on 64x64, 1.12x ResNet-18
    on 32x32, none for ViT-Tiny); the weights are handed back in the usual layout when
    training ends. No effect on models without 2-D convolutions.
    `compile`: `torch.compile` the method's encoder and head in place for the time of
    training (`train/speed.py`: the state-dict keys stay the same); None: on for CUDA runs
    of at least 20,000 steps, off on the CPU (2 CPU cores: the compiled channels-last
    resnet_small step was only 1.06x faster, the first steps spend about 10 s compiling,
    and compiling needs a C++ compiler at run time). `compile_mode`: "auto" uses CUDA
    graphs on CUDA ("reduce-overhead": the batch shapes of a run are static) and
    "default" on the CPU. The chosen settings are printed on the run's `speed:` line.
    `grad_cache_chunk`: train a method whose loss is over the whole batch's embeddings
    (SimCLR, SupCon, CLIP, SigLIP, text pairs, ...) with GradCache (`train/grad_cache.py`):
    the loss and gradient of the full batch with the activation memory of this many inputs
    at a time, for batches far larger than the device holds. None: the plain step.
    """

    epochs: int = Field(200, ge=1)
    batch_size: int = Field(256, ge=2, le=2**20)
    optimizer: Literal["adamw", "sgd"] = "adamw"
    lr: float = Field(2e-3, gt=0.0)
    weight_decay: float = Field(1e-4, ge=0.0)
    warmup_epochs: int = Field(10, ge=0)
    grad_clip: float | None = Field(None, gt=0.0)
    amp: bool = False
    device: str = "auto"
    log_every: int = Field(10, ge=1)
    sync_batchnorm: bool = False
    max_steps: int | None = Field(None, ge=1)
    workers: int | None = Field(None, ge=0, le=256)
    prefetch_factor: int = Field(2, ge=1, le=64)
    keep_freed_memory: bool = True
    channels_last: bool = True
    compile: bool | None = None
    compile_mode: Literal["auto", "default", "reduce-overhead", "max-autotune"] = "auto"
    grad_cache_chunk: int | None = Field(None, ge=1, le=2**20)
    encoder_lr_scale: float = Field(1.0, gt=0.0, le=1.0)
    """The encoder's learning rate as a fraction of `lr` (the heads train at `lr`): below 1
    when fine-tuning a pretrained backbone (`train/optim.py`)."""
    frozen_epochs: int = Field(0, ge=0)
    """The encoder stays frozen (no gradients, BatchNorm statistics kept) for the first N
    epochs while the heads learn (`train/frozen_warmup.py`)."""
    wandb_project: str | None = Field(None, min_length=1, max_length=128)
    """Also log the training curves to this Weights & Biases project (`train/wandb_log.py`;
    needs the `wandb` extra). None: TensorBoard and log.jsonl only."""


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
