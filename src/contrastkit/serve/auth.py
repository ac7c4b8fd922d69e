"""The optional API key: a request must carry it in the `X-API-Key` header when set.

Keys are compared in constant time (`hmac.compare_digest`), so the answer's timing does
not tell how many leading characters were right. A missing or wrong key is a 401 with
the same message either way; the message never contains the key.
"""

from __future__ import annotations

import hmac

from contrastkit.serve.limits import RequestError

API_KEY_HEADER = "X-API-Key"
UNAUTHORIZED = 401
MIN_KEY_LENGTH = 16


def check_key_setting(key: str | None) -> str | None:
    """A configured key: None (no key needed) or at least 16 printable ASCII characters.

    Raises:
        ValueError: a key that is too short or has characters a header cannot carry.
    """
    if key is None:
        return None
    if len(key) < MIN_KEY_LENGTH or not (key.isascii() and key.isprintable()) or " " in key:
        raise ValueError(
            f"the API key needs at least {MIN_KEY_LENGTH} printable ASCII characters without spaces"
        )
    return key


def check_api_key(given: str | None, expected: str | None) -> None:
    """Pass when no key is configured, or `given` (the header's value) equals it.

    Raises:
        RequestError: 401 when a key is configured and `given` is missing or differs.
    """
    if expected is None:
        return
    ok = given is not None and hmac.compare_digest(given.encode(), expected.encode())
    if not ok:
        raise RequestError(UNAUTHORIZED, f"missing or wrong {API_KEY_HEADER} header")
