"""Text training pairs and a held-out retrieval task, split by group so nothing leaks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TextPairs:
    """Aligned (anchor, positive[, hard negative]) texts; row i of each list is one example.

    Attributes:
        anchors: Query-side texts (a definition, a question, a sentence).
        positives: The matching text of each anchor.
        negatives: A hard negative per row (similar but wrong), or None.
        groups: Which meaning a row belongs to (a WordNet synset, a distinct anchor);
            held-out splits never separate rows of one group.
    """

    anchors: list[str]
    positives: list[str]
    negatives: list[str] | None
    groups: list[int]

    def __post_init__(self) -> None:
        n = len(self.anchors)
        sizes = {n, len(self.positives), len(self.groups)}
        if self.negatives is not None:
            sizes.add(len(self.negatives))
        if len(sizes) != 1:
            raise ValueError(f"TextPairs lists differ in length: {sorted(sizes)}")

    def __len__(self) -> int:
        return len(self.anchors)

    def subset(self, rows: np.ndarray) -> TextPairs:
        pick = [int(i) for i in rows]
        return TextPairs(
            anchors=[self.anchors[i] for i in pick],
            positives=[self.positives[i] for i in pick],
            negatives=None if self.negatives is None else [self.negatives[i] for i in pick],
            groups=[self.groups[i] for i in pick],
        )

    def sentences(self) -> list[str]:
        """Every distinct text of the pairs, in first-seen order (a SimCSE corpus)."""
        texts = self.anchors + self.positives + (self.negatives or [])
        return list(dict.fromkeys(texts))


@dataclass(frozen=True)
class RetrievalTask:
    """Queries ranked against a corpus; `relevant[q]` lists the corpus rows that answer q.

    Attributes:
        name: What the task is, e.g. "wordnet noun definition -> word".
        queries: Query texts, distinct.
        corpus: Candidate texts, distinct.
        relevant: For each query, the indices into `corpus` that are correct (>= 1).
    """

    name: str
    queries: list[str]
    corpus: list[str]
    relevant: list[list[int]]


@dataclass(frozen=True)
class TextData:
    """What a text run trains on and is evaluated with.

    Attributes:
        name: The data set's name in `metrics.json`.
        sentences: Unlabelled training texts (SimCSE).
        pairs: Training pairs (supervised methods), or None for a plain text corpus.
        test: The held-out retrieval task, or None when the data has none.
    """

    name: str
    sentences: list[str]
    pairs: TextPairs | None
    test: RetrievalTask | None


def split_by_group(
    pairs: TextPairs, *, test_fraction: float, seed: int
) -> tuple[TextPairs, TextPairs]:
    """Hold out a `test_fraction` of the groups (not rows): a held-out group is never trained on."""
    groups = np.array(pairs.groups)
    unique = np.unique(groups)
    rng = np.random.default_rng(seed)
    n_test = max(1, round(test_fraction * len(unique)))
    if n_test >= len(unique):
        raise ValueError(f"cannot hold out {n_test} of {len(unique)} groups and train on the rest")
    test_groups = rng.choice(unique, size=n_test, replace=False)
    is_test = np.isin(groups, test_groups)
    return pairs.subset(np.flatnonzero(~is_test)), pairs.subset(np.flatnonzero(is_test))


def retrieval_task(pairs: TextPairs, name: str) -> RetrievalTask:
    """Anchors query the distinct positives; every positive paired with an anchor is relevant."""
    queries = list(dict.fromkeys(pairs.anchors))
    corpus = list(dict.fromkeys(pairs.positives))
    q_index = {text: i for i, text in enumerate(queries)}
    c_index = {text: i for i, text in enumerate(corpus)}
    relevant: list[set[int]] = [set() for _ in queries]
    for anchor, positive in zip(pairs.anchors, pairs.positives, strict=True):
        relevant[q_index[anchor]].add(c_index[positive])
    return RetrievalTask(
        name=name, queries=queries, corpus=corpus, relevant=[sorted(r) for r in relevant]
    )
