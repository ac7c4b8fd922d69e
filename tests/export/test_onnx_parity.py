"""ONNX export of every encoder kind: ONNX Runtime == PyTorch eager within 1e-4, at batch
sizes other than the example's (1 and 7; the example has 4)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from contrastkit.encoders.audio import AudioCNN
from contrastkit.encoders.mlp import TabularMLP
from contrastkit.encoders.small_cnn import SmallCNN
from contrastkit.encoders.small_text import CharTokenizer, SmallTextEncoder
from contrastkit.encoders.traceable import (
    ImageInput,
    SharedSpaceInputs,
    SharedSpaceTexts,
    TextEmbedding,
)
from contrastkit.errors import UserError
from contrastkit.export.onnx import check_parity, export_onnx, run_onnx

TOL = 1e-4


def _warm_batchnorm(module: nn.Module, *inputs: Tensor) -> None:
    """A few train-mode passes so BatchNorm running statistics are not the init (0, 1)."""
    module.train()
    with torch.no_grad():
        for _ in range(3):
            module(*inputs)
    module.eval()


def _images(n: int, c: int = 1, size: int = 8) -> Tensor:
    return torch.randint(0, 256, (n, c, size, size), dtype=torch.uint8)


def test_small_cnn_uint8_images(tmp_path: Path) -> None:
    model = ImageInput(SmallCNN(in_channels=3, width=8, feature_dim=16))
    _warm_batchnorm(model, _images(16, 3))
    path = export_onnx(model, (_images(4, 3),), tmp_path / "cnn.onnx", input_names=["images"])
    for n in (1, 7):
        assert check_parity(model, path, [_images(n, 3)]) <= TOL
    assert run_onnx(path, [_images(7, 3)]).shape == (7, 16)


def test_image_input_mean_std_matches_manual(tmp_path: Path) -> None:
    cnn = SmallCNN(in_channels=3, width=8, feature_dim=16).eval()
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    model = ImageInput(cnn, mean=mean, std=std).eval()
    x = _images(5, 3)
    manual = (x.float() / 255 - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(
        1, 3, 1, 1
    )
    with torch.no_grad():
        torch.testing.assert_close(model(x), cnn(manual))
    path = export_onnx(model, (_images(4, 3),), tmp_path / "cnn.onnx", input_names=["images"])
    assert check_parity(model, path, [x]) <= TOL
    with pytest.raises(ValueError, match="mean and std"):
        ImageInput(cnn, mean=mean)


def test_tabular_mlp_numeric_and_categorical(tmp_path: Path) -> None:
    model = TabularMLP(num_numeric=5, cardinalities=[4, 7], width=16, depth=2, feature_dim=8)

    def rows(n: int) -> tuple[Tensor, Tensor]:
        codes = torch.stack([torch.randint(0, 4, (n,)), torch.randint(0, 7, (n,))], dim=1)
        return torch.randn(n, 5), codes

    _warm_batchnorm(model, *rows(32))
    path = export_onnx(model, rows(4), tmp_path / "mlp.onnx", input_names=["numeric", "codes"])
    for n in (1, 7):
        assert check_parity(model, path, list(rows(n))) <= TOL


def test_audio_cnn(tmp_path: Path) -> None:
    model = AudioCNN(width=4, feature_dim=8)
    _warm_batchnorm(model, torch.randn(8, 1, 32, 48))
    example = (torch.randn(4, 1, 32, 48),)
    path = export_onnx(model, example, tmp_path / "a.onnx", input_names=["logmel"])
    for n in (1, 7):
        assert check_parity(model, path, [torch.randn(n, 1, 32, 48)]) <= TOL


def test_small_text_encoder_dynamic_length(tmp_path: Path) -> None:
    tokenizer = CharTokenizer(max_len=12)
    model = SmallTextEncoder(vocab_size=tokenizer.vocab_size, width=8, feature_dim=8).eval()
    ids = tokenizer.encode(["cat", "a red dog", "", "zebra crossing"])
    path = export_onnx(
        model, (ids,), tmp_path / "t.onnx", input_names=["ids"], dynamic_axes={"ids": {1: "chars"}}
    )
    one = tokenizer.encode(["hello"])
    seven = CharTokenizer(max_len=20).encode(["a", "bb", "", "four words in here", "x", "y", "zz"])
    assert check_parity(model, path, [one]) <= TOL
    assert check_parity(model, path, [seven]) <= TOL  # another length than the example's


def test_text_encoder_tiny_bert(tmp_path: Path, tiny_text_encoder: nn.Module) -> None:
    from contrastkit.encoders.text import embed_tokens, tokenize

    tokenizer, encoder = tiny_text_encoder
    model = TextEmbedding(encoder)
    first = ["the cat", "a small red fox on the river", "sky", "dog"]
    example = tokenize(tokenizer, first, max_length=16)
    path = export_onnx(
        model,
        (example.ids, example.mask),
        tmp_path / "text.onnx",
        input_names=["input_ids", "attention_mask"],
        dynamic_axes={"input_ids": {1: "sequence"}, "attention_mask": {1: "sequence"}},
    )
    texts = ["the dark sea", "fish", "a large green tree by the house", "x", "bank", "fire", "sky"]
    for batch in (texts[:1], texts):
        tokens = tokenize(tokenizer, batch, max_length=16)
        assert check_parity(model, path, [tokens.ids, tokens.mask]) <= TOL
        # ... and the exported function is the encoder's own (with its padding cut)
        onnx_out = torch.from_numpy(run_onnx(path, [tokens.ids, tokens.mask]))
        torch.testing.assert_close(onnx_out, embed_tokens(encoder, tokens), atol=TOL, rtol=0)


def test_two_tower_both_towers(tmp_path: Path) -> None:
    from contrastkit.methods.clip import CLIP

    tokenizer = CharTokenizer(max_len=10)
    model = CLIP(
        SmallCNN(in_channels=1, width=4, feature_dim=8),
        SmallTextEncoder(vocab_size=tokenizer.vocab_size, width=8, feature_dim=8),
        tokenizer=tokenizer,
        feature_dim=8,
        text_dim=8,
        embed_dim=6,
    )
    _warm_batchnorm(SharedSpaceInputs(model), _images(16))
    inputs, texts = SharedSpaceInputs(model), SharedSpaceTexts(model)
    p_in = export_onnx(inputs, (_images(4),), tmp_path / "inputs.onnx", input_names=["images"])
    p_tx = export_onnx(
        texts,
        (tokenizer.encode(["one", "two", "three", "four"]),),
        tmp_path / "texts.onnx",
        input_names=["ids"],
    )
    words = ["zero", "one", "two", "three", "four", "five", "six"]
    for n in (1, 7):
        assert check_parity(inputs, p_in, [_images(n)]) <= TOL
        assert check_parity(texts, p_tx, [tokenizer.encode(words[:n])]) <= TOL
    # the same vectors the model's own embed_inputs / embed_texts give, unit norm
    x = _images(7)
    torch.testing.assert_close(
        torch.from_numpy(run_onnx(p_in, [x])), model.embed_inputs(x), atol=TOL, rtol=0
    )
    t = torch.from_numpy(run_onnx(p_tx, [tokenizer.encode(words)]))
    torch.testing.assert_close(t, model.embed_texts(words), atol=TOL, rtol=0)
    np.testing.assert_allclose(t.norm(dim=1).numpy(), 1.0, atol=1e-5)


def test_two_tower_audio_tower(tmp_path: Path) -> None:
    from contrastkit.methods.siglip import SigLIP

    tokenizer = CharTokenizer(max_len=10)
    model = SigLIP(
        AudioCNN(width=4, feature_dim=8),
        SmallTextEncoder(vocab_size=tokenizer.vocab_size, width=8, feature_dim=8),
        tokenizer=tokenizer,
        feature_dim=8,
        text_dim=8,
        embed_dim=6,
    )
    tower = SharedSpaceInputs(model)
    _warm_batchnorm(tower, torch.randn(8, 1, 32, 32))
    path = export_onnx(tower, (torch.randn(4, 1, 32, 32),), tmp_path / "a.onnx", input_names=["x"])
    for n in (1, 7):
        assert check_parity(tower, path, [torch.randn(n, 1, 32, 32)]) <= TOL


def test_parity_failure_names_output_and_difference(tmp_path: Path) -> None:
    model = SmallCNN(in_channels=1, width=4, feature_dim=4).eval()
    x = torch.rand(4, 1, 8, 8)
    path = export_onnx(model, (x,), tmp_path / "m.onnx", input_names=["images"], output_name="z")
    with torch.no_grad():
        model.fc.bias.add_(0.5)  # PyTorch now differs from the file by 0.5 everywhere
    with pytest.raises(UserError, match=r"output 'z' differs from PyTorch by 0\.5"):
        check_parity(model, path, [x])
    assert abs(check_parity(model, path, [x], tolerance=1.0) - 0.5) < 1e-5


def test_export_validates_arguments(tmp_path: Path) -> None:
    model = SmallCNN(in_channels=1, width=4, feature_dim=4)
    x = torch.rand(2, 1, 8, 8)
    with pytest.raises(ValueError, match="input_names"):
        export_onnx(model, (x,), tmp_path / "m.onnx", input_names=["a", "b"])
    with pytest.raises(ValueError, match="distinct"):
        export_onnx(model, (x,), tmp_path / "m.onnx", input_names=["z"], output_name="z")
    with pytest.raises(ValueError, match="opset"):
        export_onnx(model, (x,), tmp_path / "m.onnx", input_names=["x"], opset=7)
    with pytest.raises(ValueError, match="'y'"):
        export_onnx(model, (x,), tmp_path / "m.onnx", input_names=["x"], dynamic_axes={"y": {}})
    with pytest.raises(UserError, match="not found"):
        run_onnx(tmp_path / "missing.onnx", [x])
    assert not list(tmp_path.iterdir())  # nothing half-written
    assert model.training  # mode untouched


def test_onnx_encoder_batches_and_checks_inputs(tmp_path: Path) -> None:
    from contrastkit.export.onnx import OnnxEncoder

    model = ImageInput(SmallCNN(in_channels=1, width=4, feature_dim=8)).eval()
    path = export_onnx(model, (_images(4),), tmp_path / "m.onnx", input_names=["images"])
    encoder = OnnxEncoder(path, threads=1)
    assert encoder.input_names == ["images"] and encoder.output_name == "embedding"
    x = _images(10)
    whole = encoder(x)
    np.testing.assert_allclose(encoder(x, batch_size=3), whole, atol=1e-6, rtol=0)
    np.testing.assert_allclose(encoder(x.numpy()), whole, atol=0, rtol=0)
    with pytest.raises(UserError, match="input 'images' takes uint8, got float32"):
        encoder(x.float())
    with pytest.raises(UserError, match="takes 1 inputs"):
        encoder(x, x)
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(UserError, match="not a loadable ONNX model"):
        OnnxEncoder(tmp_path / "junk.onnx")
