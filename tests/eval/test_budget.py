"""The supervised baseline held to a time budget: fewer steps with a note, or all of them
with eval.full; the same numbers as the full protocol when the budget is not binding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from contrastkit.augment.image import ViewAugment
from contrastkit.data.split import ImageSplit
from contrastkit.encoders.small_cnn import SmallCNN
from contrastkit.eval.options import EvalConfig
from contrastkit.eval.suite import (
    PROBE_STEPS,
    DrawCost,
    affordable_steps,
    draw_cost,
    supervised_baseline,
)


def _split() -> ImageSplit:
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (20, 1, 8, 8), dtype=torch.uint8, generator=g)
    y = torch.arange(20) % 2
    return ImageSplit(x, y, x[:6], y[:6], ["a", "b"], "t")


def _run(cfg: EvalConfig, budget_s: float | None = None) -> tuple[dict, list[str]]:
    lines: list[str] = []
    result = supervised_baseline(
        lambda: SmallCNN(width=4, feature_dim=8),
        _split(),
        cfg,
        [np.arange(8), np.arange(4, 12)],
        augment=ViewAugment(),
        feature_dim=8,
        seed=0,
        budget_s=budget_s,
        log=lines.append,
    )
    return result, lines


def test_tiny_budget_cuts_steps_with_a_note() -> None:
    _, lines = _run(EvalConfig(supervised_steps=400), budget_s=1e-6)
    assert f"{PROBE_STEPS} steps per draw instead of eval.supervised_steps=400" in lines[0]
    assert lines[-1].startswith("  supervised draw 2/2:")


def test_full_and_ample_budget_give_the_full_protocol() -> None:
    full, lines = _run(EvalConfig(supervised_steps=12, full=True), budget_s=1e-6)
    ample, _ = _run(EvalConfig(supervised_steps=12), budget_s=1e6)
    none, _ = _run(EvalConfig(supervised_steps=12))
    assert not any("instead of" in line for line in lines)
    assert full == ample == none


def test_affordable_steps_count_what_every_draw_pays_besides_its_steps() -> None:
    # 5 draws in 600 s at 0.1 s a step: 1200 steps each with nothing else to pay; a 20 s
    # set-up and test pass per draw leaves 500 s, 1000 steps each
    free, paid = DrawCost(0.1, 0.0), DrawCost(0.1, 20.0)
    assert affordable_steps(600.0, draws=5, cost=free, wanted=2000) == 1200
    assert affordable_steps(600.0, draws=5, cost=paid, wanted=2000) == 1000
    assert affordable_steps(600.0, draws=5, cost=paid, wanted=800) == 800
    # the fixed costs alone over the budget: the fewest steps, not a negative count
    assert affordable_steps(60.0, draws=5, cost=paid, wanted=800) == PROBE_STEPS
    assert affordable_steps(60.0, draws=5, cost=paid, wanted=4) == 4


def test_draw_cost_separates_the_set_up_from_the_steps() -> None:
    """A training of 2 s set-up plus 0.1 s a step, and a 5 s test pass, on a fake clock."""
    now = [0.0]
    trained: list[int] = []

    def train(steps: int) -> torch.nn.Module:
        trained.append(steps)
        now[0] += 2.0 + 0.1 * steps
        return torch.nn.Identity()

    def test(_model: torch.nn.Module) -> None:
        now[0] += 5.0

    cost = draw_cost(train, test, probe=10, clock=lambda: now[0])
    assert trained == [10, 20]
    assert cost.per_step_s == pytest.approx(0.1)
    assert cost.fixed_s == pytest.approx(7.0)


def test_the_budget_follows_the_training_time_unless_set() -> None:
    from contrastkit.config import eval_budget_s, load_config
    from contrastkit.eval.options import MIN_BUDGET_S

    cfg = load_config(None)
    assert eval_budget_s(cfg, None) is None
    assert eval_budget_s(cfg, 12.0) == MIN_BUDGET_S
    assert eval_budget_s(cfg, 900.0) == 900.0
    assert eval_budget_s(load_config(None, ["eval.budget_s=60"]), 900.0) == 60.0
    assert cfg.eval.budget_s is None  # the config is not changed
