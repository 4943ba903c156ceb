"""Social-work methods beyond casework (个案工作): group work (小组工作), one social worker
serving several residents with the same need at once, and community work (社区工作), which
raises discovery of hidden needs and residents' trust."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from model.policies.base import Policy, PolicyParams
from model.schema import ASSUMPTION, LEVER, P

if TYPE_CHECKING:  # pragma: no cover
    from model.model import LinkageModel


class GroupWorkParams(PolicyParams):
    group_size: float = P(
        8.0,
        2,
        30,
        "residents",
        "Most residents with the same need type in one group (a pool larger than this splits "
        "into near-equal groups).",
        "docs/sources.md: 8-10 members with one facilitator (PATTERNS 9.1)",
        plausible=(6, 12),
    )
    min_size: float = P(
        4.0,
        2,
        30,
        "residents",
        "Fewest residents a group starts with; a smaller pool keeps waiting.",
        ASSUMPTION + " (practitioners' convention of 6-12 members, unverified, PATTERNS 9.2; "
        "a small group of 4 still runs)",
        plausible=(3, 6),
    )
    wait_weeks: float = P(
        4.0,
        0,
        52,
        "weeks",
        "Longest wait in a pool for a group (recruiting a group); a member who has waited this "
        "long starts the group if the pool has `min_size`, else is served one to one.",
        ASSUMPTION,
        plausible=(2, 8),
    )
    share: float = P(
        0.5,
        0,
        1,
        "share",
        "Share of the needs of group-suited types whose residents wait for a group rather "
        "than being served one to one.",
        ASSUMPTION,
        plausible=(0.2, 0.7),
    )
    session_factor: float = P(
        1.5,
        1,
        5,
        "x individual hours",
        "Provider hours of a group session relative to one individual session (preparation, "
        "longer sessions); each member of a group of n uses session_factor / n of them.",
        ASSUMPTION,
        plausible=(1.0, 3.0),
    )
    group_needs: list[str] = Field(
        ["psych_counselling", "relationship_adjustment", "community_integration"],
        description="Need types that can be served in groups (mutual support, adjustment, "
        "integration); unknown names are ignored.",
        json_schema_extra={"unit": "need types", "source": LEVER},
    )


class GroupWork(Policy):
    """Group work: a social worker serves a group of residents with the same need at once."""

    name = "group_work"
    label_zh = "小组工作"
    seed_text = "综合运用个案工作、小组工作、社区工作、社会工作行政与社会政策方法"
    Params = GroupWorkParams

    def initialize(self, model: LinkageModel) -> None:
        super().initialize(model)
        pr = self.pars
        names = model.catalog.names
        share = np.array([pr.share if n in pr.group_needs else 0.0 for n in names])
        model.population.serve_in_groups(
            share, pr.group_size, pr.min_size, pr.session_factor, pr.wait_weeks * 168.0
        )


class CommunityWorkParams(PolicyParams):
    share: float = P(
        0.1,
        0,
        0.9,
        "share",
        "Share of social workers' service hours spent on community work (organizing residents, "
        "community events, mobilizing resources).",
        ASSUMPTION,
        plausible=(0.05, 0.3),
    )
    discovery_per_hour: float = P(
        0.02,
        0,
        1,
        "probability/week per hour per 1,000 residents",
        "Extra weekly discovery chance of a hidden need, per weekly community-work hour per "
        "1,000 residents (capped at 0.5).",
        ASSUMPTION,
        plausible=(0.005, 0.05),
    )
    trust_per_hour: float = P(
        0.0002,
        0,
        0.01,
        "trust/week per hour per 1,000 residents",
        "Trust added to every resident each week, per weekly community-work hour per 1,000 "
        "residents (trust relaxes towards its start by 0.2% of the gap a week).",
        ASSUMPTION,
        plausible=(0.00005, 0.0005),
    )


class CommunityWork(Policy):
    """Community work: social workers organize residents, which raises discovery and trust."""

    name = "community_work"
    label_zh = "社区工作"
    seed_text = "综合运用个案工作、小组工作、社区工作、社会工作行政与社会政策方法"
    Params = CommunityWorkParams

    def initialize(self, model: LinkageModel) -> None:
        super().initialize(model)
        model.workforce.reserve_sw_hours(self.pars.share)

    def apply(self, model: LinkageModel) -> None:
        pr = self.pars
        n_sw = model.workforce.social_workers_per_community()
        pp = model.p.providers
        # Hours after the reserve: share of the hours before it went to community work.
        hours = n_sw * pp.sw_hours * (1 - pp.sw_admin_share) * pr.share
        sizes = np.array([c.n_residents for c in model.population.communities], dtype=float)
        per_1000 = hours / np.maximum(1.0, sizes / 1000.0)
        model.population.set_community_work(
            np.minimum(0.5, pr.discovery_per_hour * per_1000), pr.trust_per_hour * per_1000
        )
