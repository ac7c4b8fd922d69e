"""`length_groups`: the cheapest cut of rows into groups of similar length."""

from __future__ import annotations

import itertools

import pytest
import torch

from contrastkit.encoders.length_groups import length_groups


def cost(groups: list[torch.Tensor], lengths: torch.Tensor, call: int) -> int:
    return sum(len(g) * int(lengths[g].max()) + call for g in groups)


def cheapest_by_hand(lengths: torch.Tensor, call: int) -> int:
    """Every cut of the rows sorted by length into consecutive groups (2^(N-1) of them)."""
    ordered = sorted(lengths.tolist())
    n, best = len(ordered), None
    for marks in itertools.product([False, True], repeat=n - 1):
        bounds = [0, *[i + 1 for i, m in enumerate(marks) if m], n]
        total = sum((j - i) * ordered[j - 1] + call for i, j in itertools.pairwise(bounds))
        best = total if best is None else min(best, total)
    assert best is not None
    return best


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("call", [0, 4, 32])
def test_the_cut_is_the_cheapest_and_covers_every_row_once(seed: int, call: int) -> None:
    lengths = torch.randint(1, 12, (11,), generator=torch.Generator().manual_seed(seed))
    groups = length_groups(lengths, call_tokens=call)
    assert sorted(torch.cat(groups).tolist()) == list(range(len(lengths)))
    longest = [int(lengths[g].max()) for g in groups]
    assert longest == sorted(longest)  # shortest rows first
    assert cost(groups, lengths, call) == cheapest_by_hand(lengths, call)


def test_many_rows_of_few_lengths_are_cut_quickly() -> None:
    """The programme runs over the distinct lengths: 100,000 rows of 32 lengths."""
    lengths = torch.randint(1, 33, (100_000,), generator=torch.Generator().manual_seed(0))
    groups = length_groups(lengths)
    assert sum(len(g) for g in groups) == 100_000
    for shorter, longer in itertools.pairwise(groups):  # rows of one length never parted
        assert int(lengths[shorter].max()) < int(lengths[longer].min())
