"""Optimizer with parameter groups: no weight decay on norms and biases."""

from __future__ import annotations

import torch
from torch import nn

from contrastkit.train.options import TrainConfig


def param_groups(model: nn.Module, weight_decay: float) -> list[dict[str, object]]:
    """Two groups: weights of linear/conv layers (decayed), and 1-D params (norms, biases)."""
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    for param in model.parameters():
        if not param.requires_grad:
            continue
        (no_decay if param.ndim <= 1 else decay).append(param)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def build_optimizer(
    model: nn.Module, cfg: TrainConfig, *, fused: bool = False
) -> torch.optim.Optimizer:
    """`cfg.optimizer` over `param_groups`; `fused`: AdamW's one-kernel update (CUDA)."""
    groups = param_groups(model, cfg.weight_decay)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=0.9, nesterov=True)
    return torch.optim.AdamW(groups, lr=cfg.lr, fused=True if fused else None)
