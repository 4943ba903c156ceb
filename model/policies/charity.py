"""Social charitable resources (社会慈善资源), the fifth society of 五社联动: a community
foundation or charity fund, donations of residents, units based in the community (驻区单位) and
firms, public matching (配捐) and grants to community organizations' micro-projects."""

from __future__ import annotations

from typing import TYPE_CHECKING

from model.charity import DonorSettings
from model.policies.base import Policy, PolicyParams
from model.schema import ASSUMPTION, LEVER, P

if TYPE_CHECKING:  # pragma: no cover
    from model.model import LinkageModel


class CharityParams(PolicyParams):
    seed_fund: float = P(
        50_000.0,
        0,
        1e9,
        "yuan",
        "Money in the street's charity fund at start (the seed a district charity federation gives a pilot community fund).",
        "docs/sources.md: 配捐 seed of 5万 per pilot community fund (PATTERNS 8.8)",
    )
    resident_giving: float = P(
        0.5,
        0,
        1000,
        "yuan/resident-year",
        "Expected giving per resident per year at the starting trust (about a quarter of the fund's income, as individuals give about a quarter of China's donations).",
        ASSUMPTION + " (docs/sources.md: community funds of 2-3万; individuals 24-25% of giving)",
        plausible=(0.1, 3.0),
        dist="loguniform",
    )
    resident_gift: float = P(
        50.0,
        1,
        1e5,
        "yuan",
        "Size of one resident gift (sets only how lumpy resident giving is).",
        ASSUMPTION,
        plausible=(10, 200),
    )
    units_per_community: float = P(
        3.0,
        0,
        100,
        "units",
        "Units based in each community (驻区单位: offices, schools, hospitals, shops) that give.",
        ASSUMPTION + " (no quantitative source found, PATTERNS 8.12)",
        plausible=(0.0, 10),
    )
    unit_gifts_per_year: float = P(
        2.0,
        0,
        52,
        "gifts/unit-year",
        "Gifts per giving unit per year (festival drives, 99 Giving Day).",
        ASSUMPTION,
        plausible=(0.5, 6),
    )
    unit_gift: float = P(
        1_000.0,
        0,
        1e7,
        "yuan",
        "Size of one unit gift.",
        ASSUMPTION,
        plausible=(200, 5000),
    )
    firm_gifts_per_year: float = P(
        1.0,
        0,
        52,
        "gifts/year",
        "Larger gifts by firms to the street's fund per year.",
        ASSUMPTION,
        plausible=(0.0, 4),
    )
    firm_gift: float = P(
        10_000.0,
        0,
        1e8,
        "yuan",
        "Mean size of one firm gift (log-normal, sigma 0.5).",
        ASSUMPTION,
        plausible=(2000, 50000),
    )
    trust_elasticity: float = P(
        1.0,
        0,
        5,
        "elasticity",
        "Giving x (residents' mean trust / its starting value) ** elasticity.",
        ASSUMPTION,
        plausible=(0.0, 2.0),
    )
    publicity_boost: float = P(
        0.1,
        0,
        2,
        "share",
        "Extra giving when organizations' credit is published (信用公示).",
        ASSUMPTION,
        plausible=(0.0, 0.3),
    )
    reputation_elasticity: float = P(
        1.0,
        0,
        5,
        "elasticity",
        "With published credit, giving x (organizations' mean reputation / 0.75) ** elasticity; grants follow reputation.",
        ASSUMPTION,
        plausible=(0.0, 2.0),
    )
    match_ratio: float = P(
        0.0,
        0,
        10,
        "yuan per donated yuan",
        "Public matching of donations (配捐); 0: no matching. Paid from the channel charity_match.",
        LEVER,
    )
    match_cap: float = P(
        50_000.0,
        0,
        1e9,
        "yuan/year",
        "Matching envelope per year, off the top of the budget when matching is on.",
        LEVER + " (docs/sources.md: 5万 seed match per pilot fund, PATTERNS 8.8)",
    )
    match_response: float = P(
        0.2,
        -1,
        3,
        "share",
        "Change of giving while a match is offered: > 0 crowding-in, < 0 crowding-out. A 1:1 match raised revenue per solicitation by 19% in a US field experiment, larger ratios no more.",
        ASSUMPTION + " (docs/sources.md: Karlan and List 2007, +19%; crowding-out as the low end)",
        plausible=(-0.2, 0.5),
    )
    retain_share: float = P(
        0.33,
        0,
        1,
        "share",
        "Share of the fund kept in reserve at each grant round.",
        "docs/sources.md: 桃源居 retains 1/3 of its annual return (PATTERNS 8.4)",
        plausible=(0.0, 0.7),
    )
    project_weeks: int = P(
        26,
        1,
        520,
        "weeks",
        "Length of a micro-project (公益微项目): one project worker, wages paid by the grant.",
        ASSUMPTION,
        plausible=(8, 52),
    )
    grant_weeks: int = P(
        4,
        1,
        52,
        "weeks",
        "Weeks between grant rounds.",
        ASSUMPTION,
        plausible=(1, 13),
    )

    pledge_share: float = P(
        0.3,
        0,
        1,
        "share of units per year",
        "Chance a unit based in the community pledges service hours (承诺服务) in a budget year "
        "when the residents' committee alone mobilizes it.",
        ASSUMPTION + " (no quantitative source found, PATTERNS 8.12)",
        plausible=(0.1, 0.6),
    )
    pledge_org_share: float = P(
        0.1,
        0,
        1,
        "share per organization",
        "Extra chance each open community organization in the unit's community adds (its own "
        "appeal to the unit): 1 - (1 - pledge_share) x (1 - this) ** organizations.",
        ASSUMPTION,
        plausible=(0.0, 0.3),
    )
    pledge_hours: float = P(
        4.0,
        0,
        40,
        "hours/unit-week",
        "Service hours a pledging unit's staff member gives a week, on one day, for the year "
        "(paid by the unit); 0: units pledge no service.",
        ASSUMPTION + " (half a working day a week)",
        plausible=(1.0, 8.0),
    )


class CharitableResources(Policy):
    """A community charity fund gathers donations (matched by public money if chosen) and funds community organizations' micro-projects; units based in the community also pledge staff hours of service (承诺服务)."""

    name = "charity"
    label_zh = "社会慈善资源(社区基金会)"
    seed_text = "倡导并组织驻区单位开展社会捐赠、互帮互助、承诺服务"
    Params = CharityParams
    channels = ("charity_match",)

    def active_channels(self) -> tuple[str, ...]:
        return self.channels if self.pars.match_ratio > 0 else ()

    def initialize(self, model: LinkageModel) -> None:
        super().initialize(model)
        pr = self.pars
        model.charity.configure(
            DonorSettings(**{k: getattr(pr, k) for k in DonorSettings.__dataclass_fields__})
        )

    def overhead(self, model: LinkageModel) -> dict[str, float]:
        return {"charity_match": model.charity.matching_overhead()}

    def committed(self, model: LinkageModel) -> dict[str, float]:
        """A matching offer is a pledge for the whole budget year: the quarterly review keeps
        what is left of it (unspent matching is returned at the year's end)."""
        if self.pars.match_ratio <= 0:
            return {}
        return {"charity_match": model.gov.remaining("charity_match")}

    def apply(self, model: LinkageModel) -> None:
        model.charity.run_week(model.week)
