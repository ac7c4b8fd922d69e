"""`train --data FILE`: the source and recipe chosen by what the file holds, the label and
id columns guessed, categorical columns of any cardinality, one number per measure."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from contrastkit.cli import main
from contrastkit.config import config_from_dict, fit_defaults, settings_of
from contrastkit.data.table import RawTable
from contrastkit.errors import UserError
from contrastkit.eval.tabular_probe import (
    ONE_HOT_MAX,
    boosting_accuracy,
    native_categories,
    raw_features,
)
from contrastkit.modalities.registry import modality_for, source_of
from contrastkit.modalities.tables.recipe import guess_id_column, guess_label, no_label
from contrastkit.use import embed_run

QUICK = [
    "train.epochs=2",
    "train.batch_size=32",
    "model.width=32",
    "model.feature_dim=16",
    "model.proj_hidden_dim=32",
    "model.proj_dim=8",
    "eval.knn_k=5",
    "eval.fewshot_labels_per_class=3",
    "eval.fewshot_draws=2",
    "eval.tabular_budgets=[2, 3]",
]


def test_the_source_follows_what_the_file_holds(tmp_path: Path) -> None:
    (tmp_path / "rows.csv").write_text("a,b,label\n1,2,x\n")
    (tmp_path / "pairs.csv").write_text("anchor,positive\nq,a\n")
    (tmp_path / "pairs.jsonl").write_text('{"anchor": "q", "positive": "a"}\n')
    (tmp_path / "lines.txt").write_text("one\ntwo\n")
    (tmp_path / "rows.parquet").write_bytes(b"PAR1")
    (tmp_path / "images").mkdir()
    (tmp_path / "z.npy").write_bytes(b"")
    found = {name: source_of(str(tmp_path / name)) for name in (
        "rows.csv", "pairs.csv", "pairs.jsonl", "lines.txt", "rows.parquet", "images", "z.npy"
    )}  # fmt: skip
    assert found == {
        "rows.csv": "csv",
        "pairs.csv": "text_pairs",
        "pairs.jsonl": "text_pairs",
        "lines.txt": "text_lines",
        "rows.parquet": "parquet",
        "images": "auto",
        "z.npy": "auto",
    }
    (tmp_path / "book.xlsx").write_bytes(b"")
    with pytest.raises(UserError, match=r"book.xlsx: a \.xlsx file; expected a folder of images"):
        source_of(str(tmp_path / "book.xlsx"))
    with pytest.raises(UserError, match="no such file or folder"):
        source_of(str(tmp_path / "missing.csv"))


def table(**columns: list) -> RawTable:
    numeric = {k: np.array(v, dtype=float) for k, v in columns.items() if not isinstance(v[0], str)}
    text = {k: np.array(v, dtype=object) for k, v in columns.items() if isinstance(v[0], str)}
    return RawTable(numeric=numeric, categorical=text, labels=None, name="t")


def test_the_label_and_id_guesses() -> None:
    rows = table(
        size=[1.5, 2.5, 3.5, 4.5],  # all distinct, but a measurement
        order_id=[10, 11, 12, 13],  # an integer named like an id
        Target=["a", "b", "a", "b"],
    )
    label = guess_label(rows)
    assert label is not None and label.values == {"label": "Target"}
    found = guess_id_column(rows, label="Target")
    assert found is not None and found.values == {"id_column": "order_id"}
    names = table(name=["ann", "bob", "cy"], colour=["r", "g", "r"], x=[1.0, 1.0, 2.0])
    found = guess_id_column(names, label=None)
    assert found is not None and found.values == {"id_column": "name"}
    assert guess_id_column(table(size=[1.5, 2.5], colour=["r", "r"]), label=None) is None
    assert guess_id_column(table(order_id=[1.0, 1.0]), label=None) is None  # repeated
    assert guess_label(table(x=[1.0, 2.0])) is None


def test_a_table_without_a_label_is_refused_naming_the_columns_that_could_be_one(
    tmp_path: Path,
) -> None:
    rows = table(
        patient=["p1", "p2", "p3", "p4"],  # all distinct: an id, not a label
        size=[1.5, 2.5, 3.5, 4.5],  # a measurement
        stage=[1.0, 2.0, 1.0, float("nan")],  # whole numbers, 2 values
        diagnosis=["benign", "malignant", "benign", "benign"],
    )
    said = str(no_label(rows, "scans.csv"))
    assert said == (
        "scans.csv: no label column (none is named label, labels, target, class, y): name the "
        "column to evaluate on with --label COLUMN (training does not use it); columns that "
        "could be: diagnosis (2 values), stage (2 values)"
    )
    path = tmp_path / "scans.csv"
    path.write_text("size,diagnosis\n" + "".join(f"{i}.5,{'ab'[i % 2]}\n" for i in range(8)))
    cfg = config_from_dict({"data": {"source": "csv", "path": str(path)}})
    with pytest.raises(UserError, match=r"scans.csv: no label column .* diagnosis \(2 values\)"):
        modality_for(settings_of(cfg)).fitted_defaults()


def test_the_recipe_applies_only_without_a_method_and_keeps_what_the_user_set(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("a,label\n" + "".join(f"{i},{'xy'[i % 2]}\n" for i in range(8)))
    data = {"source": "csv", "path": str(path), "label": "label"}
    given = config_from_dict({"data": data, "train": {"epochs": 3}})
    cfg, lines = fit_defaults(given, modality_for(settings_of(given)).fitted_defaults())
    assert cfg.method.name == "scarf" and cfg.model.encoder == "mlp"
    assert cfg.train.epochs == 3 and cfg.train.lr == 0.001 and cfg.train.batch_size == 128
    assert lines[0] == (
        "chose method.name=scarf, method.temperature=1.0 for a table (rows.csv); set it to override"
    )
    named = config_from_dict({"data": data, "method": {"name": "scarf", "temperature": 0.5}})
    assert fit_defaults(named, modality_for(settings_of(named)).fitted_defaults()) == (named, [])
    assert named.model.encoder == "small_cnn" and named.train.epochs == 200
    assert given.method.name == "simclr"  # a new config: the user's is not changed


def test_boosting_takes_what_it_can_and_the_raw_features_stay_narrow() -> None:
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 351, size=(600, 2))  # 350 categories + code 0
    codes[:, 1] %= 4
    cardinalities = [351, 4]
    raw = raw_features(np.zeros((600, 1), np.float32), codes, cardinalities)
    assert raw.shape == (600, 1 + ONE_HOT_MAX + 4)
    assert np.array_equal(raw[np.arange(600), 1 + codes[:, 0] % ONE_HOT_MAX], np.ones(600))
    assert native_categories(cardinalities).tolist() == [False, True]
    y = codes[:, 1] % 2
    with pytest.raises(ValueError, match="cardinality"):  # what crashed runs before
        HistGradientBoostingClassifier(categorical_features=[True, True]).fit(codes, y)
    x = codes.astype(np.float64)
    accuracy = boosting_accuracy(
        x[:400], y[:400], x[400:], y[400:], categorical=native_categories(cardinalities), seed=0
    )
    assert accuracy == 1.0  # the label is the second column's parity


def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str):
    monkeypatch.setattr(sys, "argv", ["contrastkit", *args])
    with pytest.raises(SystemExit) as info:
        main()
    return info.value.code, capsys.readouterr()


def write_scans(path: Path, n: int = 600) -> None:
    rng = np.random.default_rng(3)
    lines = ["scan,x,y,site,target"]
    for i in rng.permutation(n):
        label = int(i % 3)
        lines.append(
            f"scan-{i},{rng.normal(label):.4f},{rng.normal():.4f},site{rng.integers(2000)},c{label}"
        )
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.slow
def test_train_data_csv_guesses_and_names_rows_by_their_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "scans.csv"
    write_scans(path)
    sets = [arg for key in QUICK for arg in ("--set", key)]
    out = tmp_path / "run"
    code, printed = run_cli(
        monkeypatch, capsys, "train", "--data", str(path), "--out", str(out), "--no-progress", *sets
    )
    assert code in (0, None), printed.err
    said = printed.out
    assert "chose data.source=csv for scans.csv (tables)" in said
    assert "chose method.name=scarf" in said and "chose data.label=target" in said
    assert "chose data.id_column=scan for its 600 values, all distinct" in said
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["tabular"]["columns"]["categorical"] == 1  # site; scan is the id
    assert metrics["tabular"]["columns"]["boosting_ordinal"] == ["site"]
    # one number per measure: the budget table at the run's k is the main table's probe
    k = str(metrics["eval"]["fewshot"]["labels_per_class"])
    budget = metrics["tabular"]["budgets"][k]["embedding"]
    assert budget["draws"] == metrics["eval"]["fewshot"]["draws"]
    assert metrics["eval"]["classification"]["linear"]["accuracy"] == metrics["eval"]["linear_top1"]
    embed_run(out, "train", tmp_path / "z.npy", log=lambda _m: None)
    ids = (tmp_path / "z.ids.txt").read_text().splitlines()
    lines = path.read_text().splitlines()[1:]
    assert ids == [line.split(",")[0] for line in lines]  # every row, in the file's order
