"""Cross-modal retrieval by language (pure functions over embeddings).

Queries (e.g. spoken clips) and candidate texts each carry a language; equal group ids
are the same concept in any language. For every query language `a` and text language
`b`, the queries in `a` rank the texts in `b` only: `a == b` measures retrieval within a
language, `a != b` across languages (a German clip finding the English word of its
concept).
"""

from __future__ import annotations

import torch
from torch import Tensor

from contrastkit.eval.crossmodal import retrieval_metrics


def retrieval_by_language(
    queries: Tensor,
    q_ids: Tensor,
    q_languages: list[str],
    cands: Tensor,
    c_ids: Tensor,
    c_languages: list[str],
) -> dict[str, dict[str, dict[str, float]]]:
    """`retrieval_metrics` of the queries of each language against the candidates of each
    language.

    Args:
        queries: Shape: (Q, D).
        q_ids: Group id of each query. Shape: (Q,).
        q_languages: Language of each query (Q codes).
        cands: Shape: (C, D).
        c_ids: Group id of each candidate. Shape: (C,).
        c_languages: Language of each candidate (C codes).

    Returns:
        {query language: {candidate language: metrics}}, both in sorted order.

    Raises:
        ValueError: a language list's length differs from its tensor's rows.
    """
    if len(q_languages) != queries.shape[0] or len(c_languages) != cands.shape[0]:
        raise ValueError(
            f"{len(q_languages)} query and {len(c_languages)} candidate languages for "
            f"queries {tuple(queries.shape)} and candidates {tuple(cands.shape)}"
        )
    q_lang, c_lang = _positions(q_languages), _positions(c_languages)
    table: dict[str, dict[str, dict[str, float]]] = {}
    for a, q_rows in q_lang.items():
        table[a] = {
            b: retrieval_metrics(queries[q_rows], cands[c_rows], q_ids[q_rows], c_ids[c_rows])
            for b, c_rows in c_lang.items()
        }
    return table


def language_means(table: dict[str, dict[str, dict[str, float]]]) -> dict[str, float]:
    """Mean Recall@1 within a language (a == b) and across languages (a != b) of a
    `retrieval_by_language` table, each language pair weighted equally; a mean with no
    pair is absent."""
    within = [row[a]["recall_at_1"] for a, row in table.items() if a in row]
    across = [m["recall_at_1"] for a, row in table.items() for b, m in row.items() if b != a]
    means = {}
    if within:
        means["within_language_recall_at_1"] = sum(within) / len(within)
    if across:
        means["across_languages_recall_at_1"] = sum(across) / len(across)
    return means


def _positions(languages: list[str]) -> dict[str, Tensor]:
    """Language -> the row indices holding it, languages sorted."""
    return {
        lang: torch.tensor([i for i, x in enumerate(languages) if x == lang], dtype=torch.int64)
        for lang in sorted(set(languages))
    }
