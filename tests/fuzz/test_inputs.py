"""Malformed inputs beyond the train corpus (`corpus.py`): files that `--skip-bad` must
leave out (training goes on, with a note), a self-referencing link, a cut-short WAV, and
bad files handed to a finished run (`embed`, `anomaly`, `search`). Never a traceback; a
refusal is one line (exit 2); the run read is unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.fuzz.conftest import table_csv
from tests.fuzz.corpus import cut_in_data, folder, speech, speech_latin1, wav_bytes
from tests.fuzz.harness import expect_none, findings, run_cli
from tests.fuzz.snapshot import Snapshot


def _trains(args: list[str], root: Path, *said: str) -> None:
    outcome = run_cli(["train", "--out", str(root / "run"), *args], cwd=root)
    expect_none(findings(outcome, code=0, said=()))
    shown = outcome.stdout + outcome.stderr
    assert all(w in shown for w in said), shown


def _self_link(where: Path) -> None:
    (where / "loop.png").symlink_to("loop.png")


@pytest.mark.parametrize("labelled", [True, False], ids=["classes", "flat"])
def test_a_link_to_itself_is_skipped_with_a_note(tmp_path: Path, labelled: bool) -> None:
    _trains(folder(tmp_path, _self_link, labelled=labelled), tmp_path, "symbolic link")


def test_skip_bad_leaves_out_an_image_cut_short_in_its_data(tmp_path: Path) -> None:
    """The header reads, the pixels do not: the workers would meet it mid-epoch."""
    args = folder(tmp_path, cut_in_data)
    _trains([*args, "--skip-bad", "--set", "train.workers=2"], tmp_path, "skipped 1 bad file")


def test_without_skip_bad_a_worker_names_the_file(tmp_path: Path) -> None:
    args = folder(tmp_path, cut_in_data) + ["--set", "train.workers=2"]
    outcome = run_cli(["train", "--out", str(tmp_path / "run"), *args], cwd=tmp_path)
    expect_none(findings(outcome, said=("cut.png", "--skip-bad")))
    assert "Traceback" not in outcome.stderr


def test_skip_bad_leaves_out_manifest_rows_that_are_not_utf8(tmp_path: Path) -> None:
    _trains([*speech_latin1(tmp_path), "--skip-bad"], tmp_path, "skipped")


def test_a_wav_cut_short_mid_sample_is_read(tmp_path: Path) -> None:
    """An odd byte count for 16-bit samples: the last half sample is dropped."""
    _trains(speech(tmp_path, wav_bytes(np.ones(401, np.int16))[:-1]), tmp_path)


# --- bad files handed to a finished run ---------------------------------------------------


def _long_field_csv(path: Path) -> Path:
    table_csv(path)
    with path.open("a") as handle:
        handle.write("1.0,2.0,r," + "x" * 140_000 + "\n")
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["embed", "--out", "e.npy"],
        ["anomaly", "--out", "s.csv"],
        ["index", "--name", "new"],
    ],
    ids=["embed", "anomaly", "index"],
)
def test_table_run_refuses_a_csv_field_over_the_limit(
    command: list[str], table_run: Path, tmp_path: Path
) -> None:
    data = _long_field_csv(tmp_path / "new.csv")
    before = Snapshot(table_run)
    outcome = run_cli(
        [command[0], "--run", str(table_run), "--data", str(data), *command[1:]], tmp_path
    )
    expect_none(findings(outcome, before.lost(), said=("new.csv", "131,072")))


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_a_damaged_index_says_rebuild(image_copy: Path, tmp_path: Path, damage: str) -> None:
    assert run_cli(["index", "--run", str(image_copy)], cwd=tmp_path).code == 0
    faiss_file = image_copy / "indexes" / "default" / "index.faiss"
    raw = faiss_file.read_bytes()
    faiss_file.write_bytes(
        {"garbage": b"not faiss" * 50, "truncated": raw[: len(raw) // 2], "empty": b""}[damage]
    )
    query = tmp_path / "q.png"
    from PIL import Image

    Image.fromarray(np.full((8, 8), 100, np.uint8)).save(query)
    before = Snapshot(image_copy)
    outcome = run_cli(["search", "--run", str(image_copy), "--query", str(query)], tmp_path)
    expect_none(findings(outcome, before.lost(), said=("damaged", "contrastkit index")))


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["zero-shot", "--run", "R", "--labels", "a,b", "--show", "-1"], "--show"),
        (["index", "--run", "R", "--name", ""], "index name"),
        (["index", "--run", "R", "--name", "."], "index name"),
    ],
    ids=["zero-shot-show", "index-name-empty", "index-name-dot"],
)
def test_small_options_are_checked(
    args: list[str], said: str, image_copy: Path, tmp_path: Path
) -> None:
    args = [str(image_copy) if a == "R" else a for a in args]
    before = Snapshot(image_copy)
    expect_none(findings(run_cli(args, tmp_path), before.lost(), said=(said,)))
