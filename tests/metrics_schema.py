"""The schema of `metrics.json` (docs/metrics.md): one `TypedDict` per block.

`check_metrics` (pydantic, unknown keys rejected) validates every `metrics.json` a test's
run writes (tests/conftest.py). Keys are only ever added, never renamed. Every metric that
is a score (accuracies, recalls, AUROC, NMI) is a fraction in [0, 1].
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, TypeAdapter
from typing_extensions import NotRequired, TypedDict


class _Block(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]


class Fewshot(_Block):
    """Linear probe on `labels_per_class` labelled items per class, over `draws`."""

    labels_per_class: int
    linear_top1_mean: float
    linear_top1_std: float
    draws: list[float]


class Retrieval(_Block):
    """Leave-one-out retrieval on the test split: a test item's relevant items share its
    label."""

    recall_at_1: float
    recall_at_5: float
    recall_at_10: float
    map: float
    map_at_r: float
    mrr: float
    ndcg_at_10: float
    num_queries: int


class PerClass(_Block):
    precision: list[float]
    recall: list[float]
    f1: list[float]
    support: list[int]


class Classification(_Block):
    """Accuracy, macro precision/recall/F1, per-class scores and the confusion matrix
    (rows: true class, columns: predicted)."""

    accuracy: float
    precision_macro: float
    recall_macro: float
    f1_macro: float
    per_class: PerClass
    confusion: list[list[int]]


class Classifiers(_Block):
    knn: Classification
    linear: Classification


class Anomaly(_Block):
    """One-class anomaly detection, each class normal in turn (k-NN distance score)."""

    auroc: float
    average_precision: float
    per_class_auroc: list[float]
    per_class_average_precision: list[float]
    k: int


class EvalBlock(_Block):
    """Probes of fixed features: `eval` for the trained encoder, the same keys for a
    baseline. `skipped` says why the label metrics are absent (unlabeled data)."""

    knn_top1: NotRequired[float]
    linear_top1: NotRequired[float]
    fewshot: NotRequired[Fewshot]
    retrieval: NotRequired[Retrieval | dict[str, float]]
    nmi: NotRequired[float]
    ari: NotRequired[float]
    classification: NotRequired[Classifiers]
    anomaly: NotRequired[Anomaly]
    skipped: NotRequired[str]


class Health(_Block):
    """Label-free health of the embedding (docs/evaluation.md)."""

    rankme: float
    emb_std: float
    alignment: NotRequired[float]
    uniformity: float


class SupervisedFewshot(_Block):
    """The same encoder trained from scratch on the few labels (images). `skipped` says why
    it was not trained (an encoder that starts from pretrained weights)."""

    top1_mean: NotRequired[float]
    top1_std: NotRequired[float]
    draws: NotRequired[list[float]]
    skipped: NotRequired[str]


class Baselines(_Block):
    raw: NotRequired[EvalBlock]
    random_init: NotRequired[EvalBlock]
    pretrained: NotRequired[EvalBlock]
    supervised_fewshot: NotRequired[SupervisedFewshot]


class Collapse(_Block):
    step: int
    symptom: str


class RecommendScores(_Block):
    """Leave-last-out scores of one ranking (eval/recommend.py): the held-out item in the
    top 10 / 20 of the user's unseen items, and NDCG@10 (one relevant item)."""

    recall_at_10: float
    recall_at_20: float
    ndcg_at_10: float


class Recommend(_Block):
    """The interactions modality's block: the model against most-popular, truncated SVD
    (PureSVD of rank `svd_rank`) and, on generated data, the generator's oracle."""

    model: RecommendScores
    most_popular: RecommendScores
    svd: NotRequired[RecommendScores]
    svd_rank: NotRequired[int]
    oracle: NotRequired[RecommendScores]
    users: int
    items: int
    interactions: int
    test_users: int
    generated: bool


class MetricsBlocks(_Block):
    """What a modality's evaluation adds to `metrics.json`. `tabular`, `text`,
    `crossmodal` and `recommend` are the modality-specific blocks (docs/tabular.md,
    docs/text.md, docs/multimodal.md, docs/use.md)."""

    eval: NotRequired[EvalBlock]
    health: NotRequired[Health]
    baselines: NotRequired[Baselines]
    tabular: NotRequired[dict[str, Any]]
    text: NotRequired[dict[str, Any]]
    crossmodal: NotRequired[dict[str, Any]]
    recommend: NotRequired[Recommend]


class RunMetrics(MetricsBlocks):
    """The whole `metrics.json` of a run: training statistics, then the evaluation blocks."""

    method: str
    data: str
    epochs: int
    seed: int
    train_time_s: NotRequired[float]
    samples_per_s: NotRequired[float]
    train_sentences_per_s: NotRequired[float]
    data_wait_s: NotRequired[float]
    peak_mem_mib: NotRequired[float]
    final_loss: NotRequired[float]
    skipped_steps: NotRequired[int]
    collapse: NotRequired[Collapse]
    data_fingerprint: NotRequired[str]


_RUN_METRICS = TypeAdapter(RunMetrics)


def check_metrics(metrics: dict[str, Any]) -> RunMetrics:
    """`metrics` validated against the schema (pydantic ValidationError names the key)."""
    return _RUN_METRICS.validate_python(metrics, strict=False)
