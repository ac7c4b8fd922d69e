"""The CLI end to end on a tiny digits run, and its clean errors (one line, exit code 2)."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from contrastkit.cli import main
from contrastkit.rundir import CHECKPOINT, CONFIG, LOG, METRICS

TINY = [
    "--set",
    "train.epochs=2",
    "--set",
    "model.width=4",
    "--set",
    "model.feature_dim=16",
    "--set",
    "eval.fewshot_draws=2",
    "--set",
    "eval.supervised_steps=3",
    "--no-progress",
]


def run_cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["contrastkit", *args])
    try:
        main()
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "tiny"
    mp = pytest.MonkeyPatch()
    try:
        assert (
            run_cli(mp, "train", "--config", "configs/digits_simclr.yaml", "--out", str(out), *TINY)
            == 0
        )
    finally:
        mp.undo()
    return out


@pytest.mark.slow
def test_train_writes_the_run_directory(tiny_run: Path) -> None:
    assert {p.name for p in tiny_run.iterdir()} >= {CONFIG, METRICS, LOG, CHECKPOINT}
    assert not list(tiny_run.glob(".*.tmp"))
    metrics = json.loads((tiny_run / METRICS).read_text())
    assert metrics["method"] == "simclr" and metrics["data"] == "digits"
    assert metrics["epochs"] == 2 and metrics["seed"] == 0
    for key in ("train_time_s", "samples_per_s", "peak_mem_mib"):
        assert metrics[key] > 0
    ev = metrics["eval"]
    for value in (
        ev["knn_top1"],
        ev["linear_top1"],
        ev["fewshot"]["linear_top1_mean"],
        ev["retrieval"]["recall_at_1"],
        ev["retrieval"]["map"],
        ev["nmi"],
    ):
        assert 0.0 <= value <= 1.0
    assert ev["fewshot"]["labels_per_class"] == 10
    assert set(metrics["health"]) >= {"rankme", "emb_std", "alignment", "uniformity"}
    base = metrics["baselines"]
    assert set(base) == {"raw", "random_init", "supervised_fewshot"}
    assert base["raw"]["knn_top1"] > 0.9  # raw pixels of digits are a strong kNN baseline
    assert len(base["supervised_fewshot"]["draws"]) == 2
    steps = [json.loads(line)["step"] for line in (tiny_run / LOG).read_text().splitlines()]
    assert steps == sorted(steps) and steps[-1] == 2 * 4 - 1


@pytest.mark.slow
def test_eval_and_embed(tiny_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = json.loads((tiny_run / METRICS).read_text())
    assert run_cli(monkeypatch, "eval", "--run", str(tiny_run)) == 0
    after = json.loads((tiny_run / METRICS).read_text())
    assert after["eval"]["knn_top1"] == before["eval"]["knn_top1"]
    assert after["train_time_s"] == before["train_time_s"]
    out = tmp_path / "emb.npy"
    assert run_cli(monkeypatch, "embed", "--run", str(tiny_run), "--out", str(out)) == 0
    assert np.load(out).shape == (1797, 16)


@pytest.mark.slow
def test_finished_run_is_not_overwritten(
    tiny_run: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (tiny_run / METRICS).read_bytes()
    assert run_cli(monkeypatch, "train", "--out", str(tiny_run), *TINY) == 2
    err = capsys.readouterr().err
    assert "finished run" in err and "--overwrite" in err and "Traceback" not in err
    assert (tiny_run / METRICS).read_bytes() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--config", "missing.yaml"], "config file not found: missing.yaml"),
        (["train", "--set", "train.epoch=3"], "did you mean 'train.epochs'"),
        (["train", "--set", "train.epochs=many"], "train.epochs"),
        (["eval", "--run", "{tmp}/no-run"], "no such run directory"),
        (["train", "--resume", "--out", "{tmp}/no-run"], "config file not found"),
    ],
)
def test_bad_input_is_one_clean_line(
    args: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    args = [a.format(tmp=tmp_path) for a in args]
    assert run_cli(monkeypatch, *args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert not (tmp_path / "runs").exists()  # nothing written


@pytest.mark.slow
def test_the_same_seed_gives_the_same_run(
    tiny_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Initial weights, shuffling and views all follow `seed`: a second run of the same
    config ends with the same weights and metrics, bit for bit."""
    again = tmp_path / "again"
    args = ["train", "--config", "configs/digits_simclr.yaml", "--out", str(again), *TINY]
    assert run_cli(monkeypatch, *args) == 0
    first = torch.load(tiny_run / CHECKPOINT, weights_only=False)["model"]
    second = torch.load(again / CHECKPOINT, weights_only=False)["model"]
    assert first.keys() == second.keys()
    for key in first:
        assert torch.equal(first[key], second[key]), key
    m1, m2 = (json.loads((d / METRICS).read_text()) for d in (tiny_run, again))
    assert m1["final_loss"] == m2["final_loss"] and m1["eval"] == m2["eval"]
