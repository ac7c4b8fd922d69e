"""sweep.json and sweep.html from points' metrics.json files: the numbers, the best point,
the heat maps (SimCLR's augmentation matrix for `augment=pairs`) and the table."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from contrastkit.sweep.charts import colour_range, joined
from contrastkit.sweep.page import render_page
from contrastkit.sweep.plan import POINTS, make_plan
from contrastkit.sweep.results import Results
from contrastkit.sweep.runner import FAILED


def plan_for(grid: list[str]):  # type: ignore[no-untyped-def]
    return make_plan(
        config="configs/digits_simclr.yaml",
        sets=[],
        grid=grid,
        subset=None,
        epochs=2,
        sample_size=None,
        seed=0,
    )


def write_metrics(out: Path, point_id: str, knn: float) -> None:
    """A metrics.json with kNN `knn`, linear knn + 0.05, few-label knn - 0.1 +- 0.01."""
    run = out / POINTS / point_id
    run.mkdir(parents=True)
    metrics = {
        "train_time_s": 12.5,
        "eval": {
            "knn_top1": knn,
            "linear_top1": knn + 0.05,
            "fewshot": {"linear_top1_mean": knn - 0.1, "linear_top1_std": 0.01},
            "retrieval": {"map_at_r": knn / 2},
        },
    }
    (run / "metrics.json").write_text(json.dumps(metrics))


class Cells(HTMLParser):
    """Every <td> with data-* attributes: its attributes and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[dict[str, Any]] = []
        self.rows: list[str] = []
        self.best_rows: list[str] = []
        self.heatmaps: list[tuple[str, str]] = []
        self._open: dict[str, Any] | None = None
        self._row = ""
        self._heat = 0  # the heat map the parser is in (1, 2, ...), 0 outside

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and a.get("class") == "heat":
            self.heatmaps.append((str(a["data-rows"]), str(a["data-cols"])))
            self._heat = len(self.heatmaps)
        if tag == "tr" and "data-point" in a:
            self._row = str(a["data-point"])
            self.rows.append(self._row)
            if a.get("class") == "best":
                self.best_rows.append(self._row)
        if tag == "td" and any(k.startswith("data-") for k in a):
            self._open = {**a, "row_point": self._row, "heat": self._heat, "text": ""}
            self.cells.append(self._open)

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._open = None
        if tag == "table":
            self._row, self._heat = "", 0


def parse(html: str) -> Cells:
    cells = Cells()
    cells.feed(html)
    return cells


KNN = {"p000": 0.80, "p001": 0.60, "p007": 0.85, "p008": 0.70, "p013": 0.75}
"""crop, jitter, crop+jitter, crop+blur, jitter+blur (blur alone: p002, not run)."""


@pytest.fixture
def pairs(tmp_path: Path) -> tuple[Results, Path]:
    plan = plan_for(["augment=pairs"])
    for point_id, knn in KNN.items():
        write_metrics(tmp_path, point_id, knn)
    previous = {"points": [{"id": "p003", "status": FAILED, "error": "loss was not finite"}]}
    return Results.start(plan, "knn", previous, tmp_path), tmp_path


def test_sweep_json_holds_every_point_and_the_best(pairs: tuple[Results, Path]) -> None:
    results, out = pairs
    data = json.loads(json.dumps(results.to_json(out)))
    assert data["contrastkit_sweep"] == 1 and data["points_in_grid"] == 28
    assert data["plan"]["grid"] == [["augment", "pairs"]] and data["plan"]["epochs"] == 2
    by_id = {p["id"]: p for p in data["points"]}
    assert len(by_id) == 28
    crop_jitter = by_id["p007"]
    assert crop_jitter["settings"] == {"augment": "crop+jitter"}
    assert crop_jitter["status"] == "done" and crop_jitter["run"] == "points/p007"
    assert crop_jitter["knn"] == 0.85 and crop_jitter["linear"] == pytest.approx(0.90)
    assert crop_jitter["fewshot"] == pytest.approx(0.75) and crop_jitter["fewshot_std"] == 0.01
    assert crop_jitter["train_time_s"] == 12.5 and crop_jitter["value"] == 0.85
    assert crop_jitter["overrides"]["augment.hflip_prob"] == 0.0
    assert by_id["p003"]["status"] == "failed" and by_id["p003"]["error"] == "loss was not finite"
    assert by_id["p002"]["status"] == "pending" and by_id["p002"]["knn"] is None
    assert data["best"]["id"] == "p007" and data["best"]["value"] == 0.85
    assert data["best"]["command"] == f"contrastkit train --config {out}/best.yaml --out {out}/best"


def test_the_best_point_follows_the_metric(tmp_path: Path) -> None:
    plan = plan_for(["seed=[0,1,2]"])
    write_metrics(tmp_path, "p000", 0.5)
    write_metrics(tmp_path, "p002", 0.7)
    assert Results.start(plan, "knn", None, tmp_path).best().id == "p002"  # type: ignore[union-attr]
    by_map = Results.start(plan, "eval.retrieval.map_at_r", None, tmp_path)
    assert by_map.points["p002"].value == 0.35 and by_map.best().id == "p002"  # type: ignore[union-attr]
    assert Results.start(plan, "eval.nothing", None, tmp_path).best() is None


def test_the_pairs_heat_map_is_simclrs_matrix(pairs: tuple[Results, Path]) -> None:
    results, out = pairs
    page = parse(render_page(results, out))
    assert page.heatmaps == [("augmentation", "with")]
    heat = {(c["data-row"], c["data-col"]): c for c in page.cells if c["heat"] == 1}
    # diagonal: one augmentation alone; below it: the pair (rows the later augmentation)
    assert float(heat[("crop", "crop")]["data-value"]) == 0.80
    assert heat[("crop", "crop")]["text"] == "80.0"
    assert heat[("jitter", "crop")]["data-point"] == "p007"
    assert float(heat[("jitter", "crop")]["data-value"]) == 0.85
    assert float(heat[("blur", "jitter")]["data-value"]) == 0.75
    assert ("crop", "jitter") not in heat  # above the diagonal: no cell of its own
    assert heat[("flip", "flip")]["text"] == "failed"  # p003: failed, shown in its cell
    assert heat[("blur", "blur")]["text"] == "pending"
    shown = [c for c in heat.values() if "data-value" in c]
    assert len(shown) == len(KNN)


def test_the_table_carries_every_score(pairs: tuple[Results, Path]) -> None:
    results, out = pairs
    page = parse(render_page(results, out))
    assert page.rows == [f"p{i:03d}" for i in range(28)]
    assert page.best_rows == ["p007"]
    table = [c for c in page.cells if c["row_point"]]
    for point_id, knn in KNN.items():
        cells = {c["data-key"]: c for c in table if c["row_point"] == point_id}
        assert float(cells["knn"]["data-value"]) == knn
        assert cells["knn"]["text"] == f"{100 * knn:.1f}"
        assert float(cells["linear"]["data-value"]) == pytest.approx(knn + 0.05)
        assert cells["fewshot"]["text"] == f"{100 * (knn - 0.1):.1f} ± 1.0"
        assert cells["status"]["text"] == "done"
    failed = {c["data-key"]: c for c in table if c["row_point"] == "p003"}
    assert failed["status"]["text"] == "failed: loss was not finite"
    assert failed["knn"]["data-value"] == "None"


def test_three_keys_give_a_heat_map_per_pair_with_the_best_over_the_third(tmp_path: Path) -> None:
    plan = plan_for(["seed=[0,1]", "method.temperature=[0.1,0.5]", "train.lr=[0.001,0.002]"])
    for i, knn in enumerate([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]):
        write_metrics(tmp_path, f"p{i:03d}", knn)
    page = parse(render_page(Results.start(plan, "knn", None, tmp_path), tmp_path))
    assert page.heatmaps == [
        ("seed", "method.temperature"),
        ("seed", "train.lr"),
        ("method.temperature", "train.lr"),
    ]
    first = {
        (c["data-row"], c["data-col"]): float(c["data-value"]) for c in page.cells if c["heat"] == 1
    }
    # seed 0, temperature 0.1: points p000 (lr 0.001, 0.1) and p001 (lr 0.002, 0.2): best 0.2
    assert first == {("0", "0.1"): 0.2, ("0", "0.5"): 0.4, ("1", "0.1"): 0.6, ("1", "0.5"): 0.8}


@pytest.mark.parametrize("grid", ["method.temperature=[0.1,0.2,0.5]", "augment=singles"])
def test_one_key_gives_a_line_plot(tmp_path: Path, grid: str) -> None:
    plan = plan_for([grid])
    write_metrics(tmp_path, "p001", 0.5)
    html = render_page(Results.start(plan, "knn", None, tmp_path), tmp_path)
    assert 'data-figure="line"' in html and "data:image/png;base64," in html
    assert not parse(html).heatmaps
    assert 'http-equiv="refresh"' in html  # two points still to run


def test_colours_stretch_over_two_points_at_least() -> None:
    assert colour_range([0.803, 0.801]) == pytest.approx((0.792, 0.812))
    assert colour_range([0.70, 0.80, 0.75]) == (0.70, 0.80)
    assert colour_range([0.5]) == pytest.approx((0.49, 0.51))


def test_a_line_joins_numeric_values_only() -> None:
    assert joined(("5", "10", "20", "40")) and joined(("0.05", "1e-3", "-2"))
    assert not joined(("configs/a.yaml", "configs/b.yaml"))
    assert not joined(("[0.4, 1]", "[0.8, 1]"))  # a crop range is a category here
    assert not joined(("crop", "crop+blur"))
