"""Off a terminal the progress is plain lines, one every tenth of the epochs, not a bar."""

from __future__ import annotations

import io

from rich.console import Console

from contrastkit.train.progress import TrainProgress


def run_bar(epochs: int, steps_per_epoch: int, *, enabled: bool = True) -> list[str]:
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=200)
    total = epochs * steps_per_epoch
    with TrainProgress(total_steps=total, epochs=epochs, console=console, enabled=enabled) as bar:
        for step in range(total):
            epoch = step // steps_per_epoch
            bar.update(step=step + 1, epoch=epoch, loss=1.0 / (step + 1), samples_per_s=100.0)
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
