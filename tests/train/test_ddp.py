"""Two gloo processes x batch B == one process x batch 2B for SimCLR: the loss, the
parameter gradients and the first training steps (DDP + GlobalBatchNorm + gathered
negatives); only rank 0 writes files; bad launches give clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from contrastkit.augment.image import to_float
from contrastkit.batches import ImageBatch
from contrastkit.builders import build_method
from contrastkit.config import load_config
from contrastkit.encoders.build import build_encoder
from contrastkit.errors import UserError
from contrastkit.methods.simclr import SimCLR
from contrastkit.rundir import CHECKPOINT, LOG
from contrastkit.train import ddp
from contrastkit.train.loop import fit

WORLD = 2
GLOBAL_BATCH = 16
OVERRIDES = [
    "model.width=4",
    "model.feature_dim=16",
    "model.proj_hidden_dim=32",
    "model.proj_dim=16",
    f"train.batch_size={GLOBAL_BATCH}",
    "train.epochs=1",
    "train.warmup_epochs=0",
    "train.optimizer=sgd",
    "train.lr=0.001",  # larger steps make this tiny model chaotic within 3 steps
    "train.log_every=1",
    "train.sync_batchnorm=true",
]


class FlipViews:
    """Deterministic views: every other call mirrors the images (no randomness, so the
    views of a sample do not depend on which rank holds it)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        self.calls += 1
        x = to_float(images)
        return x.flip(-1) if self.calls % 2 == 0 else x


def images() -> ImageBatch:
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (3 * GLOBAL_BATCH, 1, 8, 8), dtype=torch.uint8, generator=gen)
    return ImageBatch(images=x, labels=torch.full((len(x),), -1))


def make_method() -> SimCLR:
    cfg = load_config(None, OVERRIDES)
    torch.manual_seed(0)
    method = build_method(cfg, lambda: build_encoder(cfg.model, in_channels=1))
    assert isinstance(method, SimCLR)
    return method


def loss_and_grads(batch: ImageBatch) -> tuple[float, dict[str, torch.Tensor]]:
    method = make_method()
    model = ddp.wrap(method, sync_batchnorm=True)
    loss = model(batch, augment=FlipViews(), generator=None)
    loss.backward()
    grads = {name: p.grad.clone() for name, p in method.named_parameters()}
    return float(ddp.mean_over_ranks(loss)), grads


def worker(rank: int, init_file: str, out: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=WORLD)
    try:
        rows = ddp.shard(torch.arange(GLOBAL_BATCH))
        loss, grads = loss_and_grads(images().take(rows))
        cfg = load_config(None, OVERRIDES)
        fit(
            make_method(),
            images(),
            augment=FlipViews(),
            cfg=cfg.train,
            seed=0,
            run_dir=Path(out),
            device=torch.device("cpu"),
            show_progress=False,
        )
        if rank == 0:
            torch.save({"loss": loss, "grads": grads}, Path(out) / "first_step.pt")
        dist.barrier()  # both ranks done before either leaves: one gloo teardown aborted
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_two_processes_equal_one_process_with_the_global_batch(tmp_path: Path) -> None:
    ref_loss, ref_grads = loss_and_grads(images().take(torch.arange(GLOBAL_BATCH)))
    cfg = load_config(None, OVERRIDES)
    single = tmp_path / "single"
    single.mkdir()
    fit(
        make_method(),
        images(),
        augment=FlipViews(),
        cfg=cfg.train,
        seed=0,
        run_dir=single,
        device=torch.device("cpu"),
        show_progress=False,
    )
    multi = tmp_path / "multi"
    multi.mkdir()
    mp.spawn(worker, args=(str(tmp_path / "init"), str(multi)), nprocs=WORLD, join=True)

    first = torch.load(multi / "first_step.pt")
    assert first["loss"] == pytest.approx(ref_loss, rel=1e-5)
    scale = float(torch.cat([g.flatten() for g in ref_grads.values()]).norm())
    for name, grad in ref_grads.items():  # fc.bias: ~0 in both (BatchNorm follows it)
        torch.testing.assert_close(first["grads"][name], grad, rtol=0, atol=1e-5 * scale)

    def losses(run: Path) -> list[float]:
        return [json.loads(line)["loss"] for line in (run / LOG).read_text().splitlines()]

    assert len(losses(single)) == 3
    assert losses(multi) == pytest.approx(losses(single), rel=1e-4)
    init = make_method().state_dict()
    single_state = torch.load(single / CHECKPOINT, weights_only=False)["model"]
    multi_state = torch.load(multi / CHECKPOINT, weights_only=False)["model"]
    for key, value in single_state.items():  # the updates of the 3 steps agree
        if value.is_floating_point() and "running" not in key:
            moved = value - init[key]
            scale = 1e-3 * float(moved.norm()) + 1e-7
            torch.testing.assert_close(multi_state[key] - init[key], moved, rtol=0, atol=scale)


def test_global_batch_must_split_over_ranks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ddp, "world_size", lambda: 3)
    with pytest.raises(UserError, match="batch_size=16 .* divisible by the number of processes"):
        ddp.per_rank_batch(16)
    assert ddp.per_rank_batch(15) == 5


def test_partial_torchrun_environment_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ddp.TORCHRUN_VARS:
        monkeypatch.delenv(name, raising=False)
    assert not ddp.launched_distributed()
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(UserError, match="not LOCAL_RANK, MASTER_ADDR, MASTER_PORT.*torchrun"):
        ddp.launched_distributed()


@pytest.mark.slow
def test_torchrun_cli_rank_zero_writes_the_run(tmp_path: Path) -> None:
    out = tmp_path / "run"
    src = Path(__file__).resolve().parents[2] / "src"
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
        "-m", "contrastkit", "train", "--out", str(out), "--no-progress",
        *[f"--set={o}" for o in OVERRIDES if "sync" not in o],
        "--set=train.batch_size=64", "--set=eval.baselines=false", "--set=health.every=0",
    ]  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    files = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))  # .lock
    assert files == [CHECKPOINT, "config.yaml", LOG, "metrics.json", "tensorboard"]
    assert done.stdout.count("checkpoint.pt) in") == 1  # rank 0 alone reports


def test_eval_under_torchrun_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1", "MASTER_ADDR": "x"}
    for name, value in {**env, "MASTER_PORT": "1"}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(UserError, match="only `train` runs under torchrun"):
        ddp.single_process_only("eval")
