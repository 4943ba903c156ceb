"""`linkage bench`: how fast the model runs, next to reference implementations.

- `reference`: the yardsticks (one Mesa agent per resident; a bare SimPy M/M/c queue). They live
  here, in the benchmark, never in the model.
- `runner`: the measurements, each timing the product's own code path (`run_bench`).
- `table`: the printed table.

docs/performance.md explains each figure and holds the latest measured table.
"""

from __future__ import annotations

from experiments.bench.runner import FULL, QUICK, BenchResult, Sizes, run_bench
from experiments.bench.table import format_table

__all__ = ["FULL", "QUICK", "BenchResult", "Sizes", "format_table", "run_bench"]
