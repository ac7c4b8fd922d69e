"""The sentence-transformers folder gives the embeddings contrastkit gives (<= 1e-5)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from contrastkit.encoders.text import TextEncoder, embed_tokens, load_text_encoder, tokenize
from contrastkit.errors import UserError
from contrastkit.export.sentence_transformers import write_sentence_transformer

SENTENCES = [
    "the small red fox",
    "a dog in the river",
    "sky",
    "the large green tree with a bird and a house on the land by the sea",
    "money in the bank",
]


def _load(folder: Path) -> Any:
    st = pytest.importorskip("sentence_transformers")
    return st.SentenceTransformer(str(folder), device="cpu", local_files_only=True)


@pytest.mark.slow  # importing sentence_transformers takes ~5 s here
@pytest.mark.parametrize("normalize", [True, False])
def test_same_embeddings_as_contrastkit(
    tmp_path: Path, tiny_model_dir: str, tiny_text_encoder: tuple[Any, nn.Module], normalize: bool
) -> None:
    tokenizer, _ = tiny_text_encoder
    encoder = load_text_encoder(tiny_model_dir, normalize=normalize).eval()
    with torch.no_grad():  # "train" it a little: the folder must carry these weights
        encoder.backbone.embeddings.word_embeddings.weight.add_(0.1)
    folder = write_sentence_transformer(encoder, tokenizer, tmp_path / "st", max_length=12)
    model = _load(folder)
    got = model.encode(SENTENCES, convert_to_tensor=True, batch_size=2).cpu()
    expected = embed_tokens(encoder, tokenize(tokenizer, SENTENCES, max_length=12))
    assert (got - expected).abs().max() <= 1e-5  # the long sentence is truncated in both
    assert model.max_seq_length == 12
    modules = json.loads((folder / "modules.json").read_text())
    assert [m["path"] for m in modules] == ["", "1_Pooling", *(["2_Normalize"] * normalize)]
    assert (folder / "model.safetensors").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name != "st"]  # no staging left


def test_refuses_existing_folder_and_other_modules(
    tmp_path: Path, tiny_text_encoder: tuple[Any, TextEncoder]
) -> None:
    tokenizer, encoder = tiny_text_encoder
    (tmp_path / "st").mkdir()
    (tmp_path / "st" / "keep").write_text("x")
    with pytest.raises(UserError, match="exists"):
        write_sentence_transformer(encoder, tokenizer, tmp_path / "st", max_length=8)
    assert (tmp_path / "st" / "keep").is_file()
    write_sentence_transformer(encoder, tokenizer, tmp_path / "st", max_length=8, overwrite=True)
    assert not (tmp_path / "st" / "keep").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["st"]
    with pytest.raises(ValueError, match="TextEncoder"):
        write_sentence_transformer(nn.Linear(2, 2), tokenizer, tmp_path / "x", max_length=8)
