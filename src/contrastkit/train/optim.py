"""Optimizer with parameter groups: no weight decay on norms and biases, and the encoder's
learning rate scaled down when fine-tuning a pretrained backbone."""

from __future__ import annotations

import torch
from torch import nn

from contrastkit.methods.base import Method
from contrastkit.train.options import TrainConfig


def param_groups(
    model: nn.Module, weight_decay: float, *, encoder_lr_scale: float = 1.0
) -> list[dict[str, object]]:
    """The trainable parameters in groups: weights of linear/conv layers (decayed) and 1-D
    params (norms, biases; not decayed), each split into the encoder's (a method's encoder,
    learning rate x `encoder_lr_scale`) and the rest's (the heads: x 1). Empty groups are
    left out; every group carries its `lr_scale` (`set_lr` reads it)."""
    encoder = model.encoder if isinstance(model, Method) else None
    in_encoder = {id(p) for p in encoder.parameters()} if encoder is not None else set()
    groups: dict[tuple[bool, bool], list[nn.Parameter]] = {
        (decay, enc): [] for enc in (False, True) for decay in (True, False)
    }
    for param in model.parameters():
        if param.requires_grad:
            groups[(param.ndim > 1, id(param) in in_encoder)].append(param)
    return [
        {
            "params": params,
            "weight_decay": weight_decay if decay else 0.0,
            "lr_scale": encoder_lr_scale if enc else 1.0,
        }
        for (decay, enc), params in groups.items()
        if params
    ]


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set every group's learning rate to `lr` x its `lr_scale`."""
    for group in optimizer.param_groups:
        group["lr"] = lr * group.get("lr_scale", 1.0)


def build_optimizer(
    model: nn.Module, cfg: TrainConfig, *, fused: bool = False
) -> torch.optim.Optimizer:
    """`cfg.optimizer` over `param_groups`; `fused`: AdamW's one-kernel update (CUDA, CPU)."""
    groups = param_groups(model, cfg.weight_decay, encoder_lr_scale=cfg.encoder_lr_scale)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=0.9, nesterov=True)
    return torch.optim.AdamW(groups, lr=cfg.lr, fused=True if fused else None)
