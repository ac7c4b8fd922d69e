"""The WordNet definition -> word task: parsing, synset split, hard negatives."""

from __future__ import annotations

from pathlib import Path

import pytest

from contrastkit.data.wordnet import parse_synset_line, read_wordnet_nouns, wordnet_task
from contrastkit.errors import UserError

FORAY = (
    "00976953 04 n 03 foray 0 raid 0 maraud 0 006 @ 00975452 n 0000 + 02020255 v 0301 "
    "+ 02494850 v 0201 + 01228653 v 0101 ~ 00974111 n 0000 ~ 00977214 n 0000 | a sudden "
    'short attack; "the raid was a success"  '
)


def test_parse_a_real_data_line() -> None:
    synset = parse_synset_line(FORAY)
    assert synset.offset == 976953
    assert synset.words == ("foray", "raid", "maraud")
    assert synset.hypernyms == (975452,)  # '@' only; '+' and '~' are other relations
    assert synset.definition == "a sudden short attack"


def _line(offset: int, words: list[str], parent: int | None, gloss: str) -> str:
    pointers = [] if parent is None else [f"@ {parent:08d} n 0000"]
    word_part = " ".join(f"{w.replace(' ', '_')} 0" for w in words)
    return (
        f"{offset:08d} 03 n {len(words):02x} {word_part} {len(pointers):03d} "
        f"{' '.join(pointers)} | {gloss}"
    ).replace("  ", " ")


@pytest.fixture
def tiny_wordnet(tmp_path: Path) -> Path:
    lines = ["  1 This software and database is being provided ... (license header)"]
    lines.append(_line(1, ["root"], None, "the top"))
    for parent in range(2, 6):  # four parents with five children each
        lines.append(_line(parent, [f"parent {parent}"], 1, f"kind {parent}"))
        for child in range(5):
            offset = 100 * parent + child
            words = [f"w{offset}"] + ([f"w{offset} alias"] if child % 2 == 0 else [])
            lines.append(_line(offset, words, parent, f'thing {offset}; "an example"'))
    (tmp_path / "data.noun").write_text("\n".join(lines) + "\n")
    return tmp_path


def test_split_is_by_synset_and_hard_negatives_are_co_hyponyms(tiny_wordnet: Path) -> None:
    synsets = {s.offset: s for s in read_wordnet_nouns(tiny_wordnet)}
    assert len(synsets) == 25
    train, task = wordnet_task(
        directory=tiny_wordnet, train_synsets=15, test_synsets=5, hard_negatives=True, seed=3
    )
    test_defs = set(task.queries)
    assert len(test_defs) == 5 and not test_defs.intersection(train.anchors)
    test_words = {w for s in synsets.values() if s.definition in test_defs for w in s.words}
    assert set(task.corpus) == test_words
    word_to_synset = {w: s for s in synsets.values() for w in s.words}
    assert train.negatives is not None
    for anchor, positive, negative in zip(
        train.anchors, train.positives, train.negatives, strict=True
    ):
        own = word_to_synset[positive]
        assert own.definition == anchor
        other = word_to_synset[negative]
        assert other.offset != own.offset and negative not in test_words
        if own.offset >= 100:  # a leaf: its siblings exist, so the negative is one of them
            assert other.hypernyms == own.hypernyms
    for query, rows in zip(task.queries, task.relevant, strict=True):
        assert {task.corpus[r] for r in rows} == {
            w for s in synsets.values() if s.definition == query for w in s.words
        }


def test_missing_wordnet_and_bad_line(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="data.noun: not found; install WordNet"):
        read_wordnet_nouns(tmp_path)
    (tmp_path / "data.noun").write_text(_line(1, ["ok"], None, "fine") + "\n00000002 03 n zz\n")
    with pytest.raises(UserError, match="data.noun: line 2: not a WordNet data line"):
        read_wordnet_nouns(tmp_path)


def test_too_many_synsets_asked_for(tiny_wordnet: Path) -> None:
    with pytest.raises(UserError, match="exceeds the 25 noun synsets"):
        wordnet_task(
            directory=tiny_wordnet, train_synsets=20, test_synsets=10, hard_negatives=False, seed=0
        )


@pytest.mark.slow
def test_debian_wordnet_gives_the_expected_task() -> None:
    """Needs the Debian package wordnet-base (the Makefile installs it)."""
    train, task = wordnet_task(train_synsets=200, test_synsets=100, hard_negatives=True, seed=0)
    assert 95 <= len(task.queries) <= 100  # distinct definitions of 100 synsets
    assert len(task.corpus) >= 100
    assert len(train) >= 200 and train.negatives is not None
    assert not set(task.queries).intersection(train.anchors)
