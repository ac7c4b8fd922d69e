"""The service through FastAPI's TestClient: every endpoint, and every bad input gives a
clear 4xx JSON answer while the server stays up."""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from contrastkit.export.onnx import OnnxEncoder
from contrastkit.modalities.images.sources import load_image_set
from contrastkit.run import load_run
from contrastkit.serve.app import create_app
from contrastkit.serve.limits import Limits
from contrastkit.serve.request_models import SearchJson
from contrastkit.serve.service import Service, build_service

TRAVERSAL = [
    "../../etc/passwd",
    "/etc/passwd",
    "..\\..\\windows\\win.ini",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "....//....//etc/passwd",
    "file:///etc/passwd",
    "a\x00b",
    "",
    "~/.ssh/id_rsa",
]
KEY = "k" * 24


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def digit(digits_run: Path) -> tuple[int, bytes]:
    """An index row whose image no other row repeats, and its 8x8 PNG."""
    _, modality, _ = load_run(digits_run)
    images = load_image_set(modality.settings.data).images.numpy()
    flat = images.reshape(len(images), -1)
    for row in range(5, len(images)):
        if (flat == flat[row]).all(axis=1).sum() == 1:
            return row, png(images[row, 0])
    raise AssertionError("no unique digit")


@pytest.fixture(scope="module")
def client(digits_service: Service) -> TestClient:
    return TestClient(create_app(digits_service))


def is_error(response: httpx.Response, status: int, words: str = "") -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status and isinstance(body["error"], str)
    assert words.lower() in body["error"].lower()
    return body


def test_health(client: TestClient) -> None:
    h = client.get("/health").json()
    assert h["status"] == "ok" and h["items"] == 1797 and h["dim"] == 16
    assert h["takes"] == ["image"] and h["thumbnails"] and h["backend"] == "onnx"
    assert not h["api_key_required"]


def test_image_search_finds_its_own_image_first(
    client: TestClient, digits_service: Service, digit: tuple[int, bytes]
) -> None:
    row, data = digit
    r = client.post("/search?k=5", content=data, headers={"Content-Type": "image/png"})
    assert r.status_code == 200
    hits = r.json()["results"]
    assert len(hits) == 5 and hits[0]["id"] == digits_service.catalog.ids.id_of(row)
    assert hits[0]["score"] == pytest.approx(1.0, abs=1e-5)
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True) and scores[1] < 1.0 - 1e-4
    assert hits[0]["thumbnail"] == f"/thumb/{hits[0]['id']}"
    thumb = client.get(hits[0]["thumbnail"])
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/png"
    picture = np.asarray(Image.open(io.BytesIO(thumb.content)))
    assert picture.shape == (96, 96)  # 8x8 scaled 12x, nearest
    original = np.asarray(Image.open(io.BytesIO(data)))
    assert (picture[::12, ::12] == original).all()


def test_search_by_id_and_embed(
    client: TestClient, digits_service: Service, digits_run: Path, digit: tuple[int, bytes]
) -> None:
    row, data = digit
    own = digits_service.catalog.ids.id_of(row)
    hits = client.post("/search", json={"id": own, "k": 3}).json()["results"]
    assert hits[0]["id"] == own and hits[0]["score"] == pytest.approx(1.0, abs=1e-5)
    r = client.post("/embed", content=data, headers={"Content-Type": "image/png"})
    got = np.array(r.json()["embeddings"])
    pixels = np.asarray(Image.open(io.BytesIO(data)))[None, None]
    want = OnnxEncoder(digits_run / "export" / "model.onnx")(pixels)
    assert got.shape == (1, 16) and np.abs(got - want).max() <= 1e-6


def test_torch_backend_agrees_with_onnx(
    client: TestClient, digits_run: Path, digit: tuple[int, bytes]
) -> None:
    _, data = digit
    torch_client = TestClient(create_app(build_service(digits_run, backend="torch", log=str)))
    headers = {"Content-Type": "image/png"}
    a = client.post("/embed", content=data, headers=headers).json()["embeddings"]
    b = torch_client.post("/embed", content=data, headers=headers).json()["embeddings"]
    assert np.abs(np.array(a) - np.array(b)).max() <= 1e-4
    assert torch_client.get("/health").json()["backend"] == "torch"


@pytest.mark.parametrize(
    ("kwargs", "status", "words"),
    [
        ({"content": b"hello", "headers": {"Content-Type": "text/plain"}}, 415, "Content-Type"),
        (
            {"content": b"\x89PNG\r\n\x1a\nbroken", "headers": {"Content-Type": "image/png"}},
            422,
            "",
        ),
        ({"content": b"GIF89a", "headers": {"Content-Type": "image/gif"}}, 422, ""),
        ({"content": b"", "headers": {"Content-Type": "image/png"}}, 422, "empty"),
        ({"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 422, "JSON"),
        ({"json": [1, 2]}, 422, "object"),
        ({"json": {"path": "/etc/passwd"}}, 422, "unknown key"),
        ({"json": {"text": "a", "id": "b"}}, 422, "exactly one"),
        ({"json": {"text": "a digit"}}, 422, "no text queries"),
        ({"json": {"row": {"a": 1}}}, 422, "no row queries"),
        ({"json": {"id": "0123456789abcdef", "k": 0}}, 422, "k:"),
        ({"json": {"id": "0123456789abcdef", "k": True}}, 422, "k:"),
        ({"json": {"id": "0123456789abcdef", "k": "5"}}, 422, "k:"),
        ({"json": {"id": "0123456789abcdef", "k": 10_000}}, 413, "k:"),
        ({"json": {"id": "0123456789abcdef"}}, 404, "no item"),
        ({"json": {"id": 7}}, 422, "not an item id"),
        ({"json": {"id": None}}, 422, "not an item id"),
        ({"json": {"id": ["a"]}}, 422, "not an item id"),
    ],
)
def test_bad_search_requests(
    client: TestClient, kwargs: dict[str, Any], status: int, words: str
) -> None:
    is_error(client.post("/search", **kwargs), status, words)
    assert client.get("/health").status_code == 200


@pytest.mark.parametrize("bad", TRAVERSAL)
def test_traversal_strings_in_every_field(client: TestClient, bad: str) -> None:
    is_error(client.post("/search", json={"id": bad}), 422, "not an item id")
    for path in (quote(bad, safe=""), quote(bad, safe="/")):  # slashes encoded and not
        r = client.get("/thumb/" + path)
        assert 400 <= r.status_code < 500 and "error" in r.json()
    r = client.get("/thumb/x", params={"path": bad})  # a stray parameter reads nothing
    is_error(r, 404, "no item")
    is_error(client.post(f"/search?k={quote(bad or 'x')}", json={"id": "abc"}), 422)
    is_error(client.post("/embed", json={"texts": [bad or "x"]}), 422, "no text queries")
    assert client.get("/health").status_code == 200


def test_thumbnails_only_for_indexed_ids(client: TestClient) -> None:
    is_error(client.get("/thumb/0123456789abcdef"), 404, "no item")
    is_error(client.get("/thumb/..%2F..%2Fetc%2Fpasswd"), 404)
    is_error(client.get("/thumb/%2e%2e%2f%2e%2e%2fetc%2fpasswd"), 404)
    is_error(client.get("/thumb/" + "a" * 65), 422, "not an item id")


def test_size_limits(digits_service: Service, digit: tuple[int, bytes]) -> None:
    _, data = digit
    small = TestClient(
        create_app(replace(digits_service, limits=Limits(max_upload_bytes=200, max_pixels=100)))
    )
    headers = {"Content-Type": "image/png"}
    is_error(small.post("/search", content=b"x" * 201, headers=headers), 413, "limit")
    big = png(np.zeros((11, 11), dtype=np.uint8))  # 121 pixels, a small file
    assert len(big) <= 200
    is_error(small.post("/search", content=big, headers=headers), 413, "pixels")
    is_error(small.post("/embed", content=b"x" * 201, headers=headers), 413)

    def chunks() -> Any:  # no Content-Length: the limit holds while reading
        for _ in range(10):
            yield b"x" * 100

    is_error(small.post("/search", content=chunks(), headers=headers), 413, "limit")
    assert small.post("/search", content=data, headers=headers).status_code == 200


def test_api_key(digits_service: Service, digit: tuple[int, bytes]) -> None:
    locked = TestClient(create_app(replace(digits_service, api_key=KEY)))
    headers = {"Content-Type": "image/png"}
    is_error(locked.post("/search", content=digit[1], headers=headers), 401, "X-API-Key")
    wrong = {**headers, "X-API-Key": "x" * 24}
    is_error(locked.post("/search", content=digit[1], headers=wrong), 401, "X-API-Key")
    ok = locked.post("/search", content=digit[1], headers={**headers, "X-API-Key": KEY})
    assert ok.status_code == 200
    is_error(locked.get(ok.json()["results"][0]["thumbnail"]), 401)
    assert locked.get("/health").json()["api_key_required"]


def test_routes_errors_page_and_docs(client: TestClient) -> None:
    is_error(client.get("/nothing/here"), 404)
    is_error(client.get("/search"), 405)
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "/static/app.js" in page.text and "http" not in page.text.replace("http-equiv", "")
    for asset in ("/static/app.js", "/static/style.css"):
        r = client.get(asset)
        assert r.status_code == 200 and "http://" not in r.text and "https://" not in r.text
    is_error(client.get("/static/../../etc/passwd"), 404)
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/health", "/embed", "/search", "/thumb/{item}"} <= set(paths)


def test_openapi_schema_comes_from_the_models(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    search = spec["paths"]["/search"]["post"]
    content = search["requestBody"]["content"]
    served = content["application/json"]["schema"]
    model = SearchJson.model_json_schema()
    assert served["additionalProperties"] is False and list(served["properties"]) == list(
        model["properties"]
    ) == ["text", "row", "id", "k"]
    for name, field in served["properties"].items():
        assert field["type"] == model["properties"][name]["type"]
    assert content["image/*"]["schema"]["format"] == "binary"
    answers = search["responses"]
    assert answers["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Hits")
    for status in ("401", "413", "415", "422"):
        assert answers[status]["content"]["application/json"]["schema"]["$ref"].endswith(
            "/ErrorAnswer"
        )
    assert spec["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"
    assert "security" not in spec["paths"]["/health"]["get"]  # open: liveness needs no key


def test_text_run(text_service: Service) -> None:
    c = TestClient(create_app(text_service))
    assert c.get("/health").json()["takes"] == ["text"]
    hits = c.post("/search", json={"text": "the red fox is here today", "k": 3}).json()
    assert hits["results"][0]["score"] == pytest.approx(1.0, abs=1e-4)
    assert hits["results"][0]["thumbnail"] is None
    assert hits["results"][0]["shown"] == "the red fox is here today"  # the sentence itself
    catalog = text_service.catalog
    row = catalog.ids.row_of(hits["results"][0]["id"], name="id")
    assert catalog.sources[row] == "text-corpus.txt:1"  # its line in the run's file
    r = c.post("/search", json={"text": "../../etc/passwd"})  # a text, not a path
    assert r.status_code == 200 and all(len(h["id"]) == 16 for h in r.json()["results"])
    emb = c.post("/embed", json={"texts": ["a", "a much longer text than that"]}).json()
    assert np.allclose(np.linalg.norm(emb["embeddings"], axis=1), 1.0, atol=1e-5)
    is_error(c.post("/embed", json={"texts": "a"}), 422, "expected a list")
    is_error(c.post("/embed", json={"texts": []}), 422, "empty")
    is_error(c.post("/embed", json={"texts": ["a"] * 65}), 413, "limit")
    is_error(c.post("/embed", json={"texts": ["x" * 2001]}), 413, "characters")
    is_error(c.post("/embed", json={"texts": [3]}), 422, "expected a string")
    is_error(c.post("/search", json={"text": "   "}), 422, "empty")
    is_error(c.post("/search", content=b"x", headers={"Content-Type": "image/png"}), 422)


def test_table_run(table_service: Service) -> None:
    c = TestClient(create_app(table_service))
    assert c.get("/health").json()["takes"] == ["row"]
    row = {"alcohol": 13.0, "malic_acid": 2.0}
    r = c.post("/search", json={"row": row, "k": 4})
    assert r.status_code == 200 and r.json()["count"] == 4
    catalog = table_service.catalog
    for hit in r.json()["results"]:  # each row by its id in the data and leading columns
        source = catalog.sources[catalog.ids.row_of(hit["id"], name="id")]
        assert hit["shown"].startswith(f"{source}: alcohol=") and source.startswith("wine:")
    emb = c.post("/embed", json={"rows": [row, {}]}).json()
    assert len(emb["embeddings"]) == 2 and emb["dim"] == 16
    is_error(c.post("/search", json={"row": {"../../etc/passwd": 1}}), 422, "unknown column")
    is_error(c.post("/search", json={"row": {"alcohol": "../../etc/passwd"}}), 422, "number")
    is_error(c.post("/search", json={"row": "alcohol=1"}), 422, "object")
    is_error(c.post("/embed", json={"rows": [1]}), 422, "object")


def test_concurrent_requests_share_model_runs(
    digits_service: Service, digit: tuple[int, bytes]
) -> None:
    service = replace(digits_service, batch_window_ms=20.0)
    app = create_app(service)
    headers = {"Content-Type": "image/png"}

    async def go() -> list[list[float]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            answers = await asyncio.gather(
                *[c.post("/embed", content=digit[1], headers=headers) for _ in range(16)]
            )
        return [a.json()["embeddings"][0] for a in answers]

    vectors = np.array(asyncio.run(go()))
    batcher = service.batchers[""]
    assert batcher.rows == 16 and batcher.runs < 16
    assert np.abs(vectors - vectors[0]).max() <= 1e-6


def test_image_text_run_searches_images_by_text_and_by_image(tmp_path: Path) -> None:
    from tests.export.runs import PAIRS, make_run

    run = make_run(tmp_path / "captions", "digits_text_siglip.yaml", PAIRS)
    service = build_service(run, backend="torch", log=lambda _m: None)
    c = TestClient(create_app(service))
    health = c.get("/health").json()
    assert health["takes"] == ["image", "text"] and health["thumbnails"]
    hits = c.post("/search", json={"text": "a handwritten seven", "k": 4}).json()["results"]
    assert len(hits) == 4 and all(h["thumbnail"] for h in hits)
    thumb = c.get(hits[0]["thumbnail"])
    assert thumb.status_code == 200 and thumb.content[:8] == b"\x89PNG\r\n\x1a\n"
    picture = np.asarray(Image.open(io.BytesIO(thumb.content)))
    r = c.post(
        "/search?k=1", content=png(picture[::12, ::12]), headers={"Content-Type": "image/png"}
    )
    assert r.json()["results"][0]["score"] == pytest.approx(1.0, abs=1e-4)


def test_an_image_folder_hit_is_named_by_its_file_in_the_folder(tmp_path: Path) -> None:
    from sklearn.datasets import load_digits
    from tests.export.runs import IMAGE, make_run

    digits = load_digits()
    root = tmp_path / "pictures"
    for i in range(24):  # 8x8 digits as PNG files in a folder per class
        (root / f"class{digits.target[i]}").mkdir(parents=True, exist_ok=True)
        pixels = (digits.images[i] * 255 / 16).astype(np.uint8)
        Image.fromarray(pixels).save(root / f"class{digits.target[i]}" / f"d{i:02d}.png")
    overrides = [*IMAGE, "data.source=folder", f"data.path={root}", "data.image_size=8"]
    run = make_run(tmp_path / "run", "digits_simclr.yaml", overrides)
    service = build_service(run, backend="torch", log=str)
    query = root / f"class{digits.target[7]}" / "d07.png"
    c = TestClient(create_app(service))
    r = c.post("/search?k=3", content=query.read_bytes(), headers={"Content-Type": "image/png"})
    hits = r.json()["results"]
    assert hits[0]["shown"] == f"class{digits.target[7]}/d07.png"  # not the server's path
    assert hits[0]["score"] == pytest.approx(1.0, abs=1e-4)
    assert all(h["shown"].startswith("class") and str(tmp_path) not in h["shown"] for h in hits)
    thumb = c.get(hits[0]["thumbnail"])
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/png"
