"""What `contrastkit train`, `eval` and `embed` do, as functions over a run directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from contrastkit.augment.build import build_augment, build_table_augment
from contrastkit.config import Config, dump_config, load_config
from contrastkit.data.load import load_image_data
from contrastkit.data.split import ImageSplit
from contrastkit.data.table_split import TABLE_SOURCES, TableSplit, load_table_data
from contrastkit.encoders.build import build_encoder, build_table_encoder
from contrastkit.errors import UserError
from contrastkit.eval.embed import embed_images
from contrastkit.eval.suite import evaluate
from contrastkit.eval.tabular_suite import embed_rows, evaluate_table
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
from contrastkit.train.loop import Augment, fit

MethodBuilder = Callable[[Config, nn.Module], nn.Module]
Log = Callable[[str], None]


TABLE_METHODS = ("scarf",)
"""Methods whose views are corrupted table rows; the others take images."""


def _load(cfg: Config, log: Log = lambda _msg: None) -> ImageSplit | TableSplit:
    """The modality dispatch: a table source gives a `TableSplit`, otherwise images."""
    if cfg.data.source not in TABLE_SOURCES:
        return load_image_data(cfg.data)
    if cfg.model.encoder != "mlp" or cfg.method.name not in TABLE_METHODS:
        raise UserError(
            f"data.source {cfg.data.source!r} is a table: set model.encoder: mlp and "
            f"method.name to one of {', '.join(TABLE_METHODS)} (see configs/tabular_scarf.yaml)"
        )
    return load_table_data(cfg.data, log=log)


def _make_encoder(cfg: Config, data: ImageSplit | TableSplit) -> nn.Module:
    if isinstance(data, TableSplit):
        return build_table_encoder(
            cfg.model, num_numeric=len(data.numeric_names), cardinalities=data.cardinalities
        )
    if cfg.model.encoder != "small_cnn" or cfg.method.name in TABLE_METHODS:
        raise UserError(
            f"model.encoder {cfg.model.encoder!r} / method.name {cfg.method.name!r} need a "
            f"table source (data.source: {', '.join(TABLE_SOURCES)})"
        )
    return build_encoder(cfg.model, int(data.x_train.shape[1]))


def _build(
    cfg: Config, methods: dict[str, MethodBuilder], data: ImageSplit | TableSplit
) -> nn.Module:
    if cfg.method.name not in methods:
        raise UserError(
            f"method.name: unknown method {cfg.method.name!r} (known: {', '.join(sorted(methods))})"
        )
    return methods[cfg.method.name](cfg, _make_encoder(cfg, data))


def _augment(cfg: Config, data: ImageSplit | TableSplit) -> Augment:
    """The views `fit` passes to the method; a table's views are (numeric, codes) tuples,
    which the loop's `Augment` alias (-> Tensor) does not spell out, hence the ignore."""
    if isinstance(data, TableSplit):
        return build_table_augment(cfg.augment, *data.train_rows)  # type: ignore[return-value]
    return build_augment(cfg.augment)


def _evaluate(
    cfg: Config, method: nn.Module, data: ImageSplit | TableSplit, log: Log
) -> dict[str, Any]:
    encoder = method.encoder
    assert isinstance(encoder, nn.Module)
    device = next(encoder.parameters()).device
    if isinstance(data, TableSplit):
        return evaluate_table(
            encoder,
            data,
            cfg.eval,
            augment=build_table_augment(cfg.augment, *data.train_rows),
            make_encoder=lambda: _make_encoder(cfg, data).to(device),
            seed=cfg.seed,
            log=log,
        )
    return evaluate(
        encoder,
        data,
        cfg.eval,
        augment=build_augment(cfg.augment),
        make_encoder=lambda: _make_encoder(cfg, data).to(device),
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
    data = _load(cfg, log)
    device = resolve_device(cfg.train.device)
    method = _build(cfg, methods, data)
    if isinstance(data, ImageSplit):
        log(
            f"data: {data.name}, {len(data.x_train)} train / {len(data.x_test)} test images "
            f"{tuple(data.x_train.shape[1:])}, {data.num_classes} classes; device: {device}"
        )
    result = fit(
        method,
        data.train_rows if isinstance(data, TableSplit) else data.x_train,
        augment=_augment(cfg, data),
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
        "data": data.name,
        "epochs": cfg.train.epochs,
        "seed": cfg.seed,
        "train_time_s": result.train_time_s,
        "samples_per_s": result.samples_per_s,
        "peak_mem_mib": result.peak_mem_mib,
        "final_loss": result.final_loss,
        "skipped_steps": result.skipped_steps,
    }
    metrics.update(_evaluate(cfg, method, data, log))
    write_json_atomic(out / METRICS, metrics)
    return metrics


def _load_run_data(
    run: Path, methods: dict[str, MethodBuilder]
) -> tuple[Config, nn.Module, ImageSplit | TableSplit]:
    if not run.is_dir():
        raise UserError(f"--run {run}: no such run directory")
    cfg = load_config(run / CONFIG)
    data = _load(cfg)
    method = _build(cfg, methods, data)
    method.load_state_dict(load_checkpoint(run / CHECKPOINT)["model"])
    return cfg, method.eval(), data


def load_run(run: Path, methods: dict[str, MethodBuilder]) -> tuple[Config, nn.Module]:
    """The config and trained method of a run directory (on the CPU, eval mode)."""
    cfg, method, _ = _load_run_data(run, methods)
    return cfg, method


def eval_run(run: Path, methods: dict[str, MethodBuilder], log: Log = print) -> dict[str, Any]:
    """Re-evaluate a run and update its `metrics.json` (training statistics are kept)."""
    cfg, method, data = _load_run_data(run, methods)
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
    metrics.update(_evaluate(cfg, method, data, log))
    write_json_atomic(metrics_path, metrics)
    return metrics


def embed_run(
    run: Path, data_name: str, out: Path, methods: dict[str, MethodBuilder]
) -> tuple[int, int]:
    """Embed a data set with a run's encoder and save a float32 (N, D) `.npy`."""
    cfg, method, split = _load_run_data(run, methods)
    encoder = method.encoder
    assert isinstance(encoder, nn.Module)
    if isinstance(split, TableSplit):
        if data_name != cfg.data.source:
            raise UserError(f"--data {data_name}: this run embeds its table {cfg.data.source!r}")
        numeric = torch.cat([split.num_train, split.num_test])
        codes = torch.cat([split.cat_train, split.cat_test])
        z = embed_rows(encoder, numeric, codes).numpy().astype(np.float32)
    else:
        if data_name != "digits":
            raise UserError(f"--data {data_name}: not a known data set (known: digits)")
        images = torch.cat([split.x_train, split.x_test])
        z = embed_images(encoder, images).numpy().astype(np.float32)
    write_atomic(out, lambda handle: np.save(handle, z))
    return int(z.shape[0]), int(z.shape[1])
