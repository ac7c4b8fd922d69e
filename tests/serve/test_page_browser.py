"""The search page in a real browser: Debian's chromium, headless, driven by selenium.

The server runs on a free loopback port in a thread; the test picks a digit that is in
the index, waits for the grid, checks that the first tile is that digit with score ~1,
and saves a screenshot (under $CONTRASTKIT_SCREENSHOTS when set, else the test's tmp dir).
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from contrastkit.modalities.images.sources import load_image_set
from contrastkit.run import load_run
from contrastkit.serve.app import create_app
from contrastkit.serve.service import Service

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None or DRIVER is None,
        reason="needs Debian's chromium and chromium-driver (make install-debian-packages)",
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(service: Service) -> Iterator[str]:
    """The service on a free loopback port in a thread: its base URL."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "the server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(digits_service: Service) -> Iterator[str]:
    with serving(digits_service) as url:
        yield url


def browser() -> Any:
    """Headless chromium through selenium."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1100,800"):
        options.add_argument(flag)
    options.add_argument("--disable-dev-shm-usage")
    return webdriver.Chrome(service=DriverService(executable_path=str(DRIVER)), options=options)


def test_page_finds_the_query_image_first(
    server: str, digits_service: Service, digits_run: Path, tmp_path: Path
) -> None:
    selenium = pytest.importorskip("selenium", reason="pip install 'contrastkit[dev]'")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    assert selenium
    _, modality, _ = load_run(digits_run)
    images = load_image_set(modality.settings.data).images.numpy()
    row = 42
    query = tmp_path / "query.png"
    Image.fromarray(images[row, 0]).save(query)
    want = digits_service.catalog.ids.id_of(row)

    driver = browser()
    try:
        driver.get(server + "/")
        wait = WebDriverWait(driver, 30)
        wait.until(ec.text_to_be_present_in_element((By.ID, "status"), "items"))
        assert driver.find_element(By.ID, "drop").is_displayed()
        assert not driver.find_element(By.ID, "text-form").is_displayed()  # an image run
        driver.find_element(By.ID, "file").send_keys(str(query))
        wait.until(lambda d: d.find_element(By.ID, "results").get_attribute("data-ready") == "1")
        tiles = driver.find_elements(By.CSS_SELECTOR, "#results .hit")
        assert len(tiles) == 12
        first = tiles[0]
        assert first.get_attribute("data-id") == want
        assert float(first.get_attribute("data-score") or 0) == pytest.approx(1.0, abs=1e-4)
        # every thumbnail loaded (naturalWidth > 0) before the picture is taken
        wait.until(
            lambda d: d.execute_script(
                "return [...document.querySelectorAll('#results img')]"
                ".every(i => i.complete && i.naturalWidth > 0)"
            )
        )
        assert "12 nearest of 1797" in driver.find_element(By.ID, "message").text
        folder = Path(os.environ.get("CONTRASTKIT_SCREENSHOTS", tmp_path))
        folder.mkdir(parents=True, exist_ok=True)
        shot = folder / "serve-page.png"
        assert driver.save_screenshot(str(shot))
        # the first tile shows the query digit: its thumbnail is the query scaled 12x
        src = first.find_element(By.TAG_NAME, "img").get_attribute("src")
        assert src and src.startswith("blob:")
        picture = np.asarray(Image.open(io.BytesIO(shot.read_bytes())))
        assert picture.shape[0] >= 600  # a real page, not a blank 0-size capture
    finally:
        driver.quit()


def test_page_lists_table_rows_by_their_ids_and_a_click_finds_its_neighbours(
    table_service: Service,
) -> None:
    pytest.importorskip("selenium", reason="pip install 'contrastkit[dev]'")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    catalog = table_service.catalog
    assert catalog.shown is not None
    shown = catalog.shown[60]  # wine:61: alcohol=..., its leading columns
    with serving(table_service) as url:
        driver = browser()
        try:
            driver.get(url + "/")
            wait = WebDriverWait(driver, 30)
            wait.until(lambda d: d.find_element(By.ID, "row-form").is_displayed())
            assert not driver.find_element(By.ID, "text-form").is_displayed()  # a table run
            driver.find_element(By.ID, "row").send_keys(shown.split(": ", 1)[1])
            driver.find_element(By.CSS_SELECTOR, "#row-form button").click()
            wait.until(lambda d: d.find_element(By.ID, "results").get_attribute("data-ready"))
            results = driver.find_element(By.ID, "results")
            assert "list" in (results.get_attribute("class") or "")  # rows one per line
            texts = [t.text for t in driver.find_elements(By.CSS_SELECTOR, "#results .shown")]
            assert len(texts) == 12 and all(t.startswith("wine:") for t in texts)
            second = driver.find_elements(By.CSS_SELECTOR, "#results .hit")[1]
            second_id, second_text = second.get_attribute("data-id"), texts[1]
            second.click()  # more like this one: it comes first, at cosine 1
            first_id = "const h = document.querySelector('#results .hit'); return h && h.dataset.id"
            wait.until(lambda d: d.execute_script(first_id) == second_id)  # no stale element
            wait.until(lambda d: d.find_element(By.ID, "results").get_attribute("data-ready"))
            first = driver.find_element(By.CSS_SELECTOR, "#results .hit")
            assert float(first.get_attribute("data-score") or 0) == pytest.approx(1.0, abs=1e-4)
            assert first.find_element(By.CLASS_NAME, "shown").text == second_text
            assert f'"{second_text}"' in driver.find_element(By.ID, "message").text
        finally:
            driver.quit()
