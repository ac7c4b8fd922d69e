"""Float32 math for losses, whatever the autocast state and the input dtype."""

from __future__ import annotations

import torch
from torch import Tensor


def upcast(x: Tensor) -> Tensor:
    """``x`` as float32 if it is a lower-precision float; float64 stays float64."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


def autocast_off(x: Tensor) -> torch.autocast:
    """A context that disables autocast on the device type of ``x``.

    Inside it matmuls run in the dtype of their (upcast) inputs, so similarity logits
    are computed in float32 even when the caller trains under bf16/fp16 autocast.
    """
    return torch.autocast(device_type=x.device.type, enabled=False)
