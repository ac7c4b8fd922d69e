"""What `contrastkit train` and `eval` do, as functions over a run directory (the commands
that use a trained run are in `use.py`).

The modality is resolved once from the config (`modalities/registry.py`); everything below
goes through its contract (`modalities/base.py`), whatever the data.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from contrastkit.atomic import read_json, write_json_atomic, write_text_atomic
from contrastkit.builders import build_method
from contrastkit.config import (
    Config,
    dump_config,
    eval_budget_s,
    fit_defaults,
    fit_to_data,
    load_config,
    settings_of,
    updated,
    with_eval_overrides,
)
from contrastkit.distributed import rank
from contrastkit.errors import TrainingDiverged, UserError
from contrastkit.methods.registry import method_spec
from contrastkit.modalities.base import Log, Modality, Training
from contrastkit.modalities.registry import modality_for, source_of
from contrastkit.rundir import (
    CHECKPOINT,
    CONFIG,
    METRICS,
    absolute_data_path,
    check_new_run_dir,
    data_fingerprint,
    lock_run_dir,
    prepare_run_dir,
    refuse_while_training,
    replace_run,
)
from contrastkit.train import ddp
from contrastkit.train.checkpoint import checkpoint_state, load_checkpoint
from contrastkit.train.device import device_line, resolve_device
from contrastkit.train.health import build_monitor
from contrastkit.train.loop import fit


def resolve(cfg: Config) -> Modality:
    """The run's modality, checked against its method (the one place both are known)."""
    modality = modality_for(settings_of(cfg))
    modality.check(method_spec(cfg.method.name))
    return modality


@dataclass(frozen=True)
class Settled:
    """A run resolved once, before anything is built.

    Attributes:
        cfg: The config the run trains with: the user's values, then the choices made for
            the data (what `config.yaml` holds).
        modality: The modality, reading `cfg`'s sections.
        training: What the loop trains on.
        choices: One line per setting chosen for the data.
    """

    cfg: Config
    modality: Modality
    training: Training
    choices: list[str]


def settle(cfg: Config, log: Log, *, resume: bool = False) -> Settled:
    """Resolve a run's config once, before anything is built: the data path made absolute
    (a run reads the same data from any folder) and the source of `train --data PATH` (what
    the file or folder holds), the defaults the modality chooses from the data (its recipe
    when the config names no method), the training data read, the batch size and warm-up
    for its size; each choice is logged. A resumed run's saved config is settled already.
    """
    choices: list[str] = []
    if not resume:
        cfg, choices = _with_source(updated(cfg, "data", path=absolute_data_path(cfg.data.path)))
    modality = modality_for(settings_of(cfg))
    if not resume:
        cfg, fitted = fit_defaults(cfg, modality.fitted_defaults())
        choices += fitted
        if fitted:  # the views, the encoder and the data read come from the fitted sections
            modality = modality.with_settings(settings_of(cfg))
    spec = method_spec(cfg.method.name)
    modality.check(spec)
    for line in choices:
        log(line)
    training = modality.training(spec, log)
    for line in training.lines:
        log(line)
    if not resume:  # the modality does not read the train section
        cfg, sized = fit_to_data(cfg, len(training.items))  # type: ignore[arg-type]
        for line in sized:
            log(line)
        choices += sized
    return Settled(cfg, modality, training, choices)


def _with_source(cfg: Config) -> tuple[Config, list[str]]:
    """`cfg` with the source `data.source: auto` finds at `data.path` (a line says it)."""
    path = cfg.data.path
    if cfg.data.source != "auto" or path is None:
        return cfg, []
    source = source_of(path)
    if source == cfg.data.source:
        return cfg, []
    cfg = updated(cfg, "data", source=source)
    kind = modality_for(settings_of(cfg)).name
    return cfg, [f"chose data.source={source} for {Path(path).name} ({kind})"]


def train_run(
    cfg: Config,
    out: Path,
    *,
    resume: bool = False,
    overwrite: bool = False,
    show_progress: bool = True,
    log: Log = print,
    on_epoch_end: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Settle the config, train, evaluate and write the run directory; returns the metrics
    written.

    Under torchrun every rank trains (`train/ddp.py`); only rank 0 writes files and
    evaluates, the other ranks return an empty dict.
    """
    device = ddp.start(resolve_device(cfg.train.device))
    try:
        return _train_run(cfg, out, device, resume, overwrite, show_progress, log, on_epoch_end)
    finally:
        ddp.stop()


def _train_run(
    cfg: Config,
    out: Path,
    device: torch.device,
    resume: bool,
    overwrite: bool,
    show_progress: bool,
    log: Log,
    on_epoch_end: Callable[[int], None] | None,
) -> dict[str, Any]:
    writer = rank() == 0
    run = settle(cfg, log if writer else _quiet, resume=resume)  # bad data: nothing written
    with ExitStack() as stack:
        replacement = None
        if writer:
            check_new_run_dir(out)
            stack.enter_context(lock_run_dir(out))
            prepare_run_dir(out, overwrite=overwrite, resume=resume)
            replacement = stack.enter_context(replace_run(out, enabled=overwrite))
            if not resume:
                write_text_atomic(out / CONFIG, dump_config(run.cfg))
            log(device_line(device, amp=run.cfg.train.amp))

        def epoch_done(epoch: int) -> None:
            if replacement is not None:
                replacement.commit()  # the new run has its first checkpoint: drop the old one
            if on_epoch_end is not None:
                on_epoch_end(epoch)

        try:
            return _train(run, out, device, resume, show_progress, log, epoch_done)
        except TrainingDiverged as err:  # stopped cleanly: say what the run still holds
            raise TrainingDiverged(f"{err}; {checkpoint_state(out / CHECKPOINT)}") from None


def _train(
    run: Settled,
    out: Path,
    device: torch.device,
    resume: bool,
    show_progress: bool,
    log: Log,
    on_epoch_end: Callable[[int], None],
) -> dict[str, Any]:
    cfg, modality, training = run.cfg, run.modality, run.training
    torch.manual_seed(cfg.seed)  # the initial weights: the same seed gives the same run
    method = build_method(cfg, modality.new_encoder)

    monitor = (
        None
        if training.probe is None
        else build_monitor(
            cfg.health, method, training.probe.split, augment=training.probe.augment, seed=cfg.seed
        )
    )
    result = fit(
        method,
        training.items,
        collate=training.collate,
        augment=training.views,
        cfg=cfg.train,
        seed=cfg.seed,
        run_dir=out,
        device=device,
        resume=resume,
        show_progress=show_progress,
        on_epoch_end=on_epoch_end,
        monitor=monitor,
        stop_on_collapse=cfg.health.stop_on_collapse,
        log=log,
    )
    if rank() != 0:
        return {}
    metrics: dict[str, Any] = {
        "method": cfg.method.name,
        "data": training.name,
        "epochs": cfg.train.epochs,
        "seed": cfg.seed,
        **_data_fingerprint(cfg),
        "train_time_s": result.train_time_s,
        "samples_per_s": result.samples_per_s,
        "data_wait_s": result.data_wait_s,
        "peak_mem_mib": result.peak_mem_mib,
        "final_loss": result.final_loss,
        "skipped_steps": result.skipped_steps,
    }
    for key, per_sample in training.per_sample.items():
        metrics[key] = result.samples_per_s * per_sample
    if result.collapse is not None:
        metrics["collapse"] = {"step": result.collapse.step, "symptom": result.collapse.symptom}
    budget_s = eval_budget_s(cfg, result.train_time_s)
    metrics.update(modality.evaluate(method, out, log, budget_s=budget_s))
    write_json_atomic(out / METRICS, metrics)
    return metrics


def _data_fingerprint(cfg: Config) -> dict[str, str]:
    """`data_fingerprint` of the run's files (none for bundled data): `eval` says when the
    data changed since training."""
    path = cfg.data.path
    return (
        {}
        if path is None or not Path(path).exists()
        else {"data_fingerprint": data_fingerprint(path)}
    )


def _quiet(_message: str) -> None:
    """The log of the ranks that do not write."""


def load_run(run: Path) -> tuple[Config, Modality, nn.Module]:
    """The config, modality and trained method of a run directory (on the CPU, eval mode)."""
    if not run.is_dir():
        raise UserError(f"--run {run}: no such run directory")
    refuse_while_training(run)
    cfg = load_config(run / CONFIG)
    modality = resolve(cfg)
    method = build_method(cfg, modality.new_encoder)
    try:
        method.load_state_dict(load_checkpoint(run / CHECKPOINT)["model"])
    except RuntimeError as err:  # sized from data that changed (e.g. users added to a CSV)
        first = next((line.strip() for line in str(err).splitlines()[1:] if line.strip()), "")
        raise UserError(
            f"{run / CHECKPOINT}: the trained model does not fit the model built from the "
            f"run's data now ({first[:160]}); did {cfg.data.path or cfg.data.source} change "
            "since training?"
        ) from None
    return cfg, modality, method.eval()


def eval_device(name: str, log: Log) -> torch.device:
    """The run's training device when this machine has it, else the CPU (with a note)."""
    try:
        return resolve_device(name)
    except UserError:
        log(f"note: train.device={name} is not available here; evaluating on the CPU")
        return torch.device("cpu")


def eval_run(run: Path, log: Log = print, overrides: list[str] | None = None) -> dict[str, Any]:
    """Re-evaluate a run on its training device (`train.device`) and update its
    `metrics.json` (training statistics are kept); `overrides` are `eval.KEY=VALUE`
    settings for this evaluation (`--set`)."""
    cfg, modality, method = load_run(run)
    method = method.to(eval_device(cfg.train.device, log))
    if overrides:
        cfg = with_eval_overrides(cfg, overrides, str(run / CONFIG))
        modality = resolve(cfg)
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
    trained_on = metrics.get("data_fingerprint")
    now = _data_fingerprint(cfg).get("data_fingerprint")
    if trained_on is not None and now != trained_on:
        log(f"note: {cfg.data.path} changed since the run was trained (data fingerprint)")
    budget_s = eval_budget_s(cfg, metrics.get("train_time_s"))
    metrics.update(modality.evaluate(method, run, log, budget_s=budget_s))
    write_json_atomic(metrics_path, metrics)
    return metrics
