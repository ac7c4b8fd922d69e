"""The recipes of docs/architecture.md, proven on a copy of the package: a toy method added
as its file and one registry line, and a toy image modality with its own metrics table
added as one package and one registry line, then trained, evaluated, reported, exported
and served there through the CLI (subprocesses with PYTHONPATH on the copy)."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from tests.metrics_schema import check_metrics
from tests.modalities.toy_sources import (
    TOY_CONFIG,
    TOY_METHOD,
    TOY_METHOD_IMPORT,
    TOY_METHOD_LINE,
    TOY_MODALITY,
    TOY_MODALITY_IMPORT,
    TOY_MODALITY_LINE,
)

from contrastkit.serve.ids import item_id

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "contrastkit"


def _add_line(path: Path, import_line: str, entry: str, after: str) -> None:
    """The registry line: its import at the top, its entry after the line holding `after`."""
    lines = path.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if after in line)
    lines.insert(at + 1, entry)
    future = lines.index("from __future__ import annotations")
    lines.insert(future + 1, import_line)
    path.write_text("\n".join(lines) + "\n")


def _copy_with_additions(root: Path) -> Path:
    src = root / "src" / "contrastkit"
    shutil.copytree(PACKAGE, src, ignore=shutil.ignore_patterns("__pycache__"))
    (src / "methods" / "toy_align.py").write_text(TOY_METHOD)
    _add_line(
        src / "methods" / "registry.py",
        TOY_METHOD_IMPORT,
        TOY_METHOD_LINE,
        "MethodSpec(SimCLRConfig",
    )
    (src / "modalities" / "toy_squares").mkdir()
    (src / "modalities" / "toy_squares" / "__init__.py").write_text(TOY_MODALITY)
    _add_line(
        src / "modalities" / "registry.py",
        TOY_MODALITY_IMPORT,
        TOY_MODALITY_LINE,
        "MODALITIES: tuple",
    )
    return src


def _changes(copy: Path) -> dict[str, int]:
    """Relative path -> lines added, for every file that differs from the package; a
    removed or edited line fails."""
    changes = {}
    for path in sorted(copy.rglob("*.py")):
        rel = path.relative_to(copy)
        original = PACKAGE / rel
        new = path.read_text().splitlines()
        old = original.read_text().splitlines() if original.exists() else []
        if new != old:
            kept = [line for line in new if line not in old]
            assert len(new) - len(kept) == len(old), f"{rel}: a line was changed or removed"
            changes[str(rel)] = len(kept)
    return changes


DRIVER = """
import contextlib, io, json, sys
from contrastkit.cli import main
answers = []
for args in json.loads(sys.argv[1]):
    sys.argv, out, code = ["contrastkit", *args], io.StringIO(), 0
    with contextlib.redirect_stdout(out):
        try:
            main()
        except SystemExit as exit_:
            code = exit_.code
    answers.append({"code": code, "stdout": out.getvalue()})
print(json.dumps(answers))
"""
"""Runs CLI command lines one after another in one interpreter (one start-up, not one per
command) and prints each one's exit code and output as JSON."""


def _cli(root: Path, *commands: list[str]) -> list[str]:
    """The outputs of `contrastkit COMMAND` for each command, run on the copy in `root`;
    each must succeed."""
    env = {**os.environ, "PYTHONPATH": str(root / "src"), "OMP_NUM_THREADS": "1"}
    env["COLUMNS"] = "200"
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(commands)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answers = json.loads(done.stdout.splitlines()[-1])
    for command, answer in zip(commands, answers, strict=True):
        assert answer["code"] == 0, (command, answer["stdout"][-2000:], done.stderr[-2000:])
    return [answer["stdout"] for answer in answers]


def _one_nn_top1(vectors: np.ndarray, ids: list[str]) -> float:
    """1-NN top-1 (cosine) of the test squares against the training squares, from the
    embeddings `embed` wrote; labels from the ids (`split:index:label`)."""
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    split = np.array([i.split(":")[0] for i in ids])
    label = np.array([int(i.split(":")[2]) for i in ids])
    train, test = unit[split == "train"], unit[split == "test"]
    nearest = (test @ train.T).argmax(axis=1)
    return float((label[split == "train"][nearest] == label[split == "test"]).mean())


def _serve_and_search(root: Path, run: Path, source: str) -> None:
    """Serve the run; the thumbnail of indexed item `source`, sent back as a query image,
    finds that item first with cosine 1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = {**os.environ, "PYTHONPATH": str(root / "src"), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "contrastkit", "serve", "--run", str(run), "--port", str(port)]
    server = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                health = httpx.get(f"{base}/health", timeout=1).json()
                break
            except httpx.HTTPError:
                assert server.poll() is None and time.monotonic() < deadline, "no server"
                time.sleep(0.2)
        assert health["takes"] == ["image"] and health["items"] == 96 and health["thumbnails"]
        thumb = httpx.get(f"{base}/thumb/{item_id(source)}")
        square = np.asarray(Image.open(io.BytesIO(thumb.content)))[::12, ::12]  # 96 px -> 8
        assert square.shape == (8, 8) and (square == 255).sum() == 9  # a 3x3 square
        buffer = io.BytesIO()
        Image.fromarray(square).save(buffer, format="PNG")
        hits = httpx.post(
            f"{base}/search?k=3", content=buffer.getvalue(), headers={"Content-Type": "image/png"}
        ).json()["results"]
        assert hits[0]["score"] == pytest.approx(1.0, abs=1e-4)
        assert item_id(source) in [hit["id"] for hit in hits if hit["score"] > 1 - 1e-4]
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
def test_a_toy_method_and_modality_train_evaluate_export_and_serve(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # not tmp_path: the schema check of every run under tmp_path (conftest) knows this
    # tree's modalities; the copy's run is checked below, its own `toy` block by hand
    tmp_path = tmp_path_factory.mktemp("recipe")
    copy = _copy_with_additions(tmp_path)
    assert _changes(copy) == {
        "methods/toy_align.py": TOY_METHOD.count("\n"),
        "methods/registry.py": 2,
        "modalities/toy_squares/__init__.py": TOY_MODALITY.count("\n"),
        "modalities/registry.py": 2,
    }
    (tmp_path / "toy.yaml").write_text(TOY_CONFIG)
    listed, trained, _, evaluated, _, _ = _cli(
        tmp_path,
        ["list"],
        ["train", "--config", "toy.yaml", "--out", "run", "--no-progress"],
        ["embed", "--run", "run", "--out", "z.npy"],
        ["eval", "--run", "run"],
        ["report", "--run", "run"],
        ["export", "--run", "run"],
    )
    assert "toy_align" in listed and "toy_squares sources: toy_squares" in listed
    run = tmp_path / "run"
    metrics = json.loads((run / "metrics.json").read_text())
    check_metrics({key: value for key, value in metrics.items() if key != "toy"})
    top1 = metrics["toy"]["knn_top1"]
    assert metrics["method"] == "toy_align" and metrics["toy"]["test"] == 32
    ids = (tmp_path / "z.ids.txt").read_text().splitlines()
    assert top1 == pytest.approx(_one_nn_top1(np.load(tmp_path / "z.npy"), ids), abs=1e-9)
    for output in (trained, evaluated):  # the modality's own table, with its number
        assert "1-NN top-1 (%)" in output and f"{100 * top1:.1f}" in output
    page = (run / "report.html").read_text()
    assert "<h2>Toy squares</h2>" in page and f"{100 * top1:.1f}" in page
    manifest = json.loads((run / "export" / "export.json").read_text())
    assert manifest["towers"][0]["parity_max_abs_diff"] <= 1e-4
    assert manifest["note"] == "toy squares: no int8 task"
    _serve_and_search(tmp_path, run, ids[0])
