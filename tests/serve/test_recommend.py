"""`POST /recommend` on a recommender run (FastAPI's TestClient): the answer equals
`recommend_run`, and every bad input is a 4xx JSON error."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.recommend.conftest import rec_run  # noqa: F401  (the session fixture)

from contrastkit.serve.app import create_app
from contrastkit.serve.ids import item_id
from contrastkit.serve.limits import Limits
from contrastkit.serve.service import Service, build_service
from contrastkit.use import recommend_run


@pytest.fixture(scope="module")
def client(rec_run: Path) -> TestClient:  # noqa: F811
    service = build_service(rec_run, backend="onnx", limits=Limits(max_k=50), log=lambda _m: None)
    return TestClient(create_app(service))


def test_recommend_equals_the_cli(client: TestClient, rec_run: Path) -> None:  # noqa: F811
    r = client.post("/recommend", json={"user": "u17", "k": 7})
    assert r.status_code == 200
    body = r.json()
    expect = recommend_run(rec_run, "u17", 7, log=lambda _m: None).items
    assert [x["item"] for x in body["results"]] == [x.item for x in expect]
    assert [x["score"] for x in body["results"]] == pytest.approx([x.score for x in expect])
    assert body["count"] == 7 and body["user"] == "u17"
    assert client.post("/recommend", json={"user": "u17"}).json()["count"] == 12  # default k
    first = body["results"][0]
    assert first["id"] == item_id(first["item"])
    hits = client.post("/search", json={"id": first["id"], "k": 2}).json()["results"]
    assert hits[0]["id"] == first["id"]  # the item's own vector is its nearest neighbour
    assert client.get("/health").json()["backend"] == "torch"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"user": "../../etc/passwd"}, 404, "user: no user '../../etc/passwd'"),
        ({"user": "/etc/passwd", "k": 3}, 404, "user: no user '/etc/passwd'"),
        ({"user": "%2e%2e%2f"}, 404, "no user"),
        ({"user": "u17x"}, 404, "no user 'u17x'"),
        ({"user": "u1", "k": 51}, 413, "k: 51; the limit is 50"),
        ({"user": "u1", "k": 0}, 422, "k: expected an integer >= 1"),
        ({"user": "u1", "k": "3"}, 422, "k: expected an integer >= 1"),
        ({"user": 17}, 422, "user: expected a string"),
        ({"user": ""}, 422, "user: the text is empty"),
        ({"user": "x" * 3000}, 413, "user: 3000 characters"),
        ({"k": 3}, 422, "give exactly one of user"),
        ({"user": "u1", "item": "i1"}, 422, "unknown key 'item'"),
        ([1, 2], 422, "expected a JSON object"),
    ],
)
def test_bad_requests_are_json_errors(
    client: TestClient, body: object, status: int, message: str
) -> None:
    r = client.post("/recommend", json=body)
    assert r.status_code == status, r.text
    assert message in r.json()["error"] and r.json()["status"] == status
    assert client.get("/health").status_code == 200  # still up


def test_wrong_content_type_and_not_json(client: TestClient) -> None:
    r = client.post("/recommend", content=b"u17", headers={"content-type": "text/plain"})
    assert r.status_code == 415
    r = client.post("/recommend", content=b"{", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "not valid JSON" in r.json()["error"]


def test_a_run_that_is_no_recommender_says_so(table_service: Service) -> None:
    r = TestClient(create_app(table_service)).post("/recommend", json={"user": "u1"})
    assert r.status_code == 422 and "not a recommender" in r.json()["error"]
