"""What one request may ask for, and the error a request gets when it asks for more.

Every check raises `RequestError(status, message)`; the service turns it into a JSON
answer `{"error": message}` with that HTTP status and stays up:

- 413 Payload Too Large: an upload, a text, a batch or `k` above its limit;
- 422 Unprocessable Content: a value of the wrong type, empty, or malformed;
- 404 Not Found: an id the index does not hold (`contrastkit.serve.ids`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PAYLOAD_TOO_LARGE = 413
UNPROCESSABLE = 422
NOT_FOUND = 404
DEFAULT_K = 12
"""Results a search or a recommendation returns when the request gives no `k`."""


class RequestError(Exception):
    """A request the service refuses: an HTTP status (4xx) and a message for the client.

    The message never echoes more than a short prefix of what the client sent.
    """

    def __init__(self, status: int, message: str) -> None:
        if not 400 <= status < 500:
            raise ValueError(f"a request error has a 4xx status, got {status}")
        super().__init__(message)
        self.status = status
        self.message = message

    def to_json(self) -> dict[str, Any]:
        return {"error": self.message, "status": self.status}


def preview(value: Any, limit: int = 40) -> str:
    """`repr(value)` cut to `limit` characters, for error messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class Limits:
    """Upper bounds per request.

    Attributes:
        max_upload_bytes: Bytes of one uploaded file.
        max_pixels: Width x height of one decoded image (a decompression-bomb guard,
            checked on the header before any pixel is decoded).
        max_batch: Items (images, texts, rows) in one request.
        max_text_chars: Characters of one text.
        max_k: Neighbours one search may return.
    """

    max_upload_bytes: int = 8 * 1024 * 1024
    max_pixels: int = 25_000_000
    max_batch: int = 64
    max_text_chars: int = 2_000
    max_k: int = 100

    def __post_init__(self) -> None:
        for name in ("max_upload_bytes", "max_pixels", "max_batch", "max_text_chars", "max_k"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")

    def check_upload(self, size: int) -> None:
        """An upload of `size` bytes: 422 if empty, 413 above `max_upload_bytes`."""
        if size <= 0:
            raise RequestError(UNPROCESSABLE, "the upload is empty")
        if size > self.max_upload_bytes:
            raise RequestError(
                PAYLOAD_TOO_LARGE,
                f"the upload has {size} bytes; the limit is {self.max_upload_bytes}",
            )

    def check_pixels(self, width: int, height: int) -> None:
        """An image of width x height: 413 above `max_pixels`."""
        if width * height > self.max_pixels:
            raise RequestError(
                PAYLOAD_TOO_LARGE,
                f"the image is {width}x{height} = {width * height} pixels; the limit is "
                f"{self.max_pixels}",
            )

    def check_batch(self, items: Any, *, name: str = "items") -> list[Any]:
        """A JSON list of items: 422 if not a non-empty list, 413 above `max_batch`."""
        if not isinstance(items, list):
            raise RequestError(UNPROCESSABLE, f"{name}: expected a list, got {preview(items)}")
        if not items:
            raise RequestError(UNPROCESSABLE, f"{name}: the list is empty")
        if len(items) > self.max_batch:
            raise RequestError(
                PAYLOAD_TOO_LARGE, f"{name}: {len(items)} items; the limit is {self.max_batch}"
            )
        return items

    def check_text(self, text: Any, *, name: str = "text") -> str:
        """One text: 422 if not a non-blank string, 413 above `max_text_chars`."""
        if not isinstance(text, str):
            raise RequestError(UNPROCESSABLE, f"{name}: expected a string, got {preview(text)}")
        if not text.strip():
            raise RequestError(UNPROCESSABLE, f"{name}: the text is empty")
        if len(text) > self.max_text_chars:
            raise RequestError(
                PAYLOAD_TOO_LARGE,
                f"{name}: {len(text)} characters; the limit is {self.max_text_chars}",
            )
        return text

    def check_k(self, k: Any) -> int:
        """Neighbours asked for: 422 if not an int >= 1, 413 above `max_k`."""
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise RequestError(UNPROCESSABLE, f"k: expected an integer >= 1, got {preview(k)}")
        if k > self.max_k:
            raise RequestError(PAYLOAD_TOO_LARGE, f"k: {k}; the limit is {self.max_k}")
        return k
