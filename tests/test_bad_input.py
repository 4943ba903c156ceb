"""Bad input: every malformed scenario gives exit code 2 and one line naming file, field and problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from experiments.cli import main

ROOT = Path(__file__).resolve().parents[1]

CASES = [
    ("unknown_top", "foo: 1\n", "foo: unknown key"),
    ("unknown_nested", "street:\n  n_resident: 5\n", "street.n_resident: unknown key"),
    (
        "wrong_type",
        "street:\n  n_residents: many\n",
        "street.n_residents: Input should be a valid integer",
    ),
    (
        "out_of_range",
        "volunteers:\n  registered_share: 1.5\n",
        "volunteers.registered_share: Input should be less than or equal to 1 (got 1.5)",
    ),
    (
        "negative",
        "providers:\n  sw_per_10k: -3\n",
        "providers.sw_per_10k: Input should be greater than or equal to 0 (got -3)",
    ),
    ("missing_base", "extends: nope.yaml\n", "extends: base file not found: nope.yaml"),
    ("malformed_yaml", "street: [1, 2\n", "malformed YAML"),
    ("not_mapping", "- 1\n- 2\n", "(top level): expected a mapping of keys, got list"),
    (
        "unknown_policy",
        "policies:\n  teleport:\n    enabled: true\n",
        "policies.teleport: unknown key",
    ),
    (
        "policy_range",
        "policies:\n  time_bank:\n    cap: -5\n",
        "policies.time_bank.cap: Input should be greater than or equal to 1 (got -5)",
    ),
    (
        "policy_type",
        "policies:\n  platform:\n    enabled: maybe\n",
        "policies.platform.enabled: Input should be a valid boolean",
    ),
    (
        "shares",
        "funding:\n  allocation:\n    procurement: 0.9\n    posts: 0.5\n",
        "funding.allocation: allocation shares add up to 1.5, not 1",
    ),
    (
        "warmup",
        "run:\n  weeks: 10\n  warmup_weeks: 20\n",
        "(top level): run.warmup_weeks (20) must be less than run.weeks (10)",
    ),
    (
        "need_group",
        "needs:\n  life_care:\n    rates: {aliens: 3}\n",
        "needs.life_care: unknown resident group 'aliens'",
    ),
    (
        "bad_dist",
        "service:\n  service_time: weibull\n",
        "service.service_time: Input should be 'exponential', 'lognormal' or 'fixed'",
    ),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_malformed_scenario(tmp_path, capsys, name, text, expected):
    f = tmp_path / f"{name}.yaml"
    f.write_text(text)
    code = main(["validate", str(f)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1, err
    assert err[0].startswith(f"error: {f}"), err[0]
    assert expected in err[0], err[0]


def test_cycle_of_extends(tmp_path, capsys):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    assert main(["validate", str(tmp_path / "a.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert "extends: cycle of extends: a.yaml -> b.yaml -> a.yaml" in err


def test_bad_override(capsys):
    assert main(["run", str(ROOT / "scenarios/base.yaml"), "--set", "street.n_residents=-4"]) == 2
    assert (
        "street.n_residents: Input should be greater than or equal to 50 (got -4)"
        in capsys.readouterr().err
    )
    assert main(["run", str(ROOT / "scenarios/base.yaml"), "--set", "nonsense"]) == 2
    assert "override must look like a.b.c=VALUE" in capsys.readouterr().err


def test_missing_file_exit_code_without_traceback(tmp_path):
    """The real console path: exit status 2, one line on stderr, no traceback."""
    out = subprocess.run(
        [sys.executable, "-m", "experiments.cli", "run", str(tmp_path / "none.yaml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert out.returncode == 2
    assert out.stderr.strip() == f"error: {tmp_path / 'none.yaml'}: (file): file not found"
    assert "Traceback" not in out.stderr


def test_all_shipped_scenarios_validate(capsys):
    files = sorted(str(p) for p in (ROOT / "scenarios").rglob("*.yaml"))
    assert main(["validate", *files]) == 0
