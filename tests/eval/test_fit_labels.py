"""Evaluation on small or unbalanced labels: `fit_labels` (numbers by hand) and one CLI run
per case through `contrastkit train` on a generated .npz."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from contrastkit.cli import main
from contrastkit.eval.adapt import fit_labels


def test_labels_not_0_to_k_are_relabelled_in_sorted_order() -> None:
    f = fit_labels(np.array([7, 3, 7, 3, 9, 9]), np.array([9, 3, 7]), per_class=2)
    assert f.y_train.tolist() == [1, 0, 1, 0, 2, 2] and f.y_test.tolist() == [2, 0, 1]
    assert f.class_index.tolist() == [3, 7, 9] and f.num_classes == 3 and f.per_class == 2
    assert f.notes == ("labels 3, 7, 9 relabelled 0..2 for evaluation",) and f.skip is None


def test_test_classes_absent_from_training_are_left_out() -> None:
    f = fit_labels(np.array([0, 0, 1, 1]), np.array([0, 2, 1, 2, 5]), per_class=1)
    assert f.keep_test.tolist() == [True, False, True, False, False]
    assert f.y_test.tolist() == [0, 1]
    assert f.notes[0].startswith("3 test items of 2 class(es) absent from training (2, 5)")


def test_fewer_labels_than_asked_lower_the_budget() -> None:
    f = fit_labels(np.array([0] * 5 + [1] * 3), np.array([0, 1]), per_class=10)
    assert f.per_class == 3
    assert "class 1 has 3 training label(s)" in f.notes[0]


def test_one_class_skips_label_metrics() -> None:
    f = fit_labels(np.array([4, 4, 4]), np.array([4, 4]), per_class=10)
    assert f.skip is not None and "1 class" in f.skip


def _run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **arrays: np.ndarray) -> dict:
    data = tmp_path / "d.npz"
    np.savez(data, **arrays)
    out = tmp_path / "run"
    args = ["train", "--data", str(data), "--out", str(out), "--no-progress"]
    for kv in (
        "train.epochs=1",
        "model.width=4",
        "model.feature_dim=8",
        "eval.fewshot_draws=1",
        "eval.supervised_steps=2",
        "health.every=0",
    ):
        args += ["--set", kv]
    monkeypatch.setattr(sys, "argv", ["contrastkit", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code in (0, None)
    return json.loads((out / "metrics.json").read_text())


def _images(n: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (n, 8, 8), dtype=np.uint8)


@pytest.mark.slow
def test_cli_few_labels_per_class(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    m = _run(tmp_path, monkeypatch, x=_images(24), y=np.arange(24) % 3)  # 8 per class
    assert m["eval"]["fewshot"]["labels_per_class"] < 10


@pytest.mark.slow
def test_cli_one_class(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    m = _run(tmp_path, monkeypatch, x=_images(12), y=np.zeros(12, int))
    assert "skipped" in m["eval"]


@pytest.mark.slow
def test_cli_sparse_labels_and_unseen_test_class(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    y_train = np.array([5, 50] * 10)
    y_test = np.array([5, 50, 500, 500])
    m = _run(
        tmp_path,
        monkeypatch,
        x_train=_images(20),
        y_train=y_train,
        x_test=_images(4),
        y_test=y_test,
    )
    out = capsys.readouterr().out
    assert "relabelled" in out and "absent from training" in out
    assert 0.0 <= m["eval"]["knn_top1"] <= 1.0
