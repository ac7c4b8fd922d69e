"""A tiny random BERT text encoder and its tokenizer (the text tests' WordPiece model)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.text.conftest import make_tiny_model
from torch import nn


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    pytest.importorskip("transformers")
    return str(make_tiny_model(tmp_path_factory.mktemp("tiny_bert")))


@pytest.fixture
def tiny_text_encoder(tiny_model_dir: str) -> tuple[Any, nn.Module]:
    """(tokenizer, TextEncoder with normalisation) on the tiny BERT, in eval mode."""
    from contrastkit.encoders.text import load_text_encoder, load_tokenizer

    return load_tokenizer(tiny_model_dir), load_text_encoder(tiny_model_dir, normalize=True).eval()
