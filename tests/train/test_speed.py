"""The speed settings a run chooses by device and length (compile, CUDA graphs, fused
AdamW), exercised on the CPU: the fused AdamW steps like the plain one, and the network is
compiled for the time of training only."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from contrastkit.config import TrainConfig
from contrastkit.train.optim import build_optimizer
from contrastkit.train.speed import COMPILE_MIN_STEPS, Speedups, choose_speedups, compiled

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


def test_compile_and_cuda_graphs_on_long_cuda_runs_only() -> None:
    cfg = TrainConfig()
    long, short = COMPILE_MIN_STEPS, COMPILE_MIN_STEPS - 1
    assert choose_speedups(cfg, CUDA, long) == Speedups("reduce-overhead", fused_adamw=True)
    assert choose_speedups(cfg, CUDA, short) == Speedups(None, fused_adamw=True)
    assert choose_speedups(cfg, CPU, long) == Speedups(None, fused_adamw=True)  # fused on CPU too


def test_asked_for_settings_win() -> None:
    assert choose_speedups(TrainConfig(compile=True), CPU, 10).compile_mode == "default"
    asked = TrainConfig(compile=True, compile_mode="max-autotune")
    assert choose_speedups(asked, CPU, 10).compile_mode == "max-autotune"
    assert choose_speedups(TrainConfig(compile=False), CUDA, 10**6).compile_mode is None
    assert not choose_speedups(TrainConfig(optimizer="sgd"), CUDA, 10).fused_adamw


def test_the_speed_line() -> None:
    assert Speedups("reduce-overhead", fused_adamw=True).line() == (
        "speed: torch.compile (reduce-overhead: CUDA graphs), fused AdamW"
    )
    assert Speedups(None, fused_adamw=False).line() == (
        "speed: eager (train.compile=true compiles)"
    )


def test_fused_adamw_steps_like_the_plain_one() -> None:
    def stepped(fused: bool) -> list[torch.Tensor]:
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(5, 7), nn.LayerNorm(7), nn.Linear(7, 2))
        opt = build_optimizer(model, TrainConfig(lr=0.01, weight_decay=0.1), fused=fused)
        assert opt.defaults["fused"] is (True if fused else None)
        for seed in range(3):
            x = torch.randn(8, 5, generator=torch.Generator().manual_seed(seed))
            opt.zero_grad()
            model(x).square().mean().backward()
            opt.step()
        return [p.detach().clone() for p in model.parameters()]

    for a, b in zip(stepped(True), stepped(False), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Linear(3, 3)
        self.head = nn.Linear(3, 2)
        self.other = nn.Linear(2, 2)


@pytest.mark.parametrize("mode", [None, "default"])
def test_compiled_for_the_body_only_with_the_same_names(mode: str | None) -> None:
    net = Net()
    names = list(net.state_dict())
    with pytest.raises(KeyboardInterrupt), compiled(net, mode):
        inside = [m._compiled_call_impl is not None for m in (net.encoder, net.head, net.other)]
        assert list(net.state_dict()) == names
        raise KeyboardInterrupt
    assert inside == [mode is not None, mode is not None, False]
    assert all(m._compiled_call_impl is None for m in net.modules())
