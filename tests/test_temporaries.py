"""Temporaries name their process; the sweep removes those of processes that are gone,
puts a stranded `.old` folder back, and touches nothing else."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from contrastkit.temporaries import (
    TEMP_PATTERN,
    make_temp_dir,
    make_temp_file,
    pid_alive,
    replace_folder,
    sweep_stale,
)


def _gone_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_names_carry_the_final_name_and_this_pid(tmp_path: Path) -> None:
    fd, path = make_temp_file(tmp_path, "checkpoint.pt")
    os.close(fd)
    found = TEMP_PATTERN.match(path.name)
    assert found is not None and found["name"] == "checkpoint.pt"
    assert int(found["pid"]) == os.getpid() and found["kind"] == "tmp"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert make_temp_dir(tmp_path, "export").is_dir()


def test_sweep_removes_only_the_temporaries_of_gone_processes(tmp_path: Path) -> None:
    gone = _gone_pid()
    assert not pid_alive(gone) and pid_alive(os.getpid())
    dead_file = tmp_path / f".checkpoint.pt.ck{gone}-0123abcd.tmp"
    dead_file.write_bytes(b"half")
    dead_dir = tmp_path / f".export.ck{gone}-89abcdef.tmp"
    (dead_dir / "sub").mkdir(parents=True)
    live = tmp_path / f".checkpoint.pt.ck{os.getpid()}-0123abcd.tmp"
    live.write_bytes(b"being written")
    look_alike = tmp_path / f".notes.ck{gone}.tmp"  # no random tag: not ours
    look_alike.write_text("mine")
    mine = tmp_path / "checkpoint.pt"
    mine.write_bytes(b"the real one")
    assert sorted(sweep_stale(tmp_path)) == sorted([dead_file, dead_dir])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [live.name, look_alike.name, "checkpoint.pt"]
    )


def test_a_stranded_old_folder_is_put_back_or_dropped(tmp_path: Path) -> None:
    gone = _gone_pid()
    stranded = tmp_path / f".export.ck{gone}-0123abcd.old"
    stranded.mkdir()
    (stranded / "model.onnx").write_text("previous export")
    sweep_stale(tmp_path)
    assert (tmp_path / "export" / "model.onnx").read_text() == "previous export"
    replaced = tmp_path / f".export.ck{gone}-4567abcd.old"  # the new export did arrive
    replaced.mkdir()
    sweep_stale(tmp_path)
    assert not replaced.exists()
    assert (tmp_path / "export" / "model.onnx").read_text() == "previous export"


def test_replace_folder_swaps_in_the_new_one(tmp_path: Path) -> None:
    final = tmp_path / "index"
    final.mkdir()
    (final / "a").write_text("old")
    staging = make_temp_dir(tmp_path, "index")
    (staging / "a").write_text("new")
    replace_folder(staging, final)
    assert (final / "a").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index"]
