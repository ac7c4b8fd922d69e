"""The supervised baseline held to a time budget: fewer steps with a note, or all of them
with eval.full; the same numbers as the full protocol when the budget is not binding."""

from __future__ import annotations

import numpy as np
import torch

from contrastkit.augment.image import ViewAugment
from contrastkit.data.split import ImageSplit
from contrastkit.encoders.small_cnn import SmallCNN
from contrastkit.eval.options import EvalConfig
from contrastkit.eval.suite import PROBE_STEPS, supervised_baseline


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


def test_the_budget_follows_the_training_time_unless_set() -> None:
    from contrastkit.config import eval_budget_s, load_config
    from contrastkit.eval.options import MIN_BUDGET_S

    cfg = load_config(None)
    assert eval_budget_s(cfg, None) is None
    assert eval_budget_s(cfg, 12.0) == MIN_BUDGET_S
    assert eval_budget_s(cfg, 900.0) == 900.0
    assert eval_budget_s(load_config(None, ["eval.budget_s=60"]), 900.0) == 60.0
    assert cfg.eval.budget_s is None  # the config is not changed
