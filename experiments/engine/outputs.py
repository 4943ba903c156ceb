"""Files we hand to other programs: strict JSON and CSV that is safe to open in a spreadsheet.

- JSON: Python writes NaN and infinity as the bare words `NaN` and `Infinity`, which no strict
  JSON reader accepts. `to_json` writes them as `null` (or, where a value must come back exactly,
  as the strings "NaN", "Infinity", "-Infinity": `float()` reads those back).
- CSV: a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to
  Excel, LibreOffice and Google Sheets (CSV injection: a scenario named `=HYPERLINK(...)` would
  run when the table is opened). `write_csv` prefixes such text cells with `'`, as OWASP
  advises; numbers, including negative ones, stay numbers.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def json_ready(obj: Any, nonfinite: str = "null") -> Any:
    """A copy of `obj` with every NaN or infinite float replaced: by None (`nonfinite="null"`)
    or by the strings "NaN", "Infinity", "-Infinity" (`nonfinite="string"`)."""
    if isinstance(obj, float):
        if math.isfinite(obj):
            return obj
        if nonfinite == "null":
            return None
        return "NaN" if math.isnan(obj) else ("Infinity" if obj > 0 else "-Infinity")
    if isinstance(obj, dict):
        return {k: json_ready(v, nonfinite) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_ready(v, nonfinite) for v in obj]
    if hasattr(obj, "item") and hasattr(obj, "dtype"):  # a numpy scalar
        return json_ready(obj.item(), nonfinite)
    return obj


def to_json(obj: Any, nonfinite: str = "null", **kwargs: Any) -> str:
    """`json.dumps` that never writes NaN or Infinity (see `json_ready`); other values that
    JSON cannot hold are written with `str` (paths, dates)."""
    kwargs.setdefault("default", str)
    return json.dumps(json_ready(obj, nonfinite), allow_nan=False, **kwargs)


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


def csv_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would read as a formula, prefixed with `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _is_number(value):
        return "'" + value
    return value


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """`df` with every text cell passed through `csv_cell` (numeric columns untouched), and
    column names too."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(csv_cell)
    out.columns = [csv_cell(c) for c in out.columns]
    return out


def write_csv(df: pd.DataFrame, path: str | Path, **kwargs: Any) -> Path:
    """Write `df` as CSV with formula-like text cells neutralised (`csv_safe`)."""
    kwargs.setdefault("index", False)
    csv_safe(df).to_csv(path, **kwargs)
    return Path(path)


def check_marked_section(path: str | Path, marker: str) -> None:
    """Refuse early (before a long run) a file that `replace_marked_section` could not fill.

    Raises:
        InputError: The file is missing or lacks the two markers.
    """
    from experiments.engine.errors import InputError

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: (file): not found")
    doc = path.read_text(encoding="utf-8")
    start, end = f"<!-- {marker}:start", f"<!-- {marker}:end -->"
    i, j = doc.find(start), doc.find(end)
    if i < 0 or j < i:
        raise InputError(f"{path}: (file): no '{start} ... -->' and '{end}' markers")


def replace_marked_section(path: str | Path, marker: str, text: str) -> bool:
    """Replace what lies between `<!-- marker:start ... -->` and `<!-- marker:end -->` in a text
    (Markdown) file with `text`; returns whether the file changed.

    Raises:
        InputError: The file lacks the two markers.
    """
    path = Path(path)
    doc = path.read_text(encoding="utf-8")
    start, end = f"<!-- {marker}:start", f"<!-- {marker}:end -->"
    i, j = doc.find(start), doc.find(end)
    if i < 0 or j < i:
        from experiments.engine.errors import InputError

        raise InputError(f"{path}: (file): no '{start} ... -->' and '{end}' markers")
    i = doc.index("-->", i) + 3
    new = doc[:i] + "\n" + text.rstrip() + "\n" + doc[j:]
    if new != doc:
        path.write_text(new, encoding="utf-8")
    return new != doc
