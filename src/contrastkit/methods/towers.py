"""Two-tower alignment of a modality (images, audio) with text: what CLIP and SigLIP share.

An encoder per modality, a linear projection of each into a shared space, unit-norm
embeddings, and one loss over the pairs of a batch (`clip.py`, `siglip.py`). Pairs whose
texts share a group id (the same word, digit or caption) are all positives, so repeated
texts in a batch are not pushed apart. With `gather` the negatives come from every process
(see `contrastkit.distributed`).

The text tower is a small character encoder, or, when `model.encoder: hf` names a full
CLIP folder, that CLIP's text transformer and tokenizer, with both projections (and CLIP's
logit scale) taken from it: the run starts in the pretrained shared space
(`encoders/hf_clip.py`).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol, TypeVar

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn

from contrastkit.augment.image import to_float
from contrastkit.batches import PairBatch
from contrastkit.encoders.hf_clip import ClipText, clip_tokenizer, is_clip_with_text, load_clip_text
from contrastkit.encoders.options import ModelConfig
from contrastkit.encoders.small_text import ALPHABETS, CharTokenizer, SmallTextEncoder
from contrastkit.methods.base import InBatchMethod, Inputs, MethodContext, MethodOptions


class Tokenizer(Protocol):
    """Texts -> the token ids (N, L) int64 a text tower reads."""

    def encode(self, texts: list[str]) -> Tensor: ...


class TwoTowerOptions(MethodOptions):
    """The settings CLIP and SigLIP share.

    `embed_dim` is the size of the shared space, `text_width` and `text_max_len` the
    character text tower's width and the characters it reads, `text_alphabet` what it
    spells with ("ascii": a-z, digits, punctuation; "latin": also the accented letters of
    Latin-1 and œ, for texts in several languages; other characters share one unknown id),
    `gather` takes the negatives from every process under torchrun, and
    `similarity_pairs` is the number of pairs `similarity.png` shows.
    """

    embed_dim: int = Field(64, ge=2)
    text_width: int = Field(64, ge=4)
    text_max_len: int = Field(32, ge=4)
    text_alphabet: Literal["ascii", "latin"] = "ascii"
    gather: bool = False
    similarity_pairs: int = Field(16, ge=2)


class TwoTower(InBatchMethod[PairBatch]):
    """An encoder per modality, a linear projection of each into a shared space, one loss.

    Args:
        encoder: The non-text tower, (B, ...) -> (B, feature_dim); what `embed` and the
            downstream probes use.
        text_encoder: Token ids (B, L) -> (B, text_dim).
        tokenizer: Turns texts into the ids `text_encoder` reads.
        feature_dim: Output size of `encoder`.
        text_dim: Output size of `text_encoder`.
        embed_dim: Size of the shared space.
        gather: Negatives from all processes.
    """

    def __init__(
        self,
        encoder: nn.Module,
        text_encoder: nn.Module,
        *,
        tokenizer: Tokenizer,
        feature_dim: int,
        text_dim: int,
        embed_dim: int,
        gather: bool = False,
    ) -> None:
        super().__init__(encoder)
        self.text_encoder = text_encoder
        self.tokenizer = tokenizer
        self.proj = nn.Linear(feature_dim, embed_dim, bias=False)
        self.text_proj = nn.Linear(text_dim, embed_dim, bias=False)
        self.gather = gather

    @torch.no_grad()
    def start_from(self, clip: ClipText) -> None:
        """Take a pretrained CLIP's two projections (its text tower is `text_encoder`)."""
        self.proj.weight.copy_(clip.visual_projection)
        self.text_proj.weight.copy_(clip.text_projection)

    def projection(self, x: Tensor) -> Tensor:
        """Images or spectrograms in the shared space, before normalisation. Shape: (B, E)."""
        out: Tensor = self.proj(self.encoder(to_float(x)))
        return out

    def embed(self, x: Tensor) -> Tensor:
        """Unit-norm shared-space embeddings of images or spectrograms. Shape: (B, E)."""
        return F.normalize(self.projection(x), dim=1)

    def embed_tokens(self, ids: Tensor) -> Tensor:
        """Unit-norm shared-space embeddings of token ids (B, L). Shape: (B, E)."""
        return F.normalize(self.text_proj(self.text_encoder(ids)), dim=1)

    @torch.no_grad()
    def embed_inputs(self, x: Tensor, *, batch_size: int = 512) -> Tensor:
        """`embed` in eval mode and batches, float32 on the CPU. Shape: (N, ...) -> (N, E)."""
        return self._embed_eval(self.embed, x, batch_size)

    @torch.no_grad()
    def embed_texts(self, texts: list[str], *, batch_size: int = 512) -> Tensor:
        """Embeddings of texts in eval mode, float32 on the CPU. Shape: (len(texts), E)."""
        return self._embed_eval(self.embed_tokens, self.tokenizer.encode(texts), batch_size)

    def _embed_eval(self, embed: Callable[[Tensor], Tensor], x: Tensor, batch_size: int) -> Tensor:
        device = self.proj.weight.device
        was_training = self.training
        self.eval()
        try:
            parts = [
                embed(x[i : i + batch_size].to(device)).float().cpu()
                for i in range(0, len(x), batch_size)
            ]
        finally:
            self.train(was_training)
        return torch.cat(parts)

    @abstractmethod
    def logit_scale(self) -> float:
        """The scale multiplying cosine similarities now (1 / temperature for CLIP)."""

    def logit_bias(self) -> float | None:
        """The bias added to the scaled similarities (SigLIP), None without one."""
        return None

    @abstractmethod
    def pair_loss(self, x_emb: Tensor, t_emb: Tensor, ids: Tensor | None = None) -> Tensor:
        """The loss on unit-norm embeddings of N pairs. Shape: (N, E), (N, E), (N,)."""

    def views(
        self, batch: PairBatch, *, augment: Any, generator: torch.Generator | None = None
    ) -> tuple[Inputs, ...]:
        """A random view of batch.inputs (B, ...) and the token ids (B, L); texts are not
        augmented."""
        if not isinstance(batch, PairBatch):
            name = type(self).__name__
            raise TypeError(f"{name} trains on a PairBatch, got {type(batch).__name__}")
        view = augment(batch.inputs, generator)
        if not isinstance(view, Tensor):
            raise ValueError(
                f"{type(self).__name__} takes one view per sample; set augment.views: single"
            )
        return view, batch.tokens

    def embedder(self, index: int) -> Callable[[Any], Tensor]:
        return (self.embed, self.embed_tokens)[index]

    def embedding_loss(self, embeddings: Sequence[Tensor], batch: PairBatch) -> Tensor:
        x_emb, t_emb = embeddings
        return self.pair_loss(x_emb, t_emb, batch.groups)


TowerT = TypeVar("TowerT", bound=TwoTower)


def pretrained_clip(model: ModelConfig) -> bool:
    """True when the image tower is a Hugging Face CLIP that also has a text tower."""
    return model.encoder == "hf" and model.name is not None and is_clip_with_text(model.name)


def text_tokenizer(model: ModelConfig, options: TwoTowerOptions) -> Tokenizer:
    """The tokenizer of the text tower a run's two-tower method has (what its texts are
    tokenised with for training)."""
    if pretrained_clip(model):
        assert model.name is not None  # pretrained_clip checks it
        return clip_tokenizer(model.name, max_len=options.text_max_len)
    return char_tokenizer(options)


def char_tokenizer(options: TwoTowerOptions) -> CharTokenizer:
    """The character text tower's tokenizer for `options`."""
    return CharTokenizer(max_len=options.text_max_len, alphabet=ALPHABETS[options.text_alphabet])


def build_towers(
    cls: type[TowerT],
    encoder: nn.Module,
    options: TwoTowerOptions,
    ctx: MethodContext,
    **objective: Any,
) -> TowerT:
    """`cls` (CLIP, SigLIP) on `encoder` with its text tower: a pretrained CLIP's when the
    model section names one (its size then sets the shared space's), else the small
    character encoder sized by `options`; `objective` are `cls`'s own arguments."""
    model = ctx.model
    clip: ClipText | None = None
    text: nn.Module
    tokenizer: Tokenizer
    if pretrained_clip(model):
        assert model.name is not None  # pretrained_clip checks it
        clip = load_clip_text(
            model.name,
            pretrained=model.pretrained,
            freeze=model.freeze,
            max_len=options.text_max_len,
        )
        text, tokenizer = clip.encoder, clip.tokenizer
        text_dim, embed_dim = clip.text_dim, clip.embed_dim
    else:
        chars = char_tokenizer(options)
        text = SmallTextEncoder(
            vocab_size=chars.vocab_size, width=options.text_width, feature_dim=model.feature_dim
        )
        tokenizer, text_dim, embed_dim = chars, model.feature_dim, options.embed_dim
    tower = cls(
        encoder,
        text,
        tokenizer=tokenizer,
        feature_dim=model.feature_dim,
        text_dim=text_dim,
        embed_dim=embed_dim,
        gather=options.gather,
        **objective,
    )
    if clip is not None:
        tower.start_from(clip)
    return tower
