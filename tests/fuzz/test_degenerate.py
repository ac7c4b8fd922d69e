"""Data that trains but leaves something unmeasurable, and a run that blows up.

Evaluation skips what it cannot measure, with a note in the table, and never fails once
training has finished; a config that names a class the data lacks is refused before
training; a diverging run stops with one line and keeps its last good checkpoint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.fuzz.corpus import CONFIGS, TINY
from tests.fuzz.harness import expect_none, findings, run_cli

from contrastkit.atomic import read_json
from contrastkit.train.checkpoint import first_non_finite, load_checkpoint


def _npz(path: Path, train: int, test: int, classes: int, *, seed: int = 0) -> Path:
    """A given split of random 8x8 images, labels i % classes in each split."""
    rng = np.random.default_rng(seed)
    np.savez(
        path,
        x_train=rng.integers(0, 255, (train, 8, 8), dtype=np.uint8),
        y_train=np.arange(train) % classes,
        x_test=rng.integers(0, 255, (test, 8, 8), dtype=np.uint8),
        y_test=np.arange(test) % classes,
    )
    return path


def _finished(args: list[str], root: Path, *said: str) -> dict[str, object]:
    """Train; the run must finish (exit 0), say `said`, and write its metrics."""
    run = root / "run"
    outcome = run_cli(["train", "--out", str(run), *args, *TINY], cwd=root)
    expect_none(findings(outcome, code=0))
    shown = outcome.stdout + outcome.stderr
    assert all(w in shown for w in said), shown
    return dict(read_json(run / "metrics.json"))


def test_a_class_of_one_image(tmp_path: Path) -> None:
    """Class 1 has one image, in the training split: the test split holds class 0 only, so
    no class can be told from another there (the anomaly metric needs two)."""
    rng = np.random.default_rng(0)
    data = tmp_path / "one.npz"
    y_train = np.array([0] * 12 + [1])
    np.savez(
        data,
        x_train=rng.integers(0, 255, (13, 8, 8), dtype=np.uint8),
        y_train=y_train,
        x_test=rng.integers(0, 255, (6, 8, 8), dtype=np.uint8),
        y_test=np.zeros(6, int),
    )
    metrics = _finished(["--data", str(data)], tmp_path, "anomaly")
    assert "anomaly" not in metrics["eval"] and "anomaly" in str(metrics["eval"]["skipped"])  # type: ignore[index,operator]


def test_fewer_test_items_than_classes(tmp_path: Path) -> None:
    """A tiny CIFAR-100: 100 classes, 30 test images; k-means cannot make 100 clusters."""
    data = _npz(tmp_path / "tiny100.npz", train=300, test=30, classes=100)
    metrics = _finished(["--data", str(data)], tmp_path, "clustering")
    assert "nmi" not in metrics["eval"] and "knn_top1" in metrics["eval"]  # type: ignore[operator]


def test_report_of_a_run_with_two_test_images(tmp_path: Path) -> None:
    data = _npz(tmp_path / "two.npz", train=24, test=2, classes=2)
    _finished(["--data", str(data)], tmp_path)
    outcome = run_cli(["report", "--run", str(tmp_path / "run")], cwd=tmp_path)
    expect_none(findings(outcome, code=0))
    assert (tmp_path / "run" / "report.html").is_file()


def test_train_classes_that_do_not_exist(tmp_path: Path) -> None:
    args = ["train", "--out", str(tmp_path / "run"), *TINY, "--set", "data.train_classes=[42]"]
    args += ["--config", str(CONFIGS / "digits_simclr.yaml")]
    outcome = run_cli(args, cwd=tmp_path)
    expect_none(findings(outcome, said=("data.train_classes", "42")))
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


def test_a_diverging_run_stops_cleanly(tmp_path: Path) -> None:
    run = tmp_path / "run"
    args = ["train", "--out", str(run), *TINY, "--config", str(CONFIGS / "digits_simclr.yaml")]
    args += ["--set", "train.lr=1e6", "--set", "health.every=2"]
    outcome = run_cli(args, cwd=tmp_path)
    expect_none(findings(outcome, said=("diverged", "no checkpoint was written")))


@pytest.mark.slow
def test_a_run_diverging_after_a_checkpoint_keeps_it(tmp_path: Path) -> None:
    """A good epoch and more, then the learning rate blows up (config edited) and the run
    is resumed: it stops with one line naming the checkpoint it keeps, which is finite and
    no older than the one it resumed from."""
    run = tmp_path / "run"
    args = ["train", "--out", str(run), *TINY, "--config", str(CONFIGS / "digits_simclr.yaml")]
    args += ["--set", "train.epochs=4", "--set", "train.batch_size=256"]
    assert run_cli([*args, "--set", "train.max_steps=7"], cwd=tmp_path).code == 0
    (run / "metrics.json").unlink()  # unfinished: stopped at step 7
    config = (run / "config.yaml").read_text().replace("max_steps: 7", "max_steps: null")
    config = config.replace("lr: 0.", "lr: 1000000.0  # was 0.")
    (run / "config.yaml").write_text(config.replace("\n  every: 0\n", "\n  every: 2\n"))
    outcome = run_cli(["train", "--out", str(run), "--resume", "--no-progress"], cwd=tmp_path)
    expect_none(findings(outcome, said=("diverged", "last good checkpoint (", "is kept in")))
    kept = load_checkpoint(run / "checkpoint.pt")
    assert first_non_finite(kept) is None and kept["step"] >= 7
