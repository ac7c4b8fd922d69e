"""What the lightly halves of the benchmarks share (`fashion_lightly.py`, `gpu_lightly.py`):
torchvision made importable, contrastkit's ResNet file loaded by path, grey images as two
views through lightly's `SimCLRTransform`. Runs in lightly's interpreter; imports nothing of
contrastkit but its ResNet file (which imports only torch)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

RESNET = Path(__file__).resolve().parents[1] / "src" / "contrastkit" / "encoders" / "resnet.py"


def import_torchvision() -> None:
    """torchvision (call before importing lightly); on a CPU build of torch its C++ ops are
    absent and the PyPI wheel imports only once their schemas exist (placeholders, never
    called here)."""
    try:
        import torchvision  # noqa: F401
    except RuntimeError:
        for name in [m for m in sys.modules if m.startswith("torchvision")]:
            del sys.modules[name]
        lib = torch.library.Library("torchvision", "DEF")
        lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        import_torchvision.lib = lib  # type: ignore[attr-defined]  # keep it registered
        import torchvision  # noqa: F401


def load_resnet(name: str, **options: object) -> torch.nn.Module:
    """contrastkit's `ResNet.from_name(name, **options)`, its file loaded by path."""
    spec = importlib.util.spec_from_file_location("ck_resnet", RESNET)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["ck_resnet"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    net: torch.nn.Module = module.ResNet.from_name(name, **options)
    return net


def simclr_transform(min_scale: float) -> object:
    """lightly's SimCLR views sized for 28x28 grey images: crops from `min_scale`, flips,
    brightness/contrast jitter; no saturation, hue, grayscale or blur, no normalisation."""
    from lightly.transforms import SimCLRTransform

    return SimCLRTransform(
        input_size=28, cj_prob=0.8, cj_strength=1.0, cj_bright=0.4, cj_contrast=0.4,
        cj_sat=0.0, cj_hue=0.0, random_gray_scale=0.0, gaussian_blur=0.0,
        min_scale=min_scale, hf_prob=0.5, rr_prob=0.0, normalize=None,
    )  # fmt: skip


class Views(Dataset):  # type: ignore[type-arg]
    """Grey uint8 images -> PIL -> a transform that makes the two views."""

    def __init__(self, images: np.ndarray, transform: object) -> None:
        self.images, self.transform = images, transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> object:
        return self.transform(Image.fromarray(self.images[i], mode="L"))  # type: ignore[operator]
