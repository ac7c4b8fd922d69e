"""The loop's DataLoader: the order of the old permutation slices, workers that change no
number, `max_steps` that stops, writes its checkpoint and log, and resumes bit for bit."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from contrastkit.augment.image import ViewAugment
from contrastkit.batches import ImageBatch
from contrastkit.data.digits import load_digits
from contrastkit.data.workers import auto_workers
from contrastkit.encoders.small_cnn import SmallCNN
from contrastkit.heads.projection import ProjectionHead
from contrastkit.methods.simclr import SimCLR
from contrastkit.rundir import CHECKPOINT, LOG
from contrastkit.schedule import warmup_cosine
from contrastkit.train.loader import ShuffledBatches, Waited, to_device
from contrastkit.train.loop import fit
from contrastkit.train.optim import build_optimizer
from contrastkit.train.options import TrainConfig


class Stop(Exception):
    pass


def test_sampler_reproduces_the_old_permutation_slices() -> None:
    n, b = 23, 5
    sampler = ShuffledBatches(n, batch_size=b, generator=torch.Generator().manual_seed(4))
    reference = torch.Generator().manual_seed(4)
    for _epoch in range(3):
        order = torch.randperm(n, generator=reference)
        expected = [order[i * b : (i + 1) * b].tolist() for i in range(n // b)]
        assert list(sampler) == expected  # 4 full batches; the ragged 3 are dropped
    sampler.skip = 2  # a run resumed after 2 steps of the next epoch
    order = torch.randperm(n, generator=reference)
    assert list(sampler) == [order[i * b : (i + 1) * b].tolist() for i in (2, 3)]
    assert sampler.skip == 0 and len(sampler) == 4


def test_auto_workers_and_to_device() -> None:
    assert auto_workers(3, in_memory=True) == 3
    assert auto_workers(None, in_memory=True) == 0
    assert 0 <= auto_workers(None, in_memory=False) <= 4
    x = torch.zeros(2)
    moved = to_device([x, (x, None)], torch.device("cpu"))
    assert isinstance(moved, tuple) and moved[1][1] is None and torch.equal(moved[0], x)


def train(
    run_dir: Path,
    *,
    workers: int = 0,
    resume: bool = False,
    stop_after: int | None = None,
    max_steps: int | None = None,
) -> SimCLR:
    torch.manual_seed(0)
    method = SimCLR(SmallCNN(width=4, feature_dim=8), ProjectionHead(8, 8, 4), temperature=0.5)
    cfg = TrainConfig(
        epochs=3,
        batch_size=32,
        warmup_epochs=1,
        lr=1e-2,
        log_every=1,
        workers=workers,
        max_steps=max_steps,
    )

    def on_epoch_end(epoch: int) -> None:
        if epoch == stop_after:
            raise Stop

    digits = load_digits()
    fit(
        method,
        ImageBatch(images=digits.x_train[:128], labels=digits.y_train[:128]),
        augment=ViewAugment(),
        cfg=cfg,
        seed=5,
        run_dir=run_dir,
        device=torch.device("cpu"),
        resume=resume,
        show_progress=False,
        on_epoch_end=on_epoch_end,
    )
    return method


def assert_same_run(a: Path, b: Path, ma: SimCLR, mb: SimCLR) -> None:
    for (name, x), (_, y) in zip(ma.state_dict().items(), mb.state_dict().items(), strict=True):
        assert torch.equal(x, y), name
    lines_a = (a / LOG).read_text().splitlines()
    lines_b = (b / LOG).read_text().splitlines()
    steps_a = [(r["step"], r["loss"]) for r in map(json.loads, lines_a)]
    assert steps_a == [(r["step"], r["loss"]) for r in map(json.loads, lines_b)]
    assert [s for s, _ in steps_a] == list(range(12))


@pytest.mark.slow
def test_workers_change_nothing_and_resume_is_bit_exact(tmp_path: Path) -> None:
    full = train(tmp_path / "full")
    with pytest.raises(Stop):
        train(tmp_path / "cut", workers=2, stop_after=1)
    resumed = train(tmp_path / "cut", workers=2, resume=True)
    assert_same_run(tmp_path / "full", tmp_path / "cut", full, resumed)


def test_max_steps_stops_mid_epoch_and_resumes_bit_exact(tmp_path: Path) -> None:
    full = train(tmp_path / "full")
    train(tmp_path / "cut", max_steps=6)  # 4 steps per epoch: stops inside epoch 2
    state = torch.load(tmp_path / "cut" / CHECKPOINT, weights_only=False)
    assert (state["step"], state["epoch"]) == (6, 1)
    logged = [
        json.loads(line)["step"] for line in (tmp_path / "cut" / LOG).read_text().splitlines()
    ]
    assert logged == list(range(6))
    resumed = train(tmp_path / "cut", resume=True)
    assert_same_run(tmp_path / "full", tmp_path / "cut", full, resumed)


def test_fit_equals_the_old_whole_tensor_loop(tmp_path: Path) -> None:
    """Every step's loss equals the loop before the DataLoader (written out here): the data
    set indexed by slices of one seeded permutation per epoch."""
    digits = load_digits()
    x = ImageBatch(images=digits.x_train[:96], labels=digits.y_train[:96])
    # The usual weight layout: exact equality with the loop written out below (channels-last
    # changes float rounding; tests/train/test_memory_layout.py compares the layouts).
    cfg = TrainConfig(
        epochs=2, batch_size=32, warmup_epochs=1, lr=1e-2, log_every=1, channels_last=False
    )

    def make() -> SimCLR:
        torch.manual_seed(0)
        return SimCLR(SmallCNN(width=4, feature_dim=8), ProjectionHead(8, 8, 4), temperature=0.5)

    fit(
        make(),
        x,
        augment=ViewAugment(),
        cfg=cfg,
        seed=2,
        run_dir=tmp_path,
        device=torch.device("cpu"),
        show_progress=False,
    )
    logged = [json.loads(line)["loss"] for line in (tmp_path / LOG).read_text().splitlines()]

    method, augment = make(), ViewAugment()
    torch.manual_seed(2)
    shuffle_gen, aug_gen = torch.Generator().manual_seed(2), torch.Generator().manual_seed(3)
    method.train()
    optimizer = build_optimizer(method, cfg, fused=True)  # as fit's on the CPU: fused AdamW
    expected = []
    for _epoch in range(2):
        order = torch.randperm(96, generator=shuffle_gen)
        for i in range(3):
            step = _epoch * 3 + i
            for group in optimizer.param_groups:
                group["lr"] = warmup_cosine(step, total_steps=6, warmup_steps=3, base=cfg.lr)
            loss = method.training_loss(
                x.take(order[i * 32 : (i + 1) * 32]), augment=augment, generator=aug_gen
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            method.after_step((step + 1) / 6)
            expected.append(float(loss.detach()))
    assert logged == expected


def test_waited_counts_the_wait_for_items_not_the_work_on_them() -> None:
    def slow(n: int, pause: float) -> Iterator[int]:
        for i in range(n):
            time.sleep(pause)
            yield i

    items = Waited(slow(4, 0.05))
    got = []
    t0 = time.perf_counter()
    for item in items:
        got.append(item)
        time.sleep(0.1)  # the consumer's work: not waiting
    total = time.perf_counter() - t0
    assert got == [0, 1, 2, 3]
    assert 0.2 <= items.wait_s < 0.45  # four waits of 0.05 s, none of the 0.4 s of work
    assert total >= items.wait_s + 0.4


def test_the_loader_pins_a_typed_batch_and_leaves_device_tensors_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DataLoader(pin_memory=True) pins a dataclass batch only through its `pin_memory`
    (without it the batch stayed in pageable memory and every copy to CUDA was synchronous).
    A CPU build of torch cannot pin, so `Tensor.pin_memory` is replaced by a marker here."""
    from torch.utils.data._utils.pin_memory import pin_memory

    pinned: list[int] = []

    def fake_pin(self: torch.Tensor, *args: object) -> torch.Tensor:
        pinned.append(self.numel())
        return self.clone()

    monkeypatch.setattr(torch.Tensor, "pin_memory", fake_pin)
    batch = ImageBatch(images=torch.zeros(4, 1, 2, 2, dtype=torch.uint8), labels=torch.ones(4))
    out = pin_memory(batch)
    assert isinstance(out, ImageBatch) and pinned == [16, 4]
    assert torch.equal(out.images, batch.images) and out.images is not batch.images
    meta = ImageBatch(images=torch.zeros(4, 2, device="meta"), labels=torch.ones(4))
    assert pin_memory(meta).images is meta.images and pinned == [16, 4, 4]
