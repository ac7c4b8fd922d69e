"""The packed BERT forward (`encoders/packed_bert.py`) against `BertModel` + mean pooling."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

from contrastkit.encoders.packed_bert import packs
from contrastkit.encoders.text import TextEncoder, encode_by_length, load_text_encoder


def masks() -> Tensor:
    """Right-padded rows of lengths 1 to 40 (several length groups), a row with a hole and
    a row without real tokens. Shape: (44, 40)."""
    lengths = torch.tensor([*range(1, 41), 7, 40])
    mask = (torch.arange(40) < lengths[:, None]).long()
    mask[40, 3] = 0  # a hole: positions stay the columns', as in BertModel
    return torch.cat([mask, torch.zeros(1, 40, dtype=torch.long), mask[:1]])


def outputs_and_grads(encoder: TextEncoder, *, packed: bool) -> tuple[Tensor, list[Tensor]]:
    torch.manual_seed(0)
    mask = masks()
    ids = torch.randint(5, 60, mask.shape) * mask
    encoder.packed = packed
    encoder.zero_grad()
    z = encoder(ids, mask)
    (z * torch.linspace(-1, 1, z.numel()).view_as(z)).sum().backward()
    return z.detach(), [p.grad.clone() for p in encoder.parameters() if p.grad is not None]


@pytest.mark.parametrize("training", [False, True])
def test_packed_equals_bert_model_and_its_gradients(tiny_model: str, training: bool) -> None:
    encoder = load_text_encoder(tiny_model, normalize=False).train(training)
    for module in encoder.modules():  # dropout off, so that train mode is deterministic
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    assert encoder.packed
    z, grads = outputs_and_grads(encoder, packed=True)
    reference, reference_grads = outputs_and_grads(encoder, packed=False)
    torch.testing.assert_close(z, reference, rtol=1e-5, atol=1e-5)
    assert z[-2].abs().max() == 0  # the row without tokens pools to 0, as mean_pool gives it
    assert len(grads) == len(reference_grads)
    for g, r in zip(grads, reference_grads, strict=True):  # sums over ~900 tokens, two orders
        torch.testing.assert_close(g, r, rtol=1e-3, atol=1e-4)


def test_packed_keeps_dropout_in_training(tiny_model: str) -> None:
    encoder = load_text_encoder(tiny_model, normalize=False).train()
    mask = masks()[:40]
    ids = torch.randint(5, 60, mask.shape) * mask
    first, second = encoder(ids, mask), encoder(ids, mask)
    assert not torch.allclose(first, second)  # BERT's dropouts (p = 0.1) are drawn
    encoder.eval()
    torch.testing.assert_close(encoder(ids, mask), encoder(ids, mask), rtol=0, atol=0)


@pytest.mark.parametrize("packed", [False, True])
def test_encode_by_length_equals_one_call_per_part(tiny_model: str, packed: bool) -> None:
    encoder = load_text_encoder(tiny_model, normalize=True).eval()
    encoder.packed = packed  # False: the grouped path that any other transformer takes
    mask = masks()
    ids = torch.randint(5, 60, mask.shape) * mask
    parts = [(ids[:20, :25], mask[:20, :25]), (ids[20:], mask[20:])]
    together = encode_by_length(encoder, parts)
    for (part_ids, part_mask), z in zip(parts, together, strict=True):
        torch.testing.assert_close(z, encoder(part_ids, part_mask), rtol=1e-5, atol=1e-6)


def test_packs_only_a_bert_encoder_with_absolute_positions() -> None:
    from transformers import BertConfig, BertModel, RobertaConfig, RobertaModel

    small = {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2}
    assert packs(BertModel(BertConfig(**small)))
    relative = BertConfig(**small, position_embedding_type="relative_key")
    assert not packs(BertModel(relative))
    assert not packs(BertModel(BertConfig(**small, is_decoder=True)))
    assert not packs(RobertaModel(RobertaConfig(**small)))  # positions offset by padding
    assert not packs(torch.nn.Linear(2, 2))


def test_a_batch_without_tokens_pools_to_zeros(tiny_model: str) -> None:
    encoder = load_text_encoder(tiny_model, normalize=False).eval()
    mask = torch.zeros(3, 5, dtype=torch.long)
    z = encoder(mask, mask)
    encoder.packed = False
    torch.testing.assert_close(z, encoder(mask, mask), rtol=0, atol=0)
    assert z.shape == (3, 32) and not z.any()
