"""Abuse of the running service (issue 26, "The service"): every case is a 4xx JSON answer
or nothing at all, never a 5xx or a traceback in the server's log, and the server stays up.

- JSON nested 100,000 levels deep (and deep inside a valid key, and a 5,000-digit number)
  on every JSON endpoint: 422, not a RecursionError and a 500;
- a client that disconnects in the middle of its body: no exception leaves the app (the
  ASGI server would print it as a traceback);
- `serve --port P` with P in use: one line, exit 2, and no URL announced (against a real
  server holding the port, whose log stays free of tracebacks throughout);
- the small ones: `zero-shot --show -1` and `index --name ''` (which named the indexes
  folder itself: "an index named '' exists") are one line and exit 2, nothing read first.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import scipy.sparse as sp
from fastapi.testclient import TestClient
from tests.export.runs import IMAGE, make_run
from tests.fuzz.harness import run_cli

from contrastkit.modalities.recommendations import Recommendations
from contrastkit.serve.app import create_app
from contrastkit.serve.catalog import Catalog, ExactIndex
from contrastkit.serve.service import Service

DEEP = 100_000
SRC = Path(__file__).resolve().parents[2] / "src"


def _nested(opening: str, closing: str, levels: int, inner: str = "1") -> bytes:
    return (opening * levels + inner + closing * levels).encode()


BODIES = {
    "arrays 100,000 deep, unterminated": b"[" * DEEP,
    "arrays 100,000 deep": _nested("[", "]", DEEP, ""),
    "objects 100,000 deep": _nested('{"a":', "}", DEEP),
    "900 levels inside a valid key": b'{"row": {"a": ' + _nested("[", "]", 900, "") + b"}}",
    "900 levels inside a list of texts": b'{"texts": ' + _nested("[", "]", 900, '"a"') + b"}",
    "a 5,000-digit k": b'{"user": "u1", "k": ' + b"9" * 5000 + b"}",
}


@pytest.fixture(scope="module")
def client() -> TestClient:
    """A service over a three-row index that also recommends (no model: every case here
    is refused before one would run)."""
    recommendations = Recommendations(
        ["u1"],
        ["i1", "i2"],
        np.eye(1, 2, dtype=np.float32),
        np.eye(2, dtype=np.float32),
        sp.csr_matrix((1, 2), dtype=np.float32),
    )
    index = ExactIndex(np.eye(3, 4, dtype=np.float32))
    service = Service(
        towers={},
        catalog=Catalog(index, ["a", "b", "c"], "three rows"),
        backend="torch",
        title="fuzz",
        recommendations=recommendations,
    )
    return TestClient(create_app(service), raise_server_exceptions=True)


@pytest.mark.parametrize("endpoint", ["/search", "/embed", "/recommend"])
@pytest.mark.parametrize("name", list(BODIES))
def test_deep_or_huge_json_is_422(client: TestClient, endpoint: str, name: str) -> None:
    r = client.post(endpoint, content=BODIES[name], headers={"Content-Type": "application/json"})
    assert r.status_code == 422, (r.status_code, r.text[:200])
    body = r.json()
    assert body["status"] == 422 and len(body["error"]) < 200
    assert client.get("/health").status_code == 200


def _asgi_call(app: Any, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One POST /search through the raw ASGI interface; the messages the app sent."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/search",
        "raw_path": b"/search",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))  # an exception here is the traceback
    return sent


def test_disconnect_mid_body_leaves_no_traceback(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    part = {"type": "http.request", "body": b'{"text": "half a bo', "more_body": True}
    with caplog.at_level(logging.INFO):
        sent = _asgi_call(client.app, [part, {"type": "http.disconnect"}])
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert sent[0]["type"] == "http.response.start" and 400 <= sent[0]["status"] < 500


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(run: Path, port: int) -> list[str]:
    return [sys.executable, "-m", "contrastkit", "serve", "--run", str(run), "--port", str(port),
            "--backend", "torch"]  # fmt: skip


def _wait_for_health(port: int, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            assert server.poll() is None, "the server exited"
            time.sleep(0.2)
    raise AssertionError("no answer in 90 s")


def _half_a_body(port: int) -> None:
    """Headers promising 4,096 bytes, 20 of them, then the connection closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(
            b"POST /search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 4096\r\n\r\n{"text": "half a bo'
        )
        time.sleep(0.2)


@pytest.mark.slow
def test_real_server_port_in_use_and_disconnects(tmp_path: Path) -> None:
    run = make_run(tmp_path / "digits", "digits_simclr.yaml", IMAGE)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"}
    server = subprocess.Popen(
        _serve(run, port), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        _wait_for_health(port, server)
        second = subprocess.run(
            _serve(run, port), env=env, capture_output=True, text=True, timeout=120
        )
        lines = [line for line in second.stderr.splitlines() if line.strip()]
        assert second.returncode == 2 and len(lines) == 1, (second.returncode, second.stderr)
        assert f"--port {port}" in lines[0] and "http://" not in second.stdout
        for _ in range(3):
            _half_a_body(port)
        deep = httpx.post(
            f"http://127.0.0.1:{port}/search",
            content=BODIES["arrays 100,000 deep"],
            headers={"Content-Type": "application/json"},
        )
        assert deep.status_code == 422
        assert httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200
    finally:
        server.terminate()
        _, log = server.communicate(timeout=30)
    assert "Traceback" not in log and len([x for x in log.splitlines() if x.strip()]) <= 1, log


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["zero-shot", "--labels", "a,b", "--show", "-1"], "--show -1"),
        (["index", "--name", ""], "index name ''"),
        (["index", "--name", "../up"], "index name '../up'"),
    ],
)
def test_small_cli_values_are_one_line(tmp_path: Path, args: list[str], words: str) -> None:
    run = tmp_path / "run"
    (run / "indexes" / "kept").mkdir(parents=True)  # a run with an index folder already
    (run / "indexes" / "kept" / "meta.json").write_text("{}")
    outcome = run_cli([args[0], "--run", str(run), *args[1:]], cwd=tmp_path)
    assert outcome.clean_error and words in outcome.stderr, (outcome.code, outcome.stderr)
    assert (run / "indexes" / "kept" / "meta.json").read_text() == "{}"
