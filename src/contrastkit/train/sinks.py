"""What the curve writers share (`tensorboard.py`, `wandb_log.py`): the numbers of a logged
record they write, and closing as a context manager."""

from __future__ import annotations

import math
from typing import Any

from contrastkit.train.closing import Closing


def scalars(record: dict[str, Any]) -> dict[str, float]:
    """The finite numbers of a `log.jsonl` record (not step, epoch or booleans), keyed
    `train/<key>`."""
    return {
        f"train/{key}": float(value)
        for key, value in record.items()
        if key not in ("step", "epoch")
        and isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    }


class Sink(Closing):
    """A writer of logged records that closes itself at the end of a `with` block."""

    def write(self, record: dict[str, Any]) -> None:
        """Write one logged record (a `log.jsonl` line)."""
