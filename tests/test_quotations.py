"""Quotations of the seed are verbatim: every policy's `seed_text` and every 「…」 quotation in the
docs is a piece of the policy text, or verbatim pieces joined by 「……」 in the text's order.

The policy text ships as docs/seed.txt; where the shared original is present (the developers'
checkout), the copy must equal it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from model import POLICIES

ROOT = Path(__file__).resolve().parents[1]
COPY = ROOT / "docs" / "seed.txt"
ORIGINAL = ROOT.parent / "shared" / "seeds" / "000_bf481d7bc8d98b1c.txt"
SEED = COPY.read_text(encoding="utf-8")
ELLIPSIS = "……"


def verbatim(quote: str, text: str = SEED) -> bool:
    """Whether `quote` is verbatim pieces of `text` joined by 「……」, in the text's order."""
    pos = 0
    for piece in quote.split(ELLIPSIS):
        if not piece:
            return False
        i = text.find(piece, pos)
        if i < 0:
            return False
        pos = i + len(piece)
    return True


def test_the_copy_is_the_policy_text():
    if not ORIGINAL.is_file():
        pytest.skip("the shared original is not beside this checkout")
    assert ORIGINAL.read_text(encoding="utf-8") == SEED


@pytest.mark.parametrize("name", list(POLICIES))
def test_every_policy_quotes_the_seed_verbatim(name):
    quote = POLICIES[name].seed_text
    assert quote, f"{name} has no seed_text"
    assert verbatim(quote), f"{name}: 「{quote}」 is not verbatim in docs/seed.txt"


DOCS = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
NOT_THE_SEED = ("docs/sources.md",)  # quotes titles and figures of other documents


@pytest.mark.parametrize("doc", [d for d in DOCS if d not in NOT_THE_SEED])
def test_quotations_in_the_docs_are_verbatim(doc):
    text = (ROOT / doc).read_text(encoding="utf-8")
    bad = [q for q in re.findall(r"「([^」]+)」", text) if not verbatim(q)]
    assert not bad, f"{doc}: not verbatim in the seed: {bad}"


@pytest.mark.parametrize(
    ("quote", "ok"),
    [
        ("建立健全志愿服务时间储蓄制度", True),
        ("科学开展志愿者星级评定……建立健全志愿服务评价机制", True),
        ("建立健全志愿服务评价机制……科学开展志愿者星级评定", False),  # out of order
        ("探索建立志愿服务时间储蓄制度", False),  # a paraphrase
        ("……", False),
    ],
)
def test_the_check_itself(quote, ok):
    assert verbatim(quote) is ok
