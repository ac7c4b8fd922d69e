"""Held-out text retrieval: queries rank a corpus by cosine similarity (Recall@k, MRR, mAP).

Spearman correlation needs graded similarity judgements for text pairs (as in STS
benchmarks). The tasks built here (WordNet definition -> word, held-out pairs) only say
which texts match, so no Spearman is reported for them.
"""

from __future__ import annotations

import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from contrastkit.data.text_split import RetrievalTask
from contrastkit.encoders.text import embed_tokens, tokenize
from contrastkit.eval.health import embedding_std, rankme, uniformity

SPEARMAN_NOTE = (
    "not reported: the held-out task has match / no-match labels only, no graded "
    "human similarity scores"
)


def relevance_matrix(relevant: list[list[int]], corpus_size: int) -> Tensor:
    """Shape: (Q, C) bool, True where corpus item c answers query q."""
    rel = torch.zeros(len(relevant), corpus_size, dtype=torch.bool)
    for q, rows in enumerate(relevant):
        rel[q, rows] = True
    return rel


def ranking_metrics(query_z: Tensor, corpus_z: Tensor, relevant: Tensor) -> dict[str, float]:
    """Rank the corpus for each query by cosine similarity.

    With rank_q the 1-based rank of the first relevant item and R_q the relevant set:
    Recall@k = mean_q [rank_q <= k]; MRR = mean_q 1 / rank_q;
    mAP = mean_q (1/|R_q|) sum_{r in R_q} precision@rank(r).

    Args:
        query_z: Shape: (Q, D).
        corpus_z: Shape: (C, D).
        relevant: Shape: (Q, C) bool, at least one True per row.
    """
    if query_z.ndim != 2 or corpus_z.ndim != 2 or query_z.shape[1] != corpus_z.shape[1]:
        raise ValueError(
            f"need query_z (Q, D) and corpus_z (C, D), got {tuple(query_z.shape)}, "
            f"{tuple(corpus_z.shape)}"
        )
    if relevant.shape != (query_z.shape[0], corpus_z.shape[0]):
        raise ValueError(
            f"relevant must have shape {(query_z.shape[0], corpus_z.shape[0])}, "
            f"got {tuple(relevant.shape)}"
        )
    if not bool(relevant.any(dim=1).all()):
        raise ValueError("every query needs at least one relevant corpus item")
    sims = F.normalize(query_z.float(), dim=1) @ F.normalize(corpus_z.float(), dim=1).T  # (Q, C)
    order = sims.argsort(dim=1, descending=True)
    hit = relevant.gather(1, order).float()  # (Q, C): relevance in ranked order
    first = hit.argmax(dim=1) + 1  # (Q,) 1-based rank of the first relevant item
    ranks = torch.arange(1, hit.shape[1] + 1, dtype=hit.dtype)
    ap = (hit * hit.cumsum(dim=1) / ranks).sum(dim=1) / hit.sum(dim=1)
    return {
        "recall_at_1": float((first <= 1).float().mean()),
        "recall_at_5": float((first <= 5).float().mean()),
        "recall_at_10": float((first <= 10).float().mean()),
        "mrr": float((1.0 / first.float()).mean()),
        "map": float(ap.mean()),
    }


def evaluate_retrieval(
    encoder: nn.Module,
    tokenizer: object,
    task: RetrievalTask,
    *,
    max_length: int,
    batch_size: int,
) -> dict[str, Any]:
    """Embed the task's queries and corpus, rank, and time the encoding.

    Returns:
        Ranking metrics, label-free health of the query embeddings, and
        `encode_sentences_per_s` (queries + corpus texts over the wall time of embedding).
    """
    queries = tokenize(tokenizer, task.queries, max_length=max_length)
    corpus = tokenize(tokenizer, task.corpus, max_length=max_length)
    start = time.perf_counter()
    query_z = embed_tokens(encoder, queries, batch_size=batch_size)
    corpus_z = embed_tokens(encoder, corpus, batch_size=batch_size)
    seconds = time.perf_counter() - start
    metrics = ranking_metrics(query_z, corpus_z, relevance_matrix(task.relevant, len(task.corpus)))
    return {
        **metrics,
        "health": {
            "rankme": rankme(query_z),
            "emb_std": embedding_std(query_z),
            "uniformity": uniformity(query_z),
        },
        "encode_sentences_per_s": (len(queries) + len(corpus)) / seconds,
    }
