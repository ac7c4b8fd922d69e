"""`contrastkit serve` setup: a named index from <run>/indexes/, and the errors a user
sees before the server starts (exit 2, one line)."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from tests.export.runs import IMAGE, make_run

from contrastkit.cli import main
from contrastkit.errors import UserError
from contrastkit.index.ann import build_index
from contrastkit.index.store import save_index
from contrastkit.run import load_run
from contrastkit.rundir import CHECKPOINT, model_fingerprint
from contrastkit.serve.app import create_app
from contrastkit.serve.service import Service, build_service


def run_cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["contrastkit", *args])
    try:
        main()
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_named_index_serves_the_same_neighbours(
    digits_run: Path, digits_service: Service, tmp_path: Path
) -> None:
    _, modality, method = load_run(digits_run)
    embedded = modality.embed(method, "train", lambda _m: None)
    vectors = embedded.vectors.numpy()
    built = build_index([vectors[:1000], vectors[1000:]], dim=vectors.shape[1], kind="flat")
    fingerprint = model_fingerprint(digits_run / CHECKPOINT)
    save_index(digits_run / "indexes", "digits", built, embedded.ids, fingerprint=fingerprint)
    named = build_service(digits_run, index="digits", backend="onnx", log=lambda _m: None)
    a = TestClient(create_app(named))
    b = TestClient(create_app(digits_service))
    assert a.get("/health").json()["index"] == "digits"
    own = digits_service.catalog.ids.id_of(100)
    ha = a.post("/search", json={"id": own, "k": 5}).json()["results"]
    hb = b.post("/search", json={"id": own, "k": 5}).json()["results"]
    assert [h["id"] for h in ha] == [h["id"] for h in hb]
    assert np.allclose([h["score"] for h in ha], [h["score"] for h in hb], atol=1e-5)
    assert a.get(ha[0]["thumbnail"]).status_code == 200


def test_index_of_another_model_is_refused(digits_run: Path) -> None:
    vectors = np.eye(4, 8, dtype=np.float32)
    built = build_index([vectors], dim=8, kind="flat")
    save_index(digits_run / "indexes", "stale", built, list("abcd"), fingerprint="0123abcd")
    with pytest.raises(UserError, match="rebuild it"):
        build_service(digits_run, index="stale", backend="onnx", log=lambda _m: None)


def test_user_errors_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = make_run(tmp_path / "digits", "digits_simclr.yaml", IMAGE)
    cases = [
        (["--backend", "onnx"], "contrastkit export --run"),  # no export yet
        (["--backend", "tensorflow"], "--backend 'tensorflow'"),
        (["--index", "../../etc"], "index name"),
        (["--index", "missing", "--backend", "torch"], "no index named 'missing'"),
        (["--port", "70000", "--backend", "torch"], "--port 70000"),
        (["--api-key-env", "CK_TEST_NO_SUCH_VAR"], "not set or empty"),
    ]
    monkeypatch.delenv("CK_TEST_NO_SUCH_VAR", raising=False)
    port = ["--port", str(free_port())]  # the cases that get as far as binding bind a free one
    for args, words in cases:
        assert run_cli(monkeypatch, "serve", "--run", str(run), *port, *args) == 2, args
        err = capsys.readouterr().err
        assert words in " ".join(err.split()), (args, err)
    monkeypatch.setenv("CK_TEST_SHORT_KEY", "short")
    assert (
        run_cli(monkeypatch, "serve", "--run", str(run), "--api-key-env", "CK_TEST_SHORT_KEY") == 2
    )
    assert "at least 16" in capsys.readouterr().err


@pytest.mark.slow
def test_serve_command_answers_on_loopback(digits_run: Path) -> None:
    """`python -m contrastkit serve` in a subprocess: /health answers on 127.0.0.1."""
    import os
    import subprocess
    import time

    import httpx

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    cmd = [sys.executable, "-m", "contrastkit", "serve", "--run", str(digits_run)]
    proc = subprocess.Popen([*cmd, "--port", str(port)], env=env, stdout=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).json()
                break
            except httpx.HTTPError:
                assert proc.poll() is None, "the server exited"
                time.sleep(0.2)
        else:
            raise AssertionError("no answer in 60 s")
        assert health["items"] == 1797 and health["backend"] == "onnx"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
