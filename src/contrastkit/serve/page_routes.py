"""The search page, its assets and `GET /health` (open: no API key needed)."""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import Response

from contrastkit.serve.dependencies import ServiceDep
from contrastkit.serve.response_models import Health, LimitsInfo

STATIC = {"app.js": "text/javascript", "style.css": "text/css"}

router = APIRouter()


@cache
def _static(name: str) -> bytes:
    return resources.files("contrastkit.serve").joinpath("static", name).read_bytes()


@router.get("/", include_in_schema=False)
async def index_page() -> Response:
    return Response(_static("index.html"), media_type="text/html; charset=utf-8")


@router.get("/static/app.js", include_in_schema=False)
async def app_js() -> Response:
    return Response(_static("app.js"), media_type=STATIC["app.js"])


@router.get("/static/style.css", include_in_schema=False)
async def style_css() -> Response:
    return Response(_static("style.css"), media_type=STATIC["style.css"])


@router.get("/health")
async def health(service: ServiceDep) -> Health:
    """Liveness and what the service holds."""
    catalog, limits = service.catalog, service.limits
    return Health(
        title=service.title,
        backend=service.backend,
        index=catalog.name,
        items=len(catalog.index),
        dim=catalog.index.dim,
        takes=sorted(service.towers),
        thumbnails=catalog.has_pictures,
        videos=0 if catalog.videos is None else len(catalog.videos.videos),
        api_key_required=service.api_key is not None,
        limits=LimitsInfo(
            max_upload_bytes=limits.max_upload_bytes,
            max_batch=limits.max_batch,
            max_k=limits.max_k,
        ),
    )
