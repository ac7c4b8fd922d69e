"""Weighted kNN against scikit-learn's KNeighborsClassifier with the same weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.neighbors import KNeighborsClassifier

from contrastkit.eval.classification import top1_accuracy
from contrastkit.eval.knn import knn_predict, nearest_neighbours


def _data(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    bank = torch.randn(300, 16, generator=gen)
    labels = torch.randint(0, 5, (300,), generator=gen)
    bank += 1.5 * torch.nn.functional.one_hot(labels, 16).float()  # some class structure
    queries = torch.randn(77, 16, generator=gen)
    return bank, labels, queries


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize("chunk_size", [7, 1024])
def test_knn_matches_sklearn(metric: str, chunk_size: int) -> None:
    bank, labels, queries = _data()
    k, temperature = 10, 0.5
    ours = knn_predict(
        bank,
        labels,
        queries,
        num_classes=5,
        k=k,
        temperature=temperature,
        metric=metric,  # type: ignore[arg-type]
        chunk_size=chunk_size,
    )
    if metric == "cosine":  # sklearn's cosine distance is 1 - cos: weight exp(cos / T)
        weights = lambda d: np.exp((1 - d) / temperature)  # noqa: E731
    else:  # weight exp(-distance / T)
        weights = lambda d: np.exp(-d / temperature)  # noqa: E731
    ref = KNeighborsClassifier(n_neighbors=k, metric=metric, weights=weights, algorithm="brute")
    ref.fit(bank.numpy(), labels.numpy())
    np.testing.assert_array_equal(ours.numpy(), ref.predict(queries.numpy()))


def test_top1_accuracy_counts_the_correct_predictions() -> None:
    predicted, truth = torch.tensor([0, 1, 2, 2, 1, 0, 3]), torch.tensor([0, 1, 1, 2, 1, 3, 3])
    assert top1_accuracy(predicted, truth) == 5 / 7  # exact: counted, then divided
    assert top1_accuracy(predicted[:1], truth[:1]) == 1.0
    with pytest.raises(ValueError, match=r"one shape \(N,\), N >= 1, got \(7,\) and \(6,\)"):
        top1_accuracy(predicted, truth[:6])
    with pytest.raises(ValueError, match="N >= 1"):
        top1_accuracy(predicted[:0], truth[:0])


def test_nearest_neighbours_exclude_self_drops_the_query() -> None:
    bank, _, _ = _data(2)
    ((sims, idx),) = list(nearest_neighbours(bank, bank, k=3, exclude_self=True))
    assert not (idx == torch.arange(len(bank))[:, None]).any()
    full = torch.nn.functional.normalize(bank) @ torch.nn.functional.normalize(bank).T
    full.fill_diagonal_(-2.0)
    torch.testing.assert_close(sims, full.topk(3, dim=1).values)


def test_knn_large_similarity_scale_does_not_overflow() -> None:
    bank, labels, queries = _data(3)
    preds = knn_predict(
        bank * 1e3, labels, queries * 1e3, num_classes=5, metric="euclidean", temperature=1e-3
    )
    ref = knn_predict(bank * 1e3, labels, queries * 1e3, num_classes=5, metric="euclidean", k=1)
    torch.testing.assert_close(preds, ref)  # a tiny temperature leaves the nearest one


def test_knn_rejects_bad_shapes_and_arguments() -> None:
    bank, labels, queries = _data()
    with pytest.raises(ValueError, match="share D"):
        knn_predict(bank, labels, queries[:, :3], num_classes=5)
    with pytest.raises(ValueError, match="bank_labels"):
        knn_predict(bank, labels[:10], queries, num_classes=5)
    with pytest.raises(ValueError, match="temperature"):
        knn_predict(bank, labels, queries, num_classes=5, temperature=0.0)
    with pytest.raises(ValueError, match="metric"):
        knn_predict(bank, labels, queries, num_classes=5, metric="manhattan")  # type: ignore[arg-type]
