"""Shared test settings: deterministic, single-threaded torch so tests are fast and stable;
every metrics.json a test writes is checked against the schema."""

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from metrics_schema import check_metrics

os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _metrics_follow_the_schema(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every `metrics.json` a test's run wrote under its tmp_path follows docs/metrics.md."""
    yield
    tmp = request.node.funcargs.get("tmp_path")
    if tmp is None or request.node.get_closest_marker("fake_run_files"):
        return
    for path in Path(tmp).rglob("metrics.json"):
        if (path.parent / "config.yaml").is_file():  # a run directory, not a test's own file
            check_metrics(json.loads(path.read_text()))
