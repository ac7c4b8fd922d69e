"""The FastAPI dependencies of the service's routes: the service itself, the API key, and
the request body read under the limits (an uploaded image or a JSON model)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from contrastkit.serve.auth import API_KEY_HEADER, check_api_key
from contrastkit.serve.bodies import is_image, media_type, parse_json, read_body, refuse_media
from contrastkit.serve.engine import QueryKind
from contrastkit.serve.request_models import Body, read_json_body
from contrastkit.serve.service import Service


def service_of(request: Request) -> Service:
    """The service the app was made for (`create_app`)."""
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(service_of)]

api_key_header = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="Required when the service runs with --api-key-env.",
)


def authorised(service: ServiceDep, given: Annotated[str | None, Security(api_key_header)]) -> None:
    """Pass a request that carries the service's key (or any, when it has none); else 401."""
    check_api_key(given, service.api_key)


@dataclass(frozen=True)
class Upload:
    """An uploaded image file: the raw bytes of the body (never a path)."""

    data: bytes

    def query(self) -> tuple[QueryKind, list[Any]]:
        """The query kind and its one item."""
        return "image", [self.data]


def upload_or_json(model: type[Body]) -> Callable[..., Awaitable[Upload | Body]]:
    """A dependency that reads the body as an image file or as JSON `model`."""

    async def read(request: Request, service: ServiceDep) -> Upload | Body:
        media, limits = media_type(request), service.limits
        if is_image(media):
            data = await read_body(request, limits.max_upload_bytes)
            limits.check_upload(len(data))
            return Upload(data)
        if media == "application/json":
            value = parse_json(await read_body(request, limits.max_upload_bytes))
            return read_json_body(model, value, limits)
        raise refuse_media(media, images=True)

    return read


def json_only(model: type[Body]) -> Callable[..., Awaitable[Body]]:
    """A dependency that reads the body as JSON `model` (415 for anything else)."""

    async def read(request: Request, service: ServiceDep) -> Body:
        media, limits = media_type(request), service.limits
        if media != "application/json":
            raise refuse_media(media, images=False)
        value = parse_json(await read_body(request, limits.max_upload_bytes))
        return read_json_body(model, value, limits)

    return read
