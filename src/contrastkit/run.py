"""What `contrastkit train`, `eval` and `embed` do, as functions over a run directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from contrastkit.augment.build import build_augment, build_table_augment, build_views
from contrastkit.config import Config, dump_config, load_config
from contrastkit.data.load import load_image_data, load_image_set
from contrastkit.data.split import ImageSplit
from contrastkit.data.table_split import TABLE_SOURCES, TableSplit, load_table_data
from contrastkit.distributed import rank
from contrastkit.encoders.build import build_encoder, build_table_encoder
from contrastkit.errors import UserError
from contrastkit.eval.suite import evaluate, health
from contrastkit.eval.tabular_suite import embed_rows, evaluate_table
from contrastkit.eval.transfer import class_mask, select_classes
from contrastkit.index.image_search import build_image_index, data_config_for, embed_image_set
from contrastkit.run_pairs import (
    PAIR_SOURCES,
    check_pairing,
    evaluate_pairs,
    load_pair_data,
    pair_augment,
    pair_in_channels,
    training_batch,
)
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
from contrastkit.train import ddp
from contrastkit.train.checkpoint import load_checkpoint
from contrastkit.train.device import resolve_device
from contrastkit.train.health import build_monitor
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


def eval_split(cfg: Config) -> ImageSplit:
    """The split evaluation uses: all classes, or only `eval.classes` (relabelled)."""
    data = load_image_data(cfg.data)
    if cfg.eval.classes is None:
        return data
    try:
        return select_classes(data, cfg.eval.classes)
    except ValueError as err:
        raise UserError(f"eval.classes: {err}") from None


def _evaluate(
    cfg: Config, method: nn.Module, log: Log, run_dir: Path, data: ImageSplit | None = None
) -> dict[str, Any]:
    """The image suite (eval/health/baselines) where the data are images with labels (the
    digits captions included), the `crossmodal` block where they are pairs, and the held-out
    retrieval task where they are text."""
    if is_text(cfg):
        return evaluate_text(cfg, method, log)
    if cfg.data.source in TABLE_SOURCES:
        return _evaluate_table(cfg, method, log)
    if cfg.data.source not in PAIR_SOURCES:
        return _evaluate_images(cfg, method, log, data)
    result: dict[str, Any] = {}
    if cfg.data.source == "digits_captions":
        result.update(
            _evaluate_images(
                cfg.model_copy(update={"data": cfg.data.model_copy(update={"source": "digits"})}),
                method,
                log,
            )
        )
    result["crossmodal"] = evaluate_pairs(cfg, method, run_dir, log)
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


def _evaluate_images(
    cfg: Config, method: nn.Module, log: Log, data: ImageSplit | None = None
) -> dict[str, Any]:
    data = data or eval_split(cfg)
    in_channels = int(data.x_train.shape[1])
    encoder = method.encoder
    assert isinstance(encoder, nn.Module)
    if data.num_classes < 2:
        found = "no labels" if data.num_classes == 0 else "one class"
        reason = f"{data.name} has {found}: label-based metrics and baselines skipped"
        log(f"{reason}; computing label-free health only")
        return {
            "eval": {"skipped": reason},
            "health": health(encoder, data.x_test, build_augment(cfg.augment), cfg.seed),
        }
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
    """Train, evaluate and write the run directory; returns the metrics written.

    Under torchrun every rank trains (`train/ddp.py`); only rank 0 writes files and
    evaluates, the other ranks return an empty dict.
    """
    device = ddp.start(resolve_device(cfg.train.device))
    try:
        return _train_run(
            cfg, out, methods, device, resume, overwrite, show_progress, log, on_epoch_end
        )
    finally:
        ddp.stop()


def _train_run(
    cfg: Config,
    out: Path,
    methods: dict[str, MethodBuilder],
    device: torch.device,
    resume: bool,
    overwrite: bool,
    show_progress: bool,
    log: Log,
    on_epoch_end: Callable[[int], None] | None,
) -> dict[str, Any]:
    writer = rank() == 0
    if writer:
        prepare_run_dir(out, overwrite=overwrite, resume=resume)
        if not resume:
            write_text_atomic(out / CONFIG, dump_config(cfg))
    batches: Batch
    views: Augment
    data: ImageSplit | None = None
    eval_data: ImageSplit | None = None
    monitor = None
    texts_per_sample = None
    text = text_training(cfg, methods) if is_text(cfg) else None
    if text is not None:
        method, batches, views, name = text.method, text.data, text.augment, text.name
        texts_per_sample = text.texts_per_sample
        if writer:
            log(f"{text.summary}; device: {device}")
    elif cfg.data.source in PAIR_SOURCES:
        pairs = load_pair_data(cfg, log)
        method = _build(cfg, methods, pair_in_channels(cfg))
        batches, views, name = training_batch(pairs, method), pair_augment(cfg), pairs.name
        if writer:
            log(f"{pairs.describe()}; device: {device}")
    elif cfg.data.source in TABLE_SOURCES:
        table = _load_table(cfg, log if writer else lambda _msg: None)
        method = _build(cfg, methods, 0, table)
        # A table's views are (numeric, codes) tuples, which the loop's `Augment` alias
        # (-> Tensor) does not spell out.
        views = build_table_augment(cfg.augment, *table.train_rows)  # type: ignore[assignment]
        batches, name = table.train_rows, table.name
    else:
        data = load_image_data(cfg.data)
        method = _build(cfg, methods, int(data.x_train.shape[1]))
        name = data.name
        if writer:
            log(
                f"data: {data.name}, {len(data.x_train)} train / {len(data.x_test)} test images "
                f"{tuple(data.x_train.shape[1:])}, {data.num_classes} classes; device: {device}"
            )
            for note in data.notes:
                log(f"note: {note}")
        eval_data = eval_split(cfg)  # a bad eval.classes fails now, not after training
        train_x, train_y = data.x_train, data.y_train
        if cfg.data.train_classes is not None:
            keep = class_mask(data.y_train, cfg.data.train_classes)
            train_x, train_y = train_x[keep], train_y[keep]
            if writer:
                log(f"pre-training on classes {cfg.data.train_classes} only: {len(train_x)} images")
        batches = train_x
        if getattr(method, "needs_labels", False):
            if bool((train_y < 0).any()):
                raise UserError(
                    f"method {cfg.method.name!r} needs a label for every training image"
                )
            batches = (train_x, train_y)
        views = build_views(cfg.augment, image_size=(data.x_train.shape[2], data.x_train.shape[3]))
        monitor = build_monitor(
            cfg.health, method, data, augment=build_augment(cfg.augment), seed=cfg.seed
        )
    result = fit(
        method,
        batches,
        augment=views,
        cfg=cfg.train,
        seed=cfg.seed,
        run_dir=out,
        device=device,
        resume=resume,
        show_progress=show_progress,
        on_epoch_end=on_epoch_end,
        monitor=monitor,
        stop_on_collapse=cfg.health.stop_on_collapse,
    )
    if not writer:
        return {}
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
    if texts_per_sample is not None:
        metrics["train_sentences_per_s"] = result.samples_per_s * texts_per_sample
    if result.collapse is not None:
        metrics["collapse"] = {"step": result.collapse.step, "symptom": result.collapse.symptom}
    metrics.update(_evaluate(cfg, method, log, out, eval_data))
    write_json_atomic(out / METRICS, metrics)
    return metrics


def load_run(run: Path, methods: dict[str, MethodBuilder]) -> tuple[Config, nn.Module]:
    """The config and trained method of a run directory (on the CPU, eval mode)."""
    if not run.is_dir():
        raise UserError(f"--run {run}: no such run directory")
    cfg = load_config(run / CONFIG)
    if is_text(cfg):
        method = build_text_method(cfg, methods)
    elif cfg.data.source in PAIR_SOURCES:
        method = _build(cfg, methods, pair_in_channels(cfg))
    elif cfg.data.source in TABLE_SOURCES:
        method = _build(cfg, methods, 0, _load_table(cfg))
    else:
        method = _build(cfg, methods, int(load_image_data(cfg.data).x_train.shape[1]))
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
    run: Path, data_name: str, out: Path, methods: dict[str, MethodBuilder], log: Log = print
) -> tuple[int, int]:
    """Embed a data set with a run's encoder and save a float32 (N, D) `.npy`.

    Image runs: 'digits', 'train' or a PATH, also saved as the run's image search index.
    Text runs: `data_name` is a file of lines, one text per line. Table runs: 'train' or
    the run's `data.source` (train rows, then test rows).
    """
    cfg, method = load_run(run, methods)
    encoder = method.encoder
    assert isinstance(encoder, nn.Module)
    if is_text(cfg):
        z = embed_text_file(cfg, method, Path(data_name))
    elif cfg.data.source in TABLE_SOURCES:
        if data_name not in (cfg.data.source, "train"):
            raise UserError(f"--data {data_name}: this run embeds its table {cfg.data.source!r}")
        table = _load_table(cfg)
        numeric = torch.cat([table.num_train, table.num_test])
        codes = torch.cat([table.cat_train, table.cat_test])
        z = embed_rows(encoder, numeric, codes)
    else:
        data = load_image_set(data_config_for(cfg, data_name))
        log(f"data: {data.name}: {data.summary()}")
        for note in data.notes:
            log(f"note: {note}")
        z = embed_image_set(encoder, data)
        build_image_index(run, encoder, data)
    array = z.numpy().astype(np.float32)
    write_atomic(out, lambda handle: np.save(handle, array))
    return int(array.shape[0]), int(array.shape[1])
