"""The workshop dashboard in a real browser: `linkage dashboard` on a free loopback port, driven
by Playwright with Debian's chromium (never a downloaded browser).

Chinese must really be drawn, not as boxes: in the page's own text (the screenshot's pixels of
two different characters and of two different digits must differ) and in the figures (the
title strip of a figure the server sent must match the title drawn here with the CJK font, and
not the same title drawn in boxes), in two browser sessions. Screenshots go to pytest's
temporary folder (`--basetemp` to keep them somewhere), never into `results/`.
"""

from __future__ import annotations

import base64
import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]

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


def _synthetic(params, seed):
    """A stand-in for the model (for the attribution the side-by-side tab shows)."""
    import types

    on = [getattr(params.policies, n).enabled for n in ("codelivery", "surveys", "time_bank")]
    y = 0.5 + 0.08 * on[0] + 0.05 * on[1] + 0.02 * on[2]
    return types.SimpleNamespace(
        summary={"need_satisfaction_rate": y}, timeseries=None, invariant_violations=[]
    )


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """A results folder with an attribution of siloed -> social workers + volunteers."""
    from experiments.analyses.attribution import run_attribution

    root = tmp_path_factory.mktemp("results")
    modes = ROOT / "scenarios" / "modes"
    run_attribution(
        modes / "siloed.yaml", modes / "sw_volunteer.yaml", root / "attr",
        metrics=["need_satisfaction_rate"], replications=2, exact_max=0, permutations=2,
        interaction_levers=0, model_fn=_synthetic, workers=1, progress=False,
    )  # fmt: skip
    return root


@pytest.fixture(scope="module")
def server(tmp_path_factory, results):
    """`linkage dashboard` in a subprocess on a free loopback port; stopped in teardown."""
    from experiments.interfaces.dashboard.assets import missing_packages

    port = _free_port()
    log = tmp_path_factory.mktemp("dashboard") / "server.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "experiments.interfaces.cli",
                "dashboard",
                "--port",
                str(port),
                "--lang",
                "zh",
                "--results",
                str(results),
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


# ---------------------------------------------------------------------- pixels
def _grey(png: bytes) -> np.ndarray:
    """A PNG as grey levels 0-255 over white (transparent pixels count as white)."""
    from matplotlib.image import imread

    rgba = imread(io.BytesIO(png), format="png")
    if rgba.shape[2] == 3:
        rgb = rgba
    else:
        alpha = rgba[..., 3:4]
        rgb = rgba[..., :3] * alpha + (1.0 - alpha)
    return rgb.mean(axis=2) * 255.0


_CHAR_RECTS = """([sel, chars]) => {
    const el = document.querySelector(sel);
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    const out = {};
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const ch of chars) {
            const i = node.data.indexOf(ch);
            if (i >= 0 && !(ch in out)) {
                const r = document.createRange();
                r.setStart(node, i);
                r.setEnd(node, i + 1);
                const b = r.getBoundingClientRect();
                out[ch] = [b.left, b.top, b.width, b.height];
            }
        }
    }
    return out;
}"""


def _glyphs(page, shot: np.ndarray, selector: str, chars: str) -> list[np.ndarray]:
    """The screenshot's pixels of each of `chars` in the element's text (same-size crops)."""
    rects = page.evaluate(_CHAR_RECTS, [selector, chars])
    assert set(rects) == set(chars), (selector, rects)
    w = int(min(r[2] for r in rects.values()))
    h = int(min(r[3] for r in rects.values()))
    assert w >= 5 and h >= 8, rects
    return [
        shot[int(rects[c][1]) : int(rects[c][1]) + h, int(rects[c][0]) : int(rects[c][0]) + w]
        for c in chars
    ]


def _differ(a: np.ndarray, b: np.ndarray) -> float:
    """Share of pixels that differ clearly."""
    return float((np.abs(a - b) > 64).mean())


def _check_page_text_is_drawn(page, path: Path) -> None:
    """Two different characters, and two different digits, of the page differ in pixels."""
    png = page.screenshot(path=str(path))
    shot = _grey(png)
    si, she = _glyphs(page, shot, ".page-title", "四社")
    assert (si < 128).mean() > 0.02 and (she < 128).mean() > 0.02, "no ink where the title is"
    assert _differ(si, she) > 0.05, "two different characters look alike (boxes?)"
    status = page.locator(".run-status").inner_text()
    digits = [d for d in dict.fromkeys(re.sub(r"\D", "", status))][:2]
    assert len(digits) == 2, status
    one, two = _glyphs(page, shot, ".run-status", "".join(digits))
    assert _differ(one, two) > 0.05, f"digits {digits} look alike"


def _figure_png(page, name: str) -> bytes:
    """The PNG the server sent for a figure, as the page holds it."""
    data = page.locator(f"img.fig-{name}, .fig-{name} img").first.evaluate(
        """async el => {
            const buf = await (await fetch(el.src)).arrayBuffer();
            let s = ''; for (const b of new Uint8Array(buf)) s += String.fromCharCode(b);
            return btoa(s);
        }"""
    )
    return base64.b64decode(data)


def _title_strip(png: bytes) -> np.ndarray:
    """The strip above the axes of a dashboard plot (`plots._axes`: top=0.9): its title only."""
    g = _grey(png)
    return g[: int(g.shape[0] * 0.1)]


def _check_figure_title_is_chinese(page) -> None:
    """The served 'needs' figure's title is drawn as this process draws it with the CJK font,
    and not as it would be drawn in boxes."""
    from experiments.interfaces.dashboard import plots
    from experiments.interfaces.dashboard.i18n import figure_rc, t
    from experiments.interfaces.dashboard.widgets import png_bytes
    from experiments.interfaces.report.fonts import figure_fonts

    def reference(rc: dict) -> np.ndarray:
        with figure_fonts(rc):
            fig, _ = plots._axes(t("plot_needs", "zh"))
            return _title_strip(png_bytes(fig))

    served = _title_strip(_figure_png(page, "needs"))
    cjk = reference(figure_rc("zh"))
    boxes = reference(
        {"font.family": "sans-serif", "font.sans-serif": ["Last Resort High-Efficiency"]}
    )
    assert served.shape == cjk.shape
    assert _differ(cjk, boxes) > 0.01  # the check can tell the two apart
    assert _differ(served, cjk) < 0.2 * _differ(served, boxes), "the figure's title is not Chinese"


# ---------------------------------------------------------------------- the test
def test_dashboard_in_a_browser(server, browser, tmp_path):
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
    _check_page_text_is_drawn(page, tmp_path / "dashboard-browser-plots.png")
    _check_figure_title_is_chinese(page)

    # The linkage network: the societies and the flows between them.
    page.locator(".tab-tab_network").click()
    assert _image_ok(page, "network")
    page.locator(".link-counts", has_text="社工+志愿者协作").wait_for(timeout=30_000)
    page.screenshot(path=str(tmp_path / "dashboard-browser-network.png"), full_page=True)

    # Side by side with the siloed baseline, same seed, stepped together.
    page.locator(".tab-tab_compare").click()
    page.locator(".select-compare").click()
    page.get_by_role("option", name="各行其是").click()
    assert _image_ok(page, "compare")
    _step(page, 4)
    page.locator(".monitor-need_satisfaction .other", has_text="各行其是").wait_for(timeout=30_000)
    # the attribution of the difference between the two modes shown (precomputed, found in
    # the results folder the server was given)
    assert _image_ok(page, "attribution")
    page.locator(".attr-size", has_text="次配对重复").wait_for(timeout=30_000)
    page.screenshot(path=str(tmp_path / "dashboard-browser-compare.png"), full_page=True)
    assert not errors, errors

    # A second participant (a new browser session): Chinese in its figures too.
    other = browser.new_context(viewport={"width": 1500, "height": 1000}).new_page()
    other.goto(server)
    other.locator(".btn-step").wait_for(timeout=60_000)
    _step(other, 1)
    assert _image_ok(other, "needs")
    _check_page_text_is_drawn(other, tmp_path / "dashboard-browser-second-session.png")
    _check_figure_title_is_chinese(other)
