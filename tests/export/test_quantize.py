"""int8 dynamic quantisation: the embeddings keep their direction (cosine > 0.99)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from contrastkit.encoders.small_cnn import SmallCNN
from contrastkit.encoders.traceable import ImageInput
from contrastkit.errors import UserError
from contrastkit.export.onnx import export_onnx, run_onnx
from contrastkit.export.quantize import compare_embeddings, quantization_agreement, quantize_int8


def test_compare_embeddings_closed_forms() -> None:
    a = np.array([[1.0, 0.0], [0.0, 2.0]])
    same = compare_embeddings(a, a)
    assert same.max_abs_diff == 0.0 and same.mean_cosine == pytest.approx(1.0)
    b = np.array([[1.0, 1.0], [0.0, 3.0]])  # row 0 at 45 degrees, row 1 same direction
    got = compare_embeddings(a, b)
    assert got.max_abs_diff == pytest.approx(1.0)
    assert got.min_cosine == pytest.approx(np.sqrt(0.5))
    assert got.mean_cosine == pytest.approx((np.sqrt(0.5) + 1.0) / 2)
    with pytest.raises(ValueError, match="one shape"):
        compare_embeddings(a, b[:1])


def test_small_cnn_int8_agrees(tmp_path: Path) -> None:
    model = ImageInput(SmallCNN(in_channels=1, width=16, feature_dim=64))
    images = torch.randint(0, 256, (64, 1, 28, 28), dtype=torch.uint8)
    model.train()
    with torch.no_grad():
        model(images)  # BatchNorm statistics of real-looking inputs
    model.eval()
    path = export_onnx(model, (images[:4],), tmp_path / "cnn.onnx", input_names=["images"])
    q = quantize_int8(path)
    assert q == tmp_path / "cnn.int8.onnx"
    assert q.stat().st_size < path.stat().st_size
    assert run_onnx(q, [images[:7]]).shape == (7, 64)  # the batch axis stays free
    agreement = quantization_agreement(path, q, [images])
    assert agreement.mean_cosine > 0.99
    assert agreement.min_cosine > 0.95
    assert agreement.max_abs_diff > 0  # it did quantise
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cnn.int8.onnx", "cnn.onnx"]
    # only the linear layer: the convolutions stay float, so the file shrinks less
    fc_only = quantize_int8(path, tmp_path / "fc.onnx", op_types=["Gemm", "MatMul"])
    assert q.stat().st_size < fc_only.stat().st_size < path.stat().st_size
    assert quantization_agreement(path, fc_only, [images]).mean_cosine > 0.99


def test_quantize_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        quantize_int8(tmp_path / "nothing.onnx")
    model = SmallCNN(in_channels=1, width=4, feature_dim=4)
    path = export_onnx(model, (torch.rand(2, 1, 8, 8),), tmp_path / "m.onnx", input_names=["x"])
    with pytest.raises(UserError, match="must not overwrite"):
        quantize_int8(path, path)
