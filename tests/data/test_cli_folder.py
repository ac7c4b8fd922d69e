"""End to end on a generated folder of unlabeled pictures: train, embed, search; and the
CLI's clean errors for bad data (exit 2, one line naming the file)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from contrastkit.cli import app, main

from .images import make_folder

FAST = [
    "--set",
    "train.epochs=2",
    "--set",
    "train.batch_size=8",
    "--set",
    "train.warmup_epochs=0",
    "--set",
    "model.width=8",
    "--set",
    "augment.hflip_prob=0.5",
    "--no-progress",
]


def _cli(args: list[str]) -> str:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def _main_exit(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys) -> str:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sys, "argv", ["contrastkit", *args])
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return " ".join(err.split())


@pytest.mark.slow
def test_train_embed_search_on_an_unlabeled_folder(tmp_path: Path) -> None:
    photos = make_folder(tmp_path / "my_photos", None, per_class=24, size=16)
    run = tmp_path / "run"
    out = _cli(["train", "--data", str(photos), "--out", str(run), *FAST])
    assert "no labels" in " ".join(out.split())
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["data"] == "my_photos" and "skipped" in metrics["eval"]
    assert "baselines" not in metrics
    assert set(metrics["health"]) == {"rankme", "emb_std", "alignment", "uniformity"}
    assert all(np.isfinite(v) for v in metrics["health"].values())

    out = _cli(
        ["embed", "--run", str(run), "--data", str(photos), "--out", str(tmp_path / "e.npy")]
    )
    z = np.load(tmp_path / "e.npy")
    assert z.shape == (24, 128) and z.dtype == np.float32 and "24 images, 16x16 RGB" in out
    assert not (run / "indexes").exists()  # embed writes no index; search builds one

    query = photos / "img005.png"
    out = _cli(["search", "--run", str(run), "--query", str(query), "--k", "5"])
    rows = re.findall(r"^\s*(\d+)\s+([+-]\d\.\d{4})\s+(\S+)\s+(\S+)$", out, flags=re.MULTILINE)
    assert [int(rank) for rank, _, _, _ in rows] == [1, 2, 3, 4, 5]
    assert all(shown == Path(p).name for _, _, p, shown in rows)  # the name in the folder
    hits = [(rank, s, p) for rank, s, p, _ in rows]
    sims = [float(s) for _, s, _ in hits]
    assert sims == sorted(sims, reverse=True) and all(-1.0001 <= s <= 1.0001 for s in sims)
    assert all(Path(p).is_file() and Path(p).parent == photos for _, _, p in hits)
    # The query is one of the indexed images: it is found with cosine similarity 1.
    assert any(Path(p) == query and s > 0.9999 for (_, s, p), s in zip(hits, sims, strict=True))
    zn = z / np.linalg.norm(z, axis=1, keepdims=True)
    assert max(sims) == pytest.approx(float((zn @ zn[5]).max()), abs=1e-4)


@pytest.mark.slow
def test_bad_file_is_named_and_skip_bad_reports_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    photos = make_folder(tmp_path / "p", None, per_class=16, size=12)
    (photos / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    err = _main_exit(
        ["train", "--data", str(photos), "--out", str(tmp_path / "r"), *FAST], monkeypatch, capsys
    )
    assert re.search(r"error: \S*corrupt\.png: cannot decode as an image.*--skip-bad", err)
    out = _cli(["train", "--data", str(photos), "--skip-bad", "--out", str(tmp_path / "r2"), *FAST])
    assert "skipped 1 bad file(s)" in " ".join(out.split())


def test_missing_and_unreadable_data_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    err = _main_exit(
        ["train", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "r")],
        monkeypatch,
        capsys,
    )
    assert "no such file or folder" in err
    (tmp_path / "empty").mkdir()
    err = _main_exit(
        ["train", "--data", str(tmp_path / "empty"), "--out", str(tmp_path / "r")],
        monkeypatch,
        capsys,
    )
    assert "the folder is empty" in err
