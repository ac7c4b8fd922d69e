"""`contrastkit eval` and `train --resume` take evaluation settings (eval.* keys only)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from tests.fuzz.harness import run_cli

from contrastkit.run import eval_device

TINY = "--set train.epochs=1 --set model.width=4 --set model.feature_dim=8 --set health.every=0"


@pytest.mark.slow
def test_eval_and_resume_accept_eval_keys_only(tmp_path: Path) -> None:
    out = str(tmp_path / "run")
    trained = run_cli(["train", "--out", out, "--no-progress", *TINY.split()], cwd=tmp_path)
    assert trained.code == 0, trained.stderr
    args = ["eval", "--run", out, "--set", "eval.baselines=false", "--set", "eval.knn_k=3"]
    assert run_cli(args, cwd=tmp_path).code == 0
    refused = run_cli(["eval", "--run", out, "--set", "train.epochs=3"], cwd=tmp_path)
    assert refused.clean_error and "only eval.* keys" in refused.stderr
    refused = run_cli(["train", "--resume", "--out", out, "--set", "train.lr=1"], cwd=tmp_path)
    assert refused.clean_error and "only eval.* keys" in refused.stderr
    bad = run_cli(["eval", "--run", out, "--set", "eval.knn_k=0"], cwd=tmp_path)
    assert bad.clean_error and "eval.knn_k" in bad.stderr


def test_eval_runs_on_the_training_device_or_the_cpu_with_a_note(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    notes: list[str] = []
    assert eval_device("cpu", notes.append) == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert eval_device("auto", notes.append) == torch.device("cpu")
    assert notes == []
    assert eval_device("cuda", notes.append) == torch.device("cpu")
    assert notes == ["note: train.device=cuda is not available here; evaluating on the CPU"]
