"""BatchNorm with statistics over the batch of all ranks, on any device (CPU + gloo too).

`torch.nn.SyncBatchNorm` runs on GPUs only; this one uses the autograd all-gather of
`contrastkit.distributed`, so the forward pass and the input gradients equal those of one
process holding the global batch. Without a process group it is plain BatchNorm.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from contrastkit.distributed import all_gather_with_grad, world_size


class GlobalBatchNorm(nn.modules.batchnorm._BatchNorm):
    """BatchNorm over (N, C, ...) whose training statistics cover every rank's batch.

    mean_c = sum_{ranks, n, ...} x / M,  var_c = sum (x - mean_c)^2 / M (M = global count);
    running_var uses the unbiased M / (M - 1) estimate, as BatchNorm does.
    """

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim < 2:
            raise ValueError(f"expected (N, C, ...) input, got shape {tuple(input.shape)}")

    def forward(self, input: Tensor) -> Tensor:
        if not self.training or world_size() == 1:
            return super().forward(input)
        self._check_input_dim(input)
        dims = [0, *range(2, input.ndim)]
        shape = [1, -1] + [1] * (input.ndim - 2)
        count = torch.tensor([input.numel() / input.shape[1]], dtype=input.dtype)
        total = all_gather_with_grad(count.to(input.device)).sum()
        mean = all_gather_with_grad(input.sum(dims)[None]).sum(0) / total  # (C,)
        centred = input - mean.view(shape)
        var = all_gather_with_grad(centred.pow(2).sum(dims)[None]).sum(0) / total  # (C,)
        if self.track_running_stats and self.running_mean is not None:
            with torch.no_grad():
                m = self.momentum if self.momentum is not None else 0.1
                unbiased = var * total / (total - 1).clamp(min=1)
                self.running_mean.mul_(1 - m).add_(mean.detach(), alpha=m)
                assert self.running_var is not None and self.num_batches_tracked is not None
                self.running_var.mul_(1 - m).add_(unbiased.detach(), alpha=m)
                self.num_batches_tracked.add_(1)
        out = centred / torch.sqrt(var.view(shape) + self.eps)
        if self.affine:
            out = out * self.weight.view(shape) + self.bias.view(shape)
        return out


def convert_to_global_batchnorm(module: nn.Module) -> nn.Module:
    """Replace every BatchNorm1d/2d/3d in `module` by `GlobalBatchNorm`, sharing its
    parameters and buffers; returns the (possibly new) root module."""
    if isinstance(module, nn.modules.batchnorm._BatchNorm) and not isinstance(
        module, GlobalBatchNorm
    ):
        new = GlobalBatchNorm(
            module.num_features,
            eps=module.eps,
            momentum=module.momentum,
            affine=module.affine,
            track_running_stats=module.track_running_stats,
        )
        if module.affine:
            new.weight, new.bias = module.weight, module.bias
        new.running_mean, new.running_var = module.running_mean, module.running_var
        new.num_batches_tracked = module.num_batches_tracked
        new.train(module.training)
        return new
    for name, child in module.named_children():
        module.add_module(name, convert_to_global_batchnorm(child))
    return module
