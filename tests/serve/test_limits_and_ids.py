"""Request limits and item ids: each refusal has the documented status and a message that
names the field; path-like ids never reach a lookup."""

from __future__ import annotations

from typing import Any

import pytest

from contrastkit.serve.ids import ItemIds, check_id, item_id
from contrastkit.serve.limits import Limits, RequestError

SOURCES = ["/data/cats/001.png", "/data/dogs/002.png", "/data/cats/001.png", "relative/x.jpg"]


def _status(fn: Any, *args: Any, **kwargs: Any) -> tuple[int, str]:
    with pytest.raises(RequestError) as info:
        fn(*args, **kwargs)
    return info.value.status, info.value.message


def test_limits_accept_and_refuse() -> None:
    limits = Limits(max_batch=3, max_text_chars=10, max_k=5)
    assert limits.check_batch([1, 2, 3]) == [1, 2, 3]
    assert limits.check_text("a cat") == "a cat"
    assert limits.check_k(5) == 5
    assert _status(limits.check_batch, [1, 2, 3, 4], name="texts") == (
        413,
        "texts: 4 items; the limit is 3",
    )
    assert _status(limits.check_batch, [])[0] == 422
    assert _status(limits.check_batch, "abc")[0] == 422
    assert _status(limits.check_text, "x" * 11)[0] == 413
    assert _status(limits.check_text, "   ")[0] == 422
    assert _status(limits.check_text, 12)[0] == 422
    assert _status(limits.check_text, None)[0] == 422
    assert _status(limits.check_k, 6)[0] == 413
    for bad in (0, -1, 2.5, "3", True, None):
        assert _status(limits.check_k, bad)[0] == 422
    long = "y" * 10_000
    assert len(_status(limits.check_text, [long])[1]) < 100  # no echo of a huge input


def test_limits_validated_at_construction() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        Limits(max_batch=0)
    with pytest.raises(ValueError, match="max_k"):
        Limits(max_k=True)
    with pytest.raises(ValueError, match="4xx"):
        RequestError(500, "no")


def test_ids_are_opaque_stable_and_unique() -> None:
    ids = ItemIds(SOURCES)
    assert len(ids) == 4
    all_ids = [ids.id_of(r) for r in range(4)]
    assert len(set(all_ids)) == 4
    assert all_ids[0] == item_id(SOURCES[0]) and all_ids[2] == item_id(SOURCES[0]) + "-1"
    assert all("/" not in i and "." not in i for i in all_ids)  # nothing of the path shows
    assert ItemIds(SOURCES).id_of(1) == all_ids[1]  # stable across rebuilds
    assert [ids.row_of(i) for i in all_ids] == [0, 1, 2, 3]


@pytest.mark.parametrize(
    "value",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "..",
        "C:\\Windows\\win.ini",
        "%2e%2e%2fetc%2fpasswd",
        "file:///etc/passwd",
        "/data/cats/001.png",  # a real source is not an id either
        "a\x00b",
        "",
        "x" * 65,
        "ünïcode",
        17,
        None,
        ["abc"],
        {"id": "abc"},
    ],
)
def test_path_like_and_malformed_ids_are_422(value: Any) -> None:
    ids = ItemIds(SOURCES)
    status, message = _status(ids.row_of, value, name="query_id")
    assert status == 422 and message.startswith("query_id: ")
    assert _status(check_id, value)[0] == 422


def test_unknown_well_formed_id_is_404() -> None:
    status, message = _status(ItemIds(SOURCES).row_of, "0123456789abcdef")
    assert status == 404 and "0123456789abcdef" in message
