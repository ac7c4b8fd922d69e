"""A tiny random BERT saved like a Hugging Face model directory, for fast text tests."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
import torch

WORDS = [
    "the",
    "a",
    "of",
    "and",
    "to",
    "in",
    "is",
    "on",
    "with",
    "animal",
    "small",
    "large",
    "red",
    "blue",
    "green",
    "fox",
    "dog",
    "cat",
    "bird",
    "fish",
    "tree",
    "house",
    "river",
    "stone",
    "light",
    "dark",
    "fast",
    "slow",
    "water",
    "fire",
    "money",
    "bank",
    "land",
    "sea",
    "sky",
]


def make_tiny_model(path: Path, *, seed: int = 0) -> Path:
    """Write a 2-layer, 32-wide BERT with a word + character WordPiece vocabulary."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    path.mkdir(parents=True, exist_ok=True)
    letters = list(string.ascii_lowercase + string.digits + string.punctuation)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, *letters]
    vocab += [f"##{c}" for c in string.ascii_lowercase + string.digits]
    tokenizer = BertTokenizerFast(vocab={token: i for i, token in enumerate(vocab)})
    tokenizer.save_pretrained(path)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    torch.manual_seed(seed)
    BertModel(config).save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(make_tiny_model(tmp_path_factory.mktemp("tiny_bert")))
