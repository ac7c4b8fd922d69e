"""The evaluation protocol of a tabular run: the metrics.json blocks for a table.

The features are scored as images' are (`eval/scores.py`: `eval` holds knn_top1,
linear_top1, fewshot, retrieval, nmi, ari, classification, anomaly; `health`;
`baselines.raw` = the standardised raw features, numeric + one-hot (hashed above
`ONE_HOT_MAX` categories); `baselines.random_init`), and a `tabular` block adds the few-label
comparison of
`contrastkit.eval.tabular_probe` over several budgets (embedding vs raw vs boosting) and the
same three with all training labels.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch import Tensor, nn

from contrastkit.augment.tabular import RowAugment
from contrastkit.data.table_split import TableSplit
from contrastkit.eval.classification import top1_accuracy
from contrastkit.eval.health import alignment, embedding_std, rankme, uniformity
from contrastkit.eval.linear import fewshot_indices, linear_probe_predict
from contrastkit.eval.options import EvalConfig
from contrastkit.eval.scores import embedding_scores
from contrastkit.eval.tabular_probe import (
    boosting_accuracy,
    budget_comparison,
    native_categories,
    raw_features,
)


@torch.no_grad()
def embed_rows(
    encoder: nn.Module, numeric: Tensor, codes: Tensor, *, batch_size: int = 1024
) -> Tensor:
    """Encoder outputs for table rows in eval mode (BatchNorm uses running statistics).

    Args:
        encoder: (numeric (B, Dn), codes (B, Dc)) -> (B, D).
        numeric: Shape: (N, Dn). codes: Shape: (N, Dc).

    Returns:
        Shape: (N, D), float32 on the CPU, detached.
    """
    device = next(encoder.parameters()).device
    was_training = encoder.training
    encoder.eval()
    try:
        chunks = [
            encoder(numeric[i : i + batch_size].to(device), codes[i : i + batch_size].to(device))
            .float()
            .cpu()
            for i in range(0, len(numeric), batch_size)
        ]
    finally:
        encoder.train(was_training)
    return torch.cat(chunks).flatten(1)


def table_health(
    encoder: nn.Module, data: TableSplit, augment: RowAugment, seed: int
) -> dict[str, float]:
    """RankMe, spread and uniformity of the test embeddings; alignment of each test row
    with its corrupted view."""
    gen = torch.Generator().manual_seed(seed)
    z = embed_rows(encoder, data.num_test, data.cat_test)
    view = augment((data.num_test, data.cat_test), gen)
    return {
        "rankme": rankme(z),
        "emb_std": embedding_std(z),
        "alignment": alignment(z, embed_rows(encoder, *view)),
        "uniformity": uniformity(z),
    }


def evaluate_table(
    encoder: nn.Module,
    data: TableSplit,
    cfg: EvalConfig,
    *,
    augment: RowAugment,
    make_encoder: Callable[[], nn.Module],
    seed: int,
    log: Callable[[str], None] = lambda _msg: None,
) -> dict[str, Any]:
    """Evaluate a trained tabular encoder, the baselines, and the budget comparison.

    The many small scikit-learn fits run with one BLAS / OpenMP thread: on tables this small
    threads only add overhead (a few-row logistic fit took 0.30 s with 2 threads and 0.015 s
    with 1 on a loaded 2-core machine, measured).

    Returns:
        `{"eval", "health", "baselines", "tabular"}` blocks of `metrics.json`
        (`baselines` only when `cfg.baselines`).
    """
    with threadpool_limits(limits=1):
        y_train = data.y_train.numpy()
        if len(np.unique(y_train)) < 2:
            skip = (
                f"{len(np.unique(y_train))} class in the training labels: label metrics need "
                "2 or more"
            )
            log(f"note: {skip}; label metrics and baselines skipped")
            return {"eval": {"skipped": skip}, "health": table_health(encoder, data, augment, seed)}
        per_class = min(cfg.fewshot_labels_per_class, int(np.bincount(y_train).min()))
        subsets = fewshot_indices(y_train, per_class=per_class, draws=cfg.fewshot_draws, seed=seed)
        # the few-label count of the draws (as for images), for every set of features scored
        probe_cfg = cfg.model_copy(
            update={"fewshot_labels_per_class": len(subsets[0]) // data.num_classes}
        )
        log("evaluating the trained encoder")
        z_train = embed_rows(encoder, data.num_train, data.cat_train)
        z_test = embed_rows(encoder, data.num_test, data.cat_test)
        raw_train, raw_test = _raw(data)
        evaluated = embedding_scores(
            data, z_train, z_test, cfg=probe_cfg, subsets=subsets, seed=seed
        )
        result: dict[str, Any] = {
            "eval": evaluated,
            "health": table_health(encoder, data, augment, seed),
        }
        log(f"few-label comparison: budgets {cfg.tabular_budgets}, {cfg.fewshot_draws} draws")
        result["tabular"] = _tabular_block(
            data, cfg, embedded=(z_train, z_test), raw=(raw_train, raw_test),
            embedding_top1=evaluated["linear_top1"], seed=seed,
        )  # fmt: skip
        if cfg.baselines:
            log("baselines: raw features, random-init encoder")
            torch.manual_seed(seed)
            random_encoder = make_encoder()
            result["baselines"] = {
                "raw": embedding_scores(
                    data, raw_train, raw_test, cfg=probe_cfg, subsets=subsets, seed=seed
                ),
                "random_init": embedding_scores(
                    data,
                    embed_rows(random_encoder, data.num_train, data.cat_train),
                    embed_rows(random_encoder, data.num_test, data.cat_test),
                    cfg=probe_cfg,
                    subsets=subsets,
                    seed=seed,
                ),
            }
        return result


def _raw(data: TableSplit) -> tuple[Tensor, Tensor]:
    """`raw_features` of the split's training and test rows (numeric + one-hot)."""
    return (
        torch.from_numpy(
            raw_features(data.num_train.numpy(), data.cat_train.numpy(), data.cardinalities)
        ),
        torch.from_numpy(
            raw_features(data.num_test.numpy(), data.cat_test.numpy(), data.cardinalities)
        ),
    )


def _tabular_block(
    data: TableSplit,
    cfg: EvalConfig,
    *,
    embedded: tuple[Tensor, Tensor],
    raw: tuple[Tensor, Tensor],
    embedding_top1: float,
    seed: int,
) -> dict[str, Any]:
    """The `tabular` block: the columns, and the embedding, the raw features and boosting on
    the columns compared over the few-label budgets and with all training labels.

    Args:
        embedded: The encoder's training and test embeddings, Shape: (N, D) and (M, D).
        raw: `raw_features` of the same rows.
        embedding_top1: The linear probe's accuracy on `embedded` with all labels.
    """
    y_train, y_test = data.y_train.numpy(), data.y_test.numpy()
    columns = (
        torch.cat([data.num_train, data.cat_train.float()], dim=1).numpy(),
        torch.cat([data.num_test, data.cat_test.float()], dim=1).numpy(),
    )
    native = native_categories(data.cardinalities)
    categorical = np.concatenate([np.zeros(len(data.numeric_names), dtype=bool), native])
    return {
        "columns": {
            "numeric": len(data.numeric_names),
            "categorical": len(data.categorical_names),
            "missing": data.missing,
            "boosting_ordinal": [
                n for n, ok in zip(data.categorical_names, native, strict=True) if not ok
            ],
        },
        "draws": cfg.fewshot_draws,
        "budgets": budget_comparison(
            {"embedding": embedded, "raw": raw},
            columns,
            y_train,
            y_test,
            categorical=categorical,
            budgets=cfg.tabular_budgets,
            draws=cfg.fewshot_draws,
            seed=seed,
        ),
        "all_labels": {
            "embedding": embedding_top1,
            "raw": top1_accuracy(linear_probe_predict(raw[0], data.y_train, raw[1]), data.y_test),
            "boosting": boosting_accuracy(
                columns[0], y_train, columns[1], y_test, categorical=categorical, seed=seed
            ),
        },
    }
