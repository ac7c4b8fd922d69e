"""`contrastkit serve`: the run's encoder and index over HTTP (FastAPI), with a search page.

Endpoints (every error is JSON `{"error": message, "status": code}` with a 4xx code, and
the server stays up):

- `GET /health`: status, index size and dimension, backend, what queries the run takes.
- `POST /embed`: an image (the raw file as the body, `Content-Type: image/...`), or JSON
  `{"texts": [...]}` / `{"rows": [{column: value}, ...]}` -> `{"embeddings", "dim"}`.
- `POST /search?k=K`: an image body, or JSON `{"text": ..., "k": K}`, `{"row": {...}}`,
  `{"id": ...}` (the neighbours of an indexed item) -> `{"results": [{"id", "score",
  "thumbnail"}], "count"}`; `thumbnail` is `/thumb/{id}` for image indexes.
- `POST /recommend`: JSON `{"user": ..., "k": K}` (recommender runs: two_tower on
  interactions) -> `{"user", "results": [{"item", "id", "score"}], "count"}`, the k items
  the user has no interaction with that the model scores highest; an unknown user is 404.
- `GET /thumb/{id}`: a PNG of an indexed image, only for ids of the index.
- `GET /` (the page), `/static/app.js`, `/static/style.css`; OpenAPI docs at `/docs`.

Uploads are read as bytes from the request (never a path), with the size checked before
and while reading; no request data is unpickled; ids are opaque (`contrastkit.serve.ids`).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from contrastkit.errors import UserError
from contrastkit.serve.auth import API_KEY_HEADER, check_api_key, check_key_setting
from contrastkit.serve.batcher import MicroBatcher
from contrastkit.serve.catalog import Catalog
from contrastkit.serve.engine import QueryKind, Tower
from contrastkit.serve.ids import item_id
from contrastkit.serve.limits import (
    NOT_FOUND,
    PAYLOAD_TOO_LARGE,
    UNPROCESSABLE,
    Limits,
    RequestError,
    preview,
)

UNSUPPORTED_MEDIA = 415
IMAGE_TYPES = ("image/", "application/octet-stream")
STATIC = {"app.js": "text/javascript", "style.css": "text/css"}
DEFAULT_K = 12


@dataclass
class Service:
    """Everything the app serves.

    Attributes:
        towers: The tower that reads each query kind ('image', 'text', 'row').
        catalog: The index, ids and thumbnails.
        backend: 'onnx' or 'torch'.
        title: Shown on the page (the run's name).
        limits: Per-request limits.
        api_key: Required in `X-API-Key` when set.
        batch_window_ms: Micro-batching window (0: none).
        recommendations: A recommender run's users and items embedded (`/recommend`), or
            None.
    """

    towers: dict[QueryKind, Tower]
    catalog: Catalog
    backend: str
    title: str
    limits: Limits = field(default_factory=Limits)
    api_key: str | None = None
    batch_window_ms: float = 2.0
    recommendations: Any = None
    batchers: dict[str, MicroBatcher] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        check_key_setting(self.api_key)
        for tower in self.towers.values():
            if tower.folder not in self.batchers:
                self.batchers[tower.folder] = MicroBatcher(
                    tower.run, window_ms=self.batch_window_ms, max_rows=self.limits.max_batch
                )

    def tower(self, kind: QueryKind) -> Tower:
        tower = self.towers.get(kind)
        if tower is None:
            takes = ", ".join(self.towers) or "nothing"
            raise RequestError(
                UNPROCESSABLE, f"this run takes no {kind} queries (it takes: {takes})"
            )
        return tower

    async def embed(self, kind: QueryKind, inputs: list[np.ndarray]) -> np.ndarray:
        tower = self.tower(kind)
        out = await self.batchers[tower.folder].submit(inputs)
        if not np.isfinite(out).all():
            raise RequestError(UNPROCESSABLE, "the model gave a non-finite embedding")
        return out


def _error(err: RequestError) -> JSONResponse:
    return JSONResponse(err.to_json(), status_code=err.status)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it exceeds `limit` bytes (the
    Content-Length header is checked first, then the bytes as they arrive)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError(
            PAYLOAD_TOO_LARGE, f"the body has {declared} bytes; the limit is {limit}"
        )
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestError(PAYLOAD_TOO_LARGE, f"the body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _json_object(body: bytes, allowed: tuple[str, ...]) -> dict[str, Any]:
    try:
        obj = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise RequestError(UNPROCESSABLE, "the body is not valid JSON") from None
    if not isinstance(obj, dict):
        raise RequestError(UNPROCESSABLE, f"expected a JSON object, got {preview(obj)}")
    unknown = sorted(set(obj) - set(allowed))
    if unknown:
        raise RequestError(
            UNPROCESSABLE, f"unknown key {preview(unknown[0])} (expected: {', '.join(allowed)})"
        )
    given = [key for key in allowed if key in obj and key != "k"]
    if len(given) != 1:
        raise RequestError(
            UNPROCESSABLE, f"give exactly one of {', '.join(a for a in allowed if a != 'k')}"
        )
    return obj


def _media(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _static(name: str) -> bytes:
    return resources.files("contrastkit.serve").joinpath("static", name).read_bytes()


def create_app(service: Service) -> FastAPI:
    """The FastAPI app for `service` (the page and its assets are read once, here)."""
    page = _static("index.html")
    assets = {name: _static(name) for name in STATIC}
    limits = service.limits

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        for batcher in service.batchers.values():
            await batcher.close()

    app = FastAPI(
        title="contrastkit",
        summary=f"Embeddings and nearest neighbours of {service.title}",
        lifespan=lifespan,
    )

    @app.exception_handler(RequestError)
    async def request_error(_request: Request, err: RequestError) -> JSONResponse:
        return _error(err)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0] if err.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error(RequestError(UNPROCESSABLE, f"{where}: {first.get('msg', 'invalid')}"))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, err: StarletteHTTPException) -> JSONResponse:
        status = err.status_code if 400 <= err.status_code < 500 else 500
        return JSONResponse({"error": str(err.detail), "status": status}, status_code=status)

    @app.exception_handler(Exception)
    async def internal_error(_request: Request, err: Exception) -> JSONResponse:
        return JSONResponse({"error": "internal error", "status": 500}, status_code=500)

    def authorise(request: Request) -> None:
        check_api_key(request.headers.get(API_KEY_HEADER), service.api_key)

    async def query_inputs(
        request: Request, body: bytes, obj: dict[str, Any] | None
    ) -> tuple[QueryKind, list[np.ndarray]]:
        """One request's query as a kind and model inputs (batch of the given items)."""
        if obj is None:
            tower = service.tower("image")
            return "image", tower.image_inputs([body], limits)
        if "texts" in obj or "text" in obj:
            texts = obj["texts"] if "texts" in obj else [obj["text"]]
            texts = limits.check_batch(texts, name="texts")
            checked = [limits.check_text(t, name=f"texts[{i}]") for i, t in enumerate(texts)]
            return "text", service.tower("text").text_inputs(checked)
        rows = obj["rows"] if "rows" in obj else [obj["row"]]
        rows = limits.check_batch(rows, name="rows")
        return "row", service.tower("row").row_inputs(rows)

    async def parse(
        request: Request, allowed: tuple[str, ...]
    ) -> tuple[bytes, dict[str, Any] | None]:
        media = _media(request)
        if media.startswith(IMAGE_TYPES):
            body = await read_body(request, limits.max_upload_bytes)
            limits.check_upload(len(body))
            return body, None
        if media == "application/json":
            body = await read_body(request, limits.max_upload_bytes)
            return body, _json_object(body, allowed)
        raise RequestError(
            UNSUPPORTED_MEDIA,
            f"Content-Type {preview(media)}: send an image file (image/png, image/jpeg, ...) "
            "or application/json",
        )

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index_page() -> Response:
        return Response(page, media_type="text/html; charset=utf-8")

    @app.get("/static/app.js", include_in_schema=False)
    async def app_js() -> Response:
        return Response(assets["app.js"], media_type=STATIC["app.js"])

    @app.get("/static/style.css", include_in_schema=False)
    async def style_css() -> Response:
        return Response(assets["style.css"], media_type=STATIC["style.css"])

    @app.get("/health")
    async def health() -> dict[str, Any]:
        """Liveness and what the service holds."""
        return {
            "status": "ok",
            "title": service.title,
            "backend": service.backend,
            "index": service.catalog.name,
            "items": len(service.catalog.index),
            "dim": service.catalog.index.dim,
            "takes": sorted(service.towers),
            "thumbnails": service.catalog.pictures is not None,
            "api_key_required": service.api_key is not None,
            "limits": {
                "max_upload_bytes": limits.max_upload_bytes,
                "max_batch": limits.max_batch,
                "max_k": limits.max_k,
            },
        }

    @app.post(
        "/embed",
        openapi_extra={
            "requestBody": {
                "content": {
                    "image/*": {"schema": {"type": "string", "format": "binary"}},
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "texts": {"type": "array", "items": {"type": "string"}},
                                "rows": {"type": "array", "items": {"type": "object"}},
                            },
                        }
                    },
                }
            }
        },
    )
    async def embed(request: Request) -> dict[str, Any]:
        """Embed an uploaded image (raw body), texts or table rows (JSON)."""
        authorise(request)
        body, obj = await parse(request, ("texts", "rows"))
        kind, inputs = await query_inputs(request, body, obj)
        out = await service.embed(kind, inputs)
        return {"embeddings": out.tolist(), "dim": int(out.shape[1])}

    @app.post(
        "/search",
        openapi_extra={
            "requestBody": {
                "content": {
                    "image/*": {"schema": {"type": "string", "format": "binary"}},
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "text": {"type": "string"},
                                "row": {"type": "object"},
                                "id": {"type": "string"},
                                "k": {"type": "integer"},
                            },
                        }
                    },
                }
            }
        },
    )
    async def search(request: Request, k: int | None = None) -> dict[str, Any]:
        """The k nearest index items to an image (raw body, `?k=`), a text, a table row or
        an indexed item's id (JSON with `k`)."""
        authorise(request)
        body, obj = await parse(request, ("text", "row", "id", "k"))
        if obj is not None and "k" in obj:
            if k is not None:
                raise RequestError(UNPROCESSABLE, "k: give it in the query or the body, not both")
            k = obj["k"]
        k = limits.check_k(DEFAULT_K if k is None else k)
        catalog = service.catalog
        if obj is not None and "id" in obj:
            row = catalog.ids.row_of(obj["id"], name="id")
            try:
                query = catalog.index.vector(row)[None]
            except UserError as err:
                raise RequestError(UNPROCESSABLE, str(err)) from None
        else:
            kind, inputs = await query_inputs(request, body, obj)
            query = await service.embed(kind, inputs)
        if query.shape[1] != catalog.index.dim:
            raise RequestError(
                UNPROCESSABLE,
                f"the query embeds to {query.shape[1]} dimensions, the index holds "
                f"{catalog.index.dim}",
            )
        scores, rows = catalog.index.search(query, k)
        thumbs = catalog.pictures is not None
        results = [
            {
                "id": catalog.ids.id_of(int(r)),
                "score": float(s),
                "thumbnail": f"/thumb/{catalog.ids.id_of(int(r))}" if thumbs else None,
            }
            for s, r in zip(scores[0], rows[0], strict=True)
            if np.isfinite(s)
        ]
        return {"results": results, "count": len(results)}

    @app.post(
        "/recommend",
        openapi_extra={
            "requestBody": {
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {"user": {"type": "string"}, "k": {"type": "integer"}},
                            "required": ["user"],
                        }
                    }
                }
            }
        },
    )
    async def recommend(request: Request) -> dict[str, Any]:
        """The k items a recommender run scores highest for a user, among the items the
        user has no interaction with (JSON `{"user": ..., "k": K}`)."""
        authorise(request)
        table = service.recommendations
        if table is None:
            raise RequestError(
                UNPROCESSABLE,
                "this run is not a recommender (method two_tower on interactions data)",
            )
        if _media(request) != "application/json":
            raise RequestError(
                UNSUPPORTED_MEDIA, f"Content-Type {preview(_media(request))}: send application/json"
            )
        obj = _json_object(await read_body(request, limits.max_upload_bytes), ("user", "k"))
        user = limits.check_text(obj["user"], name="user")
        k = limits.check_k(obj.get("k", DEFAULT_K))
        try:
            items = table.top_k(user, k, what="user")
        except UserError:
            raise RequestError(
                NOT_FOUND, f"user: no user {preview(user)} in the run's data"
            ) from None
        results = [{"item": x.item, "id": item_id(x.item), "score": x.score} for x in items]
        return {"user": user, "results": results, "count": len(results)}

    @app.get("/thumb/{item}", responses={200: {"content": {"image/png": {}}}})
    async def thumb(item: str, request: Request) -> Response:
        """A PNG of an indexed image (404 for an id the index does not hold)."""
        authorise(request)
        row = service.catalog.ids.row_of(item, name="id")
        png = service.catalog.thumbnail(row)
        if png is None:
            raise RequestError(404, f"id: item {item!r} has no picture")
        return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=3600"})

    return app


def build_service(
    run: Path,
    *,
    index: str | None = None,
    backend: str = "onnx",
    api_key: str | None = None,
    limits: Limits | None = None,
    batch_window_ms: float = 2.0,
    threads: int | None = None,
    log: Callable[[str], None] = print,
) -> Service:
    """Load a run's model(s) under `backend` and its index (see the module docstring).

    `threads` caps ONNX Runtime's intra-op threads (PyTorch's are set with
    `torch.set_num_threads`); None leaves the runtimes' defaults.

    Raises:
        UserError: an unknown backend, no export for the ONNX backend, a missing index,
            or an index whose dimension differs from the model's.
    """
    from contrastkit.run import load_run
    from contrastkit.serve.engine import BACKENDS, onnx_towers, torch_towers
    from contrastkit.serve.sources import run_catalog

    if backend not in BACKENDS:
        raise UserError(f"--backend {backend!r}: expected one of {', '.join(BACKENDS)}")
    if index is not None:
        from contrastkit.index.store import check_name

        check_name(index)  # before anything is loaded: a bad name is refused at once
    _, modality, method = load_run(run)
    make_recommendations = getattr(modality, "recommendations", None)
    recommendations = None
    if make_recommendations is not None:  # a recommender answers by ids: no query tower
        recommendations = make_recommendations(method)
        towers: list[Tower] = []
        if backend == "onnx":
            log("a recommender run is served from embeddings made by PyTorch at startup")
            backend = "torch"
    elif backend == "onnx":
        towers = onnx_towers(run / "export", threads=threads)
    else:
        towers = torch_towers(modality, method)
    by_kind: dict[QueryKind, Tower] = {}
    for tower in towers:
        if tower.takes is not None:
            by_kind.setdefault(tower.takes, tower)
    catalog = run_catalog(run, modality, method, index, log)
    log(
        f"serving {catalog.name}: {len(catalog.index)} items of dimension "
        f"{catalog.index.dim}, {backend} backend, queries: {', '.join(by_kind) or 'none'}"
    )
    return Service(
        towers=by_kind,
        catalog=catalog,
        backend=backend,
        title=run.resolve().name,
        limits=limits or Limits(),
        api_key=api_key,
        batch_window_ms=batch_window_ms,
        recommendations=recommendations,
    )


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
    """Build the service and run it with uvicorn until interrupted."""
    import uvicorn

    if not 0 < port < 65536:
        raise UserError(f"--port {port}: expected 1 to 65535")
    api_key = None
    if api_key_env is not None:
        api_key = os.environ.get(api_key_env)
        if not api_key:
            raise UserError(f"--api-key-env {api_key_env}: the variable is not set or empty")
        try:
            check_key_setting(api_key)
        except ValueError as err:
            raise UserError(f"--api-key-env {api_key_env}: {err}") from None
    service = build_service(run, index=index, backend=backend, api_key=api_key, log=log)
    if host not in ("127.0.0.1", "localhost", "::1"):
        log(f"warning: listening on {host}, reachable from other machines")
    log(f"open http://{host}:{port}/ (API docs: /docs); Ctrl-C stops")
    uvicorn.run(create_app(service), host=host, port=port, log_level="warning")
