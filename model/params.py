"""The typed parameter tree of the Four-Society Linkage model.

Every field carries a description, a unit, a default, a valid range and a source (a figure in
`docs/sources.md`, or "assumption" with a sensitivity range). Unknown keys raise: a typo in
a scenario file is an error, never a silent default (Covasim's parameters.py habit).

Rates are per week unless the unit says otherwise; money is in yuan.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from model.community_table import MAX_COMMUNITIES, CommunitySpec
from model.schema import ASSUMPTION, CHANNELS, GROUPS, LEVER, SETTING, P, Section  # noqa: E402,F401


class RunParams(Section):
    weeks: int = P(
        260,
        1,
        5200,
        "weeks",
        "Run length; one Mesa step is one week.",
        "docs/sources.md (design): 5 years by default",
    )
    warmup_weeks: int = P(
        52,
        0,
        2600,
        "weeks",
        "Weeks excluded from summary metrics (the system fills up).",
        ASSUMPTION,
        plausible=(0.0, 104),
    )


class GroupShares(Section):
    elderly: float = P(
        0.19, 0, 1, "share", "Residents aged 60+.", "7th national census 2020: 18.7% aged 60+"
    )
    minor: float = P(
        0.17,
        0,
        1,
        "share",
        "Residents under 18 in the minors' group.",
        "7th national census 2020: 17.95% aged 0-14",
    )
    migrant: float = P(
        0.12,
        0,
        1,
        "share",
        "Migrant workers (外来务工人员).",
        ASSUMPTION + " (urban street)",
        plausible=(0.05, 0.35),
    )
    disabled: float = P(
        0.06,
        0,
        1,
        "share",
        "Persons with disabilities.",
        "CDPF 2006 survey: 85 million, about 6.3% of the population",
    )
    low_income: float = P(
        0.03,
        0,
        1,
        "share",
        "Low-income families (低保/低收入).",
        ASSUMPTION,
        plausible=(0.01, 0.08),
    )

    @model_validator(mode="after")
    def _sum(self) -> GroupShares:
        total = self.elderly + self.minor + self.migrant + self.disabled + self.low_income
        if total > 1.0 + 1e-9:
            raise ValueError(f"group shares add up to {total:.3f} > 1 (the rest are 'general')")
        return self


class StreetParams(Section):
    n_communities: int = P(
        10,
        1,
        200,
        "communities",
        "Communities (社区) in the street (街道).",
        SETTING + " (a typical urban street has 8-15)",
    )
    n_residents: int = P(
        50_000,
        50,
        5_000_000,
        "residents",
        "Residents in the street.",
        SETTING + " (urban streets: 30,000-100,000)",
    )
    community_size_cv: float = P(
        0.3,
        0,
        1,
        "ratio",
        "Coefficient of variation of community sizes.",
        ASSUMPTION,
        plausible=(0.0, 0.6),
    )
    groups: GroupShares = Field(
        default_factory=GroupShares, description="Resident group shares; the rest are 'general'."
    )
    venue_hours: float = P(
        60.0,
        0,
        10_000,
        "hours/week",
        "Activity-room hours per community per week (服务用房); group activities compete for them.",
        ASSUMPTION,
        plausible=(20, 200),
    )
    activity_group_size: float = P(
        8.0,
        1,
        100,
        "residents",
        "Residents served together in one group activity.",
        ASSUMPTION,
        plausible=(4, 20),
    )
    initial_trust: float = P(
        0.5,
        0,
        1,
        "0-1",
        "Mean initial trust of residents in community services.",
        ASSUMPTION,
        plausible=(0.3, 0.7),
    )
    trust_gain: float = P(
        0.05,
        0,
        1,
        "per need",
        "Trust gained when a need is met (times quality).",
        ASSUMPTION,
        plausible=(0.01, 0.1),
    )
    trust_loss: float = P(
        0.08,
        0,
        1,
        "per need",
        "Trust lost when a need is abandoned.",
        ASSUMPTION,
        plausible=(0.02, 0.15),
    )
    trust_loss_unresolved: float = P(
        0.03,
        0,
        1,
        "per need",
        "Trust lost when a need is served but not resolved (`service.outcome` 'resolution').",
        ASSUMPTION,
        plausible=(0.0, 0.08),
    )
    communities: dict[str, CommunitySpec] | None = Field(
        None,
        description="Optional per-community table (model/community_table.py), keyed by "
        "community; when given it sets the communities' sizes, groups, organizations, social "
        "workers, volunteers and venue hours, and n_residents and n_communities follow from it.",
        json_schema_extra={"unit": "table", "source": SETTING},
    )

    @model_validator(mode="before")
    @classmethod
    def _sizes_from_table(cls, data: Any) -> Any:
        """With a community table, `n_residents` and `n_communities` default to its totals."""
        if isinstance(data, dict) and isinstance(data.get("communities"), dict):
            table = data["communities"]
            if table and all(isinstance(c, dict | CommunitySpec) for c in table.values()):
                res = [
                    c.residents if isinstance(c, CommunitySpec) else c.get("residents")
                    for c in table.values()
                ]
                if "n_residents" not in data and all(isinstance(r, int) for r in res):
                    data = {**data, "n_residents": sum(res)}
                if "n_communities" not in data:
                    data = {**data, "n_communities": len(table)}
        return data

    @model_validator(mode="after")
    def _table_fits(self) -> StreetParams:
        table = self.communities
        if table is None:
            return self
        if not table:
            raise ValueError("communities: the table is empty (leave it out, or list communities)")
        if len(table) > MAX_COMMUNITIES:
            raise ValueError(f"communities: {len(table)} communities, at most {MAX_COMMUNITIES}")
        if self.n_communities != len(table):
            raise ValueError(
                f"n_communities ({self.n_communities}) differs from the {len(table)} communities "
                "of the table (leave it out)"
            )
        total = sum(c.residents for c in table.values())
        if self.n_residents != total:
            raise ValueError(
                f"n_residents ({self.n_residents:,}) differs from the {total:,} residents of the "
                "communities (leave it out)"
            )
        return self

    def community_list(self) -> list[CommunitySpec] | None:
        """The community table in community order (index 0, 1, ...), or None."""
        return None if self.communities is None else list(self.communities.values())


MAX_NEED_RATE = 1000.0
"""Highest need rate (needs per 1,000 residents per week): one need per resident a week."""


class NeedType(Section):
    """One entry of the need catalog."""

    label_zh: str = Field("", description="Chinese name.")
    level: int = P(
        0,
        0,
        2,
        "level",
        "Required skill: 0 any volunteer, 1 trained volunteer or staff, 2 social worker.",
        ASSUMPTION,
    )
    hours: float = P(2.0, 0.05, 200, "hours", "Mean service hours.", ASSUMPTION)
    patience: float = P(
        168.0,
        1,
        20_000,
        "hours",
        "Mean patience before the resident gives up (`service.patience_dist`).",
        ASSUMPTION,
    )
    hidden: float = P(
        0.0, 0, 1, "share", "Share of these needs that are hidden until discovered.", ASSUMPTION
    )
    area: Literal["professional", "care"] = Field(
        "care",
        description="Service area of the project list (professional social work or community care).",
    )
    venue: bool = Field(False, description="A group activity that needs venue hours.")
    rates: dict[str, float] = Field(
        default_factory=dict, description="Needs per 1,000 residents per week, by group."
    )
    sessions: float = P(
        1.0,
        1,
        50,
        "sessions",
        "Mean sessions of one case: 1 + Poisson(mean - 1), each of the need's service hours, "
        "`service.session_gap_hours` apart.",
        ASSUMPTION + " (professional casework: intake, sessions, closing; range 2-6 for level 2)",
    )
    complex_share: float = P(
        0.0,
        0,
        1,
        "share",
        "Share of these needs that are complex: they need a social worker, an organization and "
        "volunteers together, and one provider alone resolves them with "
        "`service.complex_penalty` x the usual chance (the joint meeting's cases).",
        ASSUMPTION + " (range 0-0.3 for level 2)",
    )

    @model_validator(mode="after")
    def _groups(self) -> NeedType:
        for g, r in self.rates.items():
            if g not in GROUPS:
                raise ValueError(
                    f"unknown resident group '{g}' (expected one of {', '.join(GROUPS)})"
                )
            if not 0 <= r <= MAX_NEED_RATE:
                raise ValueError(f"rate for '{g}' must be between 0 and {MAX_NEED_RATE:g}, got {r}")
        return self


def _need(
    zh: str,
    level: int,
    hours: float,
    patience: float,
    hidden: float,
    area: str,
    rates: dict[str, float],
    venue: bool = False,
    sessions: float = 1.0,
    complex_share: float = 0.0,
) -> NeedType:
    return NeedType(
        label_zh=zh,
        level=level,
        hours=hours,
        patience=patience,
        hidden=hidden,
        area=area,
        rates=rates,
        venue=venue,
        sessions=sessions,
        complex_share=complex_share,
    )


CASE_SESSIONS = 3.0
"""Mean sessions of a professional (level-2) case: intake, sessions, closing (assumption,
range 2-6): at weekly sessions a case stays open about three weeks, so a social worker holds
about 10 open cases (docs/validation.md, patterns P3-P4)."""
COMPLEX_SHARE = 0.2
"""Share of professional cases that are complex: they need a social worker, an organization and
volunteers together (the joint meeting's cases; assumption, range 0-0.3)."""


def default_needs() -> dict[str, NeedType]:
    """The default need catalog (rates are assumptions; see docs/ODD.md, Input).

    Life care of the elderly is sized on the disabled and semi-disabled elderly: 18.3% of people
    aged 60+ (docs/sources.md) with about 0.55 visits a week each (assumption) is about 100
    needs per 1,000 elderly a week, tuned to the pattern that more than half of their care
    needs are not fully met. Patience means (gamma, shape 2) are weeks for chronic and
    professional needs."""
    return {
        "life_care": _need(
            "生活照料",
            0,
            2.0,
            168,
            0.05,
            "care",
            {"elderly": 100, "disabled": 12, "low_income": 3, "general": 0.3},
        ),
        "psych_counselling": _need(
            "心理疏导",
            2,
            1.5,
            1008,
            0.6,
            "professional",
            {
                "elderly": 1.5,
                "minor": 2.5,
                "migrant": 2,
                "disabled": 3,
                "low_income": 3,
                "general": 0.4,
            },
            sessions=CASE_SESSIONS,
            complex_share=COMPLEX_SHARE,
        ),
        "emotional_comfort": _need(
            "精神抚慰",
            1,
            1.5,
            504,
            0.5,
            "care",
            {"elderly": 6, "disabled": 4, "low_income": 2, "general": 0.2},
        ),
        "relationship_adjustment": _need(
            "关系调适",
            2,
            2.0,
            1008,
            0.4,
            "professional",
            {"elderly": 1, "minor": 1.5, "migrant": 1, "low_income": 2, "general": 0.4},
            sessions=CASE_SESSIONS,
            complex_share=COMPLEX_SHARE,
        ),
        "community_integration": _need(
            "社区融入",
            1,
            2.0,
            1344,
            0.3,
            "care",
            {"minor": 2, "migrant": 4, "disabled": 2, "general": 0.2},
        ),
        "employment_guidance": _need(
            "就业辅导", 1, 2.0, 672, 0.1, "care", {"migrant": 4, "low_income": 6, "disabled": 2}
        ),
        "policy_consultation": _need(
            "政策咨询",
            1,
            1.0,
            336,
            0.05,
            "care",
            {"elderly": 2, "migrant": 2, "low_income": 6, "disabled": 3, "general": 0.4},
        ),
        "rehabilitation": _need(
            "社区康复",
            2,
            2.0,
            672,
            0.1,
            "professional",
            {"elderly": 3, "disabled": 10},
            sessions=CASE_SESSIONS,
            complex_share=COMPLEX_SHARE,
        ),
        "community_correction": _need(
            "社区矫正",
            2,
            2.0,
            336,
            0.0,
            "professional",
            {"migrant": 0.3, "low_income": 0.5, "general": 0.2},
            sessions=CASE_SESSIONS,
            complex_share=COMPLEX_SHARE,
        ),
        "culture_sports": _need(
            "文体活动",
            0,
            2.0,
            336,
            0.0,
            "care",
            {
                "elderly": 3,
                "minor": 3,
                "migrant": 1,
                "disabled": 1,
                "low_income": 1,
                "general": 1.5,
            },
            venue=True,
        ),
    }


class ServiceParams(Section):
    service_time: Literal["exponential", "lognormal", "fixed"] = Field(
        "lognormal", description="Distribution of service hours around each need type's mean."
    )
    lognormal_sigma: float = P(
        0.5,
        0.01,
        3,
        "log-sd",
        "Shape of the lognormal service time.",
        ASSUMPTION,
        plausible=(0.2, 1),
    )
    patience_dist: Literal["exponential", "gamma", "fixed", "none"] = Field(
        "gamma",
        description="Patience distribution around each need type's mean ('gamma': shape "
        "`patience_shape`; 'none': residents never give up).",
    )
    patience_shape: float = P(
        2.0,
        0.5,
        20,
        "shape",
        "Shape of gamma-distributed patience (1 is exponential; larger puts less mass near zero).",
        ASSUMPTION,
        plausible=(1, 4),
    )
    matching_delay_hours: float = P(
        48.0,
        0,
        1000,
        "hours",
        "Delay before a need reaches providers without the information platform (word of "
        "mouth, the residents' committee's next service day). No source: an explicit "
        "uncertainty (a community worker's next service day at 1-5 service days a week is "
        "17-84 h away on average).",
        ASSUMPTION,
        plausible=(12, 120),
    )
    matching_delay_dist: Literal["fixed", "exponential"] = Field(
        "fixed",
        description="The intake delay of each need: the mean for every need ('fixed'), or "
        "drawn exponential around it ('exponential').",
    )
    min_shift_left_hours: float = P(
        1.0,
        0,
        24,
        "hours",
        "A provider starts a session only with at least this much of its shift left (what "
        "still overruns the shift counts as overtime, i.e. duty time).",
        ASSUMPTION,
        plausible=(0.0, 1.5),
    )
    outcome: Literal["resolution", "service"] = Field(
        "resolution",
        description="What counts as a met need: 'resolution' (a need served to its last "
        "session is resolved with a chance that depends on the provider's quality and level, "
        "a team and complexity; unresolved needs may come back) or 'service' (every need "
        "served counts, at `below_level_quality` when served below its level).",
    )
    resolve_base: float = P(
        0.75,
        0,
        1,
        "probability",
        "Chance that a need served at its level by a provider of mean quality is resolved.",
        ASSUMPTION + " (no published outcome rate; tuned to the elderly care-unmet pattern)",
        plausible=(0.6, 0.9),
    )
    quality_elasticity: float = P(
        1.0,
        0,
        5,
        "ratio",
        "The resolution chance scales as (quality / quality_mean) ** elasticity.",
        ASSUMPTION,
        plausible=(0.5, 2),
    )
    team_bonus: float = P(
        0.15,
        0,
        2,
        "share",
        "Resolution chance x (1 + bonus) for a team: a volunteer assisted the social worker, or "
        "a joint case.",
        ASSUMPTION,
        plausible=(0.0, 0.3),
    )
    complex_penalty: float = P(
        0.4,
        0,
        1,
        "multiplier",
        "Resolution chance of a complex need served by one provider alone (not a joint case), x.",
        ASSUMPTION,
        plausible=(0.2, 0.7),
    )
    return_share: float = P(
        0.5,
        0,
        1,
        "probability",
        "Chance that an unresolved need comes back for one more session (otherwise it ends "
        "served but unresolved).",
        ASSUMPTION,
        plausible=(0.2, 0.8),
    )
    max_returns: int = P(
        1, 0, 10, "times", "Most times one need comes back.", ASSUMPTION, plausible=(0, 2)
    )
    return_delay_hours: float = P(
        336.0,
        0,
        10_000,
        "hours",
        "Time after an unresolved service until the need comes back.",
        ASSUMPTION,
        plausible=(168, 1000),
    )
    session_gap_hours: float = P(
        168.0,
        0,
        5000,
        "hours",
        "Time between two sessions of a case (weekly sessions).",
        ASSUMPTION,
        plausible=(72, 336),
    )
    followup_patience_hours: float = P(
        336.0,
        1,
        20_000,
        "hours",
        "A case drops out when its next session has not started within this time.",
        ASSUMPTION,
        plausible=(168, 672),
    )
    below_level_quality: float = P(
        0.4,
        0,
        1,
        "0-1",
        "Service quality when the provider's skill is below the need's level.",
        ASSUMPTION,
        plausible=(0.2, 0.7),
    )
    fallback_wait_hours: float = P(
        120.0,
        0,
        10_000,
        "hours",
        "After this wait, a need with no adequate provider in reach is served below level by whoever is free.",
        ASSUMPTION,
        plausible=(24, 336),
    )
    sw_takes_level0: bool = Field(
        False,
        description="Whether social workers also take level-0 chores (usually not: professional time is scarce).",
    )
    quality_mean: float = P(
        0.8,
        0,
        1,
        "0-1",
        "Mean intrinsic quality of providers.",
        ASSUMPTION,
        plausible=(0.6, 0.9),
    )
    quality_sd: float = P(
        0.1,
        0,
        0.5,
        "0-1",
        "Spread of intrinsic provider quality.",
        ASSUMPTION,
        plausible=(0.05, 0.2),
    )
    rating_noise: float = P(
        0.1,
        0,
        1,
        "0-1",
        "Noise of a resident's rating around the quality received.",
        ASSUMPTION,
        plausible=(0.05, 0.3),
    )
    reputation_alpha: float = P(
        0.1,
        0.001,
        1,
        "weight",
        "Weight of the newest rating in a provider's exponentially weighted reputation.",
        ASSUMPTION,
        plausible=(0.05, 0.3),
    )
    shift_start_hour: float = P(
        9.0,
        0,
        23,
        "hour of day",
        "When daily shifts of paid staff start.",
        ASSUMPTION,
        plausible=(8, 10),
    )
    work_days: int = P(
        5, 1, 7, "days/week", "Working days of paid staff.", ASSUMPTION, plausible=(5, 6)
    )


class ProviderParams(Section):
    sw_per_10k: float = P(
        3.0,
        0,
        100,
        "per 10,000 residents",
        "Working social workers available to the street per 10,000 residents (the labour "
        "pool): certified 6.6 per 10,000 nationally x about 26% working in the sector (1.4), "
        "up to Shenzhen's whole sector (5.5); 3.0 is about their geometric middle.",
        "docs/sources.md: 931k certified SWs in 2022 (6.6 per 10,000); Shenzhen 2023: 9,693 "
        "working of 36,874 certified, about 5.5 per 10,000",
        plausible=(1, 5.5),
    )
    sw_hours: float = P(
        40.0,
        1,
        168,
        "hours/week",
        "Working hours of a social worker.",
        ASSUMPTION
        + " (standard week; docs/sources.md: English social workers worked 46 h against 37 contracted)",
        plausible=(37, 46),
    )
    sw_admin_share: float = P(
        0.45,
        0,
        0.95,
        "share",
        "Share of a social worker's (and paid staff's) hours spent on administration and "
        "meetings, not on service.",
        "docs/sources.md: English social workers spent 35% of their time on administration and "
        "12% in meetings (no Chinese time-use figure)",
        plausible=(0.3, 0.6),
    )
    sw_salary: float = P(
        80_000.0,
        0,
        1e7,
        "yuan/year",
        "Employer cost of a social worker.",
        "docs/sources.md: post price 60,000-150,000 yuan per year",
    )
    staff_salary: float = P(
        50_000.0,
        0,
        1e7,
        "yuan/year",
        "Employer cost of non-professional service staff.",
        ASSUMPTION,
        plausible=(36000, 70000),
    )
    cw_per_community: float = P(
        5.5,
        0,
        100,
        "workers",
        "Community workers (residents' committee members) per community.",
        "docs/sources.md: 616,000 members of 113,000 residents' committees, about 5.5 each (2020)",
    )
    cw_hours: float = P(
        40.0,
        1,
        168,
        "hours/week",
        "Working hours of a community worker.",
        ASSUMPTION,
        plausible=(37, 46),
    )
    cw_service_days: int = P(
        2,
        1,
        7,
        "days/week",
        "Days a week a community worker holds service hours (the rest of the week is administration).",
        ASSUMPTION,
        plausible=(1, 5),
    )
    cw_admin_share: float = P(
        0.85,
        0,
        1,
        "share",
        "Share of a community worker's hours spent on administration (行政化).",
        ASSUMPTION,
        plausible=(0.6, 0.95),
    )
    embedded_orgs: int = P(
        4,
        0,
        1000,
        "organizations",
        "Embedded social-work agencies (嵌入式) active in the street at start.",
        ASSUMPTION,
        plausible=(1, 10),
    )
    endogenous_orgs_per_community: float = P(
        2.8,
        0,
        50,
        "organizations",
        "Community social organizations (内生性) per community at start.",
        "docs/sources.md: more than 1.75 million community social organizations for about "
        "615,000 committees, about 2.8 per community (2022)",
        plausible=(1.5, 5),
    )
    embedded_core_sw: int = P(
        2,
        0,
        100,
        "social workers",
        "Social workers an embedded agency keeps on its own funds.",
        ASSUMPTION,
        plausible=(0.0, 5),
    )
    embedded_reserve: float = P(
        150_000.0,
        0,
        1e9,
        "yuan",
        "Starting funds of an embedded agency.",
        ASSUMPTION,
        plausible=(50000, 500000),
    )
    endogenous_reserve: float = P(
        10_000.0,
        0,
        1e9,
        "yuan",
        "Starting funds of a community social organization.",
        ASSUMPTION,
        plausible=(0.0, 50000),
    )
    endogenous_team: int = P(
        8,
        0,
        1000,
        "volunteers",
        "Volunteer team of a new community social organization.",
        ASSUMPTION,
        plausible=(3, 30),
    )
    donations: float = P(
        100.0,
        0,
        1e7,
        "yuan/week",
        "Donations and fees an organization raises per week.",
        ASSUMPTION + " (docs/sources.md: a community charity fund holds 20,000-80,000 yuan in all)",
        plausible=(0.0, 1000),
    )
    activity_cost: float = P(
        100.0,
        0,
        1e6,
        "yuan/week",
        "Running cost of a community social organization (activities, materials).",
        ASSUMPTION + " (runs on its donations)",
        plausible=(50, 500),
    )
    closure_weeks: int = P(
        13,
        1,
        520,
        "weeks",
        "An organization closes after this many weeks with negative funds.",
        ASSUMPTION,
        plausible=(4, 26),
    )
    endogenous_wage_factor: float = P(
        1.0,
        0.1,
        2,
        "ratio",
        "A community organization pays its hired staff this share of `staff_salary` (and prices "
        "its bids from the same wage).",
        ASSUMPTION + " (no source for a lower wage)",
        plausible=(0.7, 1),
    )
    agency_outside_income: float = P(
        150_000.0,
        0,
        1e9,
        "yuan/year per agency",
        "Income of an embedded social-work agency from outside the street's budget (district "
        "or provincial station programmes, other contracts, foundations): it keeps the agency's "
        "core social workers employed without a street contract.",
        "docs/sources.md: a street social-work station costs about 146,000-150,000 yuan a year "
        "(national average; Guangdong 双百), paid from district or provincial funds",
        plausible=(0.0, 300000),
    )
    org_capacity_per_community: float = P(
        10.0,
        1,
        1000,
        "organizations",
        "Carrying capacity: founding of community organizations slows as (1 - organizations / "
        "capacity) in their community and stops at it.",
        ASSUMPTION + " (docs/sources.md: policy target at least 10 per urban community; "
        "Wuhan 2023 about 7.5)",
        plausible=(5, 15),
    )
    org_exit_annual: float = P(
        0.05,
        0,
        1,
        "share/year",
        "Yearly exit hazard of a community organization without a contract (besides "
        "bankruptcy and a team too small).",
        ASSUMPTION + " (docs/sources.md: the national stock falls about 1%/yr net with "
        "50,000-80,000 new a year; forced exits about 0.5%/yr)",
        plausible=(0.02, 0.1),
    )
    org_min_team: int = P(
        3,
        0,
        100,
        "volunteers",
        "A community organization whose volunteer team stays below this for 26 weeks dissolves.",
        ASSUMPTION,
        plausible=(0, 5),
    )
    team_refill_rate: float = P(
        0.02,
        0,
        1,
        "share/week",
        "Share of the gap to `endogenous_team` a community organization refills each week from "
        "its community's active volunteers not in a team.",
        ASSUMPTION,
        plausible=(0.005, 0.05),
    )


class VolunteerParams(Section):
    registered_share: float = P(
        0.12,
        0,
        1,
        "share of residents",
        "Registered volunteers at start.",
        "docs/sources.md: 169 million registered, 0.12",
        plausible=(0.05, 0.25),
    )
    active_share: float = P(
        0.4,
        0,
        1,
        "share of registered",
        "Active share of registered volunteers at start.",
        "docs/sources.md: 0.4",
        plausible=(0.25, 0.6),
    )
    hours_min: float = P(
        1.0,
        0,
        40,
        "hours/shift",
        "Least hours an active volunteer offers in a week they serve.",
        "docs/sources.md (design): 1-4 h",
    )
    hours_max: float = P(
        4.0,
        0,
        40,
        "hours/shift",
        "Most hours an active volunteer offers in a week they serve.",
        "docs/sources.md (design): 1-4 h",
    )
    participation: float = P(
        0.09,
        0.001,
        1,
        "probability/week",
        "Chance an active volunteer serves in a given week (before motivation and the "
        "time-bank subsidy).",
        ASSUMPTION + " (tuned to 4.2-6.4 hours served per registered volunteer a year, "
        "docs/sources.md, with volunteers busy most of their duty time)",
        plausible=(0.05, 0.2),
    )
    retention_annual: float = P(
        0.65,
        0.01,
        1,
        "share/year",
        "Annual retention of active volunteers with no recognition, supervision or credits.",
        "docs/sources.md: about 65%",
        plausible=(0.5, 0.8),
    )
    tenure_effect: float = P(
        0.1,
        0,
        2,
        "per year of tenure",
        "Dropout hazard falls as exp(-effect x tenure years).",
        "docs/sources.md: dropout hazard falls with tenure; size is an assumption",
        plausible=(0.0, 0.3),
    )
    recruitment_rate: float = P(
        0.0004,
        0,
        0.1,
        "per resident-week",
        "Chance a resident (not an active volunteer) becomes active, at trust 0.5.",
        ASSUMPTION + " (sized to keep the active pool steady)",
        plausible=(0.0001, 0.001),
    )
    initial_skill1_share: float = P(
        0.1,
        0,
        1,
        "share",
        "Active volunteers trained to skill 1 at start.",
        ASSUMPTION,
        plausible=(0.0, 0.3),
    )
    max_active_share: float = P(
        0.10,
        0.001,
        1,
        "share of residents",
        "Saturation: every flow of new active volunteers (everyday recruitment, mobilization, "
        "leaders, project teams, incubated organizations) falls as (1 - active / (this x "
        "residents)) in its community.",
        ASSUMPTION + " (docs/sources.md: registered 13.5% nationally, 22% in Wuhan)",
        plausible=(0.05, 0.2),
    )
    deregistration_annual: float = P(
        0.10,
        0,
        1,
        "share/year",
        "Yearly chance that a lapsed (registered, inactive) volunteer leaves the register "
        "(moves away, the record is cleaned).",
        ASSUMPTION,
        plausible=(0.02, 0.2),
    )
    motivation_effect: float = P(
        1.0,
        0,
        1.9,
        "ratio",
        "Motivation m (0-1, from residents' ratings when volunteer evaluation is on) scales "
        "weekly participation by 1 + effect x (m - 0.5) and the dropout hazard by "
        "1 - effect x (m - 0.5).",
        ASSUMPTION,
        plausible=(0.0, 1.5),
    )
    leader_exit_annual: float = P(
        0.10,
        0,
        1,
        "share/year",
        "Yearly chance that a resident leader (骨干) stops leading.",
        ASSUMPTION,
        plausible=(0.05, 0.2),
    )
    leaders_max_per_1000: float = P(
        5.0,
        0.1,
        1000,
        "per 1,000 residents",
        "Most resident leaders a community holds: social workers cultivate new ones only below it.",
        ASSUMPTION,
        plausible=(3, 10),
    )


SHARE_TOLERANCE = 1e-6
"""How far the allocation shares may add up from exactly 1 (rounding in a file or a design)."""


class BudgetAllocation(Section):
    """Shares of the programme budget (after platform and evaluation costs) by channel; they
    must add up to 1 (within `SHARE_TOLERANCE`)."""

    procurement: float = P(
        0.55, 0, 1, "share", "Competitive project procurement (项目购买).", LEVER
    )
    posts: float = P(0.35, 0, 1, "share", "Post purchase (岗位购买) of social-work posts.", LEVER)
    venture: float = P(0.05, 0, 1, "share", "Venture-philanthropy seed grants (公益创投).", LEVER)
    incubation: float = P(
        0.0,
        0,
        1,
        "share",
        "Incubation support for community social organizations (孵化).",
        LEVER,
    )
    timebank: float = P(0.0, 0, 1, "share", "Time-bank subsidy and backstop (时间储蓄).", LEVER)
    block_grant: float = P(
        0.05,
        0,
        1,
        "share",
        "Block grants to residents' committees, spent on their own staff.",
        LEVER,
    )

    @model_validator(mode="after")
    def _sum(self) -> BudgetAllocation:
        total = sum(getattr(self, k) for k in type(self).model_fields)
        if abs(total - 1.0) > SHARE_TOLERANCE:
            raise ValueError(
                f"allocation shares add up to {total:.6g}, not 1 (every yuan of the programme "
                "budget goes to a channel; give block_grant the rest)"
            )
        return self


class FundingParams(Section):
    special_fund: float = P(
        2_000_000.0,
        0,
        1e10,
        "yuan/year",
        "Special fund (专项资金) of the street for community services.",
        ASSUMPTION + " (docs/sources.md: about 146k yuan per station per year)",
        plausible=(500000, 5000000),
    )
    lottery_fund: float = P(
        600_000.0,
        0,
        1e10,
        "yuan/year",
        "Lottery welfare fund (福利彩票公益金) contribution.",
        ASSUMPTION,
        plausible=(0.0, 2000000),
    )
    allocation: BudgetAllocation = Field(default_factory=BudgetAllocation)
    fallback: Literal["block_grant", "posts"] = Field(
        "block_grant",
        description="Budget execution: the channel that receives the money another channel cannot "
        "use in a quarter (model/finance.py). Default block grants: the residents' committees can "
        "always hire their own staff; posts can absorb money only while social workers can be hired "
        "(what posts cannot use goes on to block grants).",
        json_schema_extra={"unit": "channel", "source": LEVER},
    )
    execution_margin: float = P(
        0.05,
        0,
        1,
        "share",
        "Budget execution: a channel keeps its expected spending for the rest of the year plus this "
        "share of it at each quarterly review; the rest moves to the fallback channel.",
        ASSUMPTION + " (a finance office's safety margin)",
        plausible=(0.0, 0.2),
    )
    purchase_earmarked: bool = P(
        True,
        None,
        None,
        "switch",
        "Budget execution: the channels of government purchase of social-work services (posts "
        "and project procurement) are earmarked (专款专用): what they cannot use (no social "
        "worker to hire, a post left vacant, instalments a project did not earn) is not moved "
        "to another channel at the quarterly reviews and is returned at the year's end. Off: it "
        "moves to `fallback` like any channel's (the funding-strategies study declares this, to "
        "compare strategies at equal spending).",
        SETTING
        + " (assumed for a typical street: special funds and lottery welfare funds are spent "
        "only on their stated purpose, 专款专用, and unspent purchase money goes back to the "
        "finance bureau, not to the residents' committees' payroll; docs/funding.md)",
    )


from model.careers import CareerParams  # noqa: E402
from model.policies import PoliciesParams  # noqa: E402  (policies build on Section, above)


class Params(Section):
    """All parameters of one run. `Params()` is the default street."""

    run: RunParams = Field(default_factory=RunParams)
    street: StreetParams = Field(default_factory=StreetParams)
    needs: dict[str, NeedType] = Field(
        default_factory=default_needs, description="The need catalog, keyed by need name."
    )
    service: ServiceParams = Field(default_factory=ServiceParams)
    providers: ProviderParams = Field(default_factory=ProviderParams)
    volunteers: VolunteerParams = Field(default_factory=VolunteerParams)
    funding: FundingParams = Field(default_factory=FundingParams)
    careers: CareerParams = Field(
        default_factory=CareerParams, description="Social workers' turnover and vacancies."
    )
    policies: PoliciesParams = Field(
        default_factory=PoliciesParams, description="The linkage levers, one section per policy."
    )

    @model_validator(mode="before")
    @classmethod
    def _merge_needs(cls, data: Any) -> Any:
        """A `needs:` mapping edits the default catalog: an entry naming a default type changes
        only the fields it gives; a new name adds a type; `null` removes a type."""
        if isinstance(data, dict) and isinstance(data.get("needs"), dict):
            merged: dict[str, Any] = {k: v.model_dump() for k, v in default_needs().items()}
            for name, entry in data["needs"].items():
                if entry is None:
                    merged.pop(name, None)
                elif isinstance(entry, dict) and name in merged:
                    merged[name] = {**merged[name], **entry}
                else:
                    merged[name] = entry
            data = {**data, "needs": merged}
        return data

    @model_validator(mode="after")
    def _check(self) -> Params:
        if self.run.warmup_weeks >= self.run.weeks:
            raise ValueError(
                f"run.warmup_weeks ({self.run.warmup_weeks}) must be less than run.weeks ({self.run.weeks})"
            )
        if self.volunteers.hours_min > self.volunteers.hours_max:
            raise ValueError("volunteers.hours_min must not exceed volunteers.hours_max")
        if not self.needs:
            raise ValueError("needs: the catalog must hold at least one need type")
        for name in (
            self.policies.time_bank.bankable_needs if self.policies.time_bank.enabled else ()
        ):
            if name not in self.needs:
                raise ValueError(f"policies.time_bank.bankable_needs: unknown need type '{name}'")
        return self
