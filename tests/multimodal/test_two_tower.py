"""CLIP and SigLIP steps of the two-tower method against NumPy references of the papers'
formulas (arXiv:2103.00020, arXiv:2303.15343), including learned scale / bias gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from contrastkit.augment.specaugment import SpecAugment
from contrastkit.batches import ImageBatch, PairBatch
from contrastkit.builders import build_method
from contrastkit.config import load_config
from contrastkit.encoders.audio import AudioCNN
from contrastkit.encoders.build import build_encoder
from contrastkit.encoders.small_text import CharTokenizer, SmallTextEncoder
from contrastkit.methods.clip import CLIP, MAX_LOGIT_SCALE
from contrastkit.methods.siglip import SigLIP
from contrastkit.methods.towers import TwoTower


def _unit(a: np.ndarray) -> np.ndarray:
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def _lse(row: np.ndarray) -> float:
    m = row.max()
    return float(m + np.log(np.exp(row - m).sum()))


def numpy_clip(x: np.ndarray, t: np.ndarray, scale: float, ids: np.ndarray) -> float:
    """1/2 (x->t + t->x); each anchor: logsumexp over all, minus the mean positive logit."""
    s = scale * _unit(x) @ _unit(t).T
    pos = ids[:, None] == ids[None, :]

    def one_way(logits: np.ndarray) -> float:
        return float(
            np.mean([_lse(logits[i]) - logits[i][pos[i]].mean() for i in range(len(logits))])
        )

    return 0.5 * (one_way(s) + one_way(s.T))


def numpy_siglip(x: np.ndarray, t: np.ndarray, scale: float, bias: float, ids: np.ndarray) -> float:
    z = scale * _unit(x) @ _unit(t).T + bias
    y = np.where(ids[:, None] == ids[None, :], 1.0, -1.0)
    return float(-np.sum(-np.logaddexp(0.0, -y * z)) / len(x))


def _clip() -> CLIP:
    tok = CharTokenizer(max_len=8)
    text = SmallTextEncoder(vocab_size=tok.vocab_size, width=8, feature_dim=6)
    sizes = {"feature_dim": 6, "text_dim": 6, "embed_dim": 6}
    return CLIP(nn.Identity(), text, tokenizer=tok, **sizes, init_temperature=0.1).double()


def _siglip() -> SigLIP:
    tok = CharTokenizer(max_len=8)
    text = SmallTextEncoder(vocab_size=tok.vocab_size, width=8, feature_dim=6)
    sizes = {"feature_dim": 6, "text_dim": 6, "embed_dim": 6}
    return SigLIP(nn.Identity(), text, tokenizer=tok, **sizes).double()


@pytest.mark.parametrize("with_ids", [False, True])
def test_clip_loss_and_scale_gradient_match_numpy(with_ids: bool) -> None:
    gen = torch.Generator().manual_seed(0)
    x = F.normalize(torch.randn(7, 6, generator=gen, dtype=torch.float64), dim=1)
    t = F.normalize(torch.randn(7, 6, generator=gen, dtype=torch.float64), dim=1)
    ids = torch.tensor([0, 1, 2, 2, 3, 4, 1]) if with_ids else torch.arange(7)
    tower = _clip()
    loss = tower.pair_loss(x, t, ids if with_ids else None)
    scale = float(tower.logit_scale())
    assert scale == pytest.approx(10.0)
    want = numpy_clip(x.numpy(), t.numpy(), scale, ids.numpy())
    assert float(loss.detach()) == pytest.approx(want, rel=1e-6)
    loss.backward()
    h = 1e-5  # d loss / d log_scale by central differences of the reference
    numeric = (
        numpy_clip(x.numpy(), t.numpy(), scale * math.exp(h), ids.numpy())
        - numpy_clip(x.numpy(), t.numpy(), scale * math.exp(-h), ids.numpy())
    ) / (2 * h)
    assert tower.log_scale.grad is not None
    assert float(tower.log_scale.grad) == pytest.approx(numeric, rel=1e-4)


def test_siglip_loss_and_learned_bias_gradient_match_numpy() -> None:
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(6, 6, generator=gen, dtype=torch.float64)
    t = torch.randn(6, 6, generator=gen, dtype=torch.float64)
    ids = torch.tensor([0, 0, 1, 2, 3, 3])
    tower = _siglip()
    assert tower.logit_bias() == pytest.approx(-10.0)
    loss = tower.pair_loss(x, t, ids)
    assert float(tower.logit_scale()) == pytest.approx(10.0)
    assert float(tower.siglip.bias.detach()) == pytest.approx(-10.0)
    want = numpy_siglip(x.numpy(), t.numpy(), 10.0, -10.0, ids.numpy())
    assert float(loss.detach()) == pytest.approx(want, rel=1e-6)
    loss.backward()
    h = 1e-6
    numeric = (
        numpy_siglip(x.numpy(), t.numpy(), 10.0, -10.0 + h, ids.numpy())
        - numpy_siglip(x.numpy(), t.numpy(), 10.0, -10.0 - h, ids.numpy())
    ) / (2 * h)
    assert tower.siglip.bias.grad is not None
    assert float(tower.siglip.bias.grad) == pytest.approx(numeric, rel=1e-4)


def test_clip_scale_is_capped_at_100_after_a_step() -> None:
    tower = _clip()
    with torch.no_grad():
        tower.log_scale.fill_(math.log(500.0))
    tower.after_step(0.5)
    assert float(tower.logit_scale()) == pytest.approx(MAX_LOGIT_SCALE)


def test_audio_text_training_step_reaches_both_towers() -> None:
    torch.manual_seed(0)
    tok = CharTokenizer(max_len=8)
    tower = CLIP(
        AudioCNN(width=4, feature_dim=16),
        SmallTextEncoder(vocab_size=tok.vocab_size, width=8, feature_dim=16),
        tokenizer=tok,
        feature_dim=16,
        text_dim=16,
        embed_dim=8,
    )
    words = ["cat", "dog", "cat", "bird"]
    batch = PairBatch(torch.randn(4, 1, 32, 40), tok.encode(words), torch.tensor([0, 1, 0, 2]))
    loss = tower.training_loss(batch, augment=SpecAugment(), generator=torch.Generator())
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    for param in (
        tower.encoder.features[0].weight,
        tower.text_encoder.embed.weight,
        tower.proj.weight,
        tower.text_proj.weight,
        tower.log_scale,
    ):
        assert param.grad is not None and float(param.grad.abs().sum()) > 0
    with pytest.raises(TypeError, match="PairBatch"):
        tower.training_loss(
            ImageBatch(batch.inputs, batch.groups),  # type: ignore[arg-type]
            augment=SpecAugment(),
        )


def test_bad_construction_fails_at_once() -> None:
    tok = CharTokenizer()
    text = SmallTextEncoder(vocab_size=tok.vocab_size)
    with pytest.raises(ValueError, match="init_scale must be > 0"):
        SigLIP(nn.Identity(), text, tokenizer=tok, feature_dim=128, text_dim=128, embed_dim=8,
               init_scale=0.0)  # fmt: skip
    with pytest.raises(ValueError, match="init_temperature"):
        CLIP(
            nn.Identity(), text, tokenizer=tok, feature_dim=128, text_dim=128, embed_dim=8,
            init_temperature=0.0,
        )  # fmt: skip


@pytest.mark.parametrize(
    ("bias", "batch", "want"), [(None, 128, -math.log(128)), (-10.0, 128, -10.0)]
)
def test_siglip_bias_starts_at_the_batch_prior_unless_set(
    bias: float | None, batch: int, want: float
) -> None:
    sets = [f"train.batch_size={batch}", "method.name=siglip"]
    if bias is not None:
        sets.append(f"method.init_bias={bias}")
    cfg = load_config(None, [*sets, "data.source=digits_captions"])
    tower = build_method(cfg, lambda: build_encoder(cfg.model, 1))
    assert isinstance(tower, TwoTower)
    assert tower.logit_bias() == pytest.approx(want)


def test_siglip_bias_follows_the_batch_size_fitted_to_the_data() -> None:
    """The config is settled (batch size for 89 training pairs) before the method is built,
    so the bias starts at -ln of the batch the run trains with."""
    from contrastkit.run import settle

    sets = ["method.name=siglip", "data.source=digits_captions", "data.test_fraction=0.95"]
    cfg = load_config(None, sets)
    run = settle(cfg, lambda _m: None)
    assert cfg.train.batch_size == 256  # the user's config is not changed
    assert run.cfg.train.batch_size == 16
    assert run.choices == [
        "chose train.batch_size=16 for 89 items (was 256, 1 step(s) per epoch); set it to override"
    ]
    tower = build_method(run.cfg, run.modality.new_encoder)
    assert isinstance(tower, TwoTower)
    assert tower.logit_bias() == pytest.approx(-math.log(16))
