"""The SCARF method: its loss is NT-Xent between each row and its own corruption."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from contrastkit.augment.tabular import ScarfCorruption
from contrastkit.batches import RowBatch
from contrastkit.encoders.mlp import TabularMLP
from contrastkit.losses import nt_xent
from contrastkit.methods.scarf import SCARF


def test_loss_is_nt_xent_of_row_and_its_corruption() -> None:
    torch.manual_seed(0)
    num, codes = torch.randn(16, 4), torch.randint(0, 3, (16, 2))
    encoder = TabularMLP(num_numeric=4, cardinalities=[3, 3], width=8, feature_dim=5)
    method = SCARF(encoder, nn.Identity(), temperature=0.7).eval()
    aug = ScarfCorruption(num, codes, rate=0.5)
    batch = RowBatch(numeric=num, codes=codes)
    loss = method.training_loss(batch, augment=aug, generator=torch.Generator().manual_seed(1))
    view = aug((num, codes), torch.Generator().manual_seed(1))
    expected = nt_xent(encoder(num, codes), encoder(*view), temperature=0.7)
    torch.testing.assert_close(loss, expected)
    # A corruption that changes nothing gives identical positives: the loss falls to its
    # floor for this batch, below the corrupted loss.
    same = method.training_loss(batch, augment=lambda rows, _g: rows)
    assert same < loss


def test_temperature_validated() -> None:
    with pytest.raises(ValueError, match="temperature"):
        SCARF(nn.Identity(), nn.Identity(), temperature=0.0)
