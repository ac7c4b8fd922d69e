"""A definition -> word task from WordNet's noun data file (Debian package `wordnet-base`).

Each noun synset (a meaning) has a gloss and one or more words. A pair is (the gloss's
definition, one of the synset's words). Synsets are split once with a seed: the test
synsets' definitions and senses are never trained on (a word string may still occur in
training with another sense, as polysemy makes it). A hard negative for a training pair is
a word of a co-hyponym (another synset under the same hypernym: "raid" vs "sortie"), never
from a test synset.

File format (wndb(5)): ``offset lex_filenum ss_type w_cnt(hex) [word lex_id]...
p_cnt [pointer_symbol offset pos source/target]... | gloss``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from contrastkit.data.text_split import RetrievalTask, TextPairs, retrieval_task
from contrastkit.errors import UserError

WORDNET_DIR = "/usr/share/wordnet"
HYPERNYM_SYMBOLS = ("@", "@i")
TASK_NAME = "wordnet noun definition -> word"


@dataclass(frozen=True)
class Synset:
    """One WordNet meaning: its words (underscores turned to spaces), definition, hypernyms."""

    offset: int
    words: tuple[str, ...]
    definition: str
    hypernyms: tuple[int, ...]


def _definition(gloss: str) -> str:
    """The gloss without its quoted usage examples (`a sudden short attack; "..."`)."""
    cut = gloss.find('"')
    text = gloss if cut < 0 else gloss[:cut]
    return text.strip().rstrip(";").strip()


def parse_synset_line(line: str) -> Synset:
    """Parse one data line of a WordNet `data.*` file.

    Raises:
        ValueError: the line does not follow the wndb(5) layout.
    """
    head, sep, gloss = line.partition(" | ")
    fields = head.split()
    if not sep or len(fields) < 6:
        raise ValueError("expected 'offset lex_filenum ss_type w_cnt words... p_cnt ... | gloss'")
    n_words = int(fields[3], 16)
    words = tuple(fields[4 + 2 * i].replace("_", " ") for i in range(n_words))
    at = 4 + 2 * n_words
    n_pointers = int(fields[at])
    pointers = [fields[at + 1 + 4 * i : at + 5 + 4 * i] for i in range(n_pointers)]
    if any(len(p) != 4 for p in pointers):
        raise ValueError(f"expected {n_pointers} pointers of 4 fields")
    hypernyms = tuple(int(p[1]) for p in pointers if p[0] in HYPERNYM_SYMBOLS)
    return Synset(
        offset=int(fields[0]), words=words, definition=_definition(gloss), hypernyms=hypernyms
    )


def read_wordnet_nouns(directory: str | Path = WORDNET_DIR) -> list[Synset]:
    """All noun synsets with a non-empty definition, in file order.

    Raises:
        UserError: `data.noun` is missing (install the Debian package `wordnet-base`) or
            a line is malformed (the message names the line).
    """
    path = Path(directory) / "data.noun"
    if not path.is_file():
        raise UserError(
            f"{path}: not found; install WordNet with `apt-get install wordnet-base` "
            "or set text.wordnet_dir"
        )
    synsets = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.startswith("  "):  # license header
                continue
            try:
                synset = parse_synset_line(line.rstrip("\n"))
            except (ValueError, IndexError) as err:
                raise UserError(f"{path}: line {number}: not a WordNet data line ({err})") from None
            if synset.definition:
                synsets.append(synset)
    return synsets


def _hard_negatives(
    train: list[Synset], all_synsets: list[Synset], test_offsets: set[int], seed: int
) -> list[str]:
    """For each training synset, a word of a random co-hyponym that is not a test synset and
    shares none of its words; a random non-test synset's word where there is none."""
    children: dict[int, list[Synset]] = {}
    for synset in all_synsets:
        if synset.offset not in test_offsets:
            for parent in synset.hypernyms:
                children.setdefault(parent, []).append(synset)
    pool = [s for s in all_synsets if s.offset not in test_offsets]
    rng = np.random.default_rng(seed)
    negatives = []
    for synset in train:
        own = set(synset.words)
        siblings = [
            s
            for parent in synset.hypernyms
            for s in children.get(parent, [])
            if s.offset != synset.offset and not own.intersection(s.words)
        ]
        choice = siblings[rng.integers(len(siblings))] if siblings else None
        while choice is None or own.intersection(choice.words):
            choice = pool[rng.integers(len(pool))]
        negatives.append(choice.words[rng.integers(len(choice.words))])
    return negatives


def wordnet_task(
    *,
    directory: str | Path = WORDNET_DIR,
    train_synsets: int,
    test_synsets: int,
    hard_negatives: bool,
    seed: int,
) -> tuple[TextPairs, RetrievalTask]:
    """Training pairs (definition, word[, co-hyponym word]) and the held-out retrieval task.

    `train_synsets + test_synsets` distinct synsets are drawn with `seed`; every word of a
    synset makes one pair (the synset is the pair's group). The test task ranks the test
    synsets' distinct words for each test definition; the synset's words are relevant.
    """
    synsets = read_wordnet_nouns(directory)
    if train_synsets + test_synsets > len(synsets):
        raise UserError(
            f"text.wordnet_train_synsets + text.wordnet_test_synsets = "
            f"{train_synsets + test_synsets} exceeds the {len(synsets)} noun synsets"
        )
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(synsets), size=train_synsets + test_synsets, replace=False)
    test = [synsets[i] for i in picked[:test_synsets]]
    train = [synsets[i] for i in picked[test_synsets:]]
    test_offsets = {s.offset for s in test}
    negatives = _hard_negatives(train, synsets, test_offsets, seed) if hard_negatives else None
    anchors, positives, groups, row_negatives = [], [], [], []
    for index, synset in enumerate(train):
        for word in synset.words:
            anchors.append(synset.definition)
            positives.append(word)
            groups.append(synset.offset)
            if negatives is not None:
                row_negatives.append(negatives[index])
    train_pairs = TextPairs(
        anchors=anchors,
        positives=positives,
        negatives=row_negatives if negatives is not None else None,
        groups=groups,
    )
    test_pairs = TextPairs(
        anchors=[s.definition for s in test for _ in s.words],
        positives=[w for s in test for w in s.words],
        negatives=None,
        groups=[s.offset for s in test for _ in s.words],
    )
    return train_pairs, retrieval_task(test_pairs, TASK_NAME)
