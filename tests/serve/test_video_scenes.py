"""The service over an index of video frames: /search answers scenes (the CLI's, with the
file names only), thumbnails are the index's JPEGs, /video/{number} streams only the
index's own videos in ranges (with a token when the service has a key), and the page plays
a scene from its start in headless Chromium."""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sklearn.datasets import load_digits
from tests.export.runs import PAIRS, make_run

from contrastkit.data.video_synth import write_scene_videos
from contrastkit.serve.app import create_app
from contrastkit.serve.service import Service, build_service
from contrastkit.serve.videos import video_token
from contrastkit.use import index_run, search_run

KEY = "a-key-of-twenty-chars"
TEXT = "a handwritten seven"


def _quiet(_message: str) -> None:
    pass


@pytest.fixture(scope="module")
def video_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained digit-captions SigLIP run with an index 'clips' of two generated videos."""
    base = tmp_path_factory.mktemp("serve_video")
    run = make_run(base / "captions", "digits_text_siglip.yaml", PAIRS)
    digits = load_digits()
    keep = np.isin(digits.target, [1, 3, 7])
    images = (digits.images[keep] * 255 / 16).astype(np.uint8)[:, None]
    write_scene_videos(images, digits.target[keep], [str(i) for i in range(10)], base / "v",
                       scenes_per_class=2, videos=2, seconds=(2.0, 3.0))  # fmt: skip
    index_run(run, str(base / "v"), name="clips", log=_quiet)
    return run


@pytest.fixture(scope="module")
def client(video_run: Path) -> Iterator[TestClient]:
    service = build_service(video_run, index="clips", backend="torch", log=_quiet)
    with TestClient(create_app(service)) as c:
        yield c


def test_search_answers_the_clis_scenes_by_file_name(client: TestClient, video_run: Path) -> None:
    health = client.get("/health").json()
    assert health["videos"] == 2 and health["thumbnails"] and health["items"] > 10
    answer = client.post("/search", json={"text": TEXT, "k": 3}).json()
    cli = search_run(video_run, TEXT, 3, index="clips", text=True, log=_quiet).scenes
    listed = sorted(str(p.absolute()) for p in (video_run.parent / "v").glob("*.mp4"))
    assert cli is not None and len(answer["scenes"]) == len(cli) == answer["count"]
    for scene, expected in zip(answer["scenes"], cli, strict=True):
        assert scene["video"] == Path(expected.video).name  # no path leaves the service
        assert (scene["start"], scene["end"], scene["best"]) == (
            expected.start, expected.end, expected.best,
        )  # fmt: skip
        assert scene["score"] == pytest.approx(expected.score, abs=1e-5)
        assert scene["video_url"] == f"/video/{listed.index(expected.video)}"
        picture = client.get(scene["thumbnail"])
        assert (
            picture.headers["content-type"] == "image/jpeg" and picture.content[:2] == b"\xff\xd8"
        )
    assert [r["id"] for r in answer["results"]] == [s["id"] for s in answer["scenes"]]


def test_videos_are_streamed_in_ranges_and_only_the_indexs(
    client: TestClient, video_run: Path
) -> None:
    videos = sorted((video_run.parent / "v").glob("*.mp4"))
    part = client.get("/video/1", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == videos[1].read_bytes()[100:200]
    assert part.headers["content-type"] == "video/mp4"
    whole = client.get("/video/0")
    assert whole.status_code == 200 and whole.content == videos[0].read_bytes()
    assert client.get("/video/2").json() == {"error": "video 2: the index lists 2", "status": 404}
    assert client.get("/video/-1").status_code == 404
    assert client.get("/video/..%2F..%2Fetc%2Fpasswd").status_code in (404, 422)
    assert client.get("/video/zero").status_code == 422


def test_with_a_key_a_video_url_carries_its_own_token(video_run: Path) -> None:
    service = build_service(video_run, index="clips", backend="torch", api_key=KEY, log=_quiet)
    with TestClient(create_app(service)) as c:
        assert c.post("/search", json={"text": TEXT}).status_code == 401
        scenes = c.post("/search", json={"text": TEXT}, headers={"X-API-Key": KEY}).json()["scenes"]
        url = scenes[0]["video_url"]
        number = int(url.split("/video/")[1].split("?")[0])
        assert url.endswith(f"?token={video_token(KEY, number)}") and KEY not in url
        assert c.get(url).status_code == 200
        assert c.get(f"/video/{number}").status_code == 401
        other = 1 - number
        assert c.get(f"/video/{other}?token={video_token(KEY, number)}").status_code == 401


def test_an_index_of_images_serves_no_video(digits_service: Service) -> None:
    with TestClient(create_app(digits_service)) as c:
        assert c.get("/video/0").json()["error"] == "this index holds no videos"
        assert c.get("/health").json()["videos"] == 0


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None or DRIVER is None, reason="needs chromium, chromium-driver")
def test_the_page_plays_a_scene_from_its_start(video_run: Path, tmp_path: Path) -> None:
    """Type a text, click the second scene: the player loads its video from /video/N and
    stands at the scene's start (HTML5 video seeking through range requests)."""
    pytest.importorskip("selenium")
    import uvicorn
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    service = build_service(video_run, index="clips", backend="torch", log=_quiet)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    options = webdriver.ChromeOptions()
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--mute-audio",
                f"--user-data-dir={tempfile.mkdtemp()}", "--window-size=1280,1400"):  # fmt: skip
        options.add_argument(arg)
    driver = webdriver.Chrome(service=DriverService(DRIVER), options=options)
    try:
        driver.get(f"http://127.0.0.1:{port}/")
        wait = WebDriverWait(driver, 30)
        wait.until(ec.visibility_of_element_located((By.ID, "text"))).send_keys(TEXT)
        driver.find_element(By.CSS_SELECTOR, "#text-form button").click()
        wait.until(lambda d: d.find_element(By.ID, "results").get_attribute("data-ready") == "1")
        tiles = driver.find_elements(By.CSS_SELECTOR, ".scene")
        assert len(tiles) >= 2
        start = float(tiles[1].get_attribute("data-start"))
        tiles[1].click()
        wait.until(lambda d: d.find_element(By.ID, "video").get_attribute("data-ready") == "1")
        state = driver.execute_script(
            "const v = document.getElementById('video'); v.pause();"
            "return [v.currentTime, v.currentSrc, v.duration];"
        )
        assert start <= state[0] <= start + 1.0 and "/video/" in state[1] and state[2] > start
        driver.save_screenshot(str(tmp_path / "video_page.png"))
    finally:
        driver.quit()
        server.should_exit = True
        thread.join(timeout=10)
