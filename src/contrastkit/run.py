"""What `contrastkit train`, `eval` and `embed` do, as functions over a run directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from contrastkit.augment.build import build_augment
from contrastkit.config import Config, dump_config, load_config
from contrastkit.data.load import load_image_data
from contrastkit.encoders.build import build_encoder
from contrastkit.errors import UserError
from contrastkit.eval.embed import embed_images
from contrastkit.eval.suite import evaluate
from contrastkit.run_text import (
    build_text_method,
    embed_text_file,
    evaluate_text,
    is_text,
    text_training,
)
from contrastkit.rundir import (
    CHECKPOINT,
    CONFIG,
    METRICS,
    prepare_run_dir,
    read_json,
    write_atomic,
    write_json_atomic,
    write_text_atomic,
)
from contrastkit.train.checkpoint import load_checkpoint
from contrastkit.train.device import resolve_device
from contrastkit.train.loop import Batch, fit

MethodBuilder = Callable[[Config, nn.Module], nn.Module]
Log = Callable[[str], None]


def _build(cfg: Config, methods: dict[str, MethodBuilder], in_channels: int) -> nn.Module:
    if cfg.method.name not in methods:
        raise UserError(
            f"method.name: unknown method {cfg.method.name!r} (known: {', '.join(sorted(methods))})"
        )
    return methods[cfg.method.name](cfg, build_encoder(cfg.model, in_channels))


def _evaluate(cfg: Config, method: nn.Module, log: Log) -> dict[str, Any]:
    if is_text(cfg):
        return evaluate_text(cfg, method, log)
    data = load_image_data(cfg.data)
    in_channels = int(data.x_train.shape[1])
    encoder = method.encoder
    assert isinstance(encoder, nn.Module)
    return evaluate(
        encoder,
        data,
        cfg.eval,
        augment=build_augment(cfg.augment),
        make_encoder=lambda: build_encoder(cfg.model, in_channels).to(
            next(encoder.parameters()).device
        ),
        feature_dim=cfg.model.feature_dim,
        seed=cfg.seed,
        log=log,
    )


def train_run(
    cfg: Config,
    out: Path,
    methods: dict[str, MethodBuilder],
    *,
    resume: bool = False,
    overwrite: bool = False,
    show_progress: bool = True,
    log: Log = print,
    on_epoch_end: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Train, evaluate and write the run directory; returns the metrics written."""
    prepare_run_dir(out, overwrite=overwrite, resume=resume)
    if not resume:
        write_text_atomic(out / CONFIG, dump_config(cfg))
    device = resolve_device(cfg.train.device)
    text = text_training(cfg, methods) if is_text(cfg) else None
    train_data: Batch
    if text is not None:
        method, train_data, augment, data_name = text.method, text.data, text.augment, text.name
        log(f"{text.summary}; device: {device}")
    else:
        data = load_image_data(cfg.data)
        method = _build(cfg, methods, int(data.x_train.shape[1]))
        train_data, augment, data_name = data.x_train, build_augment(cfg.augment), data.name
        log(
            f"data: {data.name}, {len(data.x_train)} train / {len(data.x_test)} test images "
            f"{tuple(data.x_train.shape[1:])}, {data.num_classes} classes; device: {device}"
        )
    result = fit(
        method,
        train_data,
        augment=augment,
        cfg=cfg.train,
        seed=cfg.seed,
        run_dir=out,
        device=device,
        resume=resume,
        show_progress=show_progress,
        on_epoch_end=on_epoch_end,
    )
    metrics: dict[str, Any] = {
        "method": cfg.method.name,
        "data": data_name,
        "epochs": cfg.train.epochs,
        "seed": cfg.seed,
        "train_time_s": result.train_time_s,
        "samples_per_s": result.samples_per_s,
        "peak_mem_mib": result.peak_mem_mib,
        "final_loss": result.final_loss,
        "skipped_steps": result.skipped_steps,
    }
    if text is not None:
        metrics["train_sentences_per_s"] = result.samples_per_s * text.texts_per_sample
    metrics.update(_evaluate(cfg, method, log))
    write_json_atomic(out / METRICS, metrics)
    return metrics


def load_run(run: Path, methods: dict[str, MethodBuilder]) -> tuple[Config, nn.Module]:
    """The config and trained method of a run directory (on the CPU, eval mode)."""
    if not run.is_dir():
        raise UserError(f"--run {run}: no such run directory")
    cfg = load_config(run / CONFIG)
    if is_text(cfg):
        method = build_text_method(cfg, methods)
    else:
        data = load_image_data(cfg.data)
        method = _build(cfg, methods, int(data.x_train.shape[1]))
    method.load_state_dict(load_checkpoint(run / CHECKPOINT)["model"])
    return cfg, method.eval()


def eval_run(run: Path, methods: dict[str, MethodBuilder], log: Log = print) -> dict[str, Any]:
    """Re-evaluate a run and update its `metrics.json` (training statistics are kept)."""
    cfg, method = load_run(run, methods)
    metrics_path = run / METRICS
    metrics: dict[str, Any] = (
        read_json(metrics_path)
        if metrics_path.is_file()
        else {
            "method": cfg.method.name,
            "data": cfg.data.source,
            "epochs": cfg.train.epochs,
            "seed": cfg.seed,
        }
    )
    metrics.update(_evaluate(cfg, method, log))
    write_json_atomic(metrics_path, metrics)
    return metrics


def embed_run(
    run: Path, data_name: str, out: Path, methods: dict[str, MethodBuilder]
) -> tuple[int, int]:
    """Embed a data set with a run's encoder and save a float32 (N, D) `.npy`."""
    cfg, method = load_run(run, methods)
    if is_text(cfg):
        z = embed_text_file(cfg, method, Path(data_name)).numpy().astype(np.float32)
        write_atomic(out, lambda handle: np.save(handle, z))
        return int(z.shape[0]), int(z.shape[1])
    if data_name != "digits":
        raise UserError(f"--data {data_name}: not a known data set (known: digits)")
    split = load_image_data(cfg.data)
    images = torch.cat([split.x_train, split.x_test])
    encoder = method.encoder
    assert isinstance(encoder, nn.Module)
    z = embed_images(encoder, images).numpy().astype(np.float32)
    write_atomic(out, lambda handle: np.save(handle, z))
    return int(z.shape[0]), int(z.shape[1])
