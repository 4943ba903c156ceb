"""Load a results folder and compare scenarios: means, 95% CIs, paired differences.

```python
from experiments import load_results
res = load_results("results/linkage_modes-20250101-120000")
res.runs            # one row per run (pandas)
res.timeseries      # one row per run and week (read on first use)
res.manifest        # what ran, with which versions
res.compare()       # per scenario (and parameter point): mean, CI, paired difference vs baseline
```

Replication r of every scenario ran with the same seed, so the difference to the baseline is
taken run by run (paired by parameter point and replication) and its confidence interval comes
from the spread of those differences: with common random numbers it is much narrower than the
difference of two independent means.
"""

from __future__ import annotations

import functools
import math
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HEADLINE = (
    "need_satisfaction_rate",
    "mean_wait_hours",
    "p90_wait_hours",
    "gov_spending_total",
    "cost_per_need_met",
    "active_volunteers",
)
"""Metrics shown in the terminal when none are asked for (the CSV has them all)."""

ID_COLUMNS = (
    "experiment",
    "scenario",
    "point",
    "run_id",
    "replication",
    "seed",
    "status",
    "error",
    "wall_time_s",
)

# two-sided 95% critical values of Student's t, for when scipy is not installed
_T95 = {
    1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
    10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110,
    18: 2.101, 19: 2.093, 20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064, 25: 2.060,
    26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980,
}  # fmt: skip


@functools.lru_cache(maxsize=1024)
def t_critical(df: int, confidence: float = 0.95) -> float:
    """Two-sided critical value of Student's t with `df` degrees of freedom.

    Uses scipy when installed; otherwise a table (95% only), conservative between entries.
    """
    if df < 1:
        return float("nan")
    try:
        from scipy import stats
    except ImportError:
        if abs(confidence - 0.95) > 1e-12:
            raise ValueError("confidence levels other than 0.95 need scipy") from None
        if df in _T95:
            return _T95[df]
        below = max(k for k in _T95 if k < df)
        return _T95[below] if df < 120 else 1.960 + (_T95[120] - 1.960) * 120 / df
    return float(stats.t.ppf(0.5 + confidence / 2, df))


def mean_ci(values: np.ndarray, confidence: float = 0.95) -> tuple[int, float, float, float, float]:
    """n, mean, standard deviation and the t confidence interval of the mean (NaNs dropped)."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    n = len(v)
    if n == 0:
        return 0, math.nan, math.nan, math.nan, math.nan
    m = float(v.mean())
    if n == 1:
        return 1, m, math.nan, math.nan, math.nan
    sd = float(v.std(ddof=1))
    h = t_critical(n - 1, confidence) * sd / math.sqrt(n)
    return n, m, sd, m - h, m + h


@dataclass
class Results:
    """A results folder, loaded: runs, manifest, and the weekly time series on first use."""

    path: Path
    runs: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def parameters(self) -> list[str]:
        """Names of the varied parameters (columns of `runs`)."""
        return [
            p["name"] for p in self.manifest.get("parameters", []) if p["name"] in self.runs.columns
        ]

    @property
    def metrics(self) -> list[str]:
        """Summary metric columns of `runs`."""
        skip = set(ID_COLUMNS) | set(self.parameters)
        return [
            c
            for c in self.runs.columns
            if c not in skip and pd.api.types.is_numeric_dtype(self.runs[c])
        ]

    @property
    def scenarios(self) -> list[str]:
        """Scenario names, in the experiment's order."""
        return list(dict.fromkeys(self.runs["scenario"]))

    @property
    def baseline(self) -> str | None:
        """The experiment's baseline scenario."""
        return self.manifest.get("baseline") or (self.scenarios[0] if self.scenarios else None)

    @cached_property
    def timeseries(self) -> pd.DataFrame:
        """One row per run and week (empty if the sweep kept no time series)."""
        p = self.path / "timeseries.parquet"
        if p.exists():
            return read_parquet(p)
        parts = sorted((self.path / "parts").glob("ts-*.parquet"))
        if not parts:
            return pd.DataFrame()
        return pd.concat([read_parquet(x) for x in parts], ignore_index=True)

    def compare(
        self,
        baseline: str | None = None,
        metrics: list[str] | None = None,
        confidence: float = 0.95,
    ) -> pd.DataFrame:
        """Per scenario and parameter point: mean and CI of each metric, and the paired
        difference to the baseline scenario (same point, same replication) with its CI."""
        return compare_runs(
            self.runs,
            self.parameters,
            metrics or self.metrics,
            baseline or self.baseline,
            confidence,
            source=str(self.path),
        )


def _input_error(file: str, field: str, problem: str) -> Exception:
    from experiments.engine.errors import ExperimentError

    return ExperimentError(file, field, problem)


def load_results(path: str | Path) -> Results:
    """Load a results folder written by `linkage sweep` (also one still running or stopped).

    Args:
        path: The results folder.

    Returns:
        A `Results` with `runs`, `manifest` and (lazily) `timeseries`.

    Raises:
        InputError: the folder holds no results.
    """
    from experiments.engine.folders import manifest_status
    from experiments.engine.store import read_manifest

    path = Path(path)
    if not path.is_dir():
        raise _input_error(path, "(folder)", "not found" if not path.exists() else "not a folder")
    manifest = read_manifest(path / "manifest.json")
    if manifest.get("status") is not None:  # a "running" that nobody runs was interrupted
        manifest["status"] = manifest_status(path, manifest)
    runs_path = path / "runs.parquet"
    if runs_path.exists():
        runs = read_parquet(runs_path)
        missing = [c for c in ("scenario", "point", "replication", "status") if c not in runs]
        if missing:
            raise _input_error(
                runs_path, "(columns)", f"missing {', '.join(missing)}; not written by linkage"
            )
    elif (path / "journal.jsonl").exists():  # not consolidated yet: read the journal
        from experiments.engine.store import ResultsStore, record_order, runs_table

        recs = sorted(ResultsStore(path).records().values(), key=record_order)
        params = [p["name"] for p in manifest.get("parameters", [])]
        metrics = (manifest.get("spec") or {}).get("metrics")
        runs = runs_table(recs, manifest.get("experiment", path.name), params, metrics).to_pandas()
    else:
        raise _input_error(path, "runs.parquet", "missing; not a results folder of 'linkage sweep'")
    return Results(path=path, runs=runs, manifest=manifest)


def read_parquet(path: Path) -> pd.DataFrame:
    """A Parquet file of a results folder.

    Raises:
        ExperimentError: the file cannot be read as Parquet (damaged, cut short, not Parquet).
    """
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError, RuntimeError) as e:  # pyarrow's ArrowInvalid is a ValueError
        why = " ".join(str(e).split())[:100]
        raise _input_error(path, "(file)", f"not a readable Parquet file ({why})") from None


def compare_runs(
    runs: pd.DataFrame,
    parameters: list[str],
    metrics: list[str],
    baseline: str | None,
    confidence: float = 0.95,
    source: str = "runs",
) -> pd.DataFrame:
    """The comparison table, one row per (scenario, parameter point, metric).

    Columns: scenario, point, the parameters, metric, n, mean, sd, ci_low, ci_high, baseline,
    n_pairs, diff, diff_sd, diff_ci_low, diff_ci_high, rel_diff (diff / baseline mean).
    Only runs with status 'ok' count.
    """
    ok = runs[runs["status"] == "ok"]
    scen_order = list(dict.fromkeys(runs["scenario"]))
    if baseline is not None and baseline not in scen_order:
        raise _input_error(
            source, "--baseline", f"unknown scenario '{baseline}' (have: {', '.join(scen_order)})"
        )
    bad = [m for m in metrics if m not in runs.columns]
    if bad:
        raise _input_error(source, "--metric", f"unknown metric {', '.join(bad)}")
    base = ok[ok["scenario"] == baseline].set_index(["point", "replication"]) if baseline else None
    rows = []
    for (scen, point), g in ok.groupby(["scenario", "point"], sort=False):
        pvals = {p: g[p].iloc[0] for p in parameters}
        if base is not None:
            keyed = g.set_index(["point", "replication"])
            common = keyed.index.intersection(base.index)
        for m in metrics:
            n, mean, sd, lo, hi = mean_ci(g[m].to_numpy(), confidence)
            row = {
                "scenario": scen,
                "point": point,
                **pvals,
                "metric": m,
                "n": n,
                "mean": mean,
                "sd": sd,
            }
            row.update(ci_low=lo, ci_high=hi, baseline=baseline)
            if base is not None and len(common):
                d = keyed.loc[common, m].to_numpy(float) - base.loc[common, m].to_numpy(float)
                dn, dm, dsd, dlo, dhi = mean_ci(d, confidence)
                b = base.loc[common, m].to_numpy(float)
                bmean = float(b[~np.isnan(b)].mean()) if (~np.isnan(b)).any() else math.nan
                rel = dm / bmean if bmean and not math.isnan(bmean) else math.nan
            else:
                dn, dm, dsd, dlo, dhi, rel = 0, math.nan, math.nan, math.nan, math.nan, math.nan
            row.update(
                n_pairs=dn, diff=dm, diff_sd=dsd, diff_ci_low=dlo, diff_ci_high=dhi, rel_diff=rel
            )
            rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    order = {s: i for i, s in enumerate(scen_order)}
    out["_s"] = out["scenario"].map(order)
    out["_m"] = out["metric"].map({m: i for i, m in enumerate(metrics)})
    return (
        out.sort_values(["_m", "_s", "point"], kind="stable")
        .drop(columns=["_s", "_m"])
        .reset_index(drop=True)
    )


def fmt(x: float, signed: bool = False) -> str:
    """A number for the terminal: 4 significant digits, thousands separators when large."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    sign = "+" if signed else ""
    if abs(x) >= 10_000:
        return f"{x:{sign},.0f}"
    return f"{x:{sign}.4g}"


SHARES = frozenset(
    {
        "need_satisfaction_rate",
        "needs_met_rate",
        "professional_match_rate",
        "professional_needs_satisfaction",
        "hidden_discovered_share",
        "level0_needs_met_rate",
        "volunteer_retention_annual",
        "sw_utilization",
        "equity_group_gap",
        "equity_community_gap",
    }
)
"""Summary metrics that are shares (shown in %, their differences in percentage points), with
every `satisfaction_*` metric."""


def is_share(metric: str) -> bool:
    """Whether a metric is a share of 0-1, printed as a percentage like `linkage run` does."""
    return metric in SHARES or metric.startswith("satisfaction_")


def fmt_value(x: float, share: bool, signed: bool = False) -> str:
    """`fmt`, or for a share: 61.3% (a difference: +5.1 pts)."""
    if not share:
        return fmt(x, signed)
    if x is None or math.isnan(x):
        return "–"
    return f"{100 * x:+.1f} pts" if signed else f"{100 * x:.1f}%"


def _interval(lo: float, hi: float, signed: bool = False, share: bool = False) -> str:
    if math.isnan(lo) or math.isnan(hi):
        return ""
    if share:
        body = (
            f"{100 * lo:+.1f}, {100 * hi:+.1f}] pts"
            if signed
            else f"{100 * lo:.1f}%, {100 * hi:.1f}%]"
        )
        return "[" + body
    return f"[{fmt(lo, signed)}, {fmt(hi, signed)}]"


def format_table(table: pd.DataFrame, parameters: list[str], confidence: float = 0.95) -> str:
    """A plain-text report: one block per metric, one line per scenario (and point)."""
    if table.empty:
        return "no successful runs to compare"
    lines = []
    pct = f"{confidence:.0%}"
    show_diff = table["n_pairs"].gt(0).any() and table["scenario"].nunique() > 1
    for metric, g in table.groupby("metric", sort=False):
        base = g["baseline"].iloc[0]
        label = [_label(row, parameters) for _, row in g.iterrows()]
        width = max(len("scenario"), *(display_width(s) for s in label))
        head = f"{_ljust('scenario', width)}  {'n':>4}  {'mean':>10}  {pct + ' CI':<24}"
        if show_diff:
            head += f"  {'Δ vs ' + str(base):>14}  {pct + ' CI':<26}"
        share = is_share(str(metric))
        lines += [metric + (" (%; differences in percentage points)" if share else ""), head]
        lines.append("─" * len(head))
        for lab, (_, r) in zip(label, g.iterrows(), strict=True):
            ci = _interval(r["ci_low"], r["ci_high"], share=share)
            line = f"{_ljust(lab, width)}  {r['n']:>4}  {fmt_value(r['mean'], share):>10}  {ci:<24}"
            if show_diff:
                if r["scenario"] == base:
                    line += f"  {'(baseline)':>14}"
                else:
                    sig = ""
                    if not (math.isnan(r["diff_ci_low"]) or math.isnan(r["diff_ci_high"])):
                        sig = " *" if r["diff_ci_low"] > 0 or r["diff_ci_high"] < 0 else ""
                    ci = _interval(r["diff_ci_low"], r["diff_ci_high"], True, share)
                    line += f"  {fmt_value(r['diff'], share, True):>14}  {ci:<24}{sig}"
            lines.append(line.rstrip())
        lines.append("")
    if show_diff:
        lines.append(
            f"Δ: paired difference to the baseline (same seed, same parameter point); * {pct} CI excludes 0"
        )
    return "\n".join(lines).rstrip()


def display_width(text: str) -> int:
    """Columns `text` takes in a terminal: wide (Chinese) characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _ljust(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def _label(row: pd.Series, parameters: list[str]) -> str:
    if not parameters:
        return str(row["scenario"])
    vals = []
    for p in parameters:
        v = row[p]
        vals.append(f"{p.split('.')[-1]}={fmt(v) if isinstance(v, float) else v}")
    return f"{row['scenario']} ({', '.join(vals)})"
