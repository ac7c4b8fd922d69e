"""A pretrained Hugging Face CLIP as both towers of a two-tower run (`model.encoder: hf` on a
full CLIP folder): the run starts in CLIP's own shared space, so its embeddings equal
`transformers`' image and text features on the same inputs."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from tests.multimodal.hf_clip import save_tiny_clip

from contrastkit.builders import build_method
from contrastkit.config import load_config
from contrastkit.encoders.hf_clip import HFTokenizer, is_clip_with_text
from contrastkit.encoders.hf_vision import CLIP_MEAN, CLIP_STD
from contrastkit.errors import UserError
from contrastkit.methods.towers import TwoTower
from contrastkit.run import resolve

transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_clip(tmp_path_factory.mktemp("hf") / "clip")


def _tower(folder: Path, *sets: str) -> TwoTower:
    cfg = load_config(
        None,
        ["data.source=digits_captions", "method.name=clip", "model.encoder=hf",
         f"model.name={folder}", *sets],
    )  # fmt: skip
    method = build_method(cfg, resolve(cfg).new_encoder)
    assert isinstance(method, TwoTower)
    return method


def test_both_towers_equal_the_clip_features(clip_folder: Path) -> None:
    """Image: (x / 255 - mean) / std at the model's 16x16, vision pooled output, visual
    projection; text: the tokenizer's ids, the end-of-text state, text projection; both
    unit norm. The logit scale is CLIP's (exp(2.6592) = 1 / 0.07)."""
    tower = _tower(clip_folder)
    clip = transformers.CLIPModel.from_pretrained(clip_folder, local_files_only=True).eval()
    images = torch.randint(0, 256, (3, 1, 16, 16), dtype=torch.uint8)  # grey: repeated to RGB
    x = images.float().div(255).expand(-1, 3, -1, -1) - torch.tensor(CLIP_MEAN).view(1, 3, 1, 1)
    x = x / torch.tensor(CLIP_STD).view(1, 3, 1, 1)
    with torch.no_grad():
        pooled = clip.vision_model(pixel_values=x).pooler_output
        expected_images = F.normalize(clip.visual_projection(pooled), dim=1)
        texts = ["a sneaker", "an ankle boot on a shelf", "bag"]
        tokens = transformers.AutoTokenizer.from_pretrained(clip_folder)(
            texts, padding=True, return_tensors="pt"
        )
        text_pooled = clip.text_model(input_ids=tokens["input_ids"]).pooler_output
        expected_texts = F.normalize(clip.text_projection(text_pooled), dim=1)
    torch.testing.assert_close(tower.embed_inputs(images), expected_images, atol=1e-5, rtol=0)
    torch.testing.assert_close(tower.embed_texts(texts), expected_texts, atol=1e-5, rtol=0)
    one_by_one = torch.cat([tower.embed_texts([t]) for t in texts])  # padding changes nothing
    torch.testing.assert_close(one_by_one, expected_texts, atol=1e-5, rtol=0)
    scale = math.exp(float(clip.logit_scale.detach()))
    assert tower.logit_scale() == pytest.approx(scale, rel=1e-6)


def test_tokens_are_cut_to_the_model_positions(clip_folder: Path) -> None:
    """method.text_max_len 64 is cut to the model's 40 positions, the end-of-text kept."""
    assert is_clip_with_text(str(clip_folder))
    tower = _tower(clip_folder, "method.text_max_len=64")
    ids = tower.tokenizer.encode(["a" * 100])
    assert isinstance(tower.tokenizer, HFTokenizer)
    assert ids.shape == (1, 40) and int(ids[0, -1]) == 1 and int(ids[0, 0]) == 0


def test_a_clip_folder_without_a_tokenizer_is_named(clip_folder: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("config.json", "model.safetensors"):
        (bare / name).write_bytes((clip_folder / name).read_bytes())
    with pytest.raises(UserError, match="no tokenizer saved with this CLIP"):
        _tower(bare)


def test_frozen_towers_keep_their_weights_and_train_the_projections(clip_folder: Path) -> None:
    """model.freeze holds both pretrained towers (no gradients, eval mode after train());
    the projections into the shared space still learn."""
    tower = _tower(clip_folder, "model.freeze=true")
    tower.train()
    assert not tower.text_encoder.model.training and not tower.encoder.model.training
    frozen = [p for m in (tower.encoder, tower.text_encoder) for p in m.parameters()]
    assert frozen and not any(p.requires_grad for p in frozen)
    loss = tower.pair_loss(
        tower.embed(torch.randint(0, 256, (4, 1, 16, 16), dtype=torch.uint8)),
        tower.embed_tokens(tower.tokenizer.encode(["a bag", "a coat", "a shirt", "a dress"])),
    )
    loss.backward()
    assert tower.proj.weight.grad is not None and tower.text_proj.weight.grad is not None
