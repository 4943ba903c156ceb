"""The table `linkage bench` prints (and docs/performance.md shows)."""

from __future__ import annotations

from typing import Any

from experiments.bench.runner import BenchResult


def _num(v: Any, fmt: str = "{:,.0f}") -> str:
    if v is None:
        return "n/a"
    try:
        return fmt.format(v)
    except (TypeError, ValueError):
        return str(v)


def _mark(met: bool | None) -> str:
    return "n/a" if met is None else ("met" if met else "NOT met")


def rows(result: BenchResult) -> list[tuple[str, str, str, str, str]]:
    """(measurement, model, reference, ratio or value, target) rows of the table."""
    s = result.sections
    t = result.targets()
    out: list[tuple[str, str, str, str, str]] = []
    if "population" in s:
        p = s["population"]
        out.append(
            (
                f"population update, resident-weeks/s ({p['residents']:,} residents)",
                _num(p["model_resident_weeks_per_s"]),
                _num(p["reference_resident_weeks_per_s"]) + " (Mesa agent each)",
                _num(p["ratio"], "{:.1f}x"),
                f"{t['population_ratio']['target']}x: {_mark(t['population_ratio']['met'])}",
            )
        )
    if "service" in s:
        v = s["service"]
        out.append(
            (
                f"service flow, needs resolved/s ({v['residents']:,} residents, {v['weeks']} weeks, full linkage)",
                _num(v["model_resolved_per_s"]),
                _num(v["queue_customers_per_s"]) + " (bare M/M/c)",
                _num(v["ratio"], "{:.2f}x"),
                f"{t['service_ratio']['target']}x: {_mark(t['service_ratio']['met'])}",
            )
        )
        dv = v.get("default_street")
        if dv:
            out.append(
                (
                    "  default street (" + str(dv.get("scenario", "")) + ")",
                    _num(dv["model_resolved_per_s"]),
                    _num(dv["queue_customers_per_s"]) + " (bare M/M/c)",
                    _num(dv["ratio"], "{:.2f}x"),
                    "",
                )
            )
        if "service_phase_resolved_per_s" in v:
            out.append(
                (
                    "  full linkage, service phase alone (weekly phases left out)",
                    _num(v["service_phase_resolved_per_s"]),
                    "",
                    _num(v["ratio_service_phase"], "{:.2f}x"),
                    "",
                )
            )
        out.append(
            (
                "  full linkage, needs met/s only; CPU-time ratio",
                _num(v["model_met_per_s"]),
                "",
                _num(v["ratio_met"], "{:.2f}x") + " / " + _num(v["ratio_cpu"], "{:.2f}x"),
                "",
            )
        )
        out.append(
            (
                "  SimPy events per need (model) / per customer (queue)",
                _num(v["model_events_per_resolved"], "{:.2f}"),
                _num(v["queue_events_per_customer"], "{:.2f}"),
                "",
                "",
            )
        )
    if "default_run" in s:
        d = s["default_run"]
        out.append(
            (
                f"default run ({d['scenario']}, {d['weeks']} weeks): wall s / peak RSS MB",
                _num(d["seconds"], "{:.1f} s") + " / " + _num(d["peak_rss_mb"], "{:,.0f} MB"),
                f"baseline {_num(d['baseline_mb'], '{:,.0f}')} MB",
                _num(d["resolved_per_s"], "{:,.0f} needs/s"),
                "",
            )
        )
    for r in s.get("scale") or []:
        out.append(
            (
                f"scale: {r['residents']:,} residents, {r['weeks']} weeks",
                _num(r["seconds"], "{:.1f} s"),
                _num(r["peak_rss_mb"], "{:,.0f} MB peak"),
                _num(r["bytes_per_resident"], "{:,.0f} B/resident added"),
                f"{t['scale_peak_gb_1e6']['target']} GB: {_mark(t['scale_peak_gb_1e6']['met'])}"
                if r["residents"] == 1_000_000
                else "",
            )
        )
    if "parallel" in s:
        q = s["parallel"]
        out.append(
            (
                f"parallel: linkage-modes study ({q['workers1']['runs']} runs, {q['weeks']} weeks)",
                _num(q["workers2"]["seconds"], "{:.1f} s (2 workers)"),
                _num(q["workers1"]["seconds"], "{:.1f} s (1 worker)"),
                _num(q["speedup"], "{:.2f}x"),
                f"{t['parallel_speedup']['target']}x: {_mark(t['parallel_speedup']['met'])}",
            )
        )
        pr = q.get("per_run")
        if pr:
            out.append(
                (
                    "  one run: side by side / alone (wall s); workers busy",
                    _num(pr["side_by_side_s"], "{:.2f} s"),
                    _num(pr["alone_s"], "{:.2f} s"),
                    _num(pr["slowdown"], "{:.2f}x slower") + _num(pr["busy"], "; busy {:.0%}"),
                    "",
                )
            )
    if "dashboard" in s:
        b = s["dashboard"]
        out.append(
            (
                f"dashboard step ({b['residents']:,} residents, {b['communities']} communities)",
                _num(b["median_ms"], "{:.1f} ms median"),
                _num(b["p90_ms"], "{:.1f} ms p90"),
                "",
                f"{t['dashboard_step_ms']['target']} ms: {_mark(t['dashboard_step_ms']['met'])}",
            )
        )
    return out


def format_table(result: BenchResult, markdown: bool = False) -> str:
    """The measurements as an aligned text table (or a Markdown table)."""
    head = ("measurement", "model", "reference", "ratio", "target")
    body = rows(result)
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in body]
        return "\n".join(lines) + "\n\n" + _notes(result)
    widths = [
        max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(head)
    ]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*head), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*r).rstrip() for r in body]
    return "\n".join(lines) + "\n\n" + _notes(result)


def _notes(result: BenchResult) -> str:
    """Phase shares of the default run, and the machine."""
    lines = []
    if "default_run" in result.sections:
        d = result.sections["default_run"]
        shares = ", ".join(
            f"{k} {v:.0%}" for k, v in sorted(d["phase_share"].items(), key=lambda kv: -kv[1])
        )
        lines.append(f"default run, share of wall time by step phase: {shares}")
    m = result.machine
    v = m["versions"]
    lines.append(
        f"machine: {m['nproc']} cores, {m['cpu']}; python {v['python']}, numpy {v['numpy']}, simpy {v['simpy']}, "
        f"mesa {v['mesa']}; load average at start {m['loadavg_start'][0]:.2f}; bench took {result.seconds:.0f} s"
        + (" (--quick)" if result.quick else "")
    )
    return "\n".join(lines)


__all__ = ["format_table", "rows"]
