"""Chinese in the figures: the font finder rejects fallback fonts, finds a CJK font installed after
matplotlib built its font cache, and the chosen settings draw different characters (and digits)
differently; two dashboard sessions both draw Chinese.

The tests that need a CJK font skip where none is installed (`.ci/run` installs
fonts-wqy-microhei); `tests/test_report.py` checks the exit-2 message with no font at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from experiments.interfaces.report import fonts

ROOT = Path(__file__).resolve().parents[1]
LAST_RESORT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "LastResortHE-Regular.ttf"

needs_cjk = pytest.mark.skipif(
    not fonts.system_cjk_files() and not fonts.mplfonts_files(),
    reason="no CJK font installed (apt-get install fonts-wqy-microhei)",
)


def render(text: str, rc: dict) -> np.ndarray:
    """`text` drawn alone, large, with the rc settings in force; grey levels."""
    with fonts.figure_fonts(rc):
        fig = Figure(figsize=(1.2, 1.2), dpi=100)
        fig.text(0.5, 0.5, text, ha="center", va="center", fontsize=48)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        return np.asarray(canvas.buffer_rgba())[..., :3].mean(axis=2)


def differ(a: np.ndarray, b: np.ndarray) -> float:
    """Share of pixels that differ clearly between two renderings."""
    return float((np.abs(a - b) > 64).mean())


def test_last_resort_is_rejected_by_its_pixels():
    assert LAST_RESORT.exists()
    # It maps every probe character (a coverage probe alone would accept it) ...
    from matplotlib.ft2font import FT2Font

    font = FT2Font(str(LAST_RESORT))
    assert all(font.get_char_index(ord(c)) for c in fonts.PROBE)
    # ... but draws different characters the same: rejected even under another name.
    assert fonts.glyph_bitmap(font, "社") == fonts.glyph_bitmap(font, "区")
    assert not fonts.draws_chinese(str(LAST_RESORT), 0, name="Some Font")
    assert not fonts.draws_chinese(str(LAST_RESORT), 0, name="Last Resort High-Efficiency")


@needs_cjk
def test_the_chosen_settings_draw_different_characters_and_digits_differently():
    rc = fonts.font_rc("zh")
    assert rc["font.sans-serif"][0] == fonts.find_cjk_font()
    she, qu, one, two = (render(c, rc) for c in ("社", "区", "1", "2"))
    for img in (she, qu, one, two):
        assert (img < 128).mean() > 0.01  # something is drawn
    assert differ(she, qu) > 0.02
    assert differ(one, two) > 0.02
    # The same comparison catches boxes: Last Resort draws both characters alike.
    boxes = {"font.family": "sans-serif", "font.sans-serif": ["Last Resort High-Efficiency"]}
    assert differ(render("社", boxes), render("区", boxes)) < 0.005


@needs_cjk
def test_english_figures_draw_the_chinese_words_in_their_labels():
    """English labels carry Chinese terms ("Matching charitable giving (配捐)"): DejaVu Sans
    comes first, and the CJK font must draw what it lacks. With the generic "sans-serif" family
    matplotlib drew the whole string in DejaVu Sans, so 配 and 捐 came out as the same box."""
    import warnings

    rc = fonts.font_rc("en")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" fails the test
        pei, juan = render("配", rc), render("捐", rc)
    assert (pei < 128).mean() > 0.01 and differ(pei, juan) > 0.02


@needs_cjk
def test_a_font_cache_built_before_the_font_was_installed(tmp_path):
    """matplotlib's font cache (fontlist-*.json) written while the CJK font was not there, as
    after `make` then `apt-get install fonts-wqy-microhei`: the finder still registers and
    uses the font."""
    env = {**os.environ, "MPLCONFIGDIR": str(tmp_path), "MPLBACKEND": "Agg"}
    build_stale_cache = textwrap.dedent(
        """
        import os
        import matplotlib as mpl
        import matplotlib.font_manager as fm
        from experiments.interfaces.report import fonts
        cjk = set(fonts.system_cjk_files())
        fm.fontManager.ttflist = [f for f in fm.fontManager.ttflist if f.fname not in cjk]
        cache = os.path.join(mpl.get_cachedir(), f"fontlist-v{fm.FontManager.__version__}.json")
        fm.json_dump(fm.fontManager, cache)
        print(len(cjk))
        """
    )
    use_it = textwrap.dedent(
        """
        import json
        import matplotlib.font_manager as fm
        from experiments.interfaces.report import fonts
        cjk = set(fonts.system_cjk_files())
        before = [f.name for f in fm.fontManager.ttflist if f.fname in cjk]
        name = fonts.find_cjk_font()
        after = {f.name for f in fm.fontManager.ttflist if f.fname in cjk}
        print(json.dumps([len(before), name, name in after]))
        """
    )
    first = subprocess.run(
        [sys.executable, "-c", build_stale_cache], env=env, capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr
    assert int(first.stdout) >= 1
    assert list(tmp_path.glob("fontlist-*.json"))
    second = subprocess.run([sys.executable, "-c", use_it], env=env, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    n_before, name, registered = json.loads(second.stdout)
    assert n_before == 0, "the stale cache should not know the CJK font"
    assert name is not None and registered, second.stdout


@needs_cjk
def test_two_dashboard_sessions_both_draw_chinese():
    """Solara keeps matplotlib's settings per session (kernel context): the second session
    must draw the same Chinese figure as the first, without missing glyphs. Runs in a
    subprocess, since Solara's server patches (matplotlib's rcParams among them) are global."""
    pytest.importorskip("solara")
    script = textwrap.dedent(
        """
        import warnings
        import ipywidgets
        import solara
        import solara.server.app  # noqa: F401  (the server's patches, as `linkage dashboard`)
        from solara.server import kernel, kernel_context, patch

        from experiments.interfaces.dashboard import app
        from experiments.interfaces.dashboard.state import controls_for_mode

        cleanup = patch.patch_matplotlib()
        pngs, glyph_warnings = [], []
        for i in range(2):
            ctx = kernel_context.VirtualKernelContext(
                id=f"s{i}", session_id=f"s{i}", kernel=kernel.Kernel()
            )
            with ctx, warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                controls = controls_for_mode("full_linkage", n_residents=3000, n_communities=4)
                st = app.DashboardState("zh", controls)
                st.tab.value = 0
                box, rc = solara.render(app.Dashboard(st), handle_error=False)
                (img,) = [w for w in rc.find(ipywidgets.Image).widgets
                          if "fig-needs" in w._dom_classes]
                pngs.append(img.value)
                rc.close()
            glyph_warnings += [str(w.message) for w in caught if "Glyph" in str(w.message)]
        cleanup()
        print(len(pngs[0]) > 1000, pngs[0] == pngs[1], len(glyph_warnings))
        """
    )
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == ["True", "True", "0"], proc.stdout + proc.stderr[-2000:]
