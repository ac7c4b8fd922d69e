import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from contrastkit.eval.classification import top1_accuracy
from contrastkit.eval.knn import knn_predict
from contrastkit.eval.linear import fewshot_indices, fewshot_linear_probe, linear_probe_predict


def blobs(seed: int = 0) -> tuple[np.ndarray, ...]:
    x, y = make_classification(
        n_samples=400,
        n_features=16,
        n_informative=8,
        n_classes=4,
        n_clusters_per_class=1,
        random_state=seed,
    )
    return x[:300].astype(np.float32), y[:300], x[300:].astype(np.float32), y[300:]


@pytest.mark.parametrize("k", [1, 5, 20])
def test_knn_matches_sklearn_weighted_cosine(k: int) -> None:
    xtr, ytr, xte, _ = blobs()
    temperature = 0.1
    ours = knn_predict(
        torch.from_numpy(xtr),
        torch.from_numpy(ytr),
        torch.from_numpy(xte),
        num_classes=4,
        k=k,
        temperature=temperature,
        chunk_size=17,
    )
    ref = KNeighborsClassifier(
        n_neighbors=k,
        metric="cosine",
        algorithm="brute",
        weights=lambda d: np.exp((1.0 - d) / temperature),
    ).fit(xtr, ytr)
    np.testing.assert_array_equal(ours.numpy(), ref.predict(xte))


def test_knn_chunking_does_not_change_predictions() -> None:
    xtr, ytr, xte, _ = blobs(1)
    args = (torch.from_numpy(xtr), torch.from_numpy(ytr), torch.from_numpy(xte))
    a = knn_predict(*args, num_classes=4, k=7, chunk_size=1)
    b = knn_predict(*args, num_classes=4, k=7, chunk_size=1000)
    assert torch.equal(a, b)


def test_knn_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="share D"):
        knn_predict(
            torch.zeros(5, 3), torch.zeros(5, dtype=torch.long), torch.zeros(2, 4), num_classes=2
        )


def test_linear_probe_matches_sklearn() -> None:
    xtr, ytr, xte, yte = blobs(2)
    ref = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=2000))
    expected = np.mean(ref.fit(xtr, ytr).predict(xte) == yte)
    train_x, train_y, test_x, test_y = map(torch.from_numpy, (xtr, ytr, xte, yte))
    ours = top1_accuracy(linear_probe_predict(train_x, train_y, test_x, c=0.5), test_y)
    assert ours == pytest.approx(expected)


def test_fewshot_indices_are_balanced_and_reproducible() -> None:
    labels = np.repeat(np.arange(5), 30)
    a = fewshot_indices(labels, per_class=4, draws=3, seed=7)
    b = fewshot_indices(labels, per_class=4, draws=3, seed=7)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    for subset in a:
        assert np.array_equal(np.bincount(labels[subset]), np.full(5, 4))
    assert not np.array_equal(a[0], a[1])


def test_fewshot_too_few_samples() -> None:
    with pytest.raises(ValueError, match="fewer than 10"):
        fewshot_indices(np.array([0, 0, 1, 1]), per_class=10, draws=1, seed=0)


def test_fewshot_probe_mean_std_over_draws() -> None:
    xtr, ytr, xte, yte = map(torch.from_numpy, blobs(3))
    subsets = fewshot_indices(ytr.numpy(), per_class=5, draws=3, seed=0)
    out = fewshot_linear_probe(xtr, ytr, xte, yte, subsets)
    draws = [top1_accuracy(linear_probe_predict(xtr[s], ytr[s], xte), yte) for s in subsets]
    np.testing.assert_allclose(out["draws"], draws, atol=1e-9)
    assert out["linear_top1_mean"] == pytest.approx(np.mean(draws))
    assert out["linear_top1_std"] == pytest.approx(np.std(draws))
