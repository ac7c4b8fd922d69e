"""End to end: `contrastkit train/eval/embed` on tables, and bad input -> exit code 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from contrastkit.cli import main
from contrastkit.config import load_config
from contrastkit.report.run_report import report_run
from contrastkit.run import eval_run, train_run
from contrastkit.use import embed_run

CONFIG = Path(__file__).parents[2] / "configs" / "tabular_scarf.yaml"
QUICK = [
    "train.epochs=2",
    "train.batch_size=32",
    "train.warmup_epochs=0",
    "model.width=32",
    "model.feature_dim=16",
    "model.proj_hidden_dim=32",
    "model.proj_dim=8",
    "eval.knn_k=5",
    "eval.fewshot_labels_per_class=3",
    "eval.fewshot_draws=2",
    "eval.tabular_budgets=[2, 5]",
]


def accuracies(block: dict) -> list[float]:
    return [block["knn_top1"], block["linear_top1"], block["fewshot"]["linear_top1_mean"]]


@pytest.mark.slow
def test_train_eval_embed_on_wine(tmp_path: Path) -> None:
    cfg = load_config(CONFIG, [*QUICK, "data.source=wine"])
    out = tmp_path / "run"
    metrics = train_run(cfg, out, show_progress=False, log=lambda _m: None)
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["data"] == "wine" and saved["method"] == "scarf" and saved["epochs"] == 2
    for block in (saved["eval"], saved["baselines"]["raw"], saved["baselines"]["random_init"]):
        assert all(0.0 <= a <= 1.0 for a in accuracies(block))
    assert saved["eval"]["fewshot"]["labels_per_class"] == 3
    tab = saved["tabular"]
    assert tab["columns"] == {
        "numeric": 13, "categorical": 0, "missing": {}, "boosting_ordinal": []
    }  # fmt: skip
    assert set(tab["budgets"]) == {"2", "5"}
    for row in tab["budgets"].values():
        assert set(row) == {"embedding", "raw", "boosting"}
        assert all(len(row[m]["draws"]) == 2 for m in row)
    # The raw baseline of `eval` and the `tabular` block's raw column are the same probe.
    assert tab["all_labels"]["raw"] == saved["baselines"]["raw"]["linear_top1"]
    assert tab["all_labels"]["embedding"] == saved["eval"]["linear_top1"]
    again = eval_run(out, log=lambda _m: None)
    assert again["tabular"]["budgets"] == metrics["tabular"]["budgets"]
    n, d = embed_run(out, "wine", tmp_path / "z.npy")
    assert (n, d) == (178, 16) and np.load(tmp_path / "z.npy").shape == (178, 16)
    html = report_run(out, projections=("pca",), log=lambda _m: None).read_text()
    assert "Label budgets" in html and 'data-figure="map-pca"' in html
    assert 'data-figure="confusion"' in html and '<table class="block">' in html
    assert 'data-figure="neighbours"' not in html and 'id="examples"' in html  # rows as text
    for placeholder in ("no classification metrics", "not images", "┃", "│"):
        assert placeholder not in html


@pytest.mark.slow
def test_train_on_csv_with_categories_and_missing(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    lines = ["x,colour,size,label"]
    for i in range(120):
        label = i % 2
        x = "" if i % 17 == 0 else f"{rng.normal(label * 2.0):.3f}"
        colour = "" if i % 23 == 0 else ["red", "blue", "green"][(i + label) % 3]
        lines.append(f"{x},{colour},{rng.integers(1, 5)},{'ab'[label]}")
    path = tmp_path / "rows.csv"
    path.write_text("\n".join(lines) + "\n")
    cfg = load_config(CONFIG, [*QUICK, "data.source=csv", f"data.path={path}", "data.label=label"])
    logged: list[str] = []
    metrics = train_run(cfg, tmp_path / "run", show_progress=False, log=logged.append)
    assert any("2 numeric + 1 categorical" in line for line in logged)
    assert any("imputed" in line and "x 8" in line and "colour 6" in line for line in logged)
    assert metrics["tabular"]["columns"]["missing"] == {"x": 8, "colour": 6}
    assert 0.0 <= metrics["eval"]["linear_top1"] <= 1.0


def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str):
    monkeypatch.setattr(sys, "argv", ["contrastkit", *args])
    with pytest.raises(SystemExit) as info:
        main()
    return info.value.code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("csv", "label", "expected"),
    [
        ("a,b,y\n1,2,u\n3,v\n", "y", ["line 3", "2 fields"]),
        ("a,y\n" + "1,u\n" * 12 + "x1,v\n", "y", ["line 14", "'a'", "'x1'"]),
        ("a,b,y\n1,,u\n2,,v\n", "y", ["'b'", "empty in all 2 rows"]),
        ("a,y\n1,u\n2,v\n", "target", ["'target' not found"]),
    ],
)
def test_bad_csv_exits_2_naming_file_row_column(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    csv: str,
    label: str,
    expected: list[str],
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(csv)
    code, err = run_cli(
        monkeypatch,
        capsys,
        "train",
        "--config",
        str(CONFIG),
        "--out",
        str(tmp_path / "run"),
        "--no-progress",
        "--set",
        "data.source=csv",
        "--set",
        f"data.path={path}",
        "--set",
        f"data.label={label}",
    )
    flat = " ".join(err.split())  # rich may wrap long lines
    assert code == 2 and "Traceback" not in err
    assert str(path) in "".join(err.split()) or path.name in flat
    assert all(part in flat for part in expected), flat


def test_table_source_needs_table_method(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run_cli(
        monkeypatch,
        capsys,
        "train",
        "--out",
        str(tmp_path / "run"),
        "--set",
        "data.source=wine",
        "--set",
        "method.name=simclr",
    )
    flat = " ".join(err.split())
    assert code == 2 and "'simclr' does not train on tables" in flat
    assert "methods for tables: scarf" in flat
    assert "Traceback" not in err
