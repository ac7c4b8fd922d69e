"""The training-health monitor: flags a run collapsed on purpose (SimSiam without its
stop-gradient), not a healthy one, stops early on request, and leaves training untouched."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from contrastkit.augment.build import build_augment
from contrastkit.batches import ImageBatch
from contrastkit.builders import build_method
from contrastkit.config import load_config
from contrastkit.encoders.build import build_encoder
from contrastkit.methods.simsiam import SimSiam
from contrastkit.modalities.images.sources import load_image_data
from contrastkit.rundir import LOG
from contrastkit.train.health import HealthMonitor
from contrastkit.train.loop import TrainResult, fit

TINY = [
    "method.name=simsiam",
    "model.width=8",
    "model.feature_dim=32",
    "model.proj_hidden_dim=64",
    "model.proj_dim=32",
    "method.pred_hidden_dim=8",
    "train.batch_size=64",
    "train.epochs=4",
    "train.warmup_epochs=0",
    "train.lr=0.02",
]


def simsiam(stop_gradient: bool) -> SimSiam:
    cfg = load_config(None, [*TINY, f"method.stop_gradient={str(stop_gradient).lower()}"])
    torch.manual_seed(0)
    method = build_method(cfg, lambda: build_encoder(cfg.model, in_channels=1))
    assert isinstance(method, SimSiam)
    return method


def run(method: SimSiam, run_dir: Path, *, stop: bool = False) -> TrainResult:
    cfg = load_config(None, TINY)
    x = load_image_data(cfg.data).x_train[:256]
    augment = build_augment(cfg.augment)
    monitor = HealthMonitor(
        method, method.encoder, x[:128], augment=augment, every=4, projection=method.projection
    )
    return fit(
        method,
        ImageBatch(images=x, labels=torch.full((len(x),), -1)),
        augment=augment,
        cfg=cfg.train,
        seed=0,
        run_dir=run_dir,
        device=torch.device("cpu"),
        show_progress=False,
        monitor=monitor,
        stop_on_collapse=stop,
    )


def health_lines(run_dir: Path) -> list[dict[str, float]]:
    lines = [json.loads(line) for line in (run_dir / LOG).read_text().splitlines()]
    return [line for line in lines if "rankme" in line]


@pytest.mark.slow
def test_simsiam_without_stop_gradient_is_flagged_and_stopped(tmp_path: Path) -> None:
    result = run(simsiam(stop_gradient=False), tmp_path, stop=True)
    assert result.collapse is not None
    assert "projection std" in result.collapse.symptom
    lines = health_lines(tmp_path)
    assert lines[-1]["step"] == result.collapse.step < 15  # stopped early (16 steps planned)
    first, last = lines[0], lines[-1]
    assert last["proj_std"] < 0.4 * first["proj_std"]
    for key in ("emb_std", "rankme", "alignment", "uniformity", "proj_std", "proj_rankme"):
        assert math.isfinite(last[key])


@pytest.mark.slow
def test_healthy_simsiam_is_not_flagged(tmp_path: Path) -> None:
    result = run(simsiam(stop_gradient=True), tmp_path)
    assert result.collapse is None
    lines = health_lines(tmp_path)
    assert [line["step"] for line in lines] == [0, 4, 8, 12, 15]
    assert all(line["proj_std"] * math.sqrt(32) > 0.5 for line in lines)


def monitor_for(module: nn.Module, encoder: nn.Module) -> HealthMonitor:
    probe = torch.randint(0, 256, (64, 1, 8, 8), dtype=torch.uint8)
    return HealthMonitor(module, encoder, probe, augment=lambda x, g: x.float() / 255, every=1)


def test_collapse_rules_on_synthetic_statistics() -> None:
    encoder = nn.Sequential(nn.Flatten(1), nn.Linear(64, 16))
    monitor = monitor_for(encoder, encoder)
    healthy = {"emb_std": 0.9 / 4, "rankme": 10.0, "dim": 16.0}
    assert monitor.collapse_symptom(healthy) is None
    assert monitor.best_spread == pytest.approx(0.9)
    falling = {**healthy, "emb_std": 0.3 / 4}  # 33 % of the best
    assert "falling towards 0" in str(monitor.collapse_symptom(falling))
    fresh = monitor_for(encoder, encoder)
    assert "std collapsed" in str(fresh.collapse_symptom({**healthy, "emb_std": 0.1 / 4}))
    assert "RankMe 1.10" in str(fresh.collapse_symptom({**healthy, "rankme": 1.1}))
    assert "std collapsed" in str(fresh.collapse_symptom({**healthy, "emb_std": math.nan}))


def test_constant_encoder_is_flagged_random_one_is_not() -> None:
    constant = nn.Sequential(nn.Flatten(1), nn.Linear(64, 16))
    nn.init.zeros_(constant[1].weight)
    stats, found = monitor_for(constant, constant).check(step=7)
    assert found is not None and found.step == 7 and stats["emb_std"] == pytest.approx(0.0)
    torch.manual_seed(0)
    spread = nn.Sequential(nn.Flatten(1), nn.Linear(64, 16))
    assert monitor_for(spread, spread).check(step=0)[1] is None


def test_measuring_leaves_the_model_and_rng_untouched() -> None:
    method = simsiam(stop_gradient=True).train()
    before = {k: v.clone() for k, v in method.state_dict().items()}
    monitor = monitor_for(method, method.encoder)
    rng = torch.get_rng_state()
    monitor.measure()
    assert method.training
    assert torch.equal(torch.get_rng_state(), rng)
    for key, value in method.state_dict().items():
        assert torch.equal(value, before[key]), key
