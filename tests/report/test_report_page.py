"""report.html: holds every figure, its numbers equal metrics.json, and it degrades with a
note (instead of failing) for runs without labels, images or a projection library."""

from __future__ import annotations

import base64
import io
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from contrastkit.config import load_config
from contrastkit.errors import UserError
from contrastkit.modalities.base import EmbeddingViews
from contrastkit.modalities.images import ImageModality
from contrastkit.report.figures import map_entry, neighbours_entry
from contrastkit.report.page import render_page, suite_section
from contrastkit.report.run_report import report_run
from contrastkit.run import train_run
from contrastkit.rundir import read_log

FAST = [
    "train.epochs=1",
    "model.width=8",
    "model.feature_dim=16",
    "eval.fewshot_draws=2",
    "eval.supervised_steps=5",
]


class PageParser(HTMLParser):
    """Collects <img data-figure> sources and <td data-key> cells."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, str] = {}
        self.cells: list[tuple[str, str, str]] = []  # key, data-value, text
        self.notes = 0
        self._open: tuple[str, str] | None = None
        self._note = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "img" and a.get("data-figure"):
            self.figures[str(a["data-figure"])] = str(a["src"])
        if tag == "td" and a.get("data-key"):
            self._open = (str(a["data-key"]), str(a["data-value"]))
        if tag == "p" and a.get("class") == "note":
            self.notes += 1

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self.cells.append((*self._open, data))
            self._open = None


def _parse(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    return parser


def _lookup(metrics: Any, key: str) -> Any:
    for part in key.split("."):
        metrics = metrics[int(part)] if isinstance(metrics, list) else metrics[part]
    return metrics


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "digits"
    train_run(load_config(None, FAST), out, show_progress=False, log=lambda _m: None)
    return out


def _check_page(run: Path, expected_figures: set[str]) -> PageParser:
    page = _parse((run / "report.html").read_text())
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(page.figures) == expected_figures
    for uri in page.figures.values():
        assert uri.startswith("data:image/png;base64,")
        image = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
        assert image.size[0] > 200 and image.size[1] > 100
    keys = {key for key, _, _ in page.cells}
    for key, value, text in page.cells:
        assert float(value) == _lookup(metrics, key), key
        shown = float(text.split("±")[0])
        scale = 100 if abs(shown - 100 * float(value)) < 0.051 else 1
        assert shown == pytest.approx(scale * float(value), rel=5e-4, abs=0.051 * scale + 1e-4), key
    for key in (
        "eval.knn_top1",
        "eval.linear_top1",
        "eval.fewshot.linear_top1_mean",
        "baselines.raw.knn_top1",
        "baselines.random_init.linear_top1",
        "baselines.supervised_fewshot.top1_mean",
        "eval.retrieval.map_at_r",
        "eval.retrieval.mrr",
        "eval.ari",
        "eval.anomaly.auroc",
        "eval.classification.linear.f1_macro",
        "health.rankme",
    ):
        assert key in keys, key
    return page


@pytest.mark.slow
def test_report_holds_every_figure_and_metrics_json_numbers(run_dir: Path) -> None:
    path = report_run(run_dir, projections=("pca",), log=lambda _m: None)
    assert path == run_dir / "report.html"
    assert not list(run_dir.glob(".report.html.*"))  # atomic write left no temporary
    _check_page(run_dir, {"curves", "confusion", "map-pca", "neighbours"})


@pytest.mark.slow
def test_report_with_umap(run_dir: Path) -> None:
    report_run(run_dir, log=lambda _m: None)
    _check_page(run_dir, {"curves", "confusion", "map-pca", "map-umap", "neighbours"})


@pytest.mark.slow
def test_non_image_run_gets_notes_not_maps(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        ImageModality, "report_views", lambda _self, _method: (None, "no maps for this run")
    )
    report_run(run_dir, projections=("pca",), log=lambda _m: None)
    html = (run_dir / "report.html").read_text()
    page = _parse(html)
    assert set(page.figures) == {"curves", "confusion"}
    assert page.notes == 1 and "no maps for this run" in html  # once, for the maps
    monkeypatch.setattr(ImageModality, "report_views", lambda _self, _method: (None, ""))
    report_run(run_dir, projections=("pca",), log=lambda _m: None)
    html = (run_dir / "report.html").read_text()  # maps that do not apply: no section at all
    assert _parse(html).notes == 0 and "Feature space" not in html


@pytest.mark.slow
def test_run_without_checkpoint_still_gets_a_page(run_dir: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("config.yaml", "metrics.json"):
        (bare / name).write_text((run_dir / name).read_text())
    report_run(bare, projections=("pca",), log=lambda _m: None)
    html = (bare / "report.html").read_text()
    page = _parse(html)
    assert set(page.figures) == {"confusion"}  # no log.jsonl, no checkpoint
    assert "checkpoint.pt not found" in html and "log.jsonl holds no loss records" in html


def _views(labels: np.ndarray | None, images: np.ndarray | None) -> EmbeddingViews:
    rng = np.random.default_rng(0)
    return EmbeddingViews(
        trained=rng.standard_normal((40, 6)),
        random_init=rng.standard_normal((40, 6)),
        labels=labels,
        class_names=["a", "b"],
        images=images,
    )


def test_unlabeled_and_text_like_views_degrade() -> None:
    images = np.zeros((40, 1, 8, 8), dtype=np.uint8)
    unlabeled = _views(None, images)
    assert map_entry(unlabeled, "pca", 0).uri is not None
    assert neighbours_entry(unlabeled).uri is not None
    text_like = _views(np.arange(40) % 2, None)
    entry = neighbours_entry(text_like)
    assert entry.uri is None and "not images" in entry.note
    metrics = {"method": "simclr", "health": {"rankme": 3.5}}
    html = render_page(name="unlabeled", metrics=metrics, sections=[suite_section("u", metrics)])
    page = _parse(html)
    assert ("health.rankme", "3.5", "3.5") in page.cells
    assert "no label metrics" in html


def test_missing_umap_becomes_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_umap(_z: np.ndarray, _seed: int) -> np.ndarray:
        raise ImportError("no umap")

    monkeypatch.setitem(map_entry.__globals__["PROJECTIONS"], "umap", no_umap)
    entry = map_entry(_views(None, None), "umap", 0)
    assert entry.uri is None and "umap-learn" in entry.note


def test_bad_log_line_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text('{"step": 0, "loss": 1.0}\nnot json\n')
    with pytest.raises(UserError, match=r"log.jsonl:2: not valid JSON"):
        read_log(path)
    assert read_log(tmp_path / "missing.jsonl") == []


def test_report_needs_a_run_dir(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such run directory"):
        report_run(tmp_path / "nope")
    with pytest.raises(UserError, match="metrics.json not found"):
        report_run(tmp_path)
