"""Nothing in a run directory is lost by accident: one training at a time, `--overwrite`
replaces a run only once the new one has a checkpoint, a crash mid-write does not break
the log, and outputs are tied to the model and data that made them (issue 17)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from contrastkit.errors import UserError
from contrastkit.rundir import (
    CHECKPOINT,
    CONFIG,
    LOG,
    METRICS,
    REPORT,
    absolute_data_path,
    check_output_file,
    data_fingerprint,
    lock_run_dir,
    model_fingerprint,
    prepare_run_dir,
    previous_runs,
    read_log,
    replace_run,
    truncate_log,
)

OLD_RUN = {
    CONFIG: "old config\n",
    METRICS: '{"knn_top1": 0.9}\n',
    LOG: '{"step": 0, "loss": 4.0}\n',
    CHECKPOINT: "old weights",
    REPORT: "<html>old</html>",
    "similarity.png": "old png",
    "image_index.faiss": "old index vectors",
    "image_index.json": "{}",
    "embeddings.npy": "old embeddings",
    "indexes/default/index.faiss": "old index folder",
}

pytestmark = pytest.mark.fake_run_files


def _finished_run(out: Path) -> dict[str, str]:
    for name, text in OLD_RUN.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text)
    (out / "notes.txt").write_text("mine, not the run's")
    return _snapshot(out)


def _snapshot(out: Path) -> dict[str, str]:
    return {
        p.relative_to(out).as_posix(): p.read_text()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


# --- --resume / --overwrite -------------------------------------------------------------


def test_resume_and_overwrite_together_are_refused_and_the_run_stays(tmp_path: Path) -> None:
    before = _finished_run(tmp_path)
    with pytest.raises(UserError, match="choose one"):
        prepare_run_dir(tmp_path, overwrite=True, resume=True)
    assert _snapshot(tmp_path) == before


def test_overwrite_deletes_nothing_before_the_new_run_starts(tmp_path: Path) -> None:
    before = _finished_run(tmp_path)
    prepare_run_dir(tmp_path, overwrite=True, resume=False)
    assert _snapshot(tmp_path) == before


def test_a_replacement_that_fails_before_its_checkpoint_restores_the_old_run(
    tmp_path: Path,
) -> None:
    before = _finished_run(tmp_path)
    with pytest.raises(RuntimeError, match="bad data"), replace_run(tmp_path) as replacement:
        assert replacement.previous is not None
        moved = _snapshot(replacement.previous)
        assert moved == {k: v for k, v in before.items() if k != "notes.txt"}
        assert _snapshot(tmp_path) == {
            "notes.txt": "mine, not the run's",
            **{f"{replacement.previous.name}/{k}": v for k, v in moved.items()},
        }
        (tmp_path / CONFIG).write_text("new config\n")
        (tmp_path / LOG).write_text('{"step": 0, "loss": 9.0}\n')
        raise RuntimeError("bad data")
    assert _snapshot(tmp_path) == before
    assert previous_runs(tmp_path) == []


def test_an_interrupt_before_the_checkpoint_restores_the_old_run(tmp_path: Path) -> None:
    before = _finished_run(tmp_path)
    with pytest.raises(KeyboardInterrupt), replace_run(tmp_path):
        (tmp_path / LOG).write_text("{}\n")
        raise KeyboardInterrupt
    assert _snapshot(tmp_path) == before


def test_commit_after_the_first_checkpoint_deletes_the_old_run_for_good(tmp_path: Path) -> None:
    _finished_run(tmp_path)
    with pytest.raises(RuntimeError), replace_run(tmp_path) as replacement:
        (tmp_path / CONFIG).write_text("new config\n")
        (tmp_path / CHECKPOINT).write_text("new weights")
        replacement.commit()
        replacement.commit()  # twice is harmless
        raise RuntimeError("crash in epoch 2: the new run's checkpoint is what stays")
    assert _snapshot(tmp_path) == {
        CONFIG: "new config\n",
        CHECKPOINT: "new weights",
        "notes.txt": "mine, not the run's",
    }
    assert previous_runs(tmp_path) == []


def test_a_replacement_that_ends_normally_commits(tmp_path: Path) -> None:
    _finished_run(tmp_path)
    with replace_run(tmp_path):
        (tmp_path / METRICS).write_text("{}")
    assert _snapshot(tmp_path) == {METRICS: "{}", "notes.txt": "mine, not the run's"}


def test_replace_is_off_without_overwrite_and_on_an_empty_directory(tmp_path: Path) -> None:
    before = _finished_run(tmp_path)
    with replace_run(tmp_path, enabled=False) as replacement:
        assert replacement.previous is None
    assert _snapshot(tmp_path) == before
    with replace_run(tmp_path / "new") as replacement:
        assert replacement.previous is None


def test_a_replacement_killed_before_its_checkpoint_is_mentioned(tmp_path: Path) -> None:
    _finished_run(tmp_path)
    aside = tmp_path / ".previous-20260101T000000Z"
    aside.mkdir()
    for name in (METRICS, CHECKPOINT, CONFIG):
        (tmp_path / name).rename(aside / name)
    with pytest.raises(UserError, match="earlier run was kept in .*previous-2026"):
        prepare_run_dir(tmp_path, overwrite=False, resume=True)


def test_a_restart_before_the_first_checkpoint_does_not_append_to_the_old_log(
    tmp_path: Path,
) -> None:
    (tmp_path / LOG).write_text('{"step": 0, "loss": 4.0}\n{"step": 10, "lo')
    prepare_run_dir(tmp_path, overwrite=False, resume=False)
    assert not (tmp_path / LOG).exists()


def test_unfinished_and_finished_runs_still_need_a_flag(tmp_path: Path) -> None:
    (tmp_path / CHECKPOINT).write_text("w")
    with pytest.raises(UserError, match="--resume to continue"):
        prepare_run_dir(tmp_path, overwrite=False, resume=False)
    (tmp_path / METRICS).write_text("{}")
    with pytest.raises(UserError, match="--overwrite to replace"):
        prepare_run_dir(tmp_path, overwrite=False, resume=False)


def test_resume_of_a_finished_run_is_refused_and_keeps_its_metrics(tmp_path: Path) -> None:
    before = _finished_run(tmp_path)
    with pytest.raises(UserError, match="finished run \\(metrics.json\\), nothing to resume"):
        prepare_run_dir(tmp_path, overwrite=False, resume=True)
    assert _snapshot(tmp_path) == before


# --- files a command writes (embed --out) -----------------------------------------------


def test_an_output_file_never_replaces_a_run_file(tmp_path: Path) -> None:
    before = _finished_run(tmp_path)
    for name in (CHECKPOINT, CONFIG, METRICS, LOG):
        with pytest.raises(UserError, match=f"is a file of the run {tmp_path}"):
            check_output_file(tmp_path / name, overwrite=True, run=tmp_path)
    assert _snapshot(tmp_path) == before


def test_an_output_file_needs_overwrite_a_name_and_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "e.npy").write_bytes(b"old")
    with pytest.raises(UserError, match="--out e.npy: exists; pass --overwrite"):
        check_output_file(Path("e.npy"), overwrite=False)
    assert check_output_file(Path("e.npy"), overwrite=True) == Path("e.npy")
    assert check_output_file(Path("new.npy"), overwrite=False) == Path("new.npy")
    with pytest.raises(UserError, match="--out: empty path"):
        check_output_file(Path(""), overwrite=True)
    (tmp_path / "d").mkdir()
    with pytest.raises(UserError, match="--out d: is a folder"):
        check_output_file(Path("d"), overwrite=True)


# --- one training at a time -------------------------------------------------------------


def test_a_second_lock_on_the_same_run_is_refused_naming_the_holder(tmp_path: Path) -> None:
    # flock belongs to an open file description: a second open conflicts, as a second
    # process would.
    refused = pytest.raises(UserError, match=f"another training \\(pid {os.getpid()}\\)")
    with lock_run_dir(tmp_path), refused, lock_run_dir(tmp_path):
        pass
    with lock_run_dir(tmp_path):  # released on exit
        pass


def test_a_lock_is_released_when_the_block_raises(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), lock_run_dir(tmp_path):
        raise RuntimeError
    with lock_run_dir(tmp_path):
        pass


HOLDER = """
import sys, time
from pathlib import Path
from contrastkit.rundir import lock_run_dir
with lock_run_dir(Path(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.readline()
"""


def test_a_training_in_another_process_holds_the_run(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        refused = pytest.raises(UserError, match=f"pid {holder.pid}\\) is writing")
        with refused as info, lock_run_dir(tmp_path):
            pass
        assert str(tmp_path) in str(info.value)
        holder.kill()  # a killed training leaves no stale lock
        holder.wait(timeout=10)
        with lock_run_dir(tmp_path):
            pass
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=10)


def test_the_lock_refuses_a_file_as_run_directory(tmp_path: Path) -> None:
    (tmp_path / "run").write_text("")
    with pytest.raises(UserError, match="not a directory"), lock_run_dir(tmp_path / "run"):
        pass


# --- log.jsonl ----------------------------------------------------------------------------


def _log(path: Path, steps: range, tail: str = "") -> None:
    path.write_text("".join(json.dumps({"step": s, "loss": 1.0 / (s + 1)}) + "\n" for s in steps))
    with path.open("a") as handle:
        handle.write(tail)


def test_a_partial_last_line_is_dropped_with_a_note(tmp_path: Path) -> None:
    _log(tmp_path / LOG, range(3), tail='{"step": 3, "lo')
    notes: list[str] = []
    records = read_log(tmp_path / LOG, note=notes.append)
    assert [r["step"] for r in records] == [0, 1, 2]
    assert notes == [f"{tmp_path / LOG}:4: dropped a partial last line (a run stopped mid-write)"]


def test_a_bad_line_inside_the_log_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / LOG).write_text('{"step": 0}\n{"step": 1,\n{"step": 2}\n')
    with pytest.raises(UserError, match=f"{tmp_path / LOG}:2: not valid JSON"):
        read_log(tmp_path / LOG)
    (tmp_path / LOG).write_text('{"step": 0}\n[1, 2]\n')
    with pytest.raises(UserError, match=":2: expected a JSON object"):
        read_log(tmp_path / LOG)


def test_truncate_log_keeps_the_steps_before_the_checkpoint_atomically(tmp_path: Path) -> None:
    path = tmp_path / LOG
    _log(path, range(0, 50, 10), tail='{"step": 50, "loss"')
    truncate_log(path, 25)
    assert [r["step"] for r in read_log(path)] == [0, 10, 20]
    assert path.read_text().endswith("\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == [LOG]  # no temporary left
    truncate_log(tmp_path / "missing.jsonl", 5)
    assert not (tmp_path / "missing.jsonl").exists()


# --- fingerprints -----------------------------------------------------------------------


def test_model_fingerprint_is_the_sha256_prefix_of_the_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / CHECKPOINT
    path.write_bytes(b"weights" * 400_000)  # more than one read block
    assert model_fingerprint(path) == hashlib.sha256(b"weights" * 400_000).hexdigest()[:16]
    path.write_bytes(b"other weights")
    assert model_fingerprint(path) == hashlib.sha256(b"other weights").hexdigest()[:16]
    with pytest.raises(UserError, match="checkpoint not found"):
        model_fingerprint(tmp_path / "none.pt")


def test_data_paths_are_stored_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert absolute_data_path("data/images") == str(tmp_path.resolve() / "data" / "images")
    assert absolute_data_path(None) is None


def test_data_fingerprint_changes_when_the_data_changes(tmp_path: Path) -> None:
    folder = tmp_path / "images"
    (folder / "cat").mkdir(parents=True)
    (folder / "cat" / "a.png").write_bytes(b"a")
    (folder / "cat" / "b.png").write_bytes(b"bb")
    first = data_fingerprint(folder)
    assert first == data_fingerprint(str(folder)) and len(first) == 16
    (folder / "cat" / "c.png").write_bytes(b"c")
    added = data_fingerprint(folder)
    assert added != first
    (folder / "cat" / "c.png").unlink()
    assert data_fingerprint(folder) == first
    stamp = (folder / "cat" / "a.png").stat().st_mtime_ns
    os.utime(folder / "cat" / "a.png", ns=(stamp, stamp + 1_000_000_000))
    assert data_fingerprint(folder) != first
    (folder / "cat" / "loop").symlink_to(folder, target_is_directory=True)
    assert len(data_fingerprint(folder)) == 16  # a link loop ends
    single = tmp_path / "x.npy"
    single.write_bytes(b"123")
    assert data_fingerprint(single) != data_fingerprint(folder)
    with pytest.raises(UserError, match="data path not found"):
        data_fingerprint(tmp_path / "missing")


def test_the_stale_lock_file_is_not_a_run_output(tmp_path: Path) -> None:
    before = _finished_run(tmp_path)
    with lock_run_dir(tmp_path), replace_run(tmp_path) as replacement:
        assert replacement.previous is not None
        assert not (replacement.previous / ".lock").exists()
    assert (tmp_path / ".lock").exists()
    assert set(_snapshot(tmp_path)) == {"notes.txt"} and set(before) > {"notes.txt"}
