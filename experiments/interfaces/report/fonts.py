"""Fonts for the figures: a CJK font for Chinese labels that really draws them.

The finder cannot be fooled by fallback fonts. matplotlib 3.10+ bundles "Last Resort
High-Efficiency", which maps every character to a placeholder box: a font passes here only when
it maps every character of `PROBE` *and draws them all differently* (the pixels of each glyph,
rendered with FreeType, are compared); the digits it maps must differ too. Last Resort is also
rejected by name.

Before the first search, the CJK fonts of the system (`fc-list :lang=zh`, and the folders where
Debian, Ubuntu and Fedora put them) are registered with matplotlib, so a font cache that
matplotlib built before the font was installed does not matter; so are the fonts of the optional
`mplfonts` package. Debian's `fonts-wqy-microhei` ("WenQuanYi Micro Hei") is preferred.

Fonts are set per figure, never per process: `font_rc(lang)` returns rc settings for
`matplotlib.rc_context` around building *and* saving a figure (Solara keeps matplotlib's settings
per browser session, so a process-wide setting reaches only the first session). Without a font
that draws Chinese, `font_rc("zh")` raises `FontError`, which says how to install one (the CLI
prints it as one line and exits 2).
"""

from __future__ import annotations

import contextlib
import functools
import glob
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from experiments.engine.errors import InputError

PREFERRED = (
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Sarasa Gothic SC",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
    "Droid Sans Fallback",
    "AR PL UMing CN",
)
"""CJK fonts to try first, best first."""

PROBE = "需求满足率社区志愿者时间银行整笔拨款老年人残疾外来务工低收入家庭与基线差值"
"""Characters a Chinese report must be able to draw, each differently."""

DIGITS = "0123456789"
"""Digits: a font that maps them must draw them differently too."""

REJECTED_NAMES = ("Last Resort",)
"""Fallback fonts that claim every character and draw boxes (rejected by name as well)."""

SYSTEM_CJK_FILES = (
    "/usr/share/fonts/**/wqy-*.tt[cf]",
    "/usr/share/fonts/**/NotoSansCJK*.tt[cf]",
    "/usr/share/fonts/**/NotoSerifCJK*.tt[cf]",
    "/usr/share/fonts/**/NotoSansSC*.[ot]tf",
    "/usr/share/fonts/**/DroidSansFallback*.ttf",
    "/usr/share/fonts/**/uming.tt[cf]",
    "/usr/share/fonts/**/ukai.tt[cf]",
    "/usr/share/fonts/**/google-noto-cjk/*.tt[cf]",
)
"""Where Debian, Ubuntu and Fedora put CJK fonts (patterns for `glob`)."""

INSTALL_HINT = (
    "install one with 'apt-get install fonts-wqy-microhei' (Debian/Ubuntu) or "
    "'pip install mplfonts'"
)


class FontError(InputError):
    """No font can draw the Chinese labels."""


# ---------------------------------------------------------------------- sources of fonts
def system_cjk_files() -> list[str]:
    """Font files of the system that cover Chinese: fontconfig's list plus the known folders."""
    found: set[str] = set()
    fc_list = shutil.which("fc-list")
    if fc_list:
        try:
            out = subprocess.run(
                [fc_list, ":lang=zh", "file"], capture_output=True, text=True, timeout=20
            ).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        for line in out.splitlines():
            path = line.strip().rstrip(":").strip()
            if path.lower().endswith((".ttf", ".otf", ".ttc")):
                found.add(path)
    for pattern in SYSTEM_CJK_FILES:
        found.update(glob.glob(pattern, recursive=True))
    return sorted(found)


def mplfonts_files() -> list[str]:
    """Font files bundled with the optional `mplfonts` package (none when it is missing)."""
    try:
        import mplfonts  # type: ignore[import-not-found]
    except ImportError:
        return []
    root = Path(mplfonts.__file__).parent
    return [str(p) for p in sorted(root.rglob("*")) if p.suffix.lower() in (".ttf", ".otf", ".ttc")]


def register(paths: Iterable[str]) -> int:
    """Add font files to matplotlib's font manager (those it does not know yet); how many."""
    from matplotlib import font_manager

    known = {f.fname for f in font_manager.fontManager.ttflist}
    added = 0
    for path in paths:
        if path in known or not Path(path).is_file():
            continue
        try:
            font_manager.fontManager.addfont(path)
        except (OSError, RuntimeError, ValueError):
            continue
        known.add(path)
        added += 1
    return added


def installed_fonts() -> list[tuple[str, str, int]]:
    """(family name, file, face index) of the fonts matplotlib knows: the preferred families
    first, in order, then every other."""
    from matplotlib import font_manager

    fonts = {
        (f.name, f.fname, int(getattr(f, "index", 0) or 0))
        for f in font_manager.fontManager.ttflist
    }
    rank = {name: i for i, name in enumerate(PREFERRED)}
    return sorted(fonts, key=lambda f: (rank.get(f[0], len(rank)), f[0], f[1], f[2]))


# ---------------------------------------------------------------------- the checks
def _open(path: str, index: int = 0):
    from matplotlib.ft2font import FT2Font

    return FT2Font(path, face_index=index) if index else FT2Font(path)


def glyph_bitmap(font: Any, char: str) -> bytes:
    """The glyph of `char` rendered by FreeType at 32 px, as bytes (with its size)."""
    import numpy as np

    font.set_size(32, 72)
    font.set_text(char, 0.0)
    font.draw_glyphs_to_bitmap()
    img = np.asarray(font.get_image())
    if not img.any():
        return b""
    rows = np.flatnonzero(img.any(axis=1))
    cols = np.flatnonzero(img.any(axis=0))
    crop = img[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return f"{crop.shape}".encode() + crop.tobytes()


def draws_chinese(path: str, index: int = 0, name: str = "") -> bool:
    """Whether the font draws every character of `PROBE`, each differently (and its digits).

    A fallback font that maps every character to the same box fails: two different
    characters give the same pixels.
    """
    if any(bad.lower() in name.lower() for bad in REJECTED_NAMES):
        return False
    try:
        font = _open(path, index)
        if not all(font.get_char_index(ord(c)) for c in PROBE):
            return False
        seen: set[bytes] = set()
        for c in PROBE:
            bitmap = glyph_bitmap(font, c)
            if not bitmap or bitmap in seen:
                return False
            seen.add(bitmap)
        digits = [c for c in DIGITS if font.get_char_index(ord(c))]
        shapes = {glyph_bitmap(font, c) for c in digits}
        return len(shapes) == len(digits) and b"" not in shapes
    except (OSError, RuntimeError, ValueError, TypeError):
        return False


# ---------------------------------------------------------------------- the finder
@functools.lru_cache(maxsize=1)
def find_cjk_font() -> str | None:
    """The family name of a font that draws Chinese, or None.

    Registers the system's CJK fonts and those of `mplfonts` first, then tries the preferred
    families in order and any other font after them; the first that `draws_chinese` wins. The
    name is checked to resolve (through matplotlib's own lookup) to a file that passes too.
    """
    from matplotlib import font_manager

    register([*system_cjk_files(), *mplfonts_files()])
    tried: dict[tuple[str, int], bool] = {}

    def ok(path: str, index: int, name: str) -> bool:
        if (path, index) not in tried:
            tried[(path, index)] = draws_chinese(path, index, name)
        return tried[(path, index)]

    for name, path, index in installed_fonts():
        if not ok(path, index, name):
            continue
        try:
            resolved = font_manager.findfont(
                font_manager.FontProperties(family=name), fallback_to_default=False
            )
        except ValueError:
            continue
        if resolved == path or ok(resolved, 0, name):
            return name
    return None


def font_rc(lang: str) -> dict[str, Any]:
    """matplotlib rc settings for figures in `lang` (for `matplotlib.rc_context`).

    Use them around building and saving each figure; never set them for the whole process.

    Args:
        lang: "en" or "zh".

    Returns:
        rcParams: the CJK font first for Chinese (then DejaVu Sans for what it lacks); DejaVu
        Sans first for English, with the CJK font (if any) for Chinese names in it.

    Raises:
        FontError: `lang` is "zh" and no installed font draws Chinese.
    """
    cjk = find_cjk_font()
    if lang == "zh" and cjk is None:
        raise FontError(
            "--lang zh: no font that draws Chinese was found for matplotlib (fallback fonts "
            f"such as Last Resort draw boxes); {INSTALL_HINT}"
        )
    family = [cjk, "DejaVu Sans"] if lang == "zh" else ["DejaVu Sans", *([cjk] if cjk else [])]
    # The families themselves, not the generic "sans-serif": matplotlib falls back glyph by
    # glyph only along an explicit `font.family` list (with "sans-serif" it takes the first
    # font of `font.sans-serif` for the whole string, and an English label such as
    # "Matching charitable giving (配捐)" drew boxes).
    return {
        "font.family": family,
        "font.sans-serif": family,
        "axes.unicode_minus": lang != "zh",
    }


@contextlib.contextmanager
def figure_fonts(rc: dict[str, Any]) -> Iterator[None]:
    """Use rc settings (`font_rc`) while a figure is built and saved, then put the old back.

    Like `matplotlib.rc_context`, but every value is set and restored through `rcParams[key]`,
    so it also restores under Solara, whose per-session rcParams a raw dict update bypasses.
    """
    import matplotlib

    params = matplotlib.rcParams
    old = {k: params[k] for k in rc}
    try:
        for k, v in rc.items():
            params[k] = v
        yield
    finally:
        for k, v in old.items():
            params[k] = v
