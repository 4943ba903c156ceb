"""Write the example district and the table templates of `scenarios/districts/`.

The example is data (committed); this script is how it was made, and `tests/test_district.py`
checks that the committed files are what it writes. Run it from the repository root only when
the example is meant to change: `python -m tests.make_district_example`.

How the example's 20 streets were made (deterministic; docs/district.md, "The example district"):

- Five kinds of street, each a set of group shares anchored on published averages
  (docs/sources.md, "Resident groups"): 60+ 18.70%, 0-14 17.95%, migrants 26.6% (national,
  2020 census), 60+ 21.97% (Nanjing, 2023), migrants 50.2% (Guangzhou, 2020 census),
  disability 6.34% (2006 survey), urban 低保 about 1.5% (2018). The multipliers that make an old
  inner-city street older, or a migrant suburb younger, than those averages are assumptions
  (`KINDS`), chosen to give the spread real districts show, not measured for any district.
- Each community's shares are its kind's shares times a log-normal factor (sd 0.12), its size
  its street's mean community size times a log-normal factor (cv about 0.3), and its
  organizations, social workers and volunteers its kind's rates times a log-normal factor
  (sd 0.25) rounded with a uniform draw; all from one numpy generator seeded with `SEED`.
- Two streets differ from their kind on purpose: one old inner-city street is a model street
  with strong organizations (5 community social organizations per community, 15 social workers
  per 10,000 residents), one typical street has none (no organizations, no social workers).
"""

from __future__ import annotations

import csv
import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "scenarios" / "districts"
SEED = 20240722

NATIONAL = {
    "elderly": 0.1870,  # 60+, 2020 census
    "minor": 0.1795,  # 0-14, 2020 census
    "migrant": 0.266,  # 流动人口, 2020 census (375.8 million of 1,412 million)
    "disabled": 0.0634,  # 2006 sample survey of disability
    "low_income": 0.015,  # urban 低保, 2018 (12.24 million of about 831 million urban residents)
}
NANJING_ELDERLY = 0.2197  # 60+, Nanjing, end-2023
GUANGZHOU_MIGRANT = 0.502  # 流动人口, Guangzhou, 2020 census


@dataclass(frozen=True)
class Kind:
    """A kind of street: group shares, what its communities have, its size (assumptions)."""

    en: str
    zh: str
    shares: dict[str, float]
    orgs_per_community: float
    sw_per_10k: float
    volunteer_share: float
    venue_hours: float
    residents: int
    communities: int
    urban: bool = True


KINDS = {
    "old": Kind(
        "old inner city",
        "老城区",
        {
            "elderly": NANJING_ELDERLY * 1.3,
            "minor": NATIONAL["minor"] * 0.6,
            "migrant": NATIONAL["migrant"] * 0.4,
            "disabled": NATIONAL["disabled"] * 1.3,
            "low_income": NATIONAL["low_income"] * 2.0,
        },
        orgs_per_community=2.5,
        sw_per_10k=8.0,
        volunteer_share=0.15,
        venue_hours=40,
        residents=45_000,
        communities=12,
    ),
    "migrant": Kind(
        "migrant workers' suburb",
        "外来务工聚居区",
        {
            "elderly": NATIONAL["elderly"] * 0.4,
            "minor": NATIONAL["minor"] * 0.8,
            "migrant": GUANGZHOU_MIGRANT,
            "disabled": NATIONAL["disabled"] * 0.6,
            "low_income": NATIONAL["low_income"] * 0.5,
        },
        orgs_per_community=0.3,
        sw_per_10k=2.0,
        volunteer_share=0.04,
        venue_hours=30,
        residents=65_000,
        communities=9,
    ),
    "new": Kind(
        "new housing estates",
        "新建商品房片区",
        {
            "elderly": NATIONAL["elderly"] * 0.6,
            "minor": NATIONAL["minor"] * 1.25,
            "migrant": NATIONAL["migrant"] * 0.7,
            "disabled": NATIONAL["disabled"] * 0.7,
            "low_income": NATIONAL["low_income"] * 0.3,
        },
        orgs_per_community=1.0,
        sw_per_10k=6.6,
        volunteer_share=0.10,
        venue_hours=80,
        residents=55_000,
        communities=11,
    ),
    "typical": Kind(
        "typical mixed street",
        "混合型街道",
        dict(NATIONAL),
        orgs_per_community=1.0,
        sw_per_10k=6.6,
        volunteer_share=0.12,
        venue_hours=60,
        residents=50_000,
        communities=11,
    ),
    "rural": Kind(
        "peri-urban street with villages",
        "涉农街道",
        {
            "elderly": NATIONAL["elderly"] * 1.3,
            "minor": NATIONAL["minor"] * 1.1,
            "migrant": NATIONAL["migrant"] * 0.2,
            "disabled": NATIONAL["disabled"] * 1.2,
            "low_income": NATIONAL["low_income"] * 3.0,
        },
        orgs_per_community=0.5,
        sw_per_10k=1.0,
        volunteer_share=0.05,
        venue_hours=20,
        residents=30_000,
        communities=12,
        urban=False,
    ),
}

STREETS = (
    ("钟楼街道", "钟楼", "old", "model"),  # the model street: strong organizations
    ("鼓楼街道", "鼓楼", "old", ""),
    ("文庙街道", "文庙", "old", ""),
    ("府前街道", "府前", "old", ""),
    ("工业园街道", "工业园", "migrant", ""),
    ("新桥街道", "新桥", "migrant", ""),
    ("城东街道", "城东", "migrant", ""),
    ("物流园街道", "物流园", "migrant", ""),
    ("湖滨新城街道", "湖滨", "new", ""),
    ("科创街道", "科创", "new", ""),
    ("南湖街道", "南湖", "new", ""),
    ("翠苑街道", "翠苑", "new", ""),
    ("中山街道", "中山", "typical", ""),
    ("人民街道", "人民", "typical", ""),
    ("建设街道", "建设", "typical", "none"),  # no organizations, no social workers
    ("和平街道", "和平", "typical", ""),
    ("解放街道", "解放", "typical", ""),
    ("新华街道", "新华", "typical", ""),
    ("东山街道", "东山", "rural", ""),
    ("西河街道", "西河", "rural", ""),
)
"""(street, prefix of its communities' names, kind, special) of the example, in table order."""

NUMERALS = "一二三四五六七八九十"

HEADER_EN = (
    "street",
    "community",
    "residents",
    "elderly_share",
    "minor_share",
    "migrant_share",
    "disabled_share",
    "low_income_share",
    "social_organizations",
    "social_workers",
    "registered_volunteers",
    "venue_hours",
    "urban",
)
HEADER_ZH = (
    "街道",
    "社区",
    "常住人口",
    "老年人占比",
    "未成年人占比",
    "外来务工人员占比",
    "残疾人占比",
    "低收入人口占比",
    "社区社会组织数",
    "社会工作者数",
    "注册志愿者数",
    "活动场地小时数",
    "城乡",
)
NOTES = (
    ("street", "街道", "The street (街道) the community belongs to.", "社区所属街道。"),
    ("community", "社区", "The community's name, unique within its street.", "社区名称,同一街道内不重复。"),
    ("residents", "常住人口", "Residents (a whole number).", "常住人口(整数)。"),
    ("elderly_share", "老年人占比", "Share aged 60+: 0.187 or 18.7%.", "60岁及以上人口占比:0.187 或 18.7%。"),
    ("minor_share", "未成年人占比", "Share of minors (under 18).", "未成年人占比。"),
    ("migrant_share", "外来务工人员占比", "Share of migrant workers (流动人口).", "外来务工人员(流动人口)占比。"),
    ("disabled_share", "残疾人占比", "Share of persons with disabilities.", "残疾人占比。"),
    ("low_income_share", "低收入人口占比", "Share of low-income residents (低保/低收入).", "低保及低收入人口占比。"),
    ("social_organizations", "社区社会组织数", "Community social organizations active now.", "现有社区社会组织数。"),
    ("social_workers", "社会工作者数", "Certified social workers living or working here.", "在本社区居住或工作的持证社会工作者数。"),
    ("registered_volunteers", "注册志愿者数", "Registered volunteers among the residents.", "居民中的注册志愿者数。"),
    ("venue_hours", "活动场地小时数", "Activity-room hours per week.", "每周可用的活动场地(服务用房)小时数。"),
    ("urban", "城乡", "urban or rural (optional; default urban).", "城市 或 农村(可不填,默认城市)。"),
)  # fmt: skip
"""Every column with its meaning, for the templates' notes sheet."""


def community_names(prefix: str, kind: str, n: int) -> list[str]:
    """Names of a street's communities: 钟楼一社区, ... (villages: 东山一村, ...)."""
    out = []
    for i in range(1, n + 1):
        num = NUMERALS[i - 1] if i <= 10 else "十" + NUMERALS[i - 11]
        out.append(f"{prefix}{num}{'村' if kind == 'rural' and i > 2 else '社区'}")
    return out


def example_rows() -> list[list[object]]:
    """The example district's rows (the table without its header)."""
    rng = np.random.default_rng(SEED)
    rows: list[list[object]] = []
    for street, prefix, kind_key, special in STREETS:
        k = KINDS[kind_key]
        n = k.communities
        w = rng.lognormal(0.0, 0.29, n)
        sizes = np.round(w / w.sum() * k.residents).astype(int)
        for name, size in zip(community_names(prefix, kind_key, n), sizes, strict=True):
            shares = {g: min(0.95, s * rng.lognormal(0.0, 0.12)) for g, s in k.shares.items()}
            total = sum(shares.values())
            if total > 0.98:  # keep some 'general' residents
                shares = {g: s * 0.98 / total for g, s in shares.items()}
            orgs, sw = k.orgs_per_community, k.sw_per_10k
            if special == "model":
                orgs, sw = 5.0, 15.0
            elif special == "none":
                orgs, sw = 0.0, 0.0
            n_orgs = int(np.floor(orgs * rng.lognormal(0.0, 0.25) + rng.random()))
            n_sw = int(np.floor(sw * size / 10_000 * rng.lognormal(0.0, 0.25) + rng.random()))
            vols = int(round(k.volunteer_share * size * rng.lognormal(0.0, 0.25)))
            venue = float(round(k.venue_hours * rng.lognormal(0.0, 0.25)))
            urban = k.urban or name.endswith("社区")
            rows.append(
                [
                    street,
                    name,
                    int(size),
                    *(round(shares[g], 4) for g in NATIONAL),
                    n_orgs,
                    n_sw,
                    min(vols, int(size)),
                    venue,
                    "urban" if urban else "rural",
                ]
            )
    return rows


TEMPLATE_ROWS = (
    ["东湖街道", "东风社区", 5200, 0.26, 0.11, 0.10, 0.07, 0.02, 3, 2, 700, 40, "urban"],
    ["东湖街道", "新村社区", 6400, "18.7%", "17.95%", "26.6%", "6.34%", "1.5%", 1, 4, 760, 60, "urban"],
    ["西山街道", "山下村", 2100, 0.24, 0.15, 0.05, 0.07, 0.05, 0, 0, 90, 20, "rural"],
)  # fmt: skip
"""Three rows of two streets: what the templates hold (fractions and percentages both)."""


def csv_text(header: tuple[str, ...], rows: list[list[object]] | tuple) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    zh = header is HEADER_ZH
    for r in rows:
        w.writerow([{"rural": "农村", "urban": "城市"}.get(v, v) if zh else v for v in r])
    return buf.getvalue()


def xlsx_bytes(header: tuple[str, ...], rows: list[list[object]] | tuple, zh: bool) -> bytes:
    """A workbook: the sheet 社区/communities with the header and rows, and a notes sheet."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "社区" if zh else "communities"
    ws.append(list(header))
    for r in rows:
        ws.append([{"rural": "农村", "urban": "城市"}.get(v, v) if zh else v for v in r])
    notes = wb.create_sheet("说明" if zh else "notes")
    notes.append(["列" if zh else "column", "说明" if zh else "meaning"])
    for en, zh_name, en_text, zh_text in NOTES:
        notes.append([zh_name, zh_text] if zh else [en, en_text])
    # fixed timestamps: the same file every time
    import datetime as dt

    stamp = dt.datetime(2024, 7, 22)
    wb.properties.created = wb.properties.modified = stamp
    wb.properties.creator = wb.properties.lastModifiedBy = "linkage"
    buf = io.BytesIO()
    wb.save(buf)
    return _fixed_zip(buf.getvalue())


MODIFIED = rb"<dcterms:modified\1>2024-07-22T00:00:00Z<"


def _fixed_zip(data: bytes) -> bytes:
    """The workbook's zip with fixed member times (openpyxl writes the current time)."""
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2024, 7, 22, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the time of saving
                data = re.sub(rb"<dcterms:modified([^>]*)>[^<]*<", MODIFIED, data)
            dst.writestr(fixed, data)
    return out.getvalue()


def files() -> dict[str, bytes]:
    """File name (in scenarios/districts/) -> its bytes."""
    return {
        "example.csv": csv_text(HEADER_EN, example_rows()).encode("utf-8"),
        "template_en.csv": csv_text(HEADER_EN, TEMPLATE_ROWS).encode("utf-8"),
        "template_zh.csv": csv_text(HEADER_ZH, TEMPLATE_ROWS).encode("utf-8"),
        "template_en.xlsx": xlsx_bytes(HEADER_EN, TEMPLATE_ROWS, zh=False),
        "template_zh.xlsx": xlsx_bytes(HEADER_ZH, TEMPLATE_ROWS, zh=True),
    }


def main() -> int:
    FOLDER.mkdir(parents=True, exist_ok=True)
    for name, data in files().items():
        (FOLDER / name).write_bytes(data)
        print(f"wrote {FOLDER / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
