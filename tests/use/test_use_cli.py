"""The use commands end to end on tiny trained runs: outputs join back by id, bad inputs
exit 2 with one line. Training the runs takes a while on a shared CPU: marked slow."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits
from tests.use.conftest import run_cli

from contrastkit.data.digit_captions import NUMBER_WORDS
from contrastkit.eval.anomaly import knn_outlier_scores, threshold_at_quantile
from contrastkit.run import load_run

pytestmark = pytest.mark.slow


def _digit_png(path: Path, i: int) -> Path:
    Image.fromarray((load_digits().images[i] * 255 / 16).astype(np.uint8)).save(path)
    return path


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return " ".join(err.split())


def test_embed_writes_ids_and_refuses_to_overwrite(
    digits_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    out = tmp_path / "z.npy"
    assert run_cli(monkeypatch, "embed", "--run", str(digits_run), "--out", str(out)) == 0
    z = np.load(out)
    ids = (tmp_path / "z.ids.txt").read_text().splitlines()
    assert z.shape == (1797, 16) and z.dtype == np.float32 and len(ids) == 1797
    assert ids[:2] == ["digits[0]", "digits[1]"] and not (digits_run / "indexes").exists()
    capsys.readouterr()
    assert run_cli(monkeypatch, "embed", "--run", str(digits_run), "--out", str(out)) == 2
    assert "exists; pass --overwrite" in _err(capsys)
    ckpt = digits_run / "checkpoint.pt"
    args = ["embed", "--run", str(digits_run), "--out", str(ckpt), "--overwrite"]
    assert run_cli(monkeypatch, *args) == 2
    assert "is a file of the run" in _err(capsys)


def test_named_indexes_search_and_bad_queries(
    digits_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    run = str(digits_run)
    assert run_cli(monkeypatch, "index", "--run", run, "--name", "a") == 0
    assert "index 'a': flat, 1797 vectors of dimension 16, exact search" in " ".join(
        capsys.readouterr().out.split()
    )
    assert run_cli(monkeypatch, "index", "--run", run, "--name", "a") == 2
    assert "an index named 'a' exists" in _err(capsys)
    assert run_cli(monkeypatch, "index", "--run", run, "--name", "b", "--kind", "hnsw") == 0
    capsys.readouterr()
    # the embedding of the query equals that of its source row: found with similarity 1
    query = _digit_png(tmp_path / "q.png", 0)
    args = ["search", "--run", run, "--query", str(query), "--index", "a", "--k", "3", "--json"]
    assert run_cli(monkeypatch, *args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["index"] == "a" and result["size"] == 1797
    assert [h["rank"] for h in result["hits"]] == [1, 2, 3]
    assert result["hits"][0]["score"] == pytest.approx(1.0, abs=1e-4)
    assert run_cli(monkeypatch, "search", "--run", run, "--query", str(query)) == 2
    assert "several indexes (a, b); choose one with --index" in _err(capsys)
    (tmp_path / "bad.png").write_bytes(b"not an image")
    for query_text, message in [
        (str(tmp_path / "bad.png"), "cannot decode as an image"),
        ("a red car", "no such file"),
    ]:
        assert (
            run_cli(monkeypatch, "search", "--run", run, "--index", "a", "--query", query_text) == 2
        )
        assert message in _err(capsys)
    # an index copied from another run (another checkpoint) is refused
    other = tmp_path / "other"
    shutil.copytree(digits_run, other)
    (other / "checkpoint.pt").write_bytes((other / "checkpoint.pt").read_bytes() + b"\0")
    args = ["search", "--run", str(other), "--index", "a", "--query", str(query)]
    assert run_cli(monkeypatch, *args) == 2
    assert "built by another model/run" in _err(capsys)


def test_anomaly_csv_joins_back_and_matches_the_scores(
    digits_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "new"
    folder.mkdir()
    for i in range(12):
        _digit_png(folder / f"d{i:02d}.png", i)
    Image.fromarray(np.full((8, 8), 255, np.uint8)).save(folder / "white.png")
    out = tmp_path / "scores.csv"
    args = ["anomaly", "--run", str(digits_run), "--data", str(folder), "--out", str(out)]
    assert run_cli(monkeypatch, *args, "--k", "3", "--quantile", "0.9") == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 13 and (tmp_path / "scores.png").is_file()
    scores = [float(r["score"]) for r in rows]
    assert scores == sorted(scores, reverse=True) and [r["rank"] for r in rows][:2] == ["1", "2"]
    _, modality, method = load_run(digits_run)
    train, held = modality.reference(method, print)
    embedded = modality.embed(method, str(folder), print)
    want = knn_outlier_scores(train, embedded.vectors, 3)
    threshold = threshold_at_quantile(knn_outlier_scores(train, held, 3), 0.9)
    by_id = dict(zip(embedded.ids, want, strict=True))
    for r in rows:
        assert float(r["score"]) == pytest.approx(by_id[r["id"]], abs=1e-5)
        assert r["flagged"] == str(int(by_id[r["id"]] > threshold))


def test_table_embed_new_csv_search_by_row(
    wine_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from sklearn.datasets import load_wine

    wine = load_wine()
    names = list(wine.feature_names)
    lines = ["key," + ",".join(names)]
    lines += [f"w{i}," + ",".join(str(v) for v in wine.data[i]) for i in (0, 60, 150)]
    new = tmp_path / "new.csv"
    new.write_text("\n".join(lines) + "\n")
    out = tmp_path / "w.npy"
    args = ["embed", "--run", str(wine_run), "--data", str(new), "--out", str(out)]
    assert run_cli(monkeypatch, *args, "--id-column", "key") == 0
    assert (tmp_path / "w.ids.txt").read_text().splitlines() == ["w0", "w60", "w150"]
    z = np.load(out)
    assert (
        run_cli(monkeypatch, "embed", "--run", str(wine_run), "--out", str(tmp_path / "t.npy")) == 0
    )
    train = np.load(tmp_path / "t.npy")
    cos = (z / np.linalg.norm(z, axis=1, keepdims=True)) @ (
        train / np.linalg.norm(train, axis=1, keepdims=True)
    ).T
    np.testing.assert_allclose(cos.max(axis=1), 1.0, atol=1e-5)  # each row is a training row
    capsys.readouterr()
    row = ",".join(f"{n}={v}" for n, v in zip(names, wine.data[60], strict=True))
    args = ["search", "--run", str(wine_run), "--row", row, "--k", "1", "--json"]
    assert run_cli(monkeypatch, *args) == 0
    hit = json.loads(capsys.readouterr().out)["hits"][0]
    assert hit["score"] == pytest.approx(1.0, abs=1e-4)
    # the row as a person finds it: data row 61 of the table, and its leading columns
    assert hit["id"] == "wine:61"
    assert hit["shown"].startswith(f"wine:61: alcohol={wine.data[60][0]:.6g}, ")
    capsys.readouterr()
    assert run_cli(monkeypatch, *args[:-1]) == 0  # printed: the id once, then the columns
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1].startswith("  1  +1.0000  wine:61: alcohol=")
    bad = tmp_path / "bad.csv"
    bad.write_text("alcohol,colour\n1,2\n")
    args = ["embed", "--run", str(wine_run), "--data", str(bad), "--out", str(tmp_path / "b.npy")]
    assert run_cli(monkeypatch, *args) == 2
    assert "extra colour" in _err(capsys)


def test_captions_both_sides_and_zero_shot(
    captions_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    run = str(captions_run)
    assert run_cli(monkeypatch, "index", "--run", run, "--name", "texts", "--side", "texts") == 0
    assert run_cli(monkeypatch, "index", "--run", run, "--name", "images") == 0
    capsys.readouterr()
    query = _digit_png(tmp_path / "q.png", 3)
    args = ["search", "--run", run, "--index", "texts", "--query", str(query), "--json"]
    assert run_cli(monkeypatch, *args) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert all(any(w in h["id"] for w in NUMBER_WORDS) for h in hits)  # ids are the texts
    args = ["search", "--run", run, "--index", "images", "--query", "a handwritten three"]
    assert run_cli(monkeypatch, *args) == 0
    capsys.readouterr()
    args = ["search", "--run", run, "--index", "texts", "--query", "three"]
    assert run_cli(monkeypatch, *args) == 2
    assert "the index holds texts" in _err(capsys)
    # a picture against the index of pictures (the shared space): itself first, similarity 1
    args = ["search", "--run", run, "--index", "images", "--query", str(query), "--json"]
    assert run_cli(monkeypatch, *args) == 0
    assert json.loads(capsys.readouterr().out)["hits"][0]["score"] == pytest.approx(1, abs=1e-4)
    # zero-shot on a folder of class subfolders: accuracy over the ones named like a label
    for digit in (1, 7):
        (tmp_path / "f" / NUMBER_WORDS[digit]).mkdir(parents=True)
        for i in np.flatnonzero(load_digits().target == digit)[:5]:
            _digit_png(tmp_path / "f" / NUMBER_WORDS[digit] / f"{i}.png", int(i))
    from contrastkit.use import zero_shot_run

    report = zero_shot_run(
        captions_run, list(NUMBER_WORDS), str(tmp_path / "f"), templates=("a handwritten {}",)
    )
    assert report.scored == 10 and len(report.ids) == 10 and report.accuracy is not None
    truth = ["one" if "/one/" in i else "seven" for i in report.ids]
    assert report.accuracy == pytest.approx(
        np.mean([p == t for p, t in zip(report.predicted, truth, strict=True)])
    )
    assert run_cli(monkeypatch, "zero-shot", "--run", run, "--labels", "one,two") == 0
    assert "accuracy" in capsys.readouterr().out
    args = ["zero-shot", "--run", run, "--labels", "one,two", "--template", "no slot"]
    assert run_cli(monkeypatch, *args) == 2
    assert "needs '{}'" in _err(capsys)
