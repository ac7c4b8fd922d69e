"""W&B logging: every record of log.jsonl at its step, through the `wandb` API (a stand-in
module records the calls: the package is optional and the tests run offline), and a clear
error when it is asked for but not installed."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest
import torch

from contrastkit.augment.image import ViewAugment
from contrastkit.batches import ImageBatch
from contrastkit.config import TrainConfig
from contrastkit.encoders.small_cnn import SmallCNN
from contrastkit.errors import UserError
from contrastkit.heads.projection import ProjectionHead
from contrastkit.methods.simclr import SimCLR
from contrastkit.rundir import LOG
from contrastkit.train.loop import fit
from contrastkit.train.wandb_log import WandbLog


class FakeRun:
    def __init__(self, **kwargs: Any) -> None:
        self.init = kwargs
        self.logged: list[tuple[int, dict[str, float]]] = []
        self.finished = False

    def log(self, values: dict[str, float], *, step: int) -> None:
        self.logged.append((step, values))

    def finish(self) -> None:
        self.finished = True


@pytest.fixture
def fake_wandb(monkeypatch: pytest.MonkeyPatch) -> list[FakeRun]:
    runs: list[FakeRun] = []
    module = types.ModuleType("wandb")

    def init(**kwargs: Any) -> FakeRun:
        runs.append(FakeRun(**kwargs))
        return runs[-1]

    module.init = init  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "wandb", module)
    return runs


def _train(run_dir: Path, project: str | None) -> None:
    torch.manual_seed(0)
    images = torch.randint(0, 256, (48, 1, 8, 8), dtype=torch.uint8)
    method = SimCLR(SmallCNN(width=4, feature_dim=16), ProjectionHead(16, 16, 8), temperature=0.5)
    fit(
        method,
        ImageBatch(images=images, labels=torch.full((48,), -1)),
        augment=ViewAugment(),
        cfg=TrainConfig(
            epochs=2, batch_size=16, warmup_epochs=0, log_every=2, wandb_project=project
        ),
        seed=0,
        run_dir=run_dir,
        device=torch.device("cpu"),
        show_progress=False,
    )


def test_every_logged_record_reaches_wandb_at_its_step(
    tmp_path: Path, fake_wandb: list[FakeRun]
) -> None:
    _train(tmp_path / "run", "ck-tests")
    (run,) = fake_wandb
    assert run.init == {"project": "ck-tests", "name": "run", "dir": str(tmp_path / "run")}
    logged = [json.loads(line) for line in (tmp_path / "run" / LOG).read_text().splitlines()]
    assert [step for step, _ in run.logged] == [r["step"] for r in logged]
    assert [v["train/loss"] for _, v in run.logged] == [r["loss"] for r in logged]
    assert [v["train/lr"] for _, v in run.logged] == [r["lr"] for r in logged]
    assert run.finished


def test_no_project_no_wandb(tmp_path: Path, fake_wandb: list[FakeRun]) -> None:
    _train(tmp_path / "run", None)
    assert fake_wandb == []


def test_non_finite_and_non_numbers_are_left_out(tmp_path: Path, fake_wandb: list[FakeRun]) -> None:
    with WandbLog(tmp_path, project="p") as log:
        log.write({"step": 3, "epoch": 0, "loss": float("nan"), "lr": 0.5, "ok": True, "n": "x"})
    assert fake_wandb[0].logged == [(3, {"train/lr": 0.5})]


def test_missing_package_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "wandb", None)  # import wandb -> ImportError
    with pytest.raises(UserError, match=r"train.wandb_project='p' needs the wandb package"):
        WandbLog(tmp_path, project="p")
