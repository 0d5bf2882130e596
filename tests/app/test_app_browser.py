"""The page in a real browser (Playwright driving Debian's chromium, no browser download):
open it, upload an image, press Ask, read the answer from the page, and check the screenshots
are pictures, not blank pages.  ``SPATIALFORGE_SCREENSHOTS=docs/img`` also saves them (small)
for docs/app.md."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from gradio_client import handle_file
from PIL import Image

from spatialforge.viz.show import PALETTE

CHROMIUM = Path("/usr/bin/chromium")
# software WebGL (SwiftShader) for the 3D view: headless chromium has no GPU
CHROMIUM_ARGS = ["--no-sandbox", "--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no chromium at {CHROMIUM} (apt-get install chromium; CI installs it)")


def not_blank(png: bytes) -> tuple[float, int]:
    """(pixel standard deviation, distinct colours) of a screenshot."""
    im = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    return float(im.std()), len(np.unique(im.reshape(-1, 3), axis=0))


def keep(png: bytes, name: str) -> None:
    """Save a small copy (900 px wide, 64 colours) where ``SPATIALFORGE_SCREENSHOTS`` asks."""
    folder = os.environ.get("SPATIALFORGE_SCREENSHOTS")
    if not folder:
        return
    im = Image.open(io.BytesIO(png)).convert("RGB")
    if im.width > 900:
        im = im.resize((900, round(im.height * 900 / im.width)), Image.LANCZOS)
    Path(folder).mkdir(parents=True, exist_ok=True)
    im.quantize(64, method=Image.Quantize.MEDIANCUT).save(Path(folder) / name, optimize=True)


def check_picture(png: bytes) -> None:
    std, colours = not_blank(png)
    assert std > 20 and colours > 50, f"screenshot looks blank: pixel std {std:.1f}, {colours} colours"


def wait_for_3d_boxes(view, timeout_s: float = 90.0) -> None:
    """Until the 3D view shows the first asked-about object's box (the show page's first
    colour, shaded): WebGL in software takes a while on a loaded machine."""
    import time

    r, g, b = PALETTE[0]
    deadline = time.monotonic() + timeout_s
    while True:
        im = np.asarray(Image.open(io.BytesIO(view.screenshot())).convert("RGB")).astype(int)
        hue = (im[..., 0] > 0.6 * r) & (im[..., 1] < 0.5 * r) & (im[..., 2] < 0.6 * r) & (im[..., 0] > 2 * im[..., 1])
        if hue.sum() > 200:
            return
        assert time.monotonic() < deadline, f"the 3D view shows no box after {timeout_s:.0f} s"
        time.sleep(1)


def test_not_blank_tells_a_blank_page_from_a_picture():
    buf = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(buf, "PNG")
    assert not_blank(buf.getvalue()) == (0.0, 1)


def test_upload_ask_and_read_the_answer_in_chromium(server, client, photo, dataset):
    from playwright.sync_api import expect, sync_playwright

    want = client.predict(handle_file(str(photo)), 8, "", "", api_name="/ask")[2]["data"]  # the slider default
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1000})
            page.goto(server)
            # explore: the --dataset folder is loaded when the page opens
            n = sum(pq.read_metadata(f).num_rows for f in (dataset / "data").glob("*.parquet"))
            expect(page.locator("#explore-summary")).to_contain_text(f"{n} records in", timeout=30_000)
            wait_for_3d_boxes(page.locator("#scene-3d"))
            shot = page.screenshot(full_page=True)
            check_picture(shot)
            keep(shot, "app_explore.png")

            page.get_by_role("tab", name="Ask about your own image").click()
            page.locator("#ask-upload input[type=file]").set_input_files(str(photo))
            page.locator("#ask-button").click()
            table = page.locator("#ask-table")
            expect(table).to_contain_text(want[0][4], timeout=60_000)  # the first question
            expect(page.locator("#ask-status")).to_contain_text(f"{len(want)} questions")
            # the table may still be rendering its rows on a loaded machine: wait for the last one
            expect(table).to_contain_text(want[-1][4], timeout=30_000)
            text = table.inner_text()
            assert all(row[5] in text for row in want)  # every generated answer is on the page
            shot = page.screenshot(full_page=True)
            check_picture(shot)
            keep(shot, "app_ask.png")

            page.get_by_role("tab", name="Compare evaluation runs").click()
            page.locator("#compare-button").click()
            expect(page.locator("#compare-metrics")).to_contain_text("per task", timeout=30_000)
            shot = page.screenshot(full_page=True)
            check_picture(shot)
            keep(shot, "app_compare.png")
        finally:
            browser.close()
