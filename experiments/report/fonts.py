"""Fonts for the figures: a CJK font for Chinese labels, found through matplotlib.

Debian's `fonts-wqy-microhei` ("WenQuanYi Micro Hei") is preferred; any installed font that
has the Chinese glyphs the report uses will do, and so do the Noto CJK fonts that the optional
`mplfonts` package ships. Without one, a Chinese report cannot be drawn: `FontError` says how
to install one (the CLI prints it as one line and exits 2).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from experiments.cli import InputError

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
"""Characters a Chinese report must be able to draw."""


class FontError(InputError):
    """No font can draw the Chinese labels."""


def _covers(path: str, text: str = PROBE) -> bool:
    from matplotlib.ft2font import FT2Font

    try:
        font = FT2Font(path)
        return all(font.get_char_index(ord(c)) for c in text)
    except (OSError, RuntimeError, ValueError):
        return False


def _candidates() -> list[tuple[str, str]]:
    """(family name, file) of installed fonts: the preferred ones in order, then any other."""
    from matplotlib import font_manager

    fonts = {(f.name, f.fname) for f in font_manager.fontManager.ttflist}
    rank = {name: i for i, name in enumerate(PREFERRED)}
    return sorted(fonts, key=lambda nf: (rank.get(nf[0], len(rank)), nf[0], nf[1]))


def _register_mplfonts() -> bool:
    """Add the fonts bundled with the optional `mplfonts` package; True if any were added."""
    try:
        import mplfonts  # type: ignore[import-not-found]
    except ImportError:
        return False
    from matplotlib import font_manager

    root = Path(mplfonts.__file__).parent
    added = False
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() in (".ttf", ".otf", ".ttc"):
            try:
                font_manager.fontManager.addfont(str(path))
                added = True
            except (OSError, RuntimeError, ValueError):
                continue
    return added


SYSTEM_CJK_FILES = (
    "/usr/share/fonts/**/wqy-*.tt[cf]",
    "/usr/share/fonts/**/NotoSansCJK*.tt[cf]",
    "/usr/share/fonts/**/NotoSansSC*.[ot]tf",
)
"""Where Debian and Ubuntu put CJK fonts (patterns for `glob`)."""


def _register_system_fonts() -> bool:
    """Add the CJK font files of the system folders to matplotlib (a font installed after
    matplotlib built its font cache is not in it); True if any were added."""
    import glob

    from matplotlib import font_manager

    known = {f.fname for f in font_manager.fontManager.ttflist}
    added = False
    for pattern in SYSTEM_CJK_FILES:
        for path in sorted(glob.glob(pattern, recursive=True)):
            if path in known:
                continue
            try:
                font_manager.fontManager.addfont(path)
                added = True
            except (OSError, RuntimeError, ValueError):
                continue
    return added


@functools.lru_cache(maxsize=1)
def find_cjk_font() -> str | None:
    """The family name of an installed font that draws Chinese, or None.

    Preferred families first (WenQuanYi Micro Hei, Noto Sans CJK, ...); any other font is
    accepted when it has every glyph of `PROBE`. When none is found, CJK fonts installed after
    matplotlib built its font cache (`SYSTEM_CJK_FILES`) and those of the optional `mplfonts`
    package are registered, and the search runs once more.
    """
    for attempt in range(2):
        for name, path in _candidates():
            if _covers(path):
                return name
        if attempt == 0 and not (_register_system_fonts() | _register_mplfonts()):
            break
    return None


def font_rc(lang: str) -> dict[str, Any]:
    """matplotlib rc settings for figures in `lang`.

    Args:
        lang: "en" or "zh".

    Returns:
        rcParams to use in `matplotlib.rc_context`.

    Raises:
        FontError: `lang` is "zh" and no installed font draws Chinese.
    """
    cjk = find_cjk_font()
    if lang == "zh" and cjk is None:
        raise FontError(
            "--lang zh: no font with Chinese glyphs found for matplotlib; install one with "
            "'apt-get install fonts-wqy-microhei' (Debian/Ubuntu) or 'pip install mplfonts'"
        )
    family = [cjk, "DejaVu Sans"] if lang == "zh" else ["DejaVu Sans", *([cjk] if cjk else [])]
    return {
        "font.family": "sans-serif",
        "font.sans-serif": family,
        "axes.unicode_minus": lang != "zh",
    }
