"""`contrastkit serve`: bind the address, build the service, run it with uvicorn.

The socket is bound before the run is loaded and before any URL is announced, so a port
in use (or an address this machine does not have) is one line and exit 2 at once.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

from contrastkit.errors import UserError
from contrastkit.serve.auth import check_key_setting

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def api_key_from(variable: str | None) -> str | None:
    """The API key held by environment variable `variable` (None: no key).

    Raises:
        UserError: the variable is unset, empty, or holds a key that is too weak.
    """
    if variable is None:
        return None
    key = os.environ.get(variable)
    if not key:
        raise UserError(f"--api-key-env {variable}: the variable is not set or empty")
    try:
        return check_key_setting(key)
    except ValueError as err:
        raise UserError(f"--api-key-env {variable}: {err}") from None


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port), not yet listening.

    Raises:
        UserError: a port outside 1-65535, a host that does not resolve, or an address
            that cannot be bound (in use, not this machine's, a privileged port).
    """
    if not 0 < port < 65536:
        raise UserError(f"--port {port}: expected 1 to 65535")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except OSError as err:
        raise UserError(f"--host {host}: cannot resolve it ({err.strerror})") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as err:
        sock.close()
        raise UserError(
            f"--port {port}: cannot listen on {host}:{port} ({err.strerror}); "
            "choose another --port or stop what holds it"
        ) from None
    return sock


def url(host: str, port: int) -> str:
    """The address to open in a browser (IPv6 hosts in brackets)."""
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def serve_run(
    run: Path,
    *,
    index: str | None,
    host: str,
    port: int,
    backend: str,
    api_key_env: str | None,
    log: Callable[[str], None] = print,
) -> None:
    """Bind, build the service and run it with uvicorn until interrupted."""
    import uvicorn

    from contrastkit.serve.app import create_app
    from contrastkit.serve.service import build_service, check_choices

    api_key = api_key_from(api_key_env)
    check_choices(backend=backend, index=index)
    sock = bind(host, port)
    try:
        service = build_service(run, index=index, backend=backend, api_key=api_key, log=log)
        if host not in LOOPBACK:
            log(f"warning: listening on {host}, reachable from other machines")
        log(f"open {url(host, port)} (API docs: /docs); Ctrl-C stops")
        config = uvicorn.Config(create_app(service), log_level="warning")
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
