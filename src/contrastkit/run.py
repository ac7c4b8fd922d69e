"""What `contrastkit train`, `eval` and `embed` do, as functions over a run directory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from contrastkit.atomic import read_json, write_atomic, write_json_atomic, write_text_atomic
from contrastkit.augment.build import build_augment, build_views
from contrastkit.builders import Log, MethodBuilder, build_method
from contrastkit.config import Config, dump_config, load_config
from contrastkit.data.folder_items import FolderItems, stack_images, stack_labelled
from contrastkit.data.items import TensorItems
from contrastkit.data.load import lazy_train_items, load_image_data, load_image_set
from contrastkit.data.split import ImageSplit
from contrastkit.distributed import rank
from contrastkit.encoders.build import build_encoder
from contrastkit.errors import UserError
from contrastkit.eval.suite import evaluate, health
from contrastkit.eval.transfer import class_mask, select_classes
from contrastkit.index.image_search import build_image_index, data_config_for, embed_image_set
from contrastkit.run_pairs import (
    PAIR_SOURCES,
    captions_digits_config,
    check_pairing,
    evaluate_pairs,
    load_pair_data,
    pair_augment,
    pair_in_channels,
    training_batch,
)
from contrastkit.run_tables import (
    build_table_method,
    embed_table,
    evaluate_table_run,
    is_table,
    table_training,
)
from contrastkit.run_text import (
    build_text_method,
    embed_text_file,
    evaluate_text,
    is_text,
    text_training,
)
from contrastkit.rundir import CHECKPOINT, CONFIG, METRICS, prepare_run_dir
from contrastkit.train import ddp
from contrastkit.train.checkpoint import load_checkpoint
from contrastkit.train.device import resolve_device
from contrastkit.train.health import HealthMonitor, build_monitor
from contrastkit.train.loop import Augment, Batch, fit


def _build(cfg: Config, methods: dict[str, MethodBuilder], in_channels: int) -> nn.Module:
    check_pairing(cfg)
    return build_method(cfg, methods, lambda: build_encoder(cfg.model, in_channels))


def eval_split(cfg: Config, data: ImageSplit | None = None) -> ImageSplit:
    """The split evaluation uses: all classes, or only `eval.classes` (relabelled).

    Args:
        data: `cfg.data` already loaded (loaded here when None).
    """
    if data is None:
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
    if is_table(cfg):
        return evaluate_table_run(cfg, method, log)
    if cfg.data.source not in PAIR_SOURCES:
        return _evaluate_images(cfg, method, log, data)
    result: dict[str, Any] = {}
    if cfg.data.source == "digits_captions":
        result.update(_evaluate_images(captions_digits_config(cfg), method, log))
    result["crossmodal"] = evaluate_pairs(cfg, method, run_dir, log)
    return result


def _evaluate_images(
    cfg: Config, method: nn.Module, log: Log, data: ImageSplit | None = None
) -> dict[str, Any]:
    if data is None:
        data = eval_split(cfg)
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


@dataclass(frozen=True)
class _Training:
    """What the loop trains on, whatever the modality, and what evaluation reuses."""

    method: nn.Module
    batches: Batch | FolderItems  # in memory, or an image folder's files read lazily
    views: Augment
    name: str
    eval_data: ImageSplit | None = None  # images: the evaluation split, loaded once
    monitor: HealthMonitor | None = None
    per_sample: dict[str, int] = field(default_factory=dict)  # metric -> items per sample
    collate: Callable[[Any], Any] | None = None  # how the loader batches lazy items


def _image_training(
    cfg: Config, methods: dict[str, MethodBuilder], device: torch.device
) -> tuple[_Training, list[str]]:
    """Images: the training split (only `data.train_classes` when set; with labels for a
    method that needs them), the view augment, the health monitor, and the lines to log."""
    data = load_image_data(cfg.data)
    method = _build(cfg, methods, int(data.x_train.shape[1]))
    lines = [
        f"data: {data.name}, {len(data.x_train)} train / {len(data.x_test)} test images "
        f"{tuple(data.x_train.shape[1:])}, "
        f"{f'{data.num_classes} classes' if data.num_classes else 'no labels'}; device: {device}",
        *(f"note: {note}" for note in data.notes),
    ]
    eval_data = eval_split(cfg, data)  # a bad eval.classes fails now, not after training
    train_x, train_y = data.x_train, data.y_train
    lazy = lazy_train_items(cfg.data)  # a folder without data.cache: decoded by the loader
    if cfg.data.train_classes is not None:
        keep = class_mask(data.y_train, cfg.data.train_classes)
        train_x, train_y = train_x[keep], train_y[keep]
        lazy = lazy.subset(keep.nonzero().flatten()) if lazy is not None else None
        lines.append(
            f"pre-training on classes {cfg.data.train_classes} only: {len(train_x)} images"
        )
    needs_labels = getattr(method, "needs_labels", False)
    if needs_labels and bool((train_y < 0).any()):
        raise UserError(f"method {cfg.method.name!r} needs a label for every training image")
    batches: Batch | FolderItems = (train_x, train_y) if needs_labels else train_x
    collate = None
    if lazy is not None:
        if not torch.equal(lazy.labels, train_y) or lazy.shape != tuple(train_x.shape[1:]):
            raise UserError(
                f"{cfg.data.path}: reading the files' headers and decoding them disagree (a "
                "file changed while read, or a corrupt file whose header reads); remove it, "
                "or set data.cache=true to decode the folder up front"
            )
        batches, collate = lazy, stack_labelled if needs_labels else stack_images
        lines.append(f"training images are decoded from {cfg.data.path} as they are read")
    views = build_views(cfg.augment, image_size=(data.x_train.shape[2], data.x_train.shape[3]))
    monitor = build_monitor(
        cfg.health, method, data, augment=build_augment(cfg.augment), seed=cfg.seed
    )
    training = _Training(method, batches, views, data.name, eval_data, monitor, collate=collate)
    return training, lines


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
    torch.manual_seed(cfg.seed)  # the initial weights: the same seed gives the same run
    if writer:
        prepare_run_dir(out, overwrite=overwrite, resume=resume)
        if not resume:
            write_text_atomic(out / CONFIG, dump_config(cfg))
    if is_text(cfg):
        text = text_training(cfg, methods)
        speed = {"train_sentences_per_s": text.texts_per_sample}
        training = _Training(text.method, text.data, text.augment, text.name, per_sample=speed)
        lines = [f"{text.summary}; device: {device}"]
    elif is_table(cfg):
        table = table_training(cfg, methods, log if writer else lambda _msg: None)
        # A table's views are (numeric, codes) tuples, which the loop's `Augment` alias
        # (-> Tensor) does not spell out.
        views: Augment = table.augment  # type: ignore[assignment]
        training = _Training(table.method, table.rows, views, table.name)
        lines = []
    elif cfg.data.source in PAIR_SOURCES:
        pairs = load_pair_data(cfg, log)
        method = _build(cfg, methods, pair_in_channels(cfg))
        training = _Training(method, training_batch(pairs, method), pair_augment(cfg), pairs.name)
        lines = [f"{pairs.describe()}; device: {device}"]
    else:
        training, lines = _image_training(cfg, methods, device)
    if writer:
        for line in lines:
            log(line)
    method = training.method
    batches = training.batches
    result = fit(
        method,
        batches if isinstance(batches, FolderItems) else TensorItems(batches),
        collate=training.collate,
        augment=training.views,
        cfg=cfg.train,
        seed=cfg.seed,
        run_dir=out,
        device=device,
        resume=resume,
        show_progress=show_progress,
        on_epoch_end=on_epoch_end,
        monitor=training.monitor,
        stop_on_collapse=cfg.health.stop_on_collapse,
    )
    if not writer:
        return {}
    metrics: dict[str, Any] = {
        "method": cfg.method.name,
        "data": training.name,
        "epochs": cfg.train.epochs,
        "seed": cfg.seed,
        "train_time_s": result.train_time_s,
        "samples_per_s": result.samples_per_s,
        "peak_mem_mib": result.peak_mem_mib,
        "final_loss": result.final_loss,
        "skipped_steps": result.skipped_steps,
    }
    for key, per_sample in training.per_sample.items():
        metrics[key] = result.samples_per_s * per_sample
    if result.collapse is not None:
        metrics["collapse"] = {"step": result.collapse.step, "symptom": result.collapse.symptom}
    metrics.update(_evaluate(cfg, method, log, out, training.eval_data))
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
    elif is_table(cfg):
        method = build_table_method(cfg, methods)
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
    images = None  # an image set also becomes the run's search index
    if is_text(cfg):
        z = embed_text_file(cfg, method, Path(data_name))
    elif is_table(cfg):
        z = embed_table(cfg, encoder, data_name)
    else:
        images = load_image_set(data_config_for(cfg, data_name))
        log(f"data: {images.name}: {images.summary()}")
        for note in images.notes:
            log(f"note: {note}")
        z = embed_image_set(encoder, images)
    array = z.numpy().astype(np.float32)
    write_atomic(out, lambda handle: np.save(handle, array))
    if images is not None:
        build_image_index(run, encoder, images)
        log(f"saved the search index in {run}/ (contrastkit search)")
    return int(array.shape[0]), int(array.shape[1])
