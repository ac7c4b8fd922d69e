"""The evaluation's metric code as it was before it moved to torch on the training device
(contrastkit at commit cb3ae5d), kept as `benchmarks/eval_speed.py`'s baseline: the linear
and few-label probes by scikit-learn's `LogisticRegression`, k-means by its `KMeans`, the
kNN vote over each query's nearest entries, one anomaly pass per class, and retrieval
metrics from a full argsort of every query's gallery. Only what the Fashion-MNIST
evaluation calls, on the CPU.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler, normalize
from torch import Tensor

from contrastkit.eval.anomaly import auroc, knn_anomaly_score
from contrastkit.eval.knn import nearest_neighbours, similarity


def probe_predict(train_x: Tensor, train_y: Tensor, test_x: Tensor) -> np.ndarray:
    """StandardScaler + LogisticRegression(C=1, max_iter=2000)."""
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    return np.asarray(model.fit(train_x.numpy(), train_y.numpy()).predict(test_x.numpy()))


def kmeans_scores(z: Tensor, labels: Tensor, num_clusters: int, seed: int) -> dict[str, float]:
    """KMeans(n_init=10) on the L2-normalised embeddings; NMI and ARI against the labels."""
    assigned = KMeans(n_clusters=num_clusters, n_init=10, random_state=seed).fit_predict(
        normalize(z.numpy())
    )
    return {
        "nmi": float(normalized_mutual_info_score(labels.numpy(), assigned)),
        "ari": float(adjusted_rand_score(labels.numpy(), assigned)),
    }


def knn_predict(
    bank: Tensor,
    bank_labels: Tensor,
    queries: Tensor,
    *,
    num_classes: int,
    k: int,
    temperature: float,
) -> Tensor:
    """The weighted vote over each query's k nearest (cosine) bank entries."""
    preds = []
    for sims, idx in nearest_neighbours(bank, queries, k=k):
        weights = ((sims - sims[:, :1]) / temperature).exp()  # (q, k)
        votes = torch.zeros(sims.shape[0], num_classes, dtype=weights.dtype)
        votes.scatter_add_(1, bank_labels[idx], weights)
        preds.append(votes.argmax(dim=1))
    return torch.cat(preds)


def anomaly_auroc(
    train_z: Tensor, train_y: Tensor, test_z: Tensor, test_y: Tensor, k: int
) -> float:
    """Mean over the classes of the AUROC of `knn_anomaly_score` with that class normal,
    one pass over the similarities per class."""
    classes = sorted(set(test_y.tolist()) & set(train_y.tolist()))
    aurocs = []
    for c in classes:
        scores = knn_anomaly_score(train_z[train_y == c], test_z, k=k).numpy()
        aurocs.append(auroc(scores, (test_y != c).numpy()))
    return float(np.mean(aurocs))


def retrieval_map(z: Tensor, labels: Tensor, chunk_size: int = 256) -> dict[str, float]:
    """Leave-one-out recall@1 and mAP from a full argsort of every query's ranking."""
    ids = torch.arange(len(labels))
    hits, aps = [], []
    for start in range(0, len(labels), chunk_size):
        stop = start + chunk_size
        sims = similarity(z[start:stop], z, metric="cosine")  # (q, G)
        sims[ids[start:stop, None] == ids[None, :]] = float("-inf")
        relevant = labels[start:stop, None] == labels[None, :]
        order = sims.argsort(dim=1, descending=True)
        valid = torch.gather(sims, 1, order) > float("-inf")
        rel = (torch.gather(relevant, 1, order) & valid).double()  # (q, G), by rank
        ranks = torch.arange(1, rel.shape[1] + 1, dtype=torch.float64)
        n_rel = rel.sum(dim=1)
        precision_at = rel.cumsum(dim=1) / ranks
        keep = n_rel > 0
        hits.append(rel[keep, 0])
        aps.append(((precision_at * rel).sum(dim=1) / n_rel.clamp(min=1))[keep])
    return {"recall_at_1": float(torch.cat(hits).mean()), "map": float(torch.cat(aps).mean())}
