"""`contrastkit serve`: the run's encoder and index over HTTP (FastAPI), with a search page.

Endpoints (every error is JSON `{"error": message, "status": code}` with a 4xx code, and
the server stays up):

- `GET /health`: status, index size and dimension, backend, what queries the run takes.
- `POST /embed`: an image (the raw file as the body, `Content-Type: image/...`), or JSON
  `{"texts": [...]}` / `{"rows": [{column: value}, ...]}` -> `{"embeddings", "dim"}`.
- `POST /search?k=K`: an image body, or JSON `{"text": ..., "k": K}`, `{"row": {...}}`,
  `{"id": ...}` (the neighbours of an indexed item) -> `{"results": [{"id", "score",
  "thumbnail"}], "count"}`; `thumbnail` is `/thumb/{id}` for image indexes. An index of
  video frames answers with `"scenes": [{"video", "video_url", "start", "end", "score",
  "best", "id", "thumbnail"}]` too (docs/video.md).
- `POST /recommend`: JSON `{"user": ..., "k": K}` (recommender runs: two_tower on
  interactions) -> `{"user", "results": [{"item", "id", "score"}], "count"}`, the k items
  the user has no interaction with that the model scores highest; an unknown user is 404.
- `GET /thumb/{id}`: a PNG of an indexed image (a JPEG of a video frame), only for ids of
  the index.
- `GET /video/{number}`: a video the index lists (range requests; a token in the URL when
  the service has a key), for the page's player.
- `GET /` (the page), `/static/app.js`, `/static/style.css`; OpenAPI docs at `/docs`.

The routes live in routers by role (`page_routes`, `query_routes`, `recommend_routes`,
`video_routes`);
the API key and the body read under the limits are dependencies (`dependencies.py`); the
JSON bodies and the answers are pydantic models (`request_models.py`,
`response_models.py`) that generate the OpenAPI schema. Uploads are read as bytes from
the request (never a path), with the size checked before and while reading; no request
data is unpickled; ids are opaque (`contrastkit.serve.ids`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from contrastkit.serve import page_routes, query_routes, recommend_routes, video_routes
from contrastkit.serve.limits import UNPROCESSABLE, RequestError
from contrastkit.serve.service import Service

INTERNAL = 500


def create_app(service: Service) -> FastAPI:
    """The FastAPI app for `service`."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await service.close()

    app = FastAPI(
        title="contrastkit",
        summary=f"Embeddings and nearest neighbours of {service.title}",
        lifespan=lifespan,
    )
    app.state.service = service
    app.exception_handler(RequestError)(request_error)
    app.exception_handler(RequestValidationError)(validation_error)
    app.exception_handler(StarletteHTTPException)(http_error)
    app.exception_handler(Exception)(internal_error)
    for routes in (page_routes, query_routes, recommend_routes, video_routes):
        app.include_router(routes.router)
    return app


def _answer(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message, "status": status}, status_code=status)


async def request_error(_request: Request, err: RequestError) -> JSONResponse:
    """A refusal of ours: its status and message."""
    return _answer(err.message, err.status)


async def validation_error(_request: Request, err: RequestValidationError) -> JSONResponse:
    """FastAPI's own parameter checks (a query or path parameter of the wrong type)."""
    first = err.errors()[0] if err.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    return _answer(f"{where}: {first.get('msg', 'invalid')}", UNPROCESSABLE)


async def http_error(_request: Request, err: StarletteHTTPException) -> JSONResponse:
    """Routing errors (404 unknown path, 405 wrong method) in the same JSON shape."""
    status = err.status_code if 400 <= err.status_code < 500 else INTERNAL
    return _answer(str(err.detail), status)


async def internal_error(_request: Request, err: Exception) -> JSONResponse:
    """Anything else: a 500 that says nothing of the inside."""
    return _answer("internal error", INTERNAL)
