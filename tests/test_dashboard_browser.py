"""The workshop dashboard in a real browser: `linkage dashboard` on a free loopback port, driven
by Playwright with Debian's chromium (never a downloaded browser).

Saves screenshots under `results/` (dashboard-browser-*.png).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
    ),
]

sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"linkage dashboard exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"no answer from {url} in {timeout:.0f} s")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`linkage dashboard` in a subprocess on a free loopback port; stopped in teardown."""
    from experiments.dashboard.assets import missing_packages

    port = _free_port()
    log = tmp_path_factory.mktemp("dashboard") / "server.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "experiments.cli",
                "dashboard",
                "--port",
                str(port),
                "--lang",
                "zh",
            ],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        _wait_http(f"http://127.0.0.1:{port}/", proc, timeout=120)
        if missing_packages():
            pytest.skip(
                f"Solara's browser files are not available offline ({', '.join(missing_packages())}); see {log}"
            )
        yield f"http://127.0.0.1:{port}/"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        yield b
        b.close()


def _status(page) -> str:
    return page.locator(".run-status").inner_text()


def _step(page, week: int) -> None:
    """Press step and wait until the page shows the new week."""
    page.locator(".btn-step").click()
    page.locator(".run-status", has_text=re.compile(rf"第 {week} / \d+ 周")).wait_for(
        timeout=30_000
    )


def _image_ok(page, name: str) -> bool:
    img = page.locator(f"img.fig-{name}, .fig-{name} img").first
    img.wait_for(timeout=30_000)
    return bool(
        img.evaluate("el => el.complete && el.naturalWidth > 100 && el.naturalHeight > 100")
    )


def test_dashboard_in_a_browser(server, browser):
    RESULTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server)
    page.locator(".btn-step").wait_for(timeout=60_000)
    page.wait_for_function("document.title.includes('四社联动')", timeout=30_000)

    # Choose a mode: the model is rebuilt at week 0 with that mode's levers.
    page.locator(".select-mode").click()
    page.get_by_role("option", name="社工+志愿者").click()
    page.locator(".select-mode", has_text="社工+志愿者").wait_for(timeout=30_000)
    page.locator(".run-status", has_text=re.compile(r"第 0 / \d+ 周")).wait_for(timeout=30_000)
    before = page.locator(".monitor-need_satisfaction .value").inner_text()
    assert before == "–"

    for week in range(1, 4):
        _step(page, week)
    sat = page.locator(".monitor-need_satisfaction .value").inner_text()
    vols = page.locator(".monitor-active_volunteers .value").inner_text()
    assert re.fullmatch(r"\d+\.\d%", sat), sat
    assert vols != "–" and int(vols.replace(",", "")) > 0
    for name in ("needs", "groups", "spending", "volunteers"):
        assert _image_ok(page, name), name
    page.screenshot(path=str(RESULTS / "dashboard-browser-plots.png"), full_page=True)

    # The linkage network.
    page.locator(".tab-tab_network").click()
    assert _image_ok(page, "network")
    page.screenshot(path=str(RESULTS / "dashboard-browser-network.png"), full_page=True)

    # Side by side with the siloed baseline, same seed, stepped together.
    page.locator(".tab-tab_compare").click()
    page.locator(".select-compare").click()
    page.get_by_role("option", name="各行其是").click()
    assert _image_ok(page, "compare")
    _step(page, 4)
    page.locator(".monitor-need_satisfaction .other", has_text="各行其是").wait_for(timeout=30_000)
    page.screenshot(path=str(RESULTS / "dashboard-browser-compare.png"), full_page=True)
    assert not errors, errors
