"""Mesa's conventions: flat keyword parameters, `rng=`, `running`, `datacollector`, and Mesa's
own batch runner giving the same numbers as `run_model` for the same seed.

`mesa.batch_run` takes the seeds as `rng=[...]` from Mesa 3.4 on (Python >= 3.12 resolves 3.5);
Mesa 3.3 (Python 3.11) has no `rng` argument, and the seeds go in as a parameter instead.
"""

from __future__ import annotations

import inspect
import math

import mesa
import numpy as np
import pytest

from model import LinkageModel, Params, run_model

SMALL = {
    "street.n_residents": 3000,
    "street.n_communities": 2,
    "run.weeks": 8,
    "run.warmup_weeks": 2,
}


def _small_params(**more) -> Params:
    tree: dict = {}
    for key, value in {**SMALL, **more}.items():
        section, field = key.split(".")
        tree.setdefault(section, {})[field] = value
    return Params.model_validate(tree)


def _batch_run(parameters: dict, seeds: list[int], **options) -> list[dict]:
    if "rng" in inspect.signature(mesa.batch_run).parameters:  # Mesa >= 3.4
        return mesa.batch_run(
            LinkageModel, parameters=parameters, rng=seeds, display_progress=False, **options
        )
    return mesa.batch_run(  # Mesa 3.3
        LinkageModel, parameters={**parameters, "rng": seeds}, display_progress=False, **options
    )


def test_batch_run_gives_run_models_summary():
    rows = _batch_run({**SMALL, "providers.sw_per_10k": [3.0, 12.0]}, [11, 12])
    assert len(rows) == 4
    for row in rows:
        seed = row["seed"] if "seed" in row else row["rng"]
        p = _small_params(**{"providers.sw_per_10k": row["providers.sw_per_10k"]})
        expected = run_model(p, seed=seed).summary
        assert row["Step"] == SMALL["run.weeks"] - 1  # the last week: Mesa stopped on `running`
        for key, value in expected.items():
            got = row[f"summary_{key}"]
            assert got == value or (math.isnan(got) and math.isnan(value)), key
    # the lever binds through batch_run too: more social workers, more of them employed
    by_sw = {r["providers.sw_per_10k"]: r["summary_sw_count"] for r in rows}
    assert by_sw[12.0] > by_sw[3.0]


def test_batch_run_every_week_matches_the_time_series():
    rows = _batch_run(SMALL, [4], data_collection_period=1)
    ts = run_model(_small_params(), seed=4).timeseries
    assert [r["Step"] for r in rows] == list(range(SMALL["run.weeks"]))
    for r, (_, week) in zip(rows, ts.iterrows(), strict=True):
        assert r["needs_arisen"] == week["needs_arisen"]
        assert r["active_volunteers"] == week["active_volunteers"]
    assert math.isnan(rows[0]["summary_need_satisfaction_rate"])
    assert not math.isnan(rows[-1]["summary_need_satisfaction_rate"])


def test_running_turns_false_after_run_weeks_and_the_collector_is_the_recorder():
    m = LinkageModel(n_residents=3000, n_communities=2, weeks=6, warmup_weeks=1, rng=2)
    steps = 0
    while m.running:
        m.step()
        steps += 1
    assert steps == 6 and m.steps == 6
    df = m.datacollector.get_model_vars_dataframe()
    ts = m.timeseries()
    assert list(df.index) == list(range(6))
    assert np.array_equal(df["needs_met"].to_numpy(), ts["needs_met"].to_numpy())
    assert m.datacollector.model_vars["summary_needs_met"][-1] == m.summary()["needs_met"]
    assert m.datacollector.get_agent_vars_dataframe().empty


def test_keyword_forms_agree():
    a = LinkageModel(n_residents=3000, n_communities=2, weeks=6, warmup_weeks=1, seed=1)
    b = LinkageModel(**{"street.n_residents": 3000, "street.n_communities": 2}, run__weeks=6,
                     run__warmup_weeks=1, rng=1)  # fmt: skip
    c = LinkageModel(_small_params(**{"run.weeks": 6, "run.warmup_weeks": 1}), rng=np.int64(1))
    assert a.p == b.p == c.p and a.seed == b.seed == c.seed == 1


def test_bad_keywords_are_type_errors():
    with pytest.raises(TypeError, match="unexpected keyword argument 'n_resident'"):
        LinkageModel(n_resident=10)
    with pytest.raises(TypeError, match="ambiguous.*policies"):
        LinkageModel(enabled=True)
    with pytest.raises(ValueError, match="either seed or rng"):
        LinkageModel(seed=1, rng=2)


def test_rng_objects_give_a_reproducible_seed():
    s1 = LinkageModel(n_residents=1000, n_communities=1, rng=np.random.SeedSequence(7)).seed
    s2 = LinkageModel(n_residents=1000, n_communities=1, rng=np.random.SeedSequence(7)).seed
    assert s1 == s2
    g = LinkageModel(n_residents=1000, n_communities=1, rng=np.random.default_rng(7)).seed
    assert g == LinkageModel(n_residents=1000, n_communities=1, rng=np.random.default_rng(7)).seed
