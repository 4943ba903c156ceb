"""The decision-maker's report of a results folder (`linkage report RESULTS`).

```python
from experiments.interfaces.report import build_report
rep = build_report("results/linkage_modes-20250101-120000", lang="zh")
rep.html      # RESULTS/report/report.html: self-contained, figures embedded as base64 PNG
rep.figures   # the same figures as PNG files next to it
rep.csvs      # headline.csv, equity.csv, spending.csv, weekly.csv
```

Modules: `data` (load and arrange by arm), `tables` (headline, equity, spending, weekly),
`figures` (matplotlib, Agg), `text` (plain-language summaries), `html` (the page), `fonts`
(a CJK font for Chinese labels), `labels` (every word in English and Chinese).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from experiments.interfaces.report.build import Report

__all__ = ["build_report"]


def build_report(*args: Any, **kwargs: Any) -> Report:
    """Write the report of a results folder (see `experiments.interfaces.report.build.build_report`)."""
    from experiments.interfaces.report.build import build_report as _build

    return _build(*args, **kwargs)
