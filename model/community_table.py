"""The optional per-community table of a street (`street.communities`).

A street is described either by a few street-wide numbers (residents, communities, group shares,
venue hours; community sizes drawn around the mean) or, when `street.communities` is given, by
one entry per community: its residents, its resident groups, the community social
organizations, certified social workers and registered volunteers it has, its venue hours and
whether it is urban. `linkage district` builds this table from a bureau's spreadsheet; a
scenario file may also write it by hand:

```yaml
street:
  communities:
    dongfeng: {name: 东风社区, residents: 5200, elderly: 0.26, minor: 0.11, migrant: 0.10,
               disabled: 0.07, low_income: 0.02, social_organizations: 3,
               social_workers: 2, registered_volunteers: 700, venue_hours: 40}
```

Each entry describes the street being modelled (a setting, not an uncertainty). Without the table
the street is built exactly as before (the same random draws in the same order).
"""

from __future__ import annotations

from pydantic import Field, model_validator

from model.schema import GROUPS, SETTING, P, Section

TABLE_GROUPS: tuple[str, ...] = GROUPS[:-1]
"""The resident groups a community entry gives shares of; the rest of its residents are
'general'."""

MAX_COMMUNITIES = 200
"""Most communities of one street (the bound of `street.n_communities`)."""


class CommunitySpec(Section):
    """One community (社区) of the street, as a bureau's table describes it."""

    name: str = Field(
        "", max_length=120, description="The community's name (default: its key in the table)."
    )
    residents: int = P(..., 1, 5_000_000, "residents", "Residents of the community.", SETTING)
    elderly: float = P(..., 0, 1, "share", "Residents aged 60+.", SETTING)
    minor: float = P(..., 0, 1, "share", "Residents under 18 in the minors' group.", SETTING)
    migrant: float = P(..., 0, 1, "share", "Migrant workers (外来务工人员).", SETTING)
    disabled: float = P(..., 0, 1, "share", "Persons with disabilities.", SETTING)
    low_income: float = P(..., 0, 1, "share", "Low-income residents (低保/低收入).", SETTING)
    social_organizations: int = P(
        ...,
        0,
        1000,
        "organizations",
        "Community social organizations (社区社会组织) active at the start (replaces "
        "providers.endogenous_orgs_per_community here).",
        SETTING,
    )
    social_workers: float = P(
        ...,
        0,
        100_000,
        "social workers",
        "Certified social workers living or working in the community: the street's labour pool "
        "is their sum (replaces providers.sw_per_10k; the pool is street-wide).",
        SETTING,
    )
    registered_volunteers: int = P(
        ...,
        0,
        5_000_000,
        "volunteers",
        "Registered volunteers among the residents at the start (replaces "
        "volunteers.registered_share here).",
        SETTING,
    )
    venue_hours: float = P(
        ...,
        0,
        10_000,
        "hours/week",
        "Activity-room hours of the community per week (replaces street.venue_hours here).",
        SETTING,
    )
    urban: bool = Field(
        True,
        description="Urban (城市社区) or rural (农村社区/涉农社区): recorded and reported with "
        "the results; no mechanism of the model uses it.",
    )

    @model_validator(mode="after")
    def _check(self) -> CommunitySpec:
        total = sum(getattr(self, g) for g in TABLE_GROUPS)
        if total > 1.0 + 1e-9:
            raise ValueError(f"group shares add up to {total:.3f} > 1 (the rest are 'general')")
        if self.registered_volunteers > self.residents:
            raise ValueError(
                f"registered_volunteers ({self.registered_volunteers}) exceed residents "
                f"({self.residents})"
            )
        return self

    def shares(self) -> list[float]:
        """Shares of every group in `GROUPS` order, 'general' (the rest) last."""
        own = [float(getattr(self, g)) for g in TABLE_GROUPS]
        return [*own, max(0.0, 1.0 - sum(own))]
