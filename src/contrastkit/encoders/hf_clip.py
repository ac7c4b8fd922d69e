"""The text side of a pretrained Hugging Face CLIP (arXiv:2103.00020), offline: its text
transformer, its tokenizer, and the two projections and logit scale that put both towers in
CLIP's shared space.

A CLIP folder (what `CLIPModel.save_pretrained` writes, with its tokenizer) named by
`model.encoder: hf` and `model.name` gives the vision tower (`encoders/hf_vision.py`); this
module gives the rest, so that a two-tower run starts in the pretrained space:

    image: visual_projection(vision pooled output)     text: text_projection(EOS token)

The text transformer's pooled output is the hidden state of the end-of-text token after its
final LayerNorm (causal attention: padding after it changes nothing). Loaded with
`local_files_only=True`: nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from contrastkit.encoders.hf_vision import (
    HFModule,
    load_hf_config,
    local_folder,
    missing_model,
    quiet_loading,
)
from contrastkit.errors import UserError

TOKENIZER_FILES = ("tokenizer.json", "vocab.json")
"""A saved CLIP tokenizer has one of these (fast, or vocabulary + merges)."""


def is_clip_with_text(name: str) -> bool:
    """True when `name` is a full CLIP (vision and text towers), not a vision tower alone."""
    return getattr(load_hf_config(name), "text_config", None) is not None


class HFTokenizer:
    """A CLIP tokenizer saved with the model: texts -> (N, max_len) int64 ids, padded and cut
    (the end-of-text token kept).

    Raises:
        UserError: the folder has no tokenizer files.
    """

    def __init__(self, name: str, *, max_len: int) -> None:
        from transformers import AutoTokenizer

        folder = local_folder(name)
        missing = UserError(
            f"model.name {name!r}: no tokenizer saved with this CLIP (tokenizer.json or "
            "vocab.json); save it beside the model with `tokenizer.save_pretrained(FOLDER)`"
        )
        if not _has_tokenizer_files(name, folder):  # transformers would make an empty one
            raise missing
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(
                str(folder or name), local_files_only=True
            )
        except (OSError, ValueError, TypeError):
            raise missing from None
        self.max_len = max_len

    @property
    def vocab_size(self) -> int:
        return int(len(self.tokenizer))

    def encode(self, texts: list[str]) -> Tensor:
        """Shape: N texts -> (N, max_len) int64."""
        out = self.tokenizer(
            list(texts),
            padding="max_length",
            truncation=True,
            max_length=self.max_len,
            return_tensors="pt",
        )
        return out["input_ids"].to(torch.int64)


def _has_tokenizer_files(name: str, folder: Path | None) -> bool:
    if folder is not None:
        return any((folder / f).is_file() for f in TOKENIZER_FILES)
    from huggingface_hub import try_to_load_from_cache

    return any(
        isinstance(try_to_load_from_cache(repo_id=name, filename=f), str) for f in TOKENIZER_FILES
    )


def clip_tokenizer(name: str, *, max_len: int) -> HFTokenizer:
    """The CLIP's tokenizer, cutting texts to `max_len` tokens or the model's position count,
    whichever is smaller."""
    positions = int(load_hf_config(name).text_config.max_position_embeddings)
    return HFTokenizer(name, max_len=min(max_len, positions))


def _first_line(err: BaseException) -> str:
    return (str(err).splitlines() or [type(err).__name__])[0]


class HFTextTower(HFModule):
    """CLIP's text transformer: token ids -> the pooled end-of-text state.

    Args:
        model: A `transformers` `CLIPTextModel`.
        eos_id: The tokenizer's end-of-text id (columns after the last one in a batch are
            cut).
        freeze: Keep the weights as loaded (no gradients, eval mode, no autograd graph).

    Shape:
        input (B, L) int64 -> output (B, hidden_size).
    """

    def __init__(self, model: nn.Module, *, eos_id: int, freeze: bool = False) -> None:
        super().__init__()
        self.model = model
        self.eos_id = eos_id
        if freeze:
            self.hold()

    def forward(self, ids: Tensor) -> Tensor:
        if ids.ndim != 2 or ids.dtype != torch.int64:
            raise ValueError(f"expected int64 token ids (B, L), got {ids.dtype} {tuple(ids.shape)}")
        ends = (ids == self.eos_id).int().argmax(dim=1)  # the first end-of-text of each row
        ids = ids[:, : int(ends.max()) + 1]  # exact: causal attention, absolute positions
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.freeze):
            pooled: Tensor = self.model(input_ids=ids).pooler_output  # (B, hidden)
        return pooled


@dataclass(frozen=True)
class ClipText:
    """What a two-tower method takes from a CLIP besides its vision tower.

    Attributes:
        encoder: The text tower, ids (B, L) -> (B, text_dim).
        tokenizer: Its tokenizer.
        text_dim: The text tower's output size.
        embed_dim: The shared space's size (CLIP's projection_dim).
        visual_projection: Shape: (embed_dim, vision hidden size), image side.
        text_projection: Shape: (embed_dim, text_dim).
        log_scale: CLIP's learned log logit scale.
    """

    encoder: HFTextTower
    tokenizer: HFTokenizer
    text_dim: int
    embed_dim: int
    visual_projection: Tensor
    text_projection: Tensor
    log_scale: float


def load_clip_text(name: str, *, pretrained: bool, freeze: bool, max_len: int) -> ClipText:
    """The text tower, tokenizer, projections and scale of the CLIP at `name` (a folder or a
    hub id in the local cache); `pretrained=False` builds them from the config alone,
    initialised from torch's seed. Texts are cut to `max_len` tokens (at most the model's
    position count).

    Raises:
        UserError: not a full CLIP, or its weights or tokenizer are missing.
    """
    import transformers

    config: Any = load_hf_config(name)
    if getattr(config, "text_config", None) is None:
        raise UserError(f"model.name {name!r}: a vision model without a text tower")
    if pretrained:
        try:
            with quiet_loading():
                clip = transformers.CLIPModel.from_pretrained(
                    str(local_folder(name) or name), local_files_only=True, dtype=torch.float32
                )
        except OSError as err:
            raise missing_model(name, f"weights not found ({_first_line(err)})") from None
    else:
        clip = transformers.CLIPModel(config).float()
    text = config.text_config
    tokenizer = clip_tokenizer(name, max_len=max_len)
    eos = tokenizer.tokenizer.eos_token_id  # the config's may be a legacy placeholder (2)
    return ClipText(
        encoder=HFTextTower(clip.text_model, eos_id=int(eos), freeze=freeze),
        tokenizer=tokenizer,
        text_dim=int(text.hidden_size),
        embed_dim=int(config.projection_dim),
        visual_projection=clip.visual_projection.weight.detach().clone(),
        text_projection=clip.text_projection.weight.detach().clone(),
        log_scale=float(clip.logit_scale.detach()),
    )
