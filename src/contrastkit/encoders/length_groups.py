"""Rows of mixed length cut into groups of similar length, at the least padded work."""

from __future__ import annotations

from torch import Tensor

CALL_TOKENS = 32
"""What one more encoder call costs, in padded token positions (a MiniLM forward and backward
dispatches a few hundred operations). Measured on WordNet's batches of 32 pairs, one CPU
thread, a step's CPU time: 0.78-0.82 s for 16 to 64, 1.0-1.2 s for 0 (a group per length),
1.07 s for 512, 1.28 s without grouping."""


def length_groups(lengths: Tensor, *, call_tokens: int = CALL_TOKENS) -> list[Tensor]:
    """The rows cut into groups of similar length, at the least cost: each group costs its
    rows times its longest row, plus `call_tokens` (an exact dynamic programme over the rows
    sorted by length).

    Args:
        lengths: Tokens of each row. Shape: (N,).

    Returns:
        The row indices of each group, shortest rows first.
    """
    order = lengths.argsort()
    sorted_lengths = lengths[order].tolist()
    n = len(sorted_lengths)
    best = [0.0] + [float("inf")] * n  # best[j]: the cheapest cut of the j shortest rows
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        longest = sorted_lengths[j - 1]
        for i in range(j):
            cost = best[i] + (j - i) * longest + call_tokens
            if cost < best[j]:
                best[j], cut[j] = cost, i
    bounds = []
    j = n
    while j > 0:
        bounds.append((cut[j], j))
        j = cut[j]
    return [order[i:j] for i, j in reversed(bounds)]
