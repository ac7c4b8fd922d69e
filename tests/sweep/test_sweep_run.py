"""Real sweeps on the bundled digits: the files they write, a failing point, and a sweep
killed mid-point that continues to the same results as one never stopped."""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from contrastkit.cli import main
from contrastkit.config import load_config
from contrastkit.train.checkpoint import load_checkpoint

SWEEP = [
    "sweep",
    "--config", "configs/digits_simclr.yaml",
    "--grid", "method.temperature=[0.2,0.5]",
    "--subset", "300",
    "--epochs", "4",
    "--set", "model.width=4",
    "--set", "model.feature_dim=16",
    "--set", "eval.fewshot_draws=2",
    "--set", "train.batch_size=64",
]  # fmt: skip
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
SCORES = ("knn_top1", "linear_top1")


def run_cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["contrastkit", *args])
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    try:
        main()
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def metrics(out: Path, point: str) -> dict[str, Any]:
    return json.loads((out / "points" / point / "metrics.json").read_text())


def starts(out: Path, point: str) -> list[str]:
    """The command lines a point's log shows, one per process started for it."""
    return [
        line
        for line in (out / "logs" / f"{point}.txt").read_text().splitlines()
        if line.startswith("--- ")
    ]


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sweep run once, two points at a time, never stopped."""
    out = tmp_path_factory.mktemp("sweeps") / "whole"
    mp = pytest.MonkeyPatch()
    try:
        assert run_cli(mp, *SWEEP, "--parallel", "2", "--out", str(out)) == 0
    finally:
        mp.undo()
    return out


@pytest.mark.slow
def test_sweep_json_holds_each_runs_own_scores(whole: Path) -> None:
    data = json.loads((whole / "sweep.json").read_text())
    assert [p["status"] for p in data["points"]] == ["done", "done"]
    for point in data["points"]:
        own = metrics(whole, point["id"])
        assert point["knn"] == own["eval"]["knn_top1"]
        assert point["linear"] == own["eval"]["linear_top1"]
        assert point["fewshot"] == own["eval"]["fewshot"]["linear_top1_mean"]
        assert point["train_time_s"] == own["train_time_s"] > 0
        assert own["data"] == "digits-300" and own["epochs"] == 4
        assert "baselines" not in own
        ran = load_config(whole / "points" / point["id"] / "config.yaml")
        assert ran.method.temperature == point["settings"]["method.temperature"]  # type: ignore[attr-defined]
        assert ran.model.width == 4 and ran.data.source == "arrays"
    best = max(data["points"], key=lambda p: p["knn"])
    assert data["best"]["id"] == best["id"]
    full = load_config(whole / "best.yaml")
    assert full.data.source == "digits" and full.train.epochs == 200 and full.model.width == 4
    assert full.method.temperature == best["settings"]["method.temperature"]  # type: ignore[attr-defined]
    log = (whole / "logs" / "p000.txt").read_text()  # plain progress lines, as off a terminal
    assert re.search(r"^epoch 4/4  step \d+/\d+  loss .* ETA", log, flags=re.MULTILINE)
    page = (whole / "sweep.html").read_text()
    assert f'<tr data-point="{best["id"]}" class="best">' in page
    assert 'http-equiv="refresh"' not in page  # nothing left to run


@pytest.mark.slow
def test_a_killed_sweep_continues_to_the_same_results(whole: Path, tmp_path: Path) -> None:
    out = tmp_path / "killed"
    sweep = subprocess.Popen(
        [sys.executable, "-m", "contrastkit", *SWEEP, "--out", str(out)],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    checkpoint = out / "points" / "p001" / "checkpoint.pt"
    deadline = time.monotonic() + 300
    while not checkpoint.is_file():  # p000 is done, p001 has trained an epoch or more
        assert sweep.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    sweep.kill()
    sweep.wait()
    lock = os.open(out / "points" / "p001" / ".lock", os.O_RDWR)
    fcntl.flock(lock, fcntl.LOCK_EX)  # waits until the orphaned point has exited too
    os.close(lock)
    assert not (out / "points" / "p001" / "metrics.json").is_file()
    assert load_checkpoint(checkpoint)["epoch"] < 4  # killed mid-training
    kept = (out / "points" / "p000" / "metrics.json").stat().st_mtime_ns

    mp = pytest.MonkeyPatch()
    try:
        assert run_cli(mp, *SWEEP, "--out", str(out)) == 0
    finally:
        mp.undo()
    assert (out / "points" / "p000" / "metrics.json").stat().st_mtime_ns == kept
    assert len(starts(out, "p000")) == 1  # finished: not run again
    assert [line.endswith("--resume") for line in starts(out, "p001")] == [False, True]
    for point in ("p000", "p001"):
        again, once = metrics(out, point), metrics(whole, point)
        assert again["final_loss"] == once["final_loss"]
        for key in SCORES:
            assert again["eval"][key] == once["eval"][key]
        assert again["eval"]["fewshot"] == once["eval"]["fewshot"]
    data = json.loads((out / "sweep.json").read_text())
    assert [p["status"] for p in data["points"]] == ["done", "done"]


@pytest.mark.slow
def test_a_failing_point_is_reported_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "failing"
    args = ["sweep", "--config", "configs/digits_simclr.yaml", "--epochs", "1",
            "--grid", "data.source=[arrays]", "--out", str(out)]  # fmt: skip
    assert run_cli(monkeypatch, *args) == 0
    [point] = json.loads((out / "sweep.json").read_text())["points"]
    assert point["status"] == "failed"
    assert point["error"] == "data.source=arrays needs data.path (or --data PATH)"
    assert run_cli(monkeypatch, *args) == 0  # kept as failed: not run again
    assert len(starts(out, "p000")) == 1
    assert not (out / "best.yaml").exists()
    assert yaml.safe_load((out / "configs" / "p000.yaml").read_text())["data"]["source"] == "arrays"


def test_bad_input_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sweep"
    for grid in ("augment.crop_scal=[[0.2,1]]", "method.temperature=[0.1,abc]"):
        code = run_cli(monkeypatch, "sweep", "--config", "configs/digits_simclr.yaml",
                       "--grid", grid, "--out", str(out))  # fmt: skip
        assert code == 2
        err = capsys.readouterr().err
        assert err.startswith("error: --grid ") and err.count("\n") == 1
    assert run_cli(monkeypatch, "sweep", "--out", str(out)) == 2
    assert "empty grid" in capsys.readouterr().err
    code = run_cli(monkeypatch, "sweep", "--grid", "seed=[0]", "--metric", "acc", "--out", str(out))
    assert code == 2 and "--metric 'acc': expected knn, linear" in capsys.readouterr().err
    assert not out.exists()
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    code = run_cli(monkeypatch, "sweep", "--grid", "seed=[0]", "--out", str(out))
    assert code == 2 and "not a sweep of contrastkit" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
