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
from contrastkit.data.table_split import TABLE_SOURCES, TableSplit, load_table_data
from contrastkit.encoders.build import build_encoder, build_table_encoder
from contrastkit.errors import UserError
from contrastkit.eval.embed import embed_images
from contrastkit.eval.suite import evaluate
from contrastkit.eval.tabular_suite import embed_rows, evaluate_table
from contrastkit.run_pairs import (
    PAIR_SOURCES,
    check_pairing,
    evaluate_pairs,
    load_pair_data,
    pair_augment,
    pair_in_channels,
    training_batch,
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
from contrastkit.train.loop import Augment, Batch, fit

MethodBuilder = Callable[[Config, nn.Module], nn.Module]
Log = Callable[[str], None]


TABLE_METHODS = ("scarf",)
"""Methods whose views are corrupted table rows; they need a table source and vice versa."""


def _check_table(cfg: Config) -> None:
    table = cfg.data.source in TABLE_SOURCES
    if table != (cfg.method.name in TABLE_METHODS) or table != (cfg.model.encoder == "mlp"):
        raise UserError(
            f"data.source={cfg.data.source!r}, method.name={cfg.method.name!r}, "
            f"model.encoder={cfg.model.encoder!r} do not fit: a table "
            f"({', '.join(TABLE_SOURCES)}) needs model.encoder=mlp and method.name in "
            f"({', '.join(TABLE_METHODS)}), and those need a table (configs/tabular_scarf.yaml)"
        )


def _load_table(cfg: Config, log: Log = lambda _msg: None) -> TableSplit:
    _check_table(cfg)
    return load_table_data(cfg.data, log=log)


def _make_encoder(cfg: Config, in_channels: int, table: TableSplit | None) -> nn.Module:
    if table is not None:
        return build_table_encoder(
            cfg.model, num_numeric=len(table.numeric_names), cardinalities=table.cardinalities
        )
    return build_encoder(cfg.model, in_channels)


def _build(
    cfg: Config,
    methods: dict[str, MethodBuilder],
    in_channels: int,
    table: TableSplit | None = None,
) -> nn.Module:
    check_pairing(cfg)
    _check_table(cfg)
    if cfg.method.name not in methods:
        raise UserError(
            f"method.name: unknown method {cfg.method.name!r} (known: {', '.join(sorted(methods))})"
        )
    return methods[cfg.method.name](cfg, _make_encoder(cfg, in_channels, table))


def _evaluate(cfg: Config, method: nn.Module, log: Log, run_dir: Path) -> dict[str, Any]:
    """The image suite (eval/health/baselines) where the data are the digits, and the
    `crossmodal` block where they are pairs."""
    result: dict[str, Any] = {}
    if cfg.data.source in ("digits", "digits_captions"):
        result.update(_evaluate_images(cfg, method, log))
    if cfg.data.source in PAIR_SOURCES:
        result["crossmodal"] = evaluate_pairs(cfg, method, run_dir, log)
    if cfg.data.source in TABLE_SOURCES:
        result.update(_evaluate_table(cfg, method, log))
    return result


def _evaluate_table(cfg: Config, method: nn.Module, log: Log) -> dict[str, Any]:
    table = _load_table(cfg)
    encoder = method.encoder
    assert isinstance(encoder, nn.Module)
    device = next(encoder.parameters()).device
    return evaluate_table(
        encoder,
        table,
        cfg.eval,
        augment=build_table_augment(cfg.augment, *table.train_rows),
        make_encoder=lambda: _make_encoder(cfg, 0, table).to(device),
        seed=cfg.seed,
        log=log,
    )


def _evaluate_images(cfg: Config, method: nn.Module, log: Log) -> dict[str, Any]:
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
    batch: Batch
    augment: Augment
    if cfg.data.source in PAIR_SOURCES:
        pairs = load_pair_data(cfg, log)
        method = _build(cfg, methods, pair_in_channels(cfg))
        batch, augment, name = training_batch(pairs, method), pair_augment(cfg), pairs.name
        log(f"{pairs.describe()}; device: {device}")
    elif cfg.data.source in TABLE_SOURCES:
        table = _load_table(cfg, log)
        method = _build(cfg, methods, 0, table)
        # A table's views are (numeric, codes) tuples, which the loop's `Augment` alias
        # (-> Tensor) does not spell out.
        augment = build_table_augment(cfg.augment, *table.train_rows)  # type: ignore[assignment]
        batch, name = table.train_rows, table.name
    else:
        data = load_image_data(cfg.data)
        method = _build(cfg, methods, int(data.x_train.shape[1]))
        batch, augment, name = data.x_train, build_augment(cfg.augment), data.name
        log(
            f"data: {data.name}, {len(data.x_train)} train / {len(data.x_test)} test images "
            f"{tuple(data.x_train.shape[1:])}, {data.num_classes} classes; device: {device}"
        )
    result = fit(
        method,
        batch,
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
        "data": name,
        "epochs": cfg.train.epochs,
        "seed": cfg.seed,
        "train_time_s": result.train_time_s,
        "samples_per_s": result.samples_per_s,
        "peak_mem_mib": result.peak_mem_mib,
        "final_loss": result.final_loss,
        "skipped_steps": result.skipped_steps,
    }
    metrics.update(_evaluate(cfg, method, log, out))
    write_json_atomic(out / METRICS, metrics)
    return metrics


def load_run(run: Path, methods: dict[str, MethodBuilder]) -> tuple[Config, nn.Module]:
    """The config and trained method of a run directory (on the CPU, eval mode)."""
    if not run.is_dir():
        raise UserError(f"--run {run}: no such run directory")
    cfg = load_config(run / CONFIG)
    table = None
    if cfg.data.source in PAIR_SOURCES:
        in_channels = pair_in_channels(cfg)
    elif cfg.data.source in TABLE_SOURCES:
        in_channels, table = 0, _load_table(cfg)
    else:
        in_channels = int(load_image_data(cfg.data).x_train.shape[1])
    method = _build(cfg, methods, in_channels, table)
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
    metrics.update(_evaluate(cfg, method, log, run))
    write_json_atomic(metrics_path, metrics)
    return metrics


def embed_run(
    run: Path, data_name: str, out: Path, methods: dict[str, MethodBuilder]
) -> tuple[int, int]:
    """Embed a data set with a run's encoder and save a float32 (N, D) `.npy`."""
    cfg, method = load_run(run, methods)
    encoder = method.encoder
    assert isinstance(encoder, nn.Module)
    if cfg.data.source in TABLE_SOURCES:
        if data_name != cfg.data.source:
            raise UserError(f"--data {data_name}: this run embeds its table {cfg.data.source!r}")
        table = _load_table(cfg)
        numeric = torch.cat([table.num_train, table.num_test])
        codes = torch.cat([table.cat_train, table.cat_test])
        z = embed_rows(encoder, numeric, codes).numpy().astype(np.float32)
    else:
        if data_name != "digits":
            raise UserError(f"--data {data_name}: not a known data set (known: digits)")
        split = load_image_data(cfg.data)
        images = torch.cat([split.x_train, split.x_test])
        z = embed_images(encoder, images).numpy().astype(np.float32)
    write_atomic(out, lambda handle: np.save(handle, z))
    return int(z.shape[0]), int(z.shape[1])
