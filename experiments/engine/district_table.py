"""A district's street and community table: read a CSV or Excel sheet, check every cell.

One row per community (社区): its street (街道), its name, residents, the shares of the resident
groups, and what it has at the start (community social organizations, certified social workers,
registered volunteers, activity-room hours), optionally urban or rural. Headers may be English
or Chinese (`COLUMNS`, with a few aliases each); columns the table does not know are ignored.

```
street,community,residents,elderly_share,minor_share,migrant_share,disabled_share,low_income_share,social_organizations,social_workers,registered_volunteers,venue_hours,urban
街道,社区,常住人口,老年人占比,未成年人占比,外来务工人员占比,残疾人占比,低收入人口占比,社区社会组织数,社会工作者数,注册志愿者数,活动场地小时数,城乡
```

Shares are fractions (0.187) or percentages written with a sign ("18.7%"); a bare number above 1
is an error, never silently read as a percentage. A CSV may be UTF-8 (with or without the BOM
Excel writes) or GB18030/GBK (what Excel on a Chinese Windows saves). An .xlsx workbook is read
from the sheet `communities` or `社区` (or the one named by `sheet`).

Every problem raises `ScenarioError(file, "row R, column C", problem)` (the command line prints
one line and exits 2). Rows are numbered as a spreadsheet shows them (the header is row 1 of a
table that starts at the top).
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments.engine.errors import ScenarioError
from experiments.engine.input_files import short_repr
from model.community_table import MAX_COMMUNITIES, TABLE_GROUPS

MAX_TABLE_BYTES = 20_000_000
"""Largest table file read (a city of 5,000 communities is well under 1 MB as CSV)."""
MAX_ROWS = 100_000
"""Most community rows of one table."""
MIN_STREET_RESIDENTS = 50
"""Fewest residents of a street (the model's bound of `street.n_residents`)."""
MAX_STREET_RESIDENTS = 5_000_000
"""Most residents of a street (the model's bound of `street.n_residents`)."""
MAX_NAME_CHARS = 120
"""Longest street or community name."""
SHEETS = ("communities", "社区")
"""Sheet names an .xlsx workbook is read from when the district file names none."""
SUFFIXES = (".csv", ".xlsx")


@dataclass(frozen=True)
class Column:
    """A column of the table.

    Attributes:
        key: Its English header (and the name in the results).
        zh: Its Chinese header.
        kind: "text", "count" (a whole number), "share", "number" or "flag".
        aliases: Other headers accepted for it.
        low: Least value (numbers).
        high: Largest value (numbers), or None.
        required: Whether the table must have it.
    """

    key: str
    zh: str
    kind: str
    aliases: tuple[str, ...] = ()
    low: float = 0.0
    high: float | None = None
    required: bool = True


COLUMNS: tuple[Column, ...] = (
    Column("street", "街道", "text", ("street_name", "街道名称", "街道办事处")),
    Column("community", "社区", "text", ("community_name", "社区名称", "村居", "社区(村)")),
    Column("residents", "常住人口", "count", ("population", "居民数", "人口", "常住人口数"), 1, 5_000_000),
    Column("elderly_share", "老年人占比", "share", ("elderly", "60岁及以上人口占比", "老年人口占比")),
    Column("minor_share", "未成年人占比", "share", ("minor", "minors_share", "未成年人口占比")),
    Column("migrant_share", "外来务工人员占比", "share", ("migrant", "流动人口占比", "外来人口占比")),
    Column("disabled_share", "残疾人占比", "share", ("disabled", "残疾人口占比")),
    Column("low_income_share", "低收入人口占比", "share", ("low_income", "低收入占比", "低保占比")),
    Column("social_organizations", "社区社会组织数", "count", ("organizations", "社会组织数"), 0, 1000),
    Column("social_workers", "社会工作者数", "number", ("持证社工数", "社工数"), 0, 100_000),
    Column("registered_volunteers", "注册志愿者数", "count", ("volunteers", "志愿者数"), 0, 5_000_000),
    Column("venue_hours", "活动场地小时数", "number", ("服务用房小时数", "场地小时数"), 0, 10_000),
    Column("urban", "城乡", "flag", ("urban_rural", "城乡类型"), required=False),
)  # fmt: skip
"""The columns, in template order."""

SHARE_COLUMNS = tuple(f"{g}_share" for g in TABLE_GROUPS)
"""The group-share columns, in the model's group order."""

URBAN = ("urban", "城市", "城镇", "城区", "city", "town", "1", "true", "yes", "是", "y")
RURAL = ("rural", "农村", "乡村", "涉农", "village", "0", "false", "no", "否", "n")


@dataclass(frozen=True)
class CommunityRow:
    """One community of the table (values checked)."""

    row: int
    street: str
    community: str
    residents: int
    elderly_share: float
    minor_share: float
    migrant_share: float
    disabled_share: float
    low_income_share: float
    social_organizations: int
    social_workers: float
    registered_volunteers: int
    venue_hours: float
    urban: bool

    def spec(self) -> dict[str, Any]:
        """The community as an entry of the model's `street.communities`."""
        out: dict[str, Any] = {"name": self.community, "residents": self.residents}
        for g in TABLE_GROUPS:
            out[g] = getattr(self, f"{g}_share")
        out.update(
            social_organizations=self.social_organizations,
            social_workers=self.social_workers,
            registered_volunteers=self.registered_volunteers,
            venue_hours=self.venue_hours,
            urban=self.urban,
        )
        return out


@dataclass(frozen=True)
class Street:
    """A street (街道) of the table and its communities, in table order."""

    name: str
    communities: tuple[CommunityRow, ...]

    @property
    def residents(self) -> int:
        return sum(c.residents for c in self.communities)

    @property
    def urban_share(self) -> float:
        """Share of the street's residents living in urban communities."""
        return sum(c.residents for c in self.communities if c.urban) / self.residents

    def communities_param(self) -> dict[str, dict[str, Any]]:
        """The street's `street.communities` mapping (keys c000, c001, ... in table order)."""
        return {f"c{i:03d}": c.spec() for i, c in enumerate(self.communities)}

    def group_residents(self) -> dict[str, float]:
        """Expected residents of each resident group (`model.schema.GROUPS` order)."""
        out = {g: 0.0 for g in (*TABLE_GROUPS, "general")}
        for c in self.communities:
            shares = [getattr(c, f"{g}_share") for g in TABLE_GROUPS]
            for g, s in zip(TABLE_GROUPS, shares, strict=True):
                out[g] += c.residents * s
            out["general"] += c.residents * max(0.0, 1.0 - sum(shares))
        return out


@dataclass
class DistrictTable:
    """A read and checked table.

    Attributes:
        path: The file.
        sheet: The sheet read (.xlsx), or None.
        streets: The streets, in order of first appearance.
        sha256: SHA-256 of the file's bytes.
    """

    path: Path
    sheet: str | None
    streets: list[Street]
    sha256: str

    @property
    def residents(self) -> int:
        return sum(s.residents for s in self.streets)

    @property
    def n_communities(self) -> int:
        return sum(len(s.communities) for s in self.streets)

    def rows(self) -> list[CommunityRow]:
        """Every community, street by street."""
        return [c for s in self.streets for c in s.communities]

    def csv_text(self) -> str:
        """The table as read, in canonical English columns (one header row)."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow([c.key for c in COLUMNS])
        for r in self.rows():
            w.writerow(
                [
                    r.street,
                    r.community,
                    r.residents,
                    *(f"{getattr(r, k):.10g}" for k in SHARE_COLUMNS),
                    r.social_organizations,
                    f"{r.social_workers:g}",
                    r.registered_volunteers,
                    f"{r.venue_hours:g}",
                    "urban" if r.urban else "rural",
                ]
            )
        return buf.getvalue()


# ---------------------------------------------------------------------------- headers


def header_key(text: Any) -> str:
    """A header as compared: lower case, no spaces, no unit in brackets ("老年人占比(%)")."""
    s = str(text if text is not None else "").strip().lower()
    s = re.sub(r"[（(][^()（）]*[)）]\s*$", "", s)  # a trailing unit: "(%)", "（人）"
    return re.sub(r"[\s\-]+", "_", s.strip()).strip("_")


def _lookup() -> dict[str, Column]:
    out: dict[str, Column] = {}
    for c in COLUMNS:
        for name in (c.key, c.zh, *c.aliases):
            out[header_key(name)] = c
    return out


HEADERS = _lookup()
"""Accepted header (as `header_key` writes it) -> its column."""


def _map_header(file: Path, header: list[Any], row: int) -> dict[str, int]:
    """Column key -> position in the header row (spreadsheet row `row`); missing and doubled
    columns are errors."""
    where: dict[str, int] = {}
    shown: dict[str, str] = {}
    for i, h in enumerate(header):
        col = HEADERS.get(header_key(h))
        if col is None:
            continue  # a column the table does not know (notes, codes...): ignored
        if col.key in where:
            raise ScenarioError(
                file,
                f"row {row}, column {str(h).strip()}",
                f"a second column for '{col.key}' (the first is '{shown[col.key]}')",
            )
        where[col.key] = i
        shown[col.key] = str(h).strip()
    for col in COLUMNS:
        if col.required and col.key not in where:
            have = ", ".join(str(h).strip() for h in header if str(h or "").strip()) or "nothing"
            raise ScenarioError(
                file,
                f"row {row}, column {col.key}",
                f"missing (also accepted: {col.zh}); the header row has: {short_repr(have)[1:-1]}",
            )
    return where


# ---------------------------------------------------------------------------- cells


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _number(v: Any) -> float:
    """A cell as a number (ValueError when it is not one)."""
    if isinstance(v, bool):
        raise ValueError
    if isinstance(v, int | float):
        return float(v)
    s = str(v).strip().replace(",", "").replace("，", "").replace(" ", "")
    return float(s)


def _cell(file: Path, row: int, col: Column, header: str, v: Any) -> Any:
    """One checked cell."""
    field = f"row {row}, column {header}"
    if _blank(v):
        if col.kind == "flag":
            return True
        raise ScenarioError(file, field, "empty")
    if col.kind == "text":
        s = str(v).strip()
        if len(s) > MAX_NAME_CHARS:
            raise ScenarioError(file, field, f"longer than {MAX_NAME_CHARS} characters")
        return s
    if col.kind == "flag":
        s = str(v).strip().lower()
        if s in URBAN:
            return True
        if s in RURAL:
            return False
        raise ScenarioError(
            file, field, f"not urban or rural (got {short_repr(v)}; write urban/rural or 城市/农村)"
        )
    percent = isinstance(v, str) and v.strip().endswith(("%", "％"))
    try:
        x = _number(v.strip()[:-1] if percent else v)
    except (ValueError, TypeError):
        raise ScenarioError(file, field, f"not a number (got {short_repr(v)})") from None
    if not math.isfinite(x):
        raise ScenarioError(file, field, f"not a finite number (got {short_repr(v)})")
    if percent:
        if col.kind != "share":
            raise ScenarioError(file, field, f"a percentage where a number is expected (got {v})")
        x /= 100.0
    if col.kind == "share":
        if x < 0:
            raise ScenarioError(file, field, f"negative share (got {short_repr(v)})")
        if x > 1:
            raise ScenarioError(
                file,
                field,
                f"share above 1 (got {short_repr(v)}; write a fraction such as 0.187, or 18.7%)",
            )
        return x
    if col.kind == "count":
        if x != math.floor(x):
            raise ScenarioError(file, field, f"not a whole number (got {short_repr(v)})")
        if x < col.low:
            what = "a positive whole number" if col.low >= 1 else "a whole number >= 0"
            raise ScenarioError(file, field, f"must be {what} (got {short_repr(v)})")
        if col.high is not None and x > col.high:
            raise ScenarioError(file, field, f"above {col.high:,.0f} (got {short_repr(v)})")
        return int(x)
    if x < col.low:
        raise ScenarioError(file, field, f"negative (got {short_repr(v)})")
    if col.high is not None and x > col.high:
        raise ScenarioError(file, field, f"above {col.high:,.0f} (got {short_repr(v)})")
    return x


# ---------------------------------------------------------------------------- files


def _file_bytes(file: Path) -> bytes:
    try:
        st = os.stat(file)
    except FileNotFoundError:
        raise ScenarioError(file, "(file)", "file not found") from None
    except OSError as e:
        raise ScenarioError(file, "(file)", f"cannot read ({e.strerror or e})") from None
    if not stat.S_ISREG(st.st_mode):
        raise ScenarioError(file, "(file)", "not a regular file")
    if st.st_size > MAX_TABLE_BYTES:
        raise ScenarioError(
            file, "(file)", f"file too large ({st.st_size:,} bytes; at most {MAX_TABLE_BYTES:,})"
        )
    try:
        return file.read_bytes()
    except OSError as e:
        raise ScenarioError(file, "(file)", f"cannot read ({e.strerror or e})") from None


def _csv_rows(file: Path, data: bytes) -> list[tuple[int, list[Any]]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes nearly every byte string
        raise ScenarioError(file, "(file)", "not UTF-8 or GB18030 text")
    if "\0" in text:
        raise ScenarioError(file, "(file)", "not a text file (it holds NUL bytes)")
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max((",", ";", "\t"), key=first.count) if first else ","
    out = []
    try:
        for i, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
            out.append((i, row))
            if len(out) > MAX_ROWS + 1:
                raise ScenarioError(file, "(file)", f"more than {MAX_ROWS:,} rows")
    except csv.Error as e:
        raise ScenarioError(file, f"row {len(out) + 1}", f"not valid CSV ({e})") from None
    return out


def _xlsx_rows(file: Path, sheet: str | None) -> tuple[str, list[tuple[int, list[Any]]]]:
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - a declared dependency
        raise ScenarioError(
            file, "(file)", "reading .xlsx needs openpyxl (pip install openpyxl)"
        ) from None
    try:
        wb = openpyxl.load_workbook(file, read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 - a zip that is not a workbook, a damaged file...
        why = " ".join(f"{type(e).__name__}: {e}".split())[:100]
        raise ScenarioError(file, "(file)", f"not an Excel workbook ({why})") from None
    try:
        names = list(wb.sheetnames)
        wanted = (sheet,) if sheet is not None else SHEETS
        found = next((n for n in names for w in wanted if n.strip().lower() == w.lower()), None)
        if found is None:
            want = f"'{sheet}'" if sheet is not None else " or ".join(f"'{s}'" for s in SHEETS)
            raise ScenarioError(
                file,
                "(sheet)",
                f"no sheet named {want} (the workbook has: {', '.join(names) or 'no sheets'})",
            )
        ws = wb[found]
        out = []
        for number, values in enumerate(ws.iter_rows(min_row=1, values_only=True), start=1):
            out.append((number, list(values)))
            if len(out) > MAX_ROWS + 1:
                raise ScenarioError(file, f"(sheet {found})", f"more than {MAX_ROWS:,} rows")
        return found, out
    finally:
        wb.close()


def read_table(path: str | Path, sheet: str | None = None) -> DistrictTable:
    """Read and check a district's street and community table.

    Args:
        path: A .csv or .xlsx file.
        sheet: The sheet of an .xlsx workbook (default: `communities` or `社区`).

    Returns:
        The streets and their communities.

    Raises:
        ScenarioError: naming the file, the row and column (or the sheet) and the problem.
    """
    file = Path(path)
    if file.suffix.lower() not in SUFFIXES:
        raise ScenarioError(
            file, "(file)", f"unsupported table format '{file.suffix}' (use .csv or .xlsx)"
        )
    data = _file_bytes(file)
    digest = hashlib.sha256(data).hexdigest()
    if file.suffix.lower() == ".csv":
        if sheet is not None:
            raise ScenarioError(file, "(sheet)", "a CSV file has no sheets (leave 'sheet' out)")
        used, rows = None, _csv_rows(file, data)
    else:
        used, rows = _xlsx_rows(file, sheet)
    rows = [(n, r) for n, r in rows if not all(_blank(v) for v in r)]
    if not rows:
        raise ScenarioError(file, "(file)", "the table is empty (no header row)")
    header_row, header = rows[0]
    where = _map_header(file, header, header_row)
    if len(rows) == 1:
        raise ScenarioError(file, "(file)", "the table has a header but no community rows")
    cols = {c.key: c for c in COLUMNS}
    heads = {k: str(header[i]).strip() for k, i in where.items()}
    streets: dict[str, list[CommunityRow]] = {}
    first_row: dict[str, int] = {}
    seen: dict[tuple[str, str], int] = {}
    for number, raw in rows[1:]:

        def get(key: str, raw: list[Any] = raw) -> Any:
            i = where.get(key)
            return raw[i] if i is not None and i < len(raw) else None

        street = _cell(file, number, cols["street"], heads["street"], get("street"))
        others = [k for k in where if k not in ("street", "urban")]
        if all(_blank(get(k)) for k in others):
            raise ScenarioError(
                file,
                f"row {number}, column {heads['community']}",
                f"street '{street}' has no communities (this row names the street only; give "
                "one row per community)",
            )
        values = {k: _cell(file, number, cols[k], heads[k], get(k)) for k in where}
        values.setdefault("urban", True)
        name = values["community"]
        if (street, name) in seen:
            raise ScenarioError(
                file,
                f"row {number}, column {heads['community']}",
                f"community '{name}' appears twice in street '{street}' (also row "
                f"{seen[(street, name)]})",
            )
        seen[(street, name)] = number
        total = sum(values[k] for k in SHARE_COLUMNS)
        if total > 1.0 + 1e-9:
            raise ScenarioError(
                file,
                f"row {number}, columns {heads['elderly_share']}..{heads['low_income_share']}",
                f"group shares add up to {total:.3f} > 1 (each resident is counted in one "
                "group; the rest are 'general')",
            )
        if values["registered_volunteers"] > values["residents"]:
            raise ScenarioError(
                file,
                f"row {number}, column {heads['registered_volunteers']}",
                f"{values['registered_volunteers']:,} registered volunteers in a community of "
                f"{values['residents']:,} residents",
            )
        streets.setdefault(street, []).append(CommunityRow(row=number, **values))
        first_row.setdefault(street, number)
    out = []
    for name, comms in streets.items():
        s = Street(name, tuple(comms))
        field = f"row {first_row[name]}, column {heads['street']}"
        if len(comms) > MAX_COMMUNITIES:
            raise ScenarioError(
                file,
                field,
                f"street '{name}' has {len(comms)} communities, at most {MAX_COMMUNITIES}",
            )
        if not MIN_STREET_RESIDENTS <= s.residents <= MAX_STREET_RESIDENTS:
            raise ScenarioError(
                file,
                field,
                f"street '{name}' has {s.residents:,} residents; a street needs "
                f"{MIN_STREET_RESIDENTS}-{MAX_STREET_RESIDENTS:,}",
            )
        out.append(s)
    return DistrictTable(file, used, out, digest)
