"""Off a terminal the progress is plain lines: one every tenth of the epochs and one at
least every 30 s of training, with the rate and ETA of the recent steps; the training time
they show is the clock's."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from contrastkit.train.clock import TrainClock
from contrastkit.train.progress import RecentRate, TrainProgress, duration, loss_shown


class FakeTime:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def run_bar(
    epochs: int,
    steps_per_epoch: int,
    *,
    enabled: bool = True,
    step_s: float = 0.01,
    every_s: float = 30.0,
) -> list[str]:
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=200)
    total = epochs * steps_per_epoch
    now = FakeTime()
    with TrainProgress(
        total_steps=total,
        epochs=epochs,
        batch_size=10,
        clock=now,
        wall=now,
        every_s=every_s,
        console=console,
        enabled=enabled,
    ) as bar:
        for step in range(total):
            now.t += step_s
            epoch = step // steps_per_epoch
            bar.update(step=step + 1, epoch=epoch, loss=1.0 / (step + 1))
    return [line for line in out.getvalue().splitlines() if line]


def test_plain_lines_at_each_tenth_of_the_epochs_with_the_epoch_end_loss() -> None:
    lines = run_bar(epochs=20, steps_per_epoch=3)
    assert [line.split()[1] for line in lines] == [f"{e}/20" for e in range(2, 21, 2)]
    assert lines[0].split()[2:6] == ["step", "6/60", "loss", f"{1 / 6:.4f}"]
    assert lines[-1].split()[2:4] == ["step", "60/60"]


def test_few_epochs_print_every_epoch_and_disabled_prints_nothing() -> None:
    assert [line.split()[1] for line in run_bar(epochs=3, steps_per_epoch=2)] == [
        "1/3",
        "2/3",
        "3/3",
    ]
    assert run_bar(epochs=3, steps_per_epoch=2, enabled=False) == []


def test_a_line_at_least_every_30_s_with_rate_and_eta_from_the_recent_steps() -> None:
    # 200 epochs of 100 steps at 1 s a step: a tenth of the epochs takes 2,000 s
    lines = run_bar(epochs=200, steps_per_epoch=100, step_s=1.0)
    first = lines[0].split()
    assert first[:4] == ["epoch", "1/200", "step", "30/20000"]
    # 10 samples a step, one step a second; 19,970 steps to go at 1 step/s
    assert "10 samples/s" in lines[0]
    assert "train 30 s" in lines[0]
    assert f"ETA {duration(19_970)}" in lines[0]
    steps = [int(line.split()[3].split("/")[0]) for line in lines]
    assert all(b - a <= 30 for a, b in zip(steps, steps[1:], strict=False))
    assert steps[-1] == 20_000


def test_recent_rate_forgets_a_slow_start() -> None:
    rate = RecentRate(window_s=60.0)
    rate.add(0.0, 0)
    rate.add(100.0, 1)  # a first step of 100 s (warm-up, compilation)
    for s in range(1, 121):
        rate.add(100.0 + s, 1 + 10 * s)  # then 10 steps a second
    assert rate.steps_per_s(220.0, 1201) == pytest.approx(10.0, rel=0.02)


def test_duration_text() -> None:
    assert [duration(s) for s in (0.4, 45, 725, 12_000)] == [
        "0 s",
        "45 s",
        "12 min 5 s",
        "3 h 20 min",
    ]


def test_clock_leaves_out_paused_time_and_continues_a_resumed_run() -> None:
    now = FakeTime()
    clock = TrainClock(offset=100.0, now=now)
    clock.start()
    now.t = 10.0
    with clock.paused():
        now.t = 25.0  # a checkpoint, a health check
    now.t = 30.0
    assert clock.elapsed == pytest.approx(100.0 + 30.0 - 15.0)
    clock.stop()
    now.t = 99.0
    assert clock.elapsed == pytest.approx(115.0)


def test_lines_are_spaced_by_the_wall_clock_while_training_time_pauses() -> None:
    """Health checks and checkpoints stop the training clock, not the reader's wait."""
    out = io.StringIO()
    train, wall = FakeTime(), FakeTime()
    console = Console(file=out, force_terminal=False, width=200)
    with TrainProgress(
        total_steps=1000, epochs=1, batch_size=10, clock=train, wall=wall, console=console
    ) as bar:
        for step in range(3):
            train.t += 1.0  # one second of training
            wall.t += 40.0  # and 39 s of health checks
            bar.update(step=step + 1, epoch=0, loss=1.0)
    lines = [line for line in out.getvalue().splitlines() if line]
    assert [line.split()[3] for line in lines] == ["1/1000", "2/1000", "3/1000"]
    assert "train 3 s" in lines[-1]


def test_a_small_loss_is_not_shown_as_zero() -> None:
    assert [loss_shown(x) for x in (5.45012, 0.0012, 2.31e-5, 0.0)] == [
        "5.4501",
        "0.0012",
        "2.31e-05",
        "0.0000",
    ]
