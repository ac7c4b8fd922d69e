"""Pretrained vision backbones from the Hugging Face hub through `transformers`, offline.

Families (by the `model_type` of the saved config): ResNet (arXiv:1512.03385), ViT
(arXiv:2010.11929), DINOv2 (arXiv:2304.07193), ConvNeXt (arXiv:2201.03545) and the vision
tower of CLIP (arXiv:2103.00020; a full CLIP folder gives its vision tower). The model is
read from a local folder (what `save_pretrained` writes) or from the local Hugging Face cache,
always with `local_files_only=True`: nothing is downloaded at run time.

The module takes images as the rest of contrastkit has them, uint8 in 0..255 or float in
[0, 1], and does what the model's image processor would: resize to its size, then

    x' = (x - mean) / std      per channel,

with mean, std and size from the saved `preprocessor_config.json` when there is one, else the
family's default. Grey images are repeated to 3 channels for an RGB model (with a `note`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import torch
from torch import Tensor, nn

from contrastkit.encoders.image_input import prepare_images
from contrastkit.errors import UserError

if TYPE_CHECKING:
    from transformers import PretrainedConfig

Pool = Literal["cls", "mean"]
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
PREPROCESSOR_FILE = "preprocessor_config.json"


@dataclass(frozen=True)
class HFFamily:
    """How one family is loaded and pooled.

    Attributes:
        model_class: The `transformers` class of the backbone (no task head).
        tokens: True for transformers (CLS / mean of patch tokens), False for CNNs (the
            model's own pooled output, a spatial mean).
        mean, std: The normalisation when no `preprocessor_config.json` is saved.
    """

    model_class: str
    tokens: bool
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


HF_FAMILIES: dict[str, HFFamily] = {
    "resnet": HFFamily("ResNetModel", False, IMAGENET_MEAN, IMAGENET_STD),
    "convnext": HFFamily("ConvNextModel", False, IMAGENET_MEAN, IMAGENET_STD),
    "vit": HFFamily("ViTModel", True, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
    "dinov2": HFFamily("Dinov2Model", True, IMAGENET_MEAN, IMAGENET_STD),
    "clip": HFFamily("CLIPVisionModel", True, CLIP_MEAN, CLIP_STD),
    "clip_vision_model": HFFamily("CLIPVisionModel", True, CLIP_MEAN, CLIP_STD),
}
"""Supported `model_type`s of the saved config -> how to load and pool them."""


@contextmanager
def quiet_loading() -> Iterator[None]:
    """`transformers` loads without its progress bar and its report of the checkpoint keys
    a model leaves unused (a CLIP folder's text tower, when only its vision tower is built)."""
    from transformers.utils import logging as hf_logging

    before = hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(before)


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache this process reads (HF_HUB_CACHE / HF_HOME aware)."""
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def missing_model(name: str, why: str) -> UserError:
    cache = hf_cache_dir()
    folder = "models--" + name.replace("/", "--")
    return UserError(
        f"model.name {name!r}: {why}. Looked for a local folder with config.json at "
        f"{Path(name).expanduser()} and, offline, in the Hugging Face cache {cache} (nothing "
        f"is downloaded at run time). To get it: on a machine with network run "
        f"`huggingface-cli download {name}` (or `hf download {name}`), then copy "
        f"~/.cache/huggingface/hub/{folder} into {cache}; or save the model with "
        "`save_pretrained(FOLDER)` and set model.name to that folder"
    )


def local_folder(name: str) -> Path | None:
    """The folder `name` names, or None when `name` is to be looked up as a hub id."""
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise UserError(f"model.name {name!r}: the folder {path} has no config.json")
        return path
    if name.startswith(("/", ".", "~")) or name.count("/") > 1:
        raise missing_model(name, "no such folder")
    return None


def load_hf_config(name: str) -> PretrainedConfig:
    """The saved config of `name` (a local folder or a hub id in the local cache).

    Raises:
        UserError: not found (the message says where it looked and how to get it), or a
            `model_type` that is not one of `HF_FAMILIES`.
    """
    from transformers import AutoConfig

    folder = local_folder(name)
    try:
        config = AutoConfig.from_pretrained(str(folder or name), local_files_only=True)
    except (OSError, ValueError) as err:
        raise missing_model(name, f"not found ({str(err).splitlines()[0]})") from None
    if config.model_type not in HF_FAMILIES:
        raise UserError(
            f"model.name {name!r}: model_type {config.model_type!r} is not a supported vision "
            f"backbone (supported: {', '.join(HF_FAMILIES)})"
        )
    return config


def _vision_config(config: PretrainedConfig) -> PretrainedConfig:
    vision = getattr(config, "vision_config", None)  # a full CLIP config holds the tower's
    return config if vision is None else vision


def hf_feature_dim(name: str) -> int:
    """Size of the pooled output of `name`, from its saved config (no weights are read)."""
    return _feature_dim(load_hf_config(name))


def _feature_dim(config: PretrainedConfig) -> int:
    vision = _vision_config(config)
    if HF_FAMILIES[config.model_type].tokens:
        return int(vision.hidden_size)
    return int(vision.hidden_sizes[-1])


def _read_preprocessor(name: str, folder: Path | None) -> dict[str, Any]:
    if folder is not None:
        path: Path | None = folder / PREPROCESSOR_FILE
    else:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(repo_id=name, filename=PREPROCESSOR_FILE)
        path = Path(found) if isinstance(found, str) else None
    if path is None or not path.is_file():
        return {}
    try:
        loaded = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise UserError(f"{path}: not valid JSON (line {err.lineno}: {err.msg})") from None
    return loaded if isinstance(loaded, dict) else {}


def _size_of(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, dict):
        for key in ("height", "shortest_edge"):
            if isinstance(value.get(key), int):
                return int(value[key])
    return None


def _image_size(processor: dict[str, Any], config: PretrainedConfig) -> int:
    """The side the model expects: the processor's crop (when it crops) or size, else the
    config's image_size, else 224."""
    if processor.get("do_center_crop") and _size_of(processor.get("crop_size")):
        return int(_size_of(processor["crop_size"]) or 224)
    size = _size_of(processor.get("size"))
    if size is not None:
        return size
    return int(getattr(_vision_config(config), "image_size", 224) or 224)


class HFModule(nn.Module):
    """A module around a `transformers` model (`self.model`) that can be kept as loaded:
    `hold()` turns its gradients off and keeps it in eval mode whatever `train()` says."""

    model: nn.Module
    freeze: bool = False

    def hold(self) -> None:
        self.freeze = True
        self.model.requires_grad_(False)
        self.model.eval()

    def train(self, mode: bool = True) -> HFModule:
        super().train(mode)
        if self.freeze:
            self.model.eval()
        return self


class HFVisionEncoder(HFModule):
    """A pretrained `transformers` vision backbone with its own preprocessing inside.

    Args:
        name: A local folder written by `save_pretrained`, or a hub id in the local cache.
        in_channels: Channels of the images this module will get (1 = grey: repeated to the
            model's 3, with a `note`).
        freeze: Keep the backbone as loaded: no gradients, BatchNorm/dropout in eval mode
            whatever `train()` says, forward under `torch.no_grad()`.
        pool: For transformer families, "cls" (the family's pooled [CLS] output) or "mean"
            (mean of the patch tokens of the last layer); CNN families always use their own
            spatial mean.
        pretrained: Load the weights (False: the architecture from its config, randomly
            initialised from torch's seed; only the config needs to be there).

    Attributes:
        feature_dim: Size of the output, from the config.
        image_size: Side the input is resized to.
        note: What was done to fit the data to the model (grey -> RGB), or None.

    Shape:
        input (B, in_channels, H, W), uint8 in 0..255 or float in [0, 1] -> (B, feature_dim).

    Raises:
        UserError: the model is missing (where it looked, how to get it), its family is not
            supported, or `in_channels` fits neither the model nor grey-to-RGB.
    """

    mean: Tensor
    std: Tensor

    def __init__(
        self,
        *,
        name: str,
        in_channels: int = 3,
        freeze: bool = False,
        pool: Pool = "cls",
        pretrained: bool = True,
    ) -> None:
        super().__init__()
        import transformers

        if pool not in ("cls", "mean"):
            raise ValueError(f"pool must be 'cls' or 'mean', got {pool!r}")
        folder = local_folder(name)
        config = load_hf_config(name)
        family = HF_FAMILIES[config.model_type]
        model_class = getattr(transformers, family.model_class)
        extra: dict[str, Any] = {"add_pooling_layer": False} if config.model_type == "vit" else {}
        if freeze and not pretrained:
            raise ValueError("freeze needs pretrained weights")
        if not pretrained:  # the architecture only, initialised from torch's seed
            self.model = model_class(_vision_config(config), **extra).float()
        else:
            try:
                with quiet_loading():
                    self.model = model_class.from_pretrained(
                        str(folder or name), local_files_only=True, dtype=torch.float32, **extra
                    )
            except OSError as err:
                why = f"weights not found ({str(err).splitlines()[0]})"
                raise missing_model(name, why) from None
        channels = int(getattr(_vision_config(config), "num_channels", 3))
        self.note: str | None = None
        if in_channels == 1 and channels == 3:
            self.note = f"grey images repeated to 3 channels for {name} (an RGB model)"
        elif in_channels != channels:
            raise UserError(
                f"model.name {name!r} takes {channels}-channel images, the data have "
                f"{in_channels} channels"
            )
        processor = _read_preprocessor(name, folder)
        mean = processor.get("image_mean", family.mean)
        std = processor.get("image_std", family.std)
        self.name = name
        self.family = config.model_type
        self.tokens = family.tokens
        self.pool: Pool = pool
        self.in_channels = in_channels
        self.channels = channels
        self.freeze = freeze
        self.image_size = _image_size(processor, config)
        self.feature_dim = _feature_dim(config)
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))
        if freeze:
            self.hold()

    def preprocess(self, x: Tensor) -> Tensor:
        """uint8 / [0, 1] images -> what the model takes: RGB, resized, normalised.

        Shape:
            (B, in_channels, H, W) -> (B, channels, image_size, image_size) float32.
        """
        return prepare_images(
            x, in_channels=self.in_channels, channels=self.channels, side=self.image_size,
            mean=self.mean, std=self.std,
        )  # fmt: skip

    def _pooled(self, x: Tensor) -> Tensor:
        out = self.model(pixel_values=x)
        if self.tokens and self.pool == "mean":
            pooled: Tensor = out.last_hidden_state[:, 1:].mean(dim=1)  # (B, D)
        elif self.family == "vit":
            pooled = out.last_hidden_state[:, 0]  # the [CLS] token after the last LayerNorm
        else:
            pooled = out.pooler_output.flatten(1)  # ResNet: (B, C, 1, 1) -> (B, C)
        return pooled

    def forward(self, x: Tensor) -> Tensor:
        x = self.preprocess(x)
        if self.freeze:
            with torch.no_grad():
                return self._pooled(x)
        return self._pooled(x)
