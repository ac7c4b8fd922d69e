import math

import pytest
from torch import nn

from contrastkit.schedule import warmup_cosine
from contrastkit.train.optim import param_groups


def test_warmup_then_cosine() -> None:
    kw = {"total_steps": 110, "warmup_steps": 10, "base": 1.0}
    assert warmup_cosine(0, **kw) == pytest.approx(0.1)
    assert warmup_cosine(9, **kw) == pytest.approx(1.0)
    assert warmup_cosine(10, **kw) == pytest.approx(1.0)
    assert warmup_cosine(60, **kw) == pytest.approx(0.5)
    assert warmup_cosine(35, **kw) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.25)))
    assert warmup_cosine(110, **kw) == pytest.approx(0.0, abs=1e-12)


def test_no_weight_decay_on_norms_and_biases() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    decayed, plain = param_groups(model, 0.1)
    assert decayed["weight_decay"] == 0.1 and plain["weight_decay"] == 0.0
    assert {id(p) for p in decayed["params"]} == {id(model[0].weight), id(model[2].weight)}  # type: ignore[union-attr]
    assert len(plain["params"]) == 4  # type: ignore[arg-type]
