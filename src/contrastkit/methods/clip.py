"""Two-tower contrastive alignment of a modality (images, audio) with text.

CLIP (Radford et al. 2021, arXiv:2103.00020): symmetric InfoNCE over the N x N cosine
similarities of a batch of pairs, with a learned logit scale ``s = exp(t)`` (init
1 / 0.07, capped at 100)::

    L = 1/2 [ InfoNCE(s * x, y) + InfoNCE(s * y, x) ]

SigLIP (Zhai et al. 2023, arXiv:2303.15343): a binary sigmoid loss for every pair with
a learned scale and bias (init 10, -10); no softmax over the batch.

Pairs whose texts share a group id (the same word, digit or caption) are all positives,
so repeated texts in a batch are not pushed apart. With `gather=True` the negatives come
from every process (see `contrastkit.distributed`).

The text tower is a small character encoder, or, when `model.encoder: hf` names a full
CLIP folder, that CLIP's text transformer and tokenizer, with both projections and the
logit scale taken from it: the run starts in the pretrained shared space
(`encoders/hf_clip.py`).
"""

from __future__ import annotations

import math
from typing import Literal, Protocol

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from contrastkit.augment.image import to_float
from contrastkit.augment.types import Augment
from contrastkit.batches import PairBatch
from contrastkit.encoders.hf_clip import ClipText, clip_tokenizer, is_clip_with_text, load_clip_text
from contrastkit.encoders.options import ModelConfig
from contrastkit.encoders.small_text import ALPHABETS, CharTokenizer, SmallTextEncoder
from contrastkit.losses import SigmoidPairsLoss, info_nce
from contrastkit.methods.options import MethodContext, MethodOptions, PairsConfig

Objective = Literal["clip", "siglip"]
MAX_LOGIT_SCALE = 100.0


class Tokenizer(Protocol):
    """Texts -> the token ids (N, L) int64 a text tower reads."""

    def encode(self, texts: list[str]) -> Tensor: ...


def pretrained_clip(model: ModelConfig) -> bool:
    """True when the image tower is a Hugging Face CLIP that also has a text tower."""
    return model.encoder == "hf" and model.name is not None and is_clip_with_text(model.name)


def text_tokenizer(model: ModelConfig, pairs: PairsConfig) -> Tokenizer:
    """The tokenizer of the text tower a run's two-tower method has (what its texts are
    tokenised with for training)."""
    if pretrained_clip(model):
        assert model.name is not None  # pretrained_clip checks it
        return clip_tokenizer(model.name, max_len=pairs.text_max_len)
    return CharTokenizer(max_len=pairs.text_max_len, alphabet=ALPHABETS[pairs.text_alphabet])


class CLIPConfig(MethodOptions):
    """CLIP (arXiv:2103.00020): symmetric InfoNCE between two towers; its settings are in
    the `pairs` section, shared with SigLIP."""

    name: Literal["clip"] = "clip"


class SigLIPConfig(MethodOptions):
    """SigLIP (arXiv:2303.15343): one sigmoid per pair; its settings are in `pairs`."""

    name: Literal["siglip"] = "siglip"


class TwoTower(nn.Module):
    """An encoder per modality, a linear projection of each into a shared space, one loss.

    Args:
        encoder: The non-text tower, (B, ...) -> (B, feature_dim); what `embed` and the
            downstream probes use.
        text_encoder: Token ids (B, L) -> (B, text_dim).
        tokenizer: Turns texts into the ids `text_encoder` reads.
        feature_dim: Output size of `encoder`.
        text_dim: Output size of `text_encoder`.
        embed_dim: Size of the shared space.
        objective: "clip" (symmetric InfoNCE) or "siglip" (sigmoid pairs).
        init_temperature: CLIP's initial temperature (scale = 1 / temperature).
        siglip_init_scale: SigLIP's initial logit scale.
        siglip_init_bias: SigLIP's initial logit bias.
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
        objective: Objective = "clip",
        init_temperature: float = 0.07,
        siglip_init_scale: float = 10.0,
        siglip_init_bias: float = -10.0,
        gather: bool = False,
    ) -> None:
        super().__init__()
        if objective not in ("clip", "siglip"):
            raise ValueError(f"objective must be 'clip' or 'siglip', got {objective!r}")
        if init_temperature <= 0 or 1.0 / init_temperature > MAX_LOGIT_SCALE:
            raise ValueError(
                f"init_temperature must be in [{1 / MAX_LOGIT_SCALE}, inf), got {init_temperature}"
            )
        self.encoder = encoder
        self.text_encoder = text_encoder
        self.tokenizer = tokenizer
        self.proj = nn.Linear(feature_dim, embed_dim, bias=False)
        self.text_proj = nn.Linear(text_dim, embed_dim, bias=False)
        self.objective: Objective = objective
        self.gather = gather
        self.log_scale = nn.Parameter(
            torch.tensor(math.log(1.0 / init_temperature)), requires_grad=objective == "clip"
        )
        self.siglip = SigmoidPairsLoss(
            init_scale=siglip_init_scale, init_bias=siglip_init_bias, gather=gather
        )
        self.siglip.requires_grad_(objective == "siglip")

    def embed(self, x: Tensor) -> Tensor:
        """Unit-norm shared-space embeddings of images or spectrograms. Shape: (B, E)."""
        return F.normalize(self.proj(self.encoder(to_float(x))), dim=1)

    def embed_tokens(self, ids: Tensor) -> Tensor:
        """Unit-norm shared-space embeddings of token ids (B, L). Shape: (B, E)."""
        return F.normalize(self.text_proj(self.text_encoder(ids)), dim=1)

    @torch.no_grad()
    def embed_inputs(self, x: Tensor, *, batch_size: int = 512) -> Tensor:
        """`embed` in eval mode and batches, float32 on the CPU. Shape: (N, ...) -> (N, E)."""
        device = self.proj.weight.device
        was_training = self.training
        self.eval()
        try:
            parts = [
                self.embed(x[i : i + batch_size].to(device)).float().cpu()
                for i in range(0, len(x), batch_size)
            ]
        finally:
            self.train(was_training)
        return torch.cat(parts)

    @torch.no_grad()
    def embed_texts(self, texts: list[str], *, batch_size: int = 512) -> Tensor:
        """Embeddings of texts in eval mode, float32 on the CPU. Shape: (len(texts), E)."""
        device = self.proj.weight.device
        was_training = self.training
        self.eval()
        try:
            ids = self.tokenizer.encode(texts)
            parts = [
                self.embed_tokens(ids[i : i + batch_size].to(device)).float().cpu()
                for i in range(0, len(texts), batch_size)
            ]
        finally:
            self.train(was_training)
        return torch.cat(parts)

    def logit_scale(self) -> float:
        """The scale multiplying cosine similarities now (1 / temperature for CLIP)."""
        log_scale = self.siglip.log_scale if self.objective == "siglip" else self.log_scale
        return math.exp(float(log_scale.detach()))

    def pair_loss(self, x_emb: Tensor, t_emb: Tensor, ids: Tensor | None = None) -> Tensor:
        """The objective on unit-norm embeddings of N pairs. Shape: (N, E), (N, E), (N,)."""
        if self.objective == "siglip":
            return self.siglip(x_emb, t_emb, ids=ids)
        scale = self.log_scale.exp()
        # scale * cos(x, t) as a dot product: info_nce with normalize=False, temperature 1.
        x_to_t = info_nce(
            scale * x_emb, t_emb, temperature=1.0, normalize=False, ids=ids, gather=self.gather
        )
        t_to_x = info_nce(
            scale * t_emb, x_emb, temperature=1.0, normalize=False, ids=ids, gather=self.gather
        )
        return 0.5 * (x_to_t + t_to_x)

    def training_loss(
        self, batch: PairBatch, *, augment: Augment, generator: torch.Generator | None = None
    ) -> Tensor:
        """Loss of one batch of pairs: a random view of batch.inputs (augment) vs its text.
        Shapes: inputs (B, ...), tokens (B, L), groups (B,)."""
        if not isinstance(batch, PairBatch):
            raise TypeError(f"TwoTower trains on a PairBatch, got {type(batch).__name__}")
        view = augment(batch.inputs, generator)
        if not isinstance(view, Tensor):
            raise ValueError("TwoTower takes one view per sample; set augment.views: single")
        return self.pair_loss(self.embed(view), self.embed_tokens(batch.tokens), batch.groups)

    @torch.no_grad()
    def after_step(self, progress: float) -> None:
        """CLIP caps the learned logit scale at 100 (arXiv:2103.00020, Sec. 2.5)."""
        self.log_scale.clamp_(max=math.log(MAX_LOGIT_SCALE))


def _build(encoder: nn.Module, ctx: MethodContext, objective: Objective) -> TwoTower:
    pairs, model = ctx.pairs, ctx.model
    siglip_bias = (
        -math.log(ctx.batch_size) if pairs.siglip_init_bias is None else pairs.siglip_init_bias
    )
    if pretrained_clip(model):
        assert model.name is not None  # pretrained_clip checks it
        clip = load_clip_text(
            model.name, pretrained=model.pretrained, freeze=model.freeze, max_len=pairs.text_max_len
        )
        return _from_clip(encoder, clip, ctx, objective, siglip_bias)
    tokenizer = CharTokenizer(max_len=pairs.text_max_len, alphabet=ALPHABETS[pairs.text_alphabet])
    text = SmallTextEncoder(
        vocab_size=tokenizer.vocab_size,
        width=pairs.text_width,
        feature_dim=model.feature_dim,
    )
    return TwoTower(
        encoder,
        text,
        tokenizer=tokenizer,
        feature_dim=model.feature_dim,
        text_dim=model.feature_dim,
        embed_dim=pairs.embed_dim,
        objective=objective,
        init_temperature=pairs.init_temperature,
        siglip_init_scale=pairs.siglip_init_scale,
        siglip_init_bias=siglip_bias,
        gather=pairs.gather,
    )


def _from_clip(
    encoder: nn.Module, clip: ClipText, ctx: MethodContext, objective: Objective, bias: float
) -> TwoTower:
    """Two towers in a pretrained CLIP's space: its text tower and tokenizer, its two
    projections (`pairs.embed_dim` gives way to CLIP's size) and its logit scale."""
    pairs = ctx.pairs
    tower = TwoTower(
        encoder,
        clip.encoder,
        tokenizer=clip.tokenizer,
        feature_dim=ctx.model.feature_dim,
        text_dim=clip.text_dim,
        embed_dim=clip.embed_dim,
        objective=objective,
        siglip_init_scale=pairs.siglip_init_scale,
        siglip_init_bias=bias,
        gather=pairs.gather,
    )
    with torch.no_grad():
        tower.proj.weight.copy_(clip.visual_projection)
        tower.text_proj.weight.copy_(clip.text_projection)
        tower.log_scale.fill_(min(clip.log_scale, math.log(MAX_LOGIT_SCALE)))
    return tower


def build_clip(options: CLIPConfig, encoder: nn.Module, ctx: MethodContext) -> TwoTower:
    """CLIP: `encoder` + a text tower (the small character encoder, or a Hugging Face CLIP's
    own), symmetric InfoNCE (`ctx.pairs`)."""
    return _build(encoder, ctx, "clip")


def build_siglip(options: SigLIPConfig, encoder: nn.Module, ctx: MethodContext) -> TwoTower:
    """SigLIP: `encoder` + a text tower (as CLIP's), sigmoid pair loss (`ctx.pairs`)."""
    return _build(encoder, ctx, "siglip")
