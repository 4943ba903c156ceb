"""Mesa agents: the organizational actors of the four societies.

Providers (social workers, community workers, service staff, volunteers) are servers in the
SimPy service flow (`model.service`): each has a community, a skill level, an intrinsic quality, a
published reputation and a shift schedule. Social organizations, their contracts and the
communities are here too; the government, whose agent is the finance subsystem itself, is in
`model.finance`. Agents never import the model module (Mesa's split): the subsystem that owns
each kind creates and keeps them (`model.workforce`, `model.volunteers`, `model.organizations`,
`model.population`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:  # pragma: no cover
    from model.model import LinkageModel

WEEK = 168.0  # hours in a week


class Kind(IntEnum):
    """Provider kinds (stored with each need served)."""

    VOLUNTEER = 0
    COMMUNITY_WORKER = 1
    STAFF = 2
    SOCIAL_WORKER = 3


class Provider(mesa.Agent):
    """A person who serves needs: one server of the service desk.

    Args:
        model: The model.
        community: Community index where the provider works.
        skill: 0 any volunteer, 1 trained volunteer or staff, 2 professional social worker.
        weekly_hours: Service hours offered per week (after administration).
        quality: Intrinsic service quality in [0, 1].
    """

    kind: Kind = Kind.STAFF
    paid: bool = True

    def __init__(
        self, model: LinkageModel, community: int, skill: int, weekly_hours: float, quality: float
    ) -> None:
        super().__init__(model)
        self.community = int(community)
        self.skill = int(skill)
        self.weekly_hours = float(weekly_hours)
        self.quality = float(quality)
        self.reputation = 0.75  # prior before any rating (assumption)
        self.on_roster = True
        self.parked = False
        self.wake = None  # its pending wake-up event on the service desk's environment
        self.on_wake = None  # the desk's wake-up handler for it (the wake event's callback)
        self.token = 0
        self.busy_hours = 0.0
        self.shift_hours = 0.0
        self.served = 0
        self.employer: SocialOrganization | None = None
        self.contract: Contract | None = None
        self.salary = 0.0
        self.days = model.p.service.work_days
        self.shift_end = 0.0  # end of its current (or last) shift
        self.service_hours = 0.0  # hours of the service in progress
        self.assist_hours = 0.0  # hours of the co-delivery assist in progress
        self.assist_nid = -1  # the need it assists
        self.idle_since = 0.0  # when it last became free
        self.pending_shift = -1  # a volunteer's shift this week, until it starts (service desk)
        self.assist_used = 0.0  # a volunteer's hours of planned assists this week (service desk)
        self.away_week = -1  # a week in which it spends `away_hours` away from service
        self.away_hours = 0.0  # (a joint meeting: docs/ODD.md)

    def week_shifts(self, week: int) -> list[tuple[float, float]]:
        """Daily shifts (start, end) of paid staff in `week`: `days` a week from the shift start
        hour, `weekly_hours / days` long each (less the hours it is away that week)."""
        days = self.days
        hours = self.weekly_hours - (self.away_hours if self.away_week == week else 0.0)
        length = hours / days
        if length <= 0:
            return []
        hour = self.model.p.service.shift_start_hour
        starts = [week * WEEK + d * 24.0 + hour for d in range(days)]
        return [(s, s + length) for s in starts]

    def next_shift(self, now: float) -> tuple[float, float] | None:
        """The next daily shift (start, end) whose end is after `now` (paid staff)."""
        w0 = int(now // WEEK)
        for w in (w0, w0 + 1):
            for start, end in self.week_shifts(w):
                if end > now + 1e-9:
                    return start, end
        return None

    def leave(self) -> None:
        """Take the provider off the roster (it stops serving at its next wake-up) and remove the
        agent."""
        if not self.on_roster:
            return
        self.on_roster = False
        self.model.desk.remove_provider(self)
        if self.employer is not None and self in self.employer.staff:
            self.employer.staff.remove(self)
        self.remove()


class SocialWorker(Provider):
    """A professional social worker (社会工作者), in a community post or employed by an agency."""

    kind = Kind.SOCIAL_WORKER


class CommunityWorker(Provider):
    """A residents' committee worker (社区工作者): mostly administration, some level-1 service."""

    kind = Kind.COMMUNITY_WORKER


class ServiceStaff(Provider):
    """Paid non-professional service staff of an organization or a community (skill 1)."""

    kind = Kind.STAFF


class Volunteer(Provider):
    """An active registered volunteer (社区志愿者), who is also a resident.

    Serves in a week with the participation probability, one shift of 1-4 hours
    (`model.volunteers.Volunteers.plan_week`). Keeps a service record (hours), stars, motivation
    and tenure; drops out with a weekly hazard (`Volunteers.turnover`).
    """

    kind = Kind.VOLUNTEER
    paid = False

    def __init__(
        self,
        model: LinkageModel,
        resident: int,
        community: int,
        skill: int,
        quality: float,
        hours: float,
    ) -> None:
        super().__init__(model, community, skill, hours, quality)
        self.resident = int(resident)
        self.record_hours = 0.0
        self.stars = 0
        self.since_week = model.week
        self.team: SocialOrganization | None = None

    @property
    def motivation(self) -> float:
        """Motivation (0-1; 0.5 until residents' ratings move it), kept on the resident."""
        return float(self.model.residents.vol_motivation[self.resident])

    def week_shifts(self, week: int) -> list[tuple[float, float]]:
        """Volunteers have no fixed shifts: the desk draws them for the whole roster at once."""
        raise TypeError("a volunteer's shifts are drawn with model.volunteers.plan_week")

    @staticmethod
    def plan_week(
        model: LinkageModel, volunteers: list[Volunteer], week: int
    ) -> tuple[list[float], list[Volunteer], list[float]]:
        """Deprecated: use `model.volunteers.plan_week(volunteers, week)`."""
        warnings.warn(
            "Volunteer.plan_week is deprecated: use model.volunteers.plan_week",
            DeprecationWarning,
            stacklevel=2,
        )
        return model.volunteers.plan_week(volunteers, week)


@dataclass(eq=False)
class Contract:
    """A purchased project (项目购买): an organization serves a community's service area for a year."""

    org: SocialOrganization
    community: int
    area: str
    value: float
    price_per_hour: float
    target_hours: float
    start_week: int
    end_week: int
    delivered_hours: float = 0.0
    paid: float = 0.0
    month_hours: float = 0.0
    quality_sum: float = 0.0
    served: int = 0
    resolved: int = 0
    staff: list = field(default_factory=list)
    score: float | None = None
    terminated: bool = False
    notices: int = 0  # rectification notices (整改通知) from process checks


class SocialOrganization(mesa.Agent):
    """A social organization: endogenous community organization (内生性) or embedded agency (嵌入式).

    Args:
        model: The model.
        kind: 'endogenous' or 'embedded'.
        community: Home community.
        funds: Starting funds (yuan).
    """

    def __init__(self, model: LinkageModel, kind: str, community: int, funds: float) -> None:
        super().__init__(model)
        self.org_kind = kind
        self.community = int(community)
        self.funds = float(funds)
        self.staff: list[Provider] = []
        self.team: list[Volunteer] = []
        self.contracts: list[Contract] = []
        self.weeks_negative = 0
        self.weeks_small = 0  # weeks in a row with a volunteer team below the minimum
        self.closed = False
        self.barred_year = -1
        self.bonus_year = -1
        self.bonus = 0.0
        self.founded_week = model.week
        self.incubated = False
        self.income_total = 0.0
        self.spent_own = 0.0  # paid from its own funds for services it claimed (认领服务)
        # Organizations differ in how well they serve (management, training): staff quality offset.
        self.quality_offset = float(model.streams.get("org_quality").normal(0.0, 0.08))

    @property
    def reputation(self) -> float:
        """Published reputation: mean of its staff's reputations (prior 0.75 with no staff)."""
        if not self.staff:
            return 0.75
        return sum(s.reputation for s in self.staff) / len(self.staff)

    @property
    def quality(self) -> float:
        """Mean intrinsic quality of its staff (0.7 with no staff)."""
        if not self.staff:
            return 0.7
        return sum(s.quality for s in self.staff) / len(self.staff)

    def receive(self, amount: float) -> None:
        """Income (contract instalments, time-bank backstop, outside income) reaches it."""
        self.funds += amount
        self.income_total += amount

    def weekly_cost(self) -> float:
        """A week's wages of its staff, plus the activity cost of a community organization."""
        return sum(s.salary for s in self.staff) / 52.0 + (
            self.model.p.providers.activity_cost if self.org_kind == "endogenous" else 0.0
        )

    def close(self) -> None:
        """Close the organization: staff leave, the team disbands, contracts end."""
        self.closed = True
        for s in list(self.staff):
            s.leave()
        for v in self.team:
            v.team = None
        self.team.clear()
        for c in self.contracts:
            c.end_week = self.model.week
        self.contracts.clear()
        self.remove()


class Community(mesa.Agent):
    """A community (社区) and its residents' committee: the platform of the other three societies.

    Args:
        model: The model.
        index: Community index (residents' `community` value).
        n_residents: Residents living here.
        venue_hours: Activity-room hours per week.
    """

    def __init__(
        self, model: LinkageModel, index: int, n_residents: int, venue_hours: float
    ) -> None:
        super().__init__(model)
        self.index = index
        self.n_residents = int(n_residents)
        self.venue_hours = float(venue_hours)
        self.workers: list[CommunityWorker] = []
        self.block_staff: list[CommunityWorker] = []


def __getattr__(name: str):
    """Deprecated import path: `Government` moved to `model.finance`."""
    if name == "Government":
        warnings.warn(
            "model.agents.Government is deprecated: import it from model.finance",
            DeprecationWarning,
            stacklevel=2,
        )
        from model.finance import Government

        return Government
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
