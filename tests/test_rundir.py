"""Atomic writes: all or nothing, no temporary left behind, ordinary file permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from contrastkit.atomic import read_json, write_atomic, write_json_atomic


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    write_json_atomic(path, {"knn_top1": 0.5})

    def half_then_fail(handle: object) -> None:
        handle.write(b'{"knn_top1": 0.9')  # type: ignore[attr-defined]
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        write_atomic(path, half_then_fail)
    assert read_json(path) == {"knn_top1": 0.5}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_written_files_follow_the_umask_like_open(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_json_atomic(tmp_path / "a.json", {})
        (tmp_path / "b.json").write_text("{}")
    finally:
        os.umask(old)
    mode_a = stat.S_IMODE((tmp_path / "a.json").stat().st_mode)
    mode_b = stat.S_IMODE((tmp_path / "b.json").stat().st_mode)
    assert mode_a == mode_b == 0o644
