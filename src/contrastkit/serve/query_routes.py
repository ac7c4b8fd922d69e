"""The query endpoints: embed, search, and the thumbnails of search results (each behind
the API key when the service has one)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from contrastkit.index.scenes import Scene
from contrastkit.serve.dependencies import ServiceDep, Upload, authorised, upload_or_json
from contrastkit.serve.limits import DEFAULT_K, NOT_FOUND, UNPROCESSABLE, RequestError
from contrastkit.serve.request_models import EmbedJson, SearchJson, body_schema
from contrastkit.serve.response_models import ERROR_RESPONSES, Embeddings, Hit, Hits, SceneHit
from contrastkit.serve.service import Service

router = APIRouter(dependencies=[Depends(authorised)], responses=ERROR_RESPONSES)


@router.post("/embed", openapi_extra=body_schema(EmbedJson, images=True))
async def embed(
    body: Annotated[Upload | EmbedJson, Depends(upload_or_json(EmbedJson))], service: ServiceDep
) -> Embeddings:
    """Embed an uploaded image (raw body), texts or table rows (JSON)."""
    kind, items = body.query()
    out = await service.embed(kind, items)
    return Embeddings(embeddings=out.tolist(), dim=int(out.shape[1]))


@router.post("/search", openapi_extra=body_schema(SearchJson, images=True))
async def search(
    body: Annotated[Upload | SearchJson, Depends(upload_or_json(SearchJson))],
    service: ServiceDep,
    k: Annotated[int | None, Query(description="Neighbours (for an image body).")] = None,
) -> Hits:
    """The k nearest index items to an image (raw body, `?k=`), a text, a table row or an
    indexed item's id (JSON with `k`)."""
    if isinstance(body, SearchJson) and body.given("k"):
        if k is not None:
            raise RequestError(UNPROCESSABLE, "k: give it in the query or the body, not both")
        k = body.k
    k = service.limits.check_k(DEFAULT_K if k is None else k)
    if isinstance(body, SearchJson) and body.id is not None:
        query = service.stored_vector(body.id)
    else:
        query = await service.embed(*body.query())
    return nearest(service, query, k)


def nearest(service: Service, query: np.ndarray, k: int) -> Hits:
    """The k index items nearest to `query` (Shape: (1, D)), best first."""
    catalog = service.catalog
    if query.shape[1] != catalog.index.dim:
        raise RequestError(
            UNPROCESSABLE,
            f"the query embeds to {query.shape[1]} dimensions, the index holds {catalog.index.dim}",
        )
    if catalog.videos is not None:
        return scene_hits(service, catalog.videos.scenes(query, k))
    scores, rows = catalog.index.search(query, k)
    pictures = catalog.pictures is not None
    results = []
    for row, score in zip(rows[0].tolist(), scores[0], strict=True):
        if not np.isfinite(score):
            continue
        item = catalog.ids.id_of(row)
        thumbnail = f"/thumb/{item}" if pictures else None
        shown = catalog.shown_of(row)
        results.append(Hit(id=item, score=float(score), shown=shown, thumbnail=thumbnail))
    return Hits(results=results, count=len(results))


def scene_hits(service: Service, scenes: list[Scene]) -> Hits:
    """Scenes of a video index as the answer: each with its video's name and URL, and its
    best frame's id and thumbnail; the results are those best frames."""
    catalog, shelf = service.catalog, service.catalog.videos
    assert shelf is not None  # only for a video index
    answers = []
    for scene in scenes:
        frame = catalog.ids.id_of(scene.row)
        answers.append(
            SceneHit(
                video=Path(scene.video).name,
                video_url=shelf.url(shelf.number(scene.video), service.api_key),
                start=scene.start,
                end=scene.end,
                score=scene.score,
                best=scene.best,
                id=frame,
                thumbnail=f"/thumb/{frame}",
            )
        )
    results = [
        Hit(id=a.id, score=a.score, shown=catalog.shown_of(s.row), thumbnail=a.thumbnail)
        for a, s in zip(answers, scenes, strict=True)
    ]
    return Hits(results=results, count=len(results), scenes=answers)


@router.get(
    "/thumb/{item}",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}, "image/jpeg": {}}, "description": "A thumbnail."}
    },
)
async def thumb(item: str, service: ServiceDep) -> Response:
    """A PNG of an indexed image, or the JPEG of a video frame (404 for an id the index does
    not hold)."""
    row = service.catalog.ids.row_of(item, name="id")
    picture = service.catalog.thumbnail(row)
    if picture is None:
        raise RequestError(NOT_FOUND, f"id: item {item!r} has no picture")
    media = "image/jpeg" if picture[:2] == b"\xff\xd8" else "image/png"
    return Response(picture, media_type=media, headers={"Cache-Control": "max-age=3600"})
