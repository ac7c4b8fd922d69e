"""SimCSE and text pairs: losses against dense hand-written references, duplicate masking."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from contrastkit.augment.text import dropout_views
from contrastkit.batches import TextPairBatch
from contrastkit.data.text_split import TextPairs
from contrastkit.encoders.text import encode_by_length, load_text_encoder, load_tokenizer, tokenize
from contrastkit.methods.simcse import SimCSE, sentence_tensors
from contrastkit.methods.text_pairs import TextPairsMethod, duplicate_mask, pair_tensors


def reference_ranking_loss(
    a: Tensor, p: Tensor, n: Tensor | None, drop: Tensor | None, tau: float
) -> Tensor:
    """Dense multiple-negatives ranking: -log softmax over [positives | negatives], with
    the dropped in-batch columns set to -inf (never the diagonal)."""
    a, p = F.normalize(a, dim=1), F.normalize(p, dim=1)
    logits = a @ p.T / tau
    if drop is not None:
        logits = logits.masked_fill(drop, float("-inf"))
    if n is not None:
        logits = torch.cat([logits, a @ F.normalize(n, dim=1).T / tau], dim=1)
    return F.cross_entropy(logits, torch.arange(a.shape[0]))


def test_duplicate_mask_by_hand() -> None:
    # texts: 0 "a dog", 1 "dog", 2 "a cat", 3 "cat", 4 "hound"
    anchors = torch.tensor([0, 2, 0, 1])  # rows 0 and 2 share an anchor
    positives = torch.tensor(
        [1, 3, 4, 3]
    )  # rows 1 and 3 share a positive; row 0's positive is row 3's anchor
    expected = torch.tensor(
        [
            [False, False, True, False],  # a_2 == a_0
            [False, False, False, True],  # p_3 == p_1
            [True, False, False, False],  # a_0 == a_2
            [True, True, False, False],  # p_0 == a_3 ("dog"), p_1 == p_3
        ]
    )
    assert torch.equal(duplicate_mask(anchors, positives), expected)


def test_duplicate_mask_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(3,\), \(2,\)"):
        duplicate_mask(torch.arange(3), torch.arange(2))


class Lookup(nn.Module):
    """An encoder whose output for row b is a learnable vector picked by its first id."""

    def __init__(self, vocab: int, dim: int) -> None:
        super().__init__()
        self.table = nn.Parameter(
            torch.randn(vocab, dim, generator=torch.Generator().manual_seed(0))
        )

    def forward(self, ids: Tensor, mask: Tensor) -> Tensor:
        return self.table[ids[:, 0]] * mask[:, :1]


@pytest.mark.parametrize("with_negatives", [False, True])
@pytest.mark.parametrize("mask_duplicates", [False, True])
def test_text_pairs_loss_equals_dense_reference(
    with_negatives: bool, mask_duplicates: bool
) -> None:
    encoder = Lookup(10, 6)
    ids = torch.tensor([[1], [2], [1], [3]])  # anchors 0 and 2 are the same text
    pos = torch.tensor([[5], [6], [7], [6]])  # positives 1 and 3 are the same text
    neg = torch.tensor([[8], [9], [4], [0]])
    ones = torch.ones(4, 1, dtype=torch.long)
    batch = TextPairBatch(ids, ones, ids[:, 0], pos, ones, pos[:, 0])
    if with_negatives:
        batch = TextPairBatch(*batch.items()[:6], negative_ids=neg, negative_mask=ones)
    method = TextPairsMethod(encoder, temperature=0.1, mask_duplicates=mask_duplicates)
    loss = method.training_loss(batch, augment=dropout_views)
    table = encoder.table.detach()
    drop = duplicate_mask(ids[:, 0], pos[:, 0]) if mask_duplicates else None
    expected = reference_ranking_loss(
        table[ids[:, 0]], table[pos[:, 0]], table[neg[:, 0]] if with_negatives else None, drop, 0.1
    )
    torch.testing.assert_close(loss, expected, atol=1e-5, rtol=1e-5)


def test_masking_matters_only_when_there_are_duplicates() -> None:
    encoder = Lookup(10, 6)
    ones = torch.ones(3, 1, dtype=torch.long)
    distinct = (torch.tensor([[1], [2], [3]]), ones, torch.tensor([1, 2, 3]))
    targets = (torch.tensor([[5], [6], [7]]), ones, torch.tensor([5, 6, 7]))
    masked = TextPairsMethod(encoder, temperature=0.1, mask_duplicates=True)
    plain = TextPairsMethod(encoder, temperature=0.1, mask_duplicates=False)
    batch = TextPairBatch(*distinct, *targets)
    assert torch.equal(
        masked.training_loss(batch, augment=dropout_views),
        plain.training_loss(batch, augment=dropout_views),
    )
    dup_targets = (
        torch.tensor([[5], [5], [7]]),
        ones,
        torch.tensor([5, 5, 7]),
    )  # rows 0, 1 share a positive
    batch = TextPairBatch(*distinct, *dup_targets)
    assert masked.training_loss(batch, augment=dropout_views) < plain.training_loss(
        batch, augment=dropout_views
    )


def test_pair_tensors_number_texts_across_roles(tiny_model: str) -> None:
    pairs = TextPairs(
        anchors=["a dog", "a cat", "a dog"],
        positives=["dog", "cat", "a cat"],
        negatives=["fish", "bird", "fox"],
        groups=[0, 1, 0],
    )
    batch = pair_tensors(load_tokenizer(tiny_model), pairs, max_length=16)
    assert batch.negative_ids is not None and batch.negative_mask is not None
    assert batch.anchor_text.tolist() == [0, 1, 0]
    assert batch.positive_text.tolist() == [2, 3, 1]  # "a cat" as a positive has the anchor's id
    assert len(batch) == 3 and all(t is not None and t.shape[0] == 3 for t in batch.items())


def test_simcse_without_dropout_is_infonce_of_identical_views(tiny_model: str) -> None:
    encoder = load_text_encoder(tiny_model, normalize=False)
    method = SimCSE(encoder, temperature=0.05).eval()  # no dropout: both views equal
    batch = sentence_tensors(
        load_tokenizer(tiny_model), ["a red fox", "the dog", "blue water"], max_length=16
    )
    ids, mask = batch.ids, batch.mask
    loss = method.training_loss(batch, augment=dropout_views)
    with torch.no_grad():
        z = F.normalize(encoder(ids, mask), dim=1)
    expected = F.cross_entropy(z @ z.T / 0.05, torch.arange(3))
    torch.testing.assert_close(loss.detach(), expected, atol=1e-5, rtol=1e-5)


def test_simcse_views_differ_by_dropout_in_train_mode(tiny_model: str) -> None:
    encoder = load_text_encoder(tiny_model, normalize=False)
    batch = sentence_tensors(load_tokenizer(tiny_model), ["a red fox", "the dog"], max_length=16)
    torch.manual_seed(0)
    train_loss = (
        SimCSE(encoder, temperature=0.05).train().training_loss(batch, augment=dropout_views)
    )
    eval_loss = SimCSE(encoder, temperature=0.05).eval().training_loss(batch, augment=dropout_views)
    assert not torch.isclose(train_loss, eval_loss)
    train_loss.backward()
    grads = [p.grad for p in encoder.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)


def test_temperature_is_checked_at_construction() -> None:
    with pytest.raises(ValueError, match="temperature must be > 0"):
        SimCSE(Lookup(2, 2), temperature=0.0)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        TextPairsMethod(Lookup(2, 2), temperature=-1.0, mask_duplicates=True)


def test_encoding_grouped_by_length_equals_each_part_alone(tiny_model: str) -> None:
    """Parts of unequal lengths grouped by length give each part's own embeddings and the
    same gradient as one encoder call per part (no dropout: eval mode)."""
    tokenizer = load_tokenizer(tiny_model)
    long = [f"the {w} " * (1 + i % 7) for i, w in enumerate(["red", "sea", "fox"] * 6)]
    short = ["red", "sea", "fox", "dog", "cat", "sun"] * 3
    a = tokenize(tokenizer, long, max_length=32)
    p = tokenize(tokenizer, short, max_length=32)
    assert a.ids.shape[1] > p.ids.shape[1]

    def loss_and_grads(grouped: bool) -> tuple[list[Tensor], list[Tensor]]:
        encoder = load_text_encoder(tiny_model, normalize=True).eval()
        if grouped:
            z = encode_by_length(encoder, [(a.ids, a.mask), (p.ids, p.mask)])
        else:
            z = [encoder(a.ids, a.mask), encoder(p.ids, p.mask)]
        (z[0] @ z[1].T).logsumexp(dim=1).sum().backward()
        return [t.detach() for t in z], [x.grad for x in encoder.parameters() if x.grad is not None]

    (za, zp), grads = loss_and_grads(grouped=True)
    (ra, rp), reference = loss_and_grads(grouped=False)
    torch.testing.assert_close(za, ra, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(zp, rp, rtol=1e-5, atol=1e-6)
    assert len(grads) == len(reference)
    for g, r in zip(grads, reference, strict=True):
        torch.testing.assert_close(g, r, rtol=1e-4, atol=1e-6)
