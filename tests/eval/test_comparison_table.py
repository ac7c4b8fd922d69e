"""The side-by-side table: every cell shows the metrics.json value it names."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from contrastkit.eval.table import (
    COLUMNS,
    comparison_rows,
    comparison_table,
    has_values,
    headers,
    legend,
)


def _block(base: float) -> dict[str, Any]:
    return {
        "knn_top1": base,
        "linear_top1": base + 0.01,
        "fewshot": {
            "labels_per_class": 10,
            "linear_top1_mean": base - 0.1,
            "linear_top1_std": 0.02,
        },
        "retrieval": {"recall_at_1": base, "map_at_r": base / 2},
        "nmi": 0.5,
        "ari": 0.4,
        "classification": {"linear": {"f1_macro": base}},
        "anomaly": {"auroc": 0.8},
    }


def _metrics(base: float, seed: int = 0) -> dict[str, Any]:
    return {
        "method": "simclr",
        "data": "digits",
        "seed": seed,
        "eval": _block(base),
        "health": {"rankme": 42.0},
        "baselines": {
            "raw": _block(0.3),
            "random_init": _block(0.2),
            "supervised_fewshot": {"top1_mean": 0.55, "top1_std": 0.03},
        },
    }


def _lookup(metrics: dict[str, Any], key: str) -> Any:
    for part in key.split("."):
        metrics = metrics[part]
    return metrics


def test_rows_cells_carry_their_metrics_values() -> None:
    a, b = _metrics(0.9), _metrics(0.7)
    rows = comparison_rows([("A", a), ("B", b)])
    # two runs, then one set of baselines (same data and seed)
    assert [r.name for r in rows] == [
        "A",
        "B",
        "raw input",
        "random-init encoder",
        "supervised, few labels",
    ]
    for row, source in zip(rows, [a, b, a, a, a], strict=True):
        for cell in row.cells:
            if cell.key is not None:
                assert cell.value == _lookup(source, cell.key)
    knn = [c.path for c in COLUMNS].index("knn_top1")
    assert rows[0].cells[knn].text == "90.0"
    assert rows[2].cells[knn].key == "baselines.raw.knn_top1"
    fewshot = [c.path for c in COLUMNS].index("fewshot.linear_top1_mean")
    assert rows[0].cells[fewshot].text == "80.0±2.0"
    assert rows[4].cells[fewshot].text == "55.0±3.0"
    assert rows[4].cells[knn].text == "-"
    rankme = [c.path for c in COLUMNS].index("rankme")
    assert rows[0].cells[rankme].text == "42.0" and rows[2].cells[rankme].text == "-"


def test_runs_with_other_seeds_get_their_own_baselines() -> None:
    rows = comparison_rows([("A", _metrics(0.9, seed=0)), ("B", _metrics(0.9, seed=1))])
    assert len(rows) == 2 + 2 * 3
    assert rows[2].name == "raw input (digits, seed 0)"


def test_missing_metrics_show_a_dash() -> None:
    rows = comparison_rows([("unlabeled", {"health": {"rankme": 3.0}})])
    assert [c.text for c in rows[0].cells][:3] == ["-", "-", "-"]


def test_rich_table_renders_headers_and_values() -> None:
    runs = [("A", _metrics(0.9))]
    assert headers()[4] == "few-label"
    assert "linear probe on 10 labels per class" in legend(runs)
    console = Console(record=True, width=250)
    console.print(comparison_table(runs, title="t"))
    text = console.export_text()
    assert "random-init encoder" in text and "90.0" in text and "42.0" in text


def test_a_skipped_baseline_has_no_row_and_the_legend_says_why() -> None:
    metrics = _metrics(0.9)
    metrics["baselines"]["pretrained"] = _block(0.8)
    metrics["baselines"]["supervised_fewshot"] = {"skipped": "it starts pretrained"}
    rows = comparison_rows([("A", metrics)])
    assert [r.name for r in rows][1:] == [
        "raw input", "random-init encoder", "pretrained, not fine-tuned"
    ]  # fmt: skip
    assert legend([("A", metrics)]).endswith(
        " No 'supervised, few labels' row: it starts pretrained."
    )
    assert "No '" not in legend([("A", _metrics(0.9))])


def test_a_run_with_its_health_alone_has_no_table() -> None:
    lines = {"method": "simcse", "data": "verbs", "seed": 0, "health": {"rankme": 295.5}}
    assert not has_values([("verbs", lines)])  # a RankMe alone: the health line says it
    assert has_values([("digits", _metrics(0.9))])
