"""The optional API key: 401 for a missing or wrong key, the same message either way."""

from __future__ import annotations

import pytest

from contrastkit.serve.auth import check_api_key, check_key_setting
from contrastkit.serve.limits import RequestError

KEY = "k3y-0123456789abcdef"


def test_no_key_configured_lets_everything_through() -> None:
    check_api_key(None, None)
    check_api_key("anything", None)


def test_right_key_passes_wrong_or_missing_is_401() -> None:
    check_api_key(KEY, KEY)
    messages = set()
    for given in (None, "", KEY[:-1], KEY + "x", KEY.upper(), "ünïcode"):
        with pytest.raises(RequestError) as info:
            check_api_key(given, KEY)
        assert info.value.status == 401 and KEY not in info.value.message
        messages.add(info.value.message)
    assert len(messages) == 1  # nothing tells a near miss from a miss


def test_key_setting_validated() -> None:
    assert check_key_setting(None) is None
    assert check_key_setting(KEY) == KEY
    for bad in ("short", "has a space in it ok", "tab\tin-the-key-0123", "ünïcode-key-0123456"):
        with pytest.raises(ValueError, match="API key"):
            check_key_setting(bad)
