"""ViTs: timm's parameter counts, CLS / mean pooling, attention against the textbook formula,
patch-size errors, interpolated position embeddings, gradients, bf16, channels_last."""

from __future__ import annotations

import math

import pytest
import torch

from contrastkit.encoders.vit import VIT_ARCHS, Attention, ViT
from contrastkit.errors import UserError

# timm's vit_tiny/small_patch16_224 (5,717,416 / 22,050,664) less the 1000-way head.
TIMM_TRUNK_PARAMS = {"vit_tiny": 5_524_416, "vit_small": 21_665_664}


@pytest.mark.parametrize("name", list(VIT_ARCHS))
def test_parameter_count_matches_timm(name: str) -> None:
    vit = ViT.from_name(name, image_size=224, patch_size=16, in_channels=3)
    assert sum(p.numel() for p in vit.parameters()) == TIMM_TRUNK_PARAMS[name]


@pytest.mark.parametrize(("name", "dim"), [("vit_tiny", 192), ("vit_small", 384)])
@pytest.mark.parametrize("pool", ["cls", "mean"])
def test_output_shape_is_feature_dim(name: str, dim: int, pool: str) -> None:
    assert VIT_ARCHS[name].feature_dim == dim
    vit = ViT.from_name(name, image_size=28, patch_size=7, in_channels=1, pool=pool)  # type: ignore[arg-type]
    assert vit.feature_dim == dim
    out = vit(torch.rand(3, 1, 28, 28))
    assert out.shape == (3, dim) and torch.isfinite(out).all()


def _small(pool: str = "cls") -> ViT:
    return ViT(image_size=16, patch_size=4, in_channels=1, width=16, depth=2, heads=2, pool=pool)  # type: ignore[arg-type]


def test_cls_and_mean_pool_read_the_same_tokens() -> None:
    """Same weights: cls returns token 0 of the final sequence, mean the mean of tokens 1..N."""
    cls_vit, mean_vit = _small("cls").eval(), _small("mean").eval()
    mean_vit.load_state_dict(cls_vit.state_dict())
    x = torch.rand(2, 1, 16, 16)
    seen: list[torch.Tensor] = []
    cls_vit.norm.register_forward_hook(lambda m, i, o: seen.append(o))
    out = cls_vit(x)
    tokens = seen[0]  # (B, 1 + 16, D)
    assert tokens.shape == (2, 17, 16)
    assert torch.equal(out, tokens[:, 0])
    assert torch.allclose(mean_vit(x), tokens[:, 1:].mean(dim=1), atol=1e-6)


def test_attention_is_softmax_qk_over_sqrt_d_times_v() -> None:
    torch.manual_seed(1)
    attn = Attention(8, heads=2).double()
    x = torch.randn(2, 5, 8, dtype=torch.float64)
    q, k, v = attn.qkv(x).split(8, dim=-1)  # (B, N, D) each
    heads = []
    for h in range(2):
        cols = slice(4 * h, 4 * h + 4)
        scores = q[..., cols] @ k[..., cols].transpose(1, 2) / math.sqrt(4)  # (B, N, N)
        heads.append(torch.softmax(scores, dim=-1) @ v[..., cols])
    expected = attn.proj(torch.cat(heads, dim=-1))
    assert torch.allclose(attn(x), expected, atol=1e-12)


def test_patch_that_does_not_divide_the_image_says_which_sizes_work() -> None:
    with pytest.raises(UserError) as err:
        ViT.from_name("vit_tiny", image_size=8, patch_size=16)
    message = str(err.value)
    assert "patch_size 16 cannot take 8x8" in message
    assert "16, 32, 48" in message and "[1, 2, 4, 8]" in message
    vit = _small()
    with pytest.raises(UserError, match=r"cannot take 18x18 .* \[1, 2, 3, 6, 9, 18\]"):
        vit(torch.rand(1, 1, 18, 18))


def test_other_image_sizes_get_interpolated_position_embeddings() -> None:
    vit = _small().eval()
    assert vit(torch.rand(2, 1, 24, 32)).shape == (2, 16)
    same = vit._position(4, 4)
    assert same is vit.pos_embed
    resized = vit._position(8, 8)
    assert resized.shape == (1, 65, 16)
    assert torch.equal(resized[:, 0], vit.pos_embed[:, 0])  # [CLS] position kept


def test_gradients_reach_every_parameter() -> None:
    vit = _small("mean")
    vit(torch.rand(2, 1, 16, 16)).pow(2).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in vit.parameters())


def test_bf16_autocast_on_cpu_is_finite_and_close() -> None:
    vit = ViT.from_name("vit_tiny", image_size=16, patch_size=4, in_channels=1).eval()
    x = torch.rand(2, 1, 16, 16)
    with torch.no_grad():
        ref = vit(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = vit(x)
    # the final LayerNorm runs in float32 under autocast; the blocks ran in bf16
    assert torch.isfinite(low).all() and not torch.equal(low.float(), ref)
    assert torch.allclose(low.float(), ref, atol=0.1)


def test_channels_last_gives_the_same_output() -> None:
    vit = _small().eval()
    x = torch.rand(2, 1, 16, 16)
    with torch.no_grad():
        ref = vit(x)
        fast = vit(x.to(memory_format=torch.channels_last))
    assert torch.allclose(fast, ref, atol=1e-5)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="heads"):
        ViT(image_size=16, patch_size=4, width=10, heads=3)
    with pytest.raises(ValueError, match="pool"):
        ViT(image_size=16, patch_size=4, pool="max")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"):
        _small()(torch.rand(1, 3, 16, 16))
