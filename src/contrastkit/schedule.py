"""Learning-rate schedule as a pure function of the step."""

from __future__ import annotations

import math


def warmup_cosine(
    step: int, *, total_steps: int, warmup_steps: int, base: float, final: float = 0.0
) -> float:
    """Linear warm-up from 0 to `base` over `warmup_steps`, then cosine decay to `final`.

    lr(t) = base * (t + 1) / warmup                                   for t < warmup
    lr(t) = final + (base - final) * (1 + cos(pi * p)) / 2,  p = (t - warmup) / (total - warmup)
    """
    if step < warmup_steps:
        return base * (step + 1) / warmup_steps
    span = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / span)
    return final + (base - final) * 0.5 * (1.0 + math.cos(math.pi * progress))
