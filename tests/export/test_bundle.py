"""An exported folder is usable on its own: read preprocess.json, prepare inputs as it
says, run model.onnx, get the encoder's embeddings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from contrastkit.data.preprocess import ImagePreprocess, TokenizerPreprocess, read_preprocess
from contrastkit.encoders.small_cnn import SmallCNN
from contrastkit.encoders.traceable import ImageInput
from contrastkit.errors import UserError
from contrastkit.export.bundle import export_encoder, export_text_encoder
from contrastkit.export.onnx import run_onnx


def test_image_folder(tmp_path: Path) -> None:
    model = ImageInput(SmallCNN(in_channels=1, width=4, feature_dim=8)).eval()
    images = torch.randint(0, 256, (6, 1, 8, 8), dtype=torch.uint8)
    spec = ImagePreprocess(height=8, width=8, channels=1)
    done = export_encoder(model, (images,), tmp_path, input_names=["images"], preprocess=spec)
    assert done.batch_sizes == (6, 1) and done.max_abs_diff <= 1e-4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx", "preprocess.json"]
    assert read_preprocess(tmp_path) == spec


def test_image_folder_parity_failure(tmp_path: Path) -> None:
    class Noisy(nn.Module):  # differs from its own trace on every call
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.float().flatten(1) + torch.rand(x.shape[0], 1)

    images = torch.randint(0, 256, (4, 1, 2, 2), dtype=torch.uint8)
    spec = ImagePreprocess(height=2, width=2, channels=1)
    with pytest.raises(UserError, match="output 'embedding' differs"):
        export_encoder(Noisy(), (images,), tmp_path, input_names=["images"], preprocess=spec)
    assert not (tmp_path / "preprocess.json").exists()  # not reported as done


def test_text_folder_round_trip(tmp_path: Path, tiny_text_encoder: tuple[Any, nn.Module]) -> None:
    from transformers import AutoTokenizer

    from contrastkit.encoders.text import embed_tokens, tokenize

    tokenizer, encoder = tiny_text_encoder
    texts = ["the cat", "a small blue bird in the tree", "sea"]
    done = export_text_encoder(encoder, tokenizer, tmp_path, texts=texts, max_length=10)
    assert done.max_abs_diff <= 1e-4
    spec = read_preprocess(tmp_path)
    assert spec == TokenizerPreprocess(tokenizer_dir="tokenizer", max_length=10, normalized=True)
    # a consumer with only the folder: its tokenizer, its max_length, its model
    reloaded = AutoTokenizer.from_pretrained(tmp_path / spec.tokenizer_dir, local_files_only=True)
    new = ["fire and water", "the dark river of the land and the light sky over it all", "x"]
    tokens = tokenize(reloaded, new, max_length=spec.max_length)
    got = torch.from_numpy(run_onnx(done.onnx_path, [tokens.ids, tokens.mask]))
    expected = embed_tokens(encoder, tokenize(tokenizer, new, max_length=10))
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=0)
