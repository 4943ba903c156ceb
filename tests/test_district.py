"""`linkage district`: a district's table, its budget rules, its runs and its report.

- the street and community table: English and Chinese headers, CSV and Excel; every bad table
  exits 2 with one line naming the file, the row and the column;
- the model builds a street from its communities (and is unchanged without a table:
  tests/test_baseline.py);
- the split rules;
- a tiny district gives the same bytes in process, with two forked workers and on Dask; a
  SIGKILL mid-study resumes to the same bytes; the two arms are paired by seed and the budget
  binds on spending; the report shows every street and the district total;
- the shipped example and templates are what `tests/make_district_example.py` writes.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.analyses.district import run_district, split_shares
from experiments.engine.district_spec import load_district
from experiments.engine.district_table import read_table
from experiments.engine.errors import ScenarioError
from experiments.interfaces.cli import main as cli_main
from model import LinkageModel, Params
from model.needs import Catalog

REPO = Path(__file__).resolve().parents[1]
DISTRICTS = REPO / "scenarios" / "districts"
HEADER = (
    "street,community,residents,elderly_share,minor_share,migrant_share,disabled_share,"
    "low_income_share,social_organizations,social_workers,registered_volunteers,venue_hours,urban"
)
ROWS = (
    "Old Town,Bell Tower,900,0.30,0.10,0.05,0.09,0.03,2,2,150,30,urban",
    "Old Town,Drum Lane,700,0.28,0.10,0.06,0.08,0.03,1,1,100,30,urban",
    "New Park,Workers Village,2400,0.06,0.15,0.50,0.03,0.01,0,1,60,20,urban",
    "Green Hill,Hill Village,300,0.25,0.15,0.05,0.07,0.07,1,0,30,20,rural",
)
DISTRICT = """
name: tiny
extends: {base}
table: tiny.csv
budget: 600000
rule: performance
performance: {{pilot_weeks: 8, pilot_warmup_weeks: 2}}
compare: {{rule: equal}}
replications: 2
root_seed: 11
run: {{weeks: 16, warmup_weeks: 4}}
"""


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def tiny(folder: Path, rows: tuple[str, ...] = ROWS, header: str = HEADER) -> Path:
    """A district of 3 small streets in `folder`; returns the district file."""
    (folder / "tiny.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return write(folder / "tiny.yaml", DISTRICT.format(base=REPO / "scenarios" / "base.yaml"))


# ------------------------------------------------------------------------------ the table


def test_templates_in_english_and_chinese_csv_and_excel_read_alike():
    tables = [
        read_table(DISTRICTS / f)
        for f in ("template_en.csv", "template_zh.csv", "template_en.xlsx", "template_zh.xlsx")
    ]
    first = [
        (r.street, r.community, r.residents, r.elderly_share, r.urban) for r in tables[0].rows()
    ]
    for t in tables[1:]:
        assert [r for r in t.rows()] == tables[0].rows(), t.path.name
    assert first[1][3] == pytest.approx(0.187)  # "18.7%" is a percentage
    assert [s.name for s in tables[0].streets] == ["东湖街道", "西山街道"]
    assert tables[0].streets[1].communities[0].urban is False
    assert tables[2].sheet == "communities" and tables[3].sheet == "社区"


def test_gbk_csv_with_units_in_headers_and_extra_columns_is_read(tmp_path):
    text = (
        "街道,社区,常住人口(人),老年人占比(%),未成年人占比,外来务工人员占比,残疾人占比,"
        "低保占比,社区社会组织数,持证社工数,注册志愿者数,活动场地小时数,备注\n"
        '东湖街道,东风社区,"5,200",26%,0.11,0.1,0.07,0.02,3,2.5,700,40,老小区\n'
    )
    (tmp_path / "gbk.csv").write_bytes(text.encode("gbk"))
    (row,) = read_table(tmp_path / "gbk.csv").rows()
    assert (row.residents, row.elderly_share, row.social_workers, row.urban) == (
        5200,
        0.26,
        2.5,
        True,
    )


BAD_TABLES = [
    # (what, header, rows, field in the message, problem in the message)
    ("missing column", HEADER.replace(",residents", ""), [",".join(r.split(",")[:2] + r.split(",")[3:]) for r in ROWS], "row 1, column residents", "missing"),
    ("negative residents", HEADER, [ROWS[0], ROWS[1].replace(",700,", ",-700,", 1)], "row 3, column residents", "positive whole number"),
    ("share above 1", HEADER, [ROWS[0].replace("0.30", "1.30", 1)], "row 2, column elderly_share", "share above 1"),
    ("percent above 100", HEADER, [ROWS[0].replace("0.30", "130%", 1)], "row 2, column elderly_share", "share above 1"),
    ("shares add up above 1", HEADER, [ROWS[0].replace("0.30,0.10,0.05", "0.60,0.30,0.20", 1)], "row 2, columns elderly_share..low_income_share", "add up to 1.220 > 1"),
    ("a street with no communities", HEADER, [ROWS[0], "Empty Street,,,,,,,,,,,,"], "row 3, column community", "street 'Empty Street' has no communities"),
    ("non-numeric cell", HEADER, [ROWS[0].replace(",150,", ",many,", 1)], "row 2, column registered_volunteers", "not a number (got 'many')"),
    ("empty cell", HEADER, [ROWS[0].replace(",30,urban", ",,urban", 1)], "row 2, column venue_hours", "empty"),
    ("fractional count", HEADER, [ROWS[0].replace(",900,", ",900.5,", 1)], "row 2, column residents", "not a whole number"),
    ("duplicate community", HEADER, [ROWS[0], ROWS[0]], "row 3, column community", "appears twice in street 'Old Town' (also row 2)"),
    ("volunteers above residents", HEADER, [ROWS[0].replace(",150,", ",1500,", 1)], "row 2, column registered_volunteers", "1,500 registered volunteers"),
    ("unknown urban flag", HEADER, [ROWS[0].replace(",urban", ",maybe", 1)], "row 2, column urban", "not urban or rural"),
    ("street too small", HEADER, [ROWS[3].replace(",300,", ",30,", 1)], "row 2, column street", "30 residents; a street needs 50"),
    ("header only", HEADER, [], "(file)", "no community rows"),
    ("empty file", "", [], "(file)", "the table is empty"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("header", "rows", "field", "problem"),
    [case[1:] for case in BAD_TABLES],
    ids=[case[0] for case in BAD_TABLES],
)
def test_a_bad_table_exits_2_with_one_line(tmp_path, capsys, header, rows, field, problem):
    district = tiny(tmp_path, tuple(rows), header)
    if not header:
        (tmp_path / "tiny.csv").write_bytes(b"")
    assert cli_main(["district", str(district), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"error: {tmp_path / 'tiny.csv'}: {field}: "), err
    assert problem in err, err
    assert not (tmp_path / "out").exists()


def _xlsx(path: Path, sheet: str, rows: list[list[object]]) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = sheet
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return path


def test_an_xlsx_without_the_sheet_or_with_a_bad_cell_exits_2(tmp_path, capsys):
    rows = [HEADER.split(","), *[r.split(",") for r in ROWS]]
    for r in rows[1:]:
        for i in range(2, 12):
            r[i] = float(r[i])
    district = tiny(tmp_path)
    district.write_text(district.read_text().replace("tiny.csv", "tiny.xlsx"), encoding="utf-8")
    _xlsx(tmp_path / "tiny.xlsx", "Sheet1", rows)
    assert cli_main(["district", str(district)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"{tmp_path / 'tiny.xlsx'}: (sheet): no sheet named 'communities' or '社区'" in err
    assert "(the workbook has: Sheet1)" in err
    rows[3][2] = -5.0  # New Park's residents, Excel row 4
    _xlsx(tmp_path / "tiny.xlsx", "社区", rows)
    assert cli_main(["district", str(district)]) == 2
    err = capsys.readouterr().err
    assert "tiny.xlsx: row 4, column residents: must be a positive whole number (got -5)" in err
    (tmp_path / "tiny.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    assert cli_main(["district", str(district)]) == 2
    assert "tiny.xlsx: (file): not an Excel workbook" in capsys.readouterr().err


BAD_DISTRICTS = [
    ("no extends", ("extends: ", "x_extends: "), "tiny.yaml: extends: required"),
    ("unknown rule", ("rule: performance", "rule: lottery"), "tiny.yaml: rule: Input should be"),
    ("negative budget", ("budget: 600000", "budget: -1"), "tiny.yaml: budget: Input should be greater than 0"),
    ("same comparison", ("compare: {rule: equal}", "compare: {rule: performance}"), "tiny.yaml: compare: the same rule and mechanisms"),
    ("table not found", ("table: tiny.csv", "table: nothere.csv"), "nothere.csv: (file): file not found"),
    ("table sets the street", ("run: {", "street: {n_residents: 5}\nrun: {"), "tiny.yaml: street.n_residents: set by the district's table"),
    ("unknown parameter", ("run: {", "volunteerz: {a: 1}\nrun: {"), "tiny.yaml: volunteerz: unknown key"),
    ("xlsx sheet on a csv", ("table: tiny.csv", "table: tiny.csv\nsheet: x"), "tiny.csv: (sheet): a CSV file has no sheets"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"), [c[1:] for c in BAD_DISTRICTS], ids=[c[0] for c in BAD_DISTRICTS]
)
def test_a_bad_district_file_exits_2_with_one_line(tmp_path, capsys, change, message):
    district = tiny(tmp_path)
    text = district.read_text()
    assert change[0] in text
    district.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    assert cli_main(["district", str(district)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


# ------------------------------------------------------------------------------ the model


def community(**kw) -> dict:
    base = dict(
        residents=3000, elderly=0.30, minor=0.10, migrant=0.05, disabled=0.08, low_income=0.03,
        social_organizations=3, social_workers=4, registered_volunteers=600, venue_hours=40,
    )  # fmt: skip
    return {**base, **kw}


def test_the_street_is_built_from_its_communities():
    table = {
        "old": community(),
        "new": community(
            residents=2000, elderly=0.05, minor=0.2, migrant=0.5, disabled=0.03,
            low_income=0.01, social_organizations=0, social_workers=0,
            registered_volunteers=60, venue_hours=20, urban=False,
        ),
    }  # fmt: skip
    p = Params.model_validate(
        {"run": {"weeks": 3, "warmup_weeks": 1}, "street": {"communities": table}}
    )
    assert (p.street.n_residents, p.street.n_communities) == (5000, 2)
    m = LinkageModel(p, seed=3)
    res = m.residents
    assert res.community_sizes().tolist() == [3000, 2000]
    assert [c.venue_hours for c in m.population.communities] == [40.0, 20.0]
    assert m.workforce.sw_pool == 4.0
    endo = [o.community for o in m.organizations if o.org_kind == "endogenous"]
    assert endo == [0, 0, 0]
    for c, spec in enumerate(table.values()):
        block = res.members(c)
        groups = np.bincount(res.group[block], minlength=6) / spec["residents"]
        want = [spec[g] for g in ("elderly", "minor", "migrant", "disabled", "low_income")]
        assert np.allclose(groups[:5], want, atol=0.03), (c, groups)
        registered = int((res.vol_state[block] > 0).sum())
        assert (
            abs(registered - spec["registered_volunteers"])
            < 4 * np.sqrt(spec["registered_volunteers"]) + 5
        ), (c, registered)


@pytest.mark.parametrize(
    ("street", "problem"),
    [
        ({"n_residents": 999, "communities": {"a": community()}}, "differs from the 3,000"),
        ({"n_communities": 2, "communities": {"a": community()}}, "n_communities (2) differs"),
        ({"communities": {}}, "the table is empty"),
        ({"communities": {"a": community(elderly=0.9)}}, "group shares add up to 1.160 > 1"),
        ({"communities": {"a": community(registered_volunteers=5000)}}, "exceed residents"),
    ],
)
def test_a_community_table_that_does_not_fit_is_refused(street, problem):
    with pytest.raises(ValueError, match=re.escape(problem)):
        Params.model_validate({"street": street})


# ------------------------------------------------------------------------------ split rules


def test_split_rules(tmp_path):
    d = load_district(tiny(tmp_path))
    streets = d.table.streets
    cat = Catalog.from_params(d.base.params)
    per = split_shares("per_resident", streets, cat)
    assert per.tolist() == pytest.approx([1600 / 4300, 2400 / 4300, 300 / 4300])
    assert split_shares("equal", streets, cat).tolist() == pytest.approx([1 / 3] * 3)
    need = split_shares("need_weighted", streets, cat)
    # the old street's residents need more hours than the migrant suburb's: more per resident
    assert need[0] / per[0] > 1 > need[1] / per[1]
    perf = split_shares("performance", streets, cat, np.array([0.5, 0.5, 1.0]))
    assert perf[2] / per[2] > perf[0] / per[0] == pytest.approx(perf[1] / per[1])
    assert split_shares("performance", streets, cat, np.array([0.5, 0.5, 1.0]), weight=0.0) == (
        pytest.approx(per)
    )
    for s in (per, need, perf):
        assert s.sum() == pytest.approx(1.0)


# ------------------------------------------------------------------------------ running


OUTPUTS = (
    "district_streets.csv",
    "district_totals.csv",
    "district_gains.csv",
    "district_communities.csv",
    "district_table.csv",
    "runs/timeseries.parquet",
    "pilot/timeseries.parquet",
)


@pytest.fixture(scope="module")
def district(tmp_path_factory) -> Path:
    return tiny(tmp_path_factory.mktemp("district"))


@pytest.fixture(scope="module")
def clean(district: Path) -> Path:
    res = run_district(district, district.parent / "clean", workers=1, progress=False)
    assert res.ok == res.runs == 12 and res.ran == 18  # 6 pilot runs, then 3 streets x 2 arms x 2
    return res.path


def test_same_bytes_with_two_workers_and_dask(district: Path, clean: Path):
    pytest.importorskip("distributed")
    for name, kw in (("two", {"workers": 2}), ("dask", {"workers": 2, "executor": "dask"})):
        res = run_district(district, district.parent / name, progress=False, **kw)
        for f in OUTPUTS:
            assert (res.path / f).read_bytes() == (clean / f).read_bytes(), (name, f)


def test_arms_are_paired_by_seed_and_the_budget_binds(clean: Path):
    runs = pd.read_parquet(clean / "runs" / "runs.parquet")
    runs[["arm", "street"]] = runs["scenario"].str.split("/", n=1, expand=True)
    seeds = runs.pivot_table(index=["street", "replication"], columns="arm", values="seed")
    assert (seeds["performance"] == seeds["equal"]).all()  # paired: a street's seeds
    assert seeds["equal"].nunique() == len(seeds)  # streets are independent worlds
    pilot = pd.read_parquet(clean / "pilot" / "runs.parquet")
    assert sorted(pilot["seed"]) == sorted(runs.loc[runs["arm"] == "equal", "seed"])
    meta = json.loads((clean / "district.json").read_text(encoding="utf-8"))
    assert set(meta["pilot"]["scores"]) == {"Old Town", "New Park", "Green Hill"}
    budgets = meta["budgets"]
    assert budgets["equal"]["Green Hill"] == pytest.approx(200_000)
    # Green Hill has 300 residents: an equal split gives it far more money than the
    # performance split (about its residents' share); it spends more in every replication
    spend = runs.pivot_table(
        index=["street", "replication"], columns="arm", values="gov_spending_annual"
    ).loc["Green Hill"]
    assert budgets["equal"]["Green Hill"] > 3 * budgets["performance"]["Green Hill"]
    assert (spend["equal"] > spend["performance"]).all()
    streets = pd.read_csv(clean / "district_streets.csv")
    assert len(streets) == 6 and set(streets["arm"]) == {"performance", "equal"}
    totals = pd.read_csv(clean / "district_totals.csv")
    sat = totals[(totals["metric"] == "need_satisfaction_rate")].set_index("arm")
    assert sat.loc["difference", "mean"] == pytest.approx(
        sat.loc["equal", "mean"] - sat.loc["performance", "mean"]
    )


def test_report_shows_every_street_and_the_district_total(clean: Path, tmp_path, capsys):
    assert cli_main(["report", str(clean), "--out", str(tmp_path / "rep")]) == 0
    out = capsys.readouterr().out
    assert "district need satisfaction" in out and "paired by seed" in out
    page = (tmp_path / "rep" / "report.html").read_text(encoding="utf-8")
    for street in ("Old Town", "New Park", "Green Hill"):
        assert street in page
    assert "District totals" in page and "Which streets gain most" in page
    streets = pd.read_csv(clean / "district_streets.csv")
    total = pd.read_csv(clean / "district_totals.csv")
    mean = total[(total["arm"] == "equal") & (total["metric"] == "need_satisfaction_rate")]
    assert f"{100 * float(mean['mean'].iloc[0]):.1f}%" in page  # the district total
    first = streets[(streets["arm"] == "equal") & (streets["street"] == "Old Town")]
    assert f"{100 * float(first['need_satisfaction_rate'].iloc[0]):.1f}%" in page
    for png in ("district_ranked.png", "district_gains.png", "district_budget.png"):
        assert (tmp_path / "rep" / png).stat().st_size > 1000
    assert cli_main(["report", str(clean), "--baseline", "x", "--out", str(tmp_path / "r2")]) == 2


def _cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "experiments.interfaces.cli", "district", *args, "--no-progress"]


def test_sigkill_mid_study_resumes_to_the_same_bytes(district: Path, clean: Path):
    out = district.parent / "killed"
    proc = subprocess.Popen(
        _cmd(str(district), "--workers", "1", "--out", str(out)),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    journal = out / "runs" / "journal.jsonl"
    try:
        end = time.monotonic() + 120
        while not (journal.exists() and journal.read_bytes().count(b"\n") >= 3):
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < end, "the study made no progress"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    done = journal.read_bytes().count(b"\n")
    assert 3 <= done < 12, "the study was not killed partway"
    assert not (out / "district_streets.csv").exists()
    assert cli_main(["report", str(out)]) == 2  # an unfinished study has no report yet
    r = subprocess.run(
        _cmd(str(district), "--workers", "1", "--out", str(out), "--resume"),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert f"12 ok, 0 failed of 12 runs; {12 - done} run" in r.stdout
    for f in OUTPUTS:
        assert (out / f).read_bytes() == (clean / f).read_bytes(), f


def test_resume_refuses_a_changed_table_and_a_finished_folder_is_not_overwritten(
    district: Path, clean: Path, tmp_path, capsys
):
    folder = tmp_path / "d"
    shutil.copytree(
        district.parent, folder, ignore=shutil.ignore_patterns("clean", "two", "dask", "killed")
    )
    out = tmp_path / "again"
    shutil.copytree(clean, out)
    assert cli_main(["district", str(folder / "tiny.yaml"), "--out", str(out)]) == 2
    assert "already holds results; use --resume" in capsys.readouterr().err
    table = folder / "tiny.csv"
    table.write_text(table.read_text().replace(",900,", ",901,"), encoding="utf-8")
    assert cli_main(["district", str(folder / "tiny.yaml"), "--out", str(out), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "--resume: the table" in err and "changed since this study started" in err


# ------------------------------------------------------------------------------ shipped files


def test_the_shipped_example_and_templates_are_current():
    import openpyxl
    from make_district_example import files

    for name, data in files().items():
        path = DISTRICTS / name
        if name.endswith(".csv"):
            assert path.read_bytes() == data, f"{name}: run python -m tests.make_district_example"
        else:  # compare cells: another openpyxl may write other bytes for the same workbook
            a = openpyxl.load_workbook(path, read_only=True)
            b = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
            assert a.sheetnames == b.sheetnames
            for s in a.sheetnames:
                assert list(a[s].iter_rows(values_only=True)) == list(
                    b[s].iter_rows(values_only=True)
                ), name


def test_the_example_district_is_twenty_streets_and_a_million_residents():
    for f in ("example.yaml", "example_linkage.yaml"):
        d = load_district(DISTRICTS / f)
        assert len(d.table.streets) == 20 and 950_000 < d.table.residents < 1_050_000
    t = d.table
    by_street = {s.name: s for s in t.streets}
    elderly = {
        n: sum(c.residents * c.elderly_share for c in s.communities) / s.residents
        for n, s in by_street.items()
    }
    migrant = {
        n: sum(c.residents * c.migrant_share for c in s.communities) / s.residents
        for n, s in by_street.items()
    }
    # spread like a real district: an old inner city, a migrant suburb, villages
    assert max(elderly.values()) > 0.27 > 0.08 > min(elderly.values())
    assert max(migrant.values()) > 0.45
    assert any(s.urban_share < 0.5 for s in t.streets)
    orgs = {n: sum(c.social_organizations for c in s.communities) for n, s in by_street.items()}
    assert orgs["建设街道"] == 0 and orgs["钟楼街道"] == max(orgs.values())
    with pytest.raises(ScenarioError):
        read_table(DISTRICTS / "example.yaml")
