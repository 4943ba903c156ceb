"""Write the stored fixed-seed baseline summary that `tests/test_baseline.py` compares against.

Run it only when a change of the model's results is intended: `make baseline` (which runs
`python -m tests.make_baseline` from the repository root). The file records the scenario, the
overrides and the seed next to the summary, so the comparison always reruns exactly this.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "tests" / "baseline" / "base_summary.json"
SCENARIO = "scenarios/base.yaml"
OVERRIDES = (
    "run.weeks=60",
    "run.warmup_weeks=12",
    "street.n_residents=8000",
    "street.n_communities=4",
)
"""A short run on a smaller street (about a second), with every mechanism of base.yaml on."""
SEED = 20240909


def compute() -> dict[str, float]:
    """The summary of the baseline run (scenario, overrides and seed above)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from experiments.engine.scenarios import load_scenario
    from model import LinkageModel

    sc = load_scenario(ROOT / SCENARIO, list(OVERRIDES))
    m = LinkageModel(sc.params, seed=SEED)
    m.run()
    return {k: float(v) for k, v in m.summary().items()}


def main() -> int:
    """Recompute the baseline and write it (NaN is written as JSON NaN)."""
    summary = compute()
    payload = {
        "generated_by": "make baseline (python -m tests.make_baseline)",
        "scenario": SCENARIO,
        "overrides": list(OVERRIDES),
        "seed": SEED,
        "summary": dict(sorted(summary.items())),
    }
    BASELINE.parent.mkdir(parents=True, exist_ok=True)
    BASELINE.write_text(json.dumps(payload, indent=2, allow_nan=True) + "\n", encoding="utf-8")
    print(f"wrote {BASELINE.relative_to(ROOT)} ({len(summary)} metrics)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
