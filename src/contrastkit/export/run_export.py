"""`contrastkit export`: a run's encoder (both towers of a two-tower run) as ONNX, with
its preprocessing, parity-checked on a batch of the run's data by the command itself.

    <out>/                        default <run>/export/
      export.json                 what was written: towers, parity, int8 cost
      model.onnx, preprocess.json [tokenizer/]            one-tower runs
      inputs/, texts/             one such folder per tower (two-tower runs)
      sentence-transformers/      text runs: `SentenceTransformer(path)` loads it
      model.int8.onnx             with --quantize int8 (in every tower folder)

The folder appears whole or not at all: it is written under a hidden name beside `out`
and renamed into place. `overwrite` replaces only an earlier export (its `export.json`);
a run, a folder holding a run or the current folder, or any other folder is refused.

The int8 cost is measured on the modality's quality task (`QualityTask`): kNN top-1 of
test items against labelled training items, or Recall@1 of a retrieval task, with the
float and the int8 models (cosine similarity, top-1 of each query).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from contrastkit.atomic import cannot_write, writable_folder, write_json_atomic
from contrastkit.destinations import check_folder_output
from contrastkit.errors import UserError
from contrastkit.export.bundle import MODEL_FILE, TOKENIZER_DIR, export_encoder
from contrastkit.export.onnx import OnnxEncoder
from contrastkit.export.quantize import quantization_agreement, quantize_int8
from contrastkit.export.sentence_transformers import write_sentence_transformer
from contrastkit.modalities.base import ExportSpec, ExportTower, Log, QualityTask
from contrastkit.temporaries import make_temp_dir, replace_folder

FORMATS = ("onnx",)
QUANTIZE = ("int8",)
INT8_FILE = "model.int8.onnx"
MANIFEST = "export.json"
ST_DIR = "sentence-transformers"
EXPORT_DIR = "export"


@dataclass(frozen=True)
class TowerReport:
    """One exported model: where, and how close to PyTorch."""

    folder: str
    max_abs_diff: float
    batch_sizes: tuple[int, ...]
    input_names: tuple[str, ...]
    int8_mean_cosine: float | None = None


@dataclass(frozen=True)
class ExportReport:
    """What `export_run` wrote and measured.

    Attributes:
        out: The export folder.
        towers: One report per model.
        quality: metric name -> {"float": value, "int8": value} (with --quantize int8).
        note: Why no int8 cost was measured, if none was.
    """

    out: Path
    towers: list[TowerReport]
    quality: dict[str, dict[str, float]] = field(default_factory=dict)
    note: str = ""


def top1(queries: np.ndarray, candidates: np.ndarray, relevant: np.ndarray) -> float:
    """Mean over queries of `relevant[i, argmax_j cos(q_i, c_j)]`.

    Shape:
        queries (Q, D), candidates (C, D), relevant (Q, C) bool -> a float in [0, 1].
    """
    q = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
    c = candidates / np.maximum(np.linalg.norm(candidates, axis=1, keepdims=True), 1e-12)
    best = (q @ c.T).argmax(axis=1)  # (Q,)
    return float(relevant[np.arange(len(best)), best].mean())


def quality_of(task: QualityTask, models: dict[str, Path]) -> float:
    """The task's top-1 with the given model file per tower folder."""
    q = OnnxEncoder(models[task.query_tower])(*task.queries, batch_size=256)
    c = OnnxEncoder(models[task.candidate_tower])(*task.candidates, batch_size=256)
    return top1(q, c, task.relevant)


def _write_tower(tower: ExportTower, folder: Path, log: Log) -> TowerReport:
    folder.mkdir(parents=True, exist_ok=True)
    if tower.tokenizer is not None:
        tower.tokenizer.save_pretrained(folder / TOKENIZER_DIR)
    done = export_encoder(
        tower.module,
        tower.example_inputs,
        folder,
        input_names=tower.input_names,
        preprocess=tower.preprocess,
        dynamic_axes=tower.dynamic_axes,
    )
    name = tower.folder or "model"
    sizes = ", ".join(str(b) for b in done.batch_sizes)
    log(
        f"{name}: {done.onnx_path.name} parity max |ONNX - PyTorch| = {done.max_abs_diff:.2e} "
        f"(batches of {sizes} of the run's data; tolerance 1e-4)"
    )
    return TowerReport(
        folder=tower.folder,
        max_abs_diff=done.max_abs_diff,
        batch_sizes=done.batch_sizes,
        input_names=tower.input_names,
    )


def _quantize(
    spec: ExportSpec, staging: Path, reports: list[TowerReport], log: Log
) -> tuple[list[TowerReport], dict[str, dict[str, float]]]:
    float_models: dict[str, Path] = {}
    int8_models: dict[str, Path] = {}
    new_reports = []
    for tower, report in zip(spec.towers, reports, strict=True):
        folder = staging / tower.folder
        float_models[tower.folder] = folder / MODEL_FILE
        int8_models[tower.folder] = quantize_int8(folder / MODEL_FILE, folder / INT8_FILE)
        os.chmod(int8_models[tower.folder], 0o644)  # written through mkstemp (private)
        agree = quantization_agreement(
            float_models[tower.folder], int8_models[tower.folder], tower.example_inputs
        )
        log(
            f"{tower.folder or 'model'}: int8 {INT8_FILE}, mean cosine to float "
            f"{agree.mean_cosine:.4f} (min {agree.min_cosine:.4f})"
        )
        new_reports.append(TowerReport(**{**asdict(report), "int8_mean_cosine": agree.mean_cosine}))
    quality: dict[str, dict[str, float]] = {}
    if spec.quality is not None:
        task = spec.quality
        before, after = quality_of(task, float_models), quality_of(task, int8_models)
        quality[task.metric] = {"float": before, "int8": after}
        log(
            f"int8 accuracy cost: {task.metric} {before:.4f} (float) -> {after:.4f} (int8), "
            f"{after - before:+.4f} on {len(task.relevant)} queries"
        )
    else:
        log(f"int8 accuracy cost not measured: {spec.note}")
    return new_reports, quality


def export_run(
    run: Path,
    *,
    fmt: str = "onnx",
    out: Path | None = None,
    quantize: str | None = None,
    overwrite: bool = False,
    log: Log = print,
) -> ExportReport:
    """Export a run's encoder(s); see the module docstring for the layout.

    Args:
        run: A run directory written by `contrastkit train`.
        fmt: 'onnx' (the only format).
        out: The export folder (default `<run>/export`).
        quantize: None, or 'int8' to also write and measure an int8 model.
        overwrite: Replace an existing export folder.
        log: Where the progress and the measured figures go.

    Raises:
        UserError: an unknown format or quantisation, an `out` that must not be replaced
            (`destinations.check_folder_output`: a run, a folder holding one, one the
            export did not write, an existing export without `overwrite`), a folder that
            cannot be written, or a parity check above 1e-4.
    """
    from contrastkit.run import load_run

    if fmt not in FORMATS:
        raise UserError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if quantize is not None and quantize not in QUANTIZE:
        raise UserError(f"--quantize {quantize!r}: expected one of {', '.join(QUANTIZE)}")
    out = Path(out) if out is not None else run / EXPORT_DIR
    check_folder_output(out, run=run, overwrite=overwrite, is_own=is_export, what=EXPORT_DIR)
    _, modality, method = load_run(run)
    spec = modality.export_spec(method)
    target = Path(os.path.abspath(out))  # its parent is a real folder (`--out ..` has none)
    staging = make_temp_dir(writable_folder(target.parent, shown=f"--out {out}"), target.name)
    try:
        report = _write_export(spec, staging, out, run, quantize, log)
        os.chmod(staging, 0o755)
        replace_folder(staging, target)
    except OSError as err:
        kept = f"{out} is unchanged" if target.exists() else ""
        raise cannot_write(out, err, kept=kept) from None
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return report


def _write_export(
    spec: ExportSpec, staging: Path, out: Path, run: Path, quantize: str | None, log: Log
) -> ExportReport:
    """Every file of the export into `staging`; the report names `out`."""
    reports = [_write_tower(t, staging / t.folder, log) for t in spec.towers]
    for tower in spec.towers:
        if tower.sentence_transformer is not None:
            st = tower.sentence_transformer
            write_sentence_transformer(
                st.encoder, tower.tokenizer, staging / ST_DIR, max_length=st.max_length
            )
            log(f"{ST_DIR}/: a folder SentenceTransformer(path) loads")
    quality: dict[str, dict[str, float]] = {}
    if quantize == "int8":
        reports, quality = _quantize(spec, staging, reports, log)
    report = ExportReport(out=out, towers=reports, quality=quality, note=spec.note)
    write_json_atomic(staging / MANIFEST, manifest(report, run, quantize))
    return report


def is_export(folder: Path) -> bool:
    """Whether `folder` was written by `contrastkit export`: it holds an `export.json`
    with the manifest's own keys."""
    try:
        record = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and {"format", "run", "towers"} <= record.keys()


def manifest(report: ExportReport, run: Path, quantize: str | None) -> dict[str, Any]:
    """The `export.json` record."""
    return {
        "format": 1,
        "run": str(run.resolve()),
        "towers": [
            {
                "folder": t.folder,
                "model": str(Path(t.folder) / MODEL_FILE) if t.folder else MODEL_FILE,
                "inputs": list(t.input_names),
                "parity_max_abs_diff": t.max_abs_diff,
                "parity_batch_sizes": list(t.batch_sizes),
                "int8_mean_cosine": t.int8_mean_cosine,
            }
            for t in report.towers
        ],
        "quantize": quantize,
        "int8_quality": report.quality,
        "note": report.note,
    }
