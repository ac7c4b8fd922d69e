"""Random `--set KEY=VALUE` overrides through the real CLI (hypothesis): a value the config
refuses ends in exit 2 and one line; one it accepts reaches the data (a missing file here,
so exit 2 as well) or, in the slow test, trains a few steps. Never a traceback."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from tests.fuzz.harness import run_cli

from contrastkit.config import METHOD_CONFIGS, Config


def _leaf_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys += _leaf_keys(annotation, f"{prefix}{name}.")
        elif name != "method":
            keys.append(f"{prefix}{name}")
    return keys


KEYS = sorted(
    {*_leaf_keys(Config)}
    | {f"method.{k}" for section in METHOD_CONFIGS.values() for k in section.model_fields}
)
VALUES = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["0", "1", "-1", "2", "3", "10**9", "9" * 40, "-0"]),
    st.sampled_from([".inf", "-.inf", ".nan", "1e300", "-1e300", "1e-300", "0.0", "-0.5", "0.5"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["true", "false", "null", "~", "", "[]", "{}", "[1, 2]", "[-1]", "[0, 0]"]),
    st.sampled_from(["[1.5, 0.5]", "[0.1, 0.9]", "[", "{a: 1}", "'x'", "!!python/none ''", "a: b"]),
    st.sampled_from(["cpu", "cuda", "cuda:7", "mps", "meta", "xla", "auto", "cpu:x"]),
    st.sampled_from(["simclr", "byol", "nope", "mlp", "small_cnn", "resnet18", "vit_tiny"]),
    st.text(max_size=12),
)
KEY = st.one_of(
    st.sampled_from(KEYS), st.text(max_size=10), st.sampled_from(["train.", ".x", "a..b"])
)


@pytest.mark.slow
@settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(key=KEY, value=VALUES)
def test_random_set_values_end_in_one_line(key: str, value: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        outcome = run_cli(
            [
                "train",
                "--data",
                str(root / "missing.npy"),
                "--out",
                str(root / "run"),
                "--no-progress",
                "--set",
                f"{key}={value}",
            ],
            cwd=root,
        )
    assert outcome.traceback is None, (key, value, outcome.traceback)
    assert outcome.clean_error, (key, value, outcome.code, outcome.stderr)


IMAGE_KEYS = [
    k
    for k in KEYS
    if k.split(".")[0] in {"train", "augment", "model", "eval", "health", "method", "seed"}
]


@pytest.mark.slow
@settings(
    max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(key=st.sampled_from(IMAGE_KEYS), value=VALUES)
def test_random_set_values_train_or_refuse(key: str, value: str) -> None:
    """The same values on a real run of a few steps: exit 0, or exit 2 with one line."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = root / "x.npz"
        rng = np.random.default_rng(0)
        np.savez(data, x=rng.integers(0, 255, (24, 8, 8, 3), dtype=np.uint8), y=np.arange(24) % 3)
        outcome = run_cli(
            [
                "train",
                "--data",
                str(data),
                "--out",
                str(root / "run"),
                "--no-progress",
                *(["--set", "train.max_steps=2", "--set", "train.epochs=2"]),
                *(["--set", "model.width=4"]),
                *(["--set", "eval.supervised_steps=2", "--set", "eval.fewshot_draws=1"]),
                *(["--set", "health.every=0", "--set", "model.feature_dim=8"]),
                "--set",
                f"{key}={value}",
            ],
            cwd=root,
        )
    assert outcome.traceback is None, (key, value, outcome.traceback)
    assert outcome.code == 0 or outcome.clean_error, (key, value, outcome.code, outcome.stderr)
