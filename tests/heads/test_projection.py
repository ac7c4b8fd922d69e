"""The projection head: layer layout, and SimSiam's normalised output."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from contrastkit.heads.projection import ProjectionHead


def test_layout_linear_bn_relu_between_and_a_biased_last_layer() -> None:
    head = ProjectionHead(8, 16, 4, num_layers=3)
    kinds = [type(m) for m in head.net]
    assert kinds == [nn.Linear, nn.BatchNorm1d, nn.ReLU] * 2 + [nn.Linear]
    assert head.net[-1].bias is not None and head.net[0].bias is None
    assert head(torch.randn(5, 8)).shape == (5, 4)


def test_output_bn_standardises_each_dimension_without_affine_parameters() -> None:
    head = ProjectionHead(8, 16, 4, output_bn=True).train()
    out = head(torch.randn(64, 8) * 3 + 1)
    torch.testing.assert_close(out.mean(0), torch.zeros(4), atol=1e-5, rtol=0)
    torch.testing.assert_close(out.var(0, unbiased=False), torch.ones(4), atol=1e-3, rtol=0)
    last_linear, bn = head.net[-2], head.net[-1]
    assert isinstance(bn, nn.BatchNorm1d) and bn.weight is None and last_linear.bias is None


def test_bad_sizes_are_value_errors() -> None:
    with pytest.raises(ValueError, match="num_layers"):
        ProjectionHead(8, 16, 4, num_layers=0)
    with pytest.raises(ValueError, match="dims"):
        ProjectionHead(8, 0, 4)
