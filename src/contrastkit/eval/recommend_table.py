"""The recommendation table printed by `train` and `eval` for interactions runs."""

from __future__ import annotations

from typing import Any

from rich.table import Table

ROWS = (
    ("model", "two-tower (this run)"),
    ("most_popular", "most popular"),
    ("svd", "truncated SVD"),
    ("oracle", "oracle (generator's scores)"),
)


def recommend_table(block: dict[str, Any], title: str) -> Table:
    """Rows: the model and the baselines; columns: recall@10, recall@20, NDCG@10 (%).

    Args:
        block: The `recommend` block of metrics.json.
    """
    table = Table(title=title)
    for col in ("ranking", "recall@10", "recall@20", "NDCG@10"):
        table.add_column(col, justify="left" if col == "ranking" else "right")
    for key, label in ROWS:
        scores = block.get(key)
        if not isinstance(scores, dict):
            continue
        if key == "svd" and "svd_rank" in block:
            label = f"{label} (rank {block['svd_rank']})"
        table.add_row(
            label,
            *(f"{100 * scores[k]:.1f}" for k in ("recall_at_10", "recall_at_20", "ndcg_at_10")),
        )
    table.caption = (
        f"leave-last-out: {block.get('test_users')} users' latest item among their unseen "
        f"items ({block.get('users')} users, {block.get('items')} items)"
    )
    return table
