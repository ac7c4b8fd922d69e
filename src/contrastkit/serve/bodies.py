"""Reading a request's body: its size bounded before and while reading, its JSON parsed with
the nesting bounded, and a client that leaves mid-body answered without a traceback.

Every refusal is a `RequestError` (the service answers it as JSON and stays up):

- 413: a body over the upload limit (by Content-Length, or while a chunked body arrives);
- 415: a Content-Type that is neither an image nor `application/json`;
- 422: JSON that does not parse, holds a number too long to read, or nests deeper than
  `MAX_DEPTH` levels (a body 100,000 levels deep is refused, not a RecursionError);
- 400: the client closed the connection before the body ended (no one reads the answer;
  nothing is logged).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import ClientDisconnect, Request

from contrastkit.serve.limits import PAYLOAD_TOO_LARGE, UNPROCESSABLE, RequestError, preview

UNSUPPORTED_MEDIA = 415
CLIENT_CLOSED = 400
IMAGE_TYPES = ("image/", "application/octet-stream")
MAX_DEPTH = 32
"""Levels of JSON nesting a body may have (the API's own bodies have three)."""


def media_type(request: Request) -> str:
    """The request's Content-Type without parameters, lower case ('' when absent)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def is_image(media: str) -> bool:
    """Whether a Content-Type names an uploaded image file."""
    return media.startswith(IMAGE_TYPES)


def refuse_media(media: str, *, images: bool) -> RequestError:
    """The 415 for a Content-Type the endpoint does not read."""
    wanted = (
        "send an image file (image/png, image/jpeg, ...) or application/json"
        if images
        else "send application/json"
    )
    return RequestError(UNSUPPORTED_MEDIA, f"Content-Type {preview(media)}: {wanted}")


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it exceeds `limit` bytes (the
    Content-Length header is checked first, then the bytes as they arrive)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError(
            PAYLOAD_TOO_LARGE, f"the body has {declared} bytes; the limit is {limit}"
        )
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise RequestError(
                    PAYLOAD_TOO_LARGE, f"the body exceeds the limit of {limit} bytes"
                )
            chunks.append(chunk)
    except ClientDisconnect:
        raise RequestError(
            CLIENT_CLOSED, "the client closed the connection before the body ended"
        ) from None
    return b"".join(chunks)


def parse_json(body: bytes) -> Any:
    """The JSON value of a body.

    Raises:
        RequestError: 422 for bytes that are not JSON, a number over Python's 4,300
            digits, or nesting deeper than `MAX_DEPTH`.
    """
    try:
        value = json.loads(body)
    except RecursionError:
        raise RequestError(UNPROCESSABLE, _too_deep()) from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise RequestError(UNPROCESSABLE, "the body is not valid JSON") from None
    except ValueError:  # an integer over Python's 4,300 digits
        raise RequestError(UNPROCESSABLE, "the body holds a number too long to read") from None
    if nests_deeper(value, MAX_DEPTH):
        raise RequestError(UNPROCESSABLE, _too_deep())
    return value


def _too_deep() -> str:
    return f"the JSON nests deeper than {MAX_DEPTH} levels"


def nests_deeper(value: Any, limit: int) -> bool:
    """Whether objects and arrays in `value` nest more than `limit` levels (iterative: no
    recursion however deep)."""
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        item, level = stack.pop()
        if level > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((c, level + 1) for c in children if isinstance(c, dict | list))
    return False
