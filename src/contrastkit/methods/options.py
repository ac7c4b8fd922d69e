"""What a method builder reads besides its own section: the base of every method section,
the two-tower `pairs` section (CLIP, SigLIP) and the few run settings a recipe sizes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from contrastkit.encoders.options import ModelConfig
from contrastkit.options import Strict


class MethodOptions(Strict):
    """The base of a method's options section: `name` selects the method (its subclass
    narrows it to one `Literal`, which is where the method's name is written)."""

    name: str


class PairsConfig(Strict):
    """Two-tower training on (image or audio, text) pairs (CLIP, SigLIP; `methods/clip.py`).

    `init_temperature` is CLIP's (scale = 1 / temperature, learned, capped at 100);
    `siglip_init_scale` / `siglip_init_bias` are SigLIP's learned logit scale and bias. The
    bias defaults to -ln(train.batch_size), the prior that one pair in a batch is positive:
    the paper's -10 is that prior for its 32k batch, and at batch 128 it held the spoken
    words on a loss plateau for about 12 epochs, where -ln 128 = -4.85 left it after 5
    (docs/multimodal.md). `text_alphabet` is what the character text tower spells with:
    "ascii" (a-z, digits, punctuation) or "latin" (also the accented letters of Latin-1 and
    œ, for texts in several languages); other characters share one unknown id.
    """

    embed_dim: int = Field(64, ge=2)
    text_width: int = Field(64, ge=4)
    text_max_len: int = Field(32, ge=4)
    text_alphabet: Literal["ascii", "latin"] = "ascii"
    init_temperature: float = Field(0.07, gt=0.0)
    siglip_init_scale: float = Field(10.0, gt=0.0)
    siglip_init_bias: float | None = None
    gather: bool = False
    similarity_pairs: int = Field(16, ge=2)


@dataclass(frozen=True)
class MethodContext:
    """The run settings a builder reads beyond its own section.

    Attributes:
        model: Encoder and head sizes (`feature_dim`, `proj_hidden_dim`, `proj_dim`).
        pairs: The two-tower settings (CLIP, SigLIP).
        epochs: Length of training (SwAV freezes its prototypes for a number of epochs).
        batch_size: The global batch (SigLIP's default bias is -ln(batch_size)).
    """

    model: ModelConfig
    pairs: PairsConfig
    epochs: int
    batch_size: int

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(
                f"epochs and batch_size must be >= 1, got {self.epochs}, {self.batch_size}"
            )
