"""The small character text encoder: ids, padding that changes nothing, shapes."""

from __future__ import annotations

import pytest
import torch

from contrastkit.encoders.small_text import (
    ALPHABET,
    LATIN,
    PAD,
    UNKNOWN,
    CharTokenizer,
    SmallTextEncoder,
)


def test_tokenizer_ids_padding_and_truncation() -> None:
    tok = CharTokenizer(max_len=5)
    ids = tok.encode(["Ab", "hello world", "é"])
    assert ids.shape == (3, 5) and ids.dtype == torch.int64
    assert ids[0].tolist() == [ALPHABET.index("a") + 2, ALPHABET.index("b") + 2, PAD, PAD, PAD]
    assert ids[1].tolist() == [ALPHABET.index(c) + 2 for c in "hello"]
    assert ids[2, 0] == UNKNOWN
    assert tok.vocab_size == len(ALPHABET) + 2


def test_latin_alphabet_spells_accents_and_keeps_the_ascii_ids() -> None:
    ascii_ids = CharTokenizer(max_len=6).encode(["Käse", "niño"])
    latin = CharTokenizer(max_len=6, alphabet=LATIN)
    latin_ids = latin.encode(["Käse", "niño"])
    assert LATIN.startswith(ALPHABET) and len(set(LATIN)) == len(LATIN) == len(ALPHABET) + 33
    assert latin.vocab_size == len(ALPHABET) + 35
    assert ascii_ids[0, 1] == UNKNOWN and ascii_ids[1, 2] == UNKNOWN  # ä and ñ: one id
    assert latin_ids[0, :4].tolist() == [LATIN.index(c) + 2 for c in "käse"]
    assert latin_ids[1, 2] == LATIN.index("ñ") + 2 != latin_ids[0, 1]
    keep = ascii_ids != UNKNOWN
    assert torch.equal(ascii_ids[keep], latin_ids[keep])  # a-z keep their ids


def test_padding_does_not_change_the_embedding() -> None:
    torch.manual_seed(0)
    enc = SmallTextEncoder(vocab_size=CharTokenizer().vocab_size, width=16, feature_dim=8).eval()
    short = CharTokenizer(max_len=6).encode(["seven", "go"])
    long = CharTokenizer(max_len=20).encode(["seven", "go"])
    torch.testing.assert_close(enc(short), enc(long))
    assert enc(CharTokenizer(max_len=4).encode([""])).isfinite().all()


def test_wrong_input_is_rejected() -> None:
    enc = SmallTextEncoder(vocab_size=10, width=4, feature_dim=4)
    with pytest.raises(ValueError, match="int64 token ids"):
        enc(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="max_len"):
        CharTokenizer(max_len=0)
