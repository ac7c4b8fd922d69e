"""The README's library example runs as printed, and it learns."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.slow
def test_readme_example_runs_and_the_loss_falls() -> None:
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S)
    assert code is not None, "README has no python example"
    source = code.group(1)
    assert "range(100)" in source
    namespace: dict[str, object] = {}
    exec(compile(source.replace("range(100)", "range(1)"), str(README), "exec"), namespace)
    first = float(namespace["loss"].item())  # type: ignore[attr-defined]
    # A random encoder is near chance: log(2N - 1) for N = 256 pairs.
    assert abs(first - math.log(511)) < 1.0
    exec(compile(source.replace("range(100)", "range(30)"), str(README), "exec"), namespace)
    assert float(namespace["loss"].item()) < first - 0.5  # type: ignore[attr-defined]
