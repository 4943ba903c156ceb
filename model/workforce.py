"""The paid workforce: social workers, community workers and service staff.

Owns:
- hiring (`hire`): a paid provider's hours and salary by role, its intrinsic quality draw, its
  employer, and its place on the service desk's roster;
- the labour pool of social workers (`sw_pool`: professionals the street can employ; graduates
  join it) and the share of a social worker's hours left for service (`sw_hours_factor`: needs
  surveys take the rest);
- the community workers of the residents' committees: the core staff of each community and the
  block-grant staff their grants pay for (staffing at the budget year, wages every week);
- professional qualification: a community worker who passes the social-work exam becomes a
  community social worker.

Organizations' own staff are hired here on their behalf (`employer=`) and paid by them
(`model.organizations`); purchased posts are paid by the purchase policy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from model.agents import CommunityWorker, Provider, SocialOrganization, SocialWorker

if TYPE_CHECKING:  # pragma: no cover
    from model.agents import Community
    from model.finance import Government
    from model.params import Params
    from model.service import ServiceDesk
    from model.streams import Streams


class Workforce:
    """Hiring, the social-worker labour pool, community workers and their pay.

    Args:
        model: The Mesa model (providers are its agents).
        params: The run's parameters (providers, service and street sections).
        desk: The service desk (hired providers join its roster).
        communities: The communities (their committees employ community workers).
        streams: The run's random streams.

    Attributes:
        sw_pool: Social workers the street's labour market holds (employed or not).
        sw_hours_factor: Share of a social worker's service hours left after needs surveys.
    """

    def __init__(
        self,
        model: mesa.Model,
        params: Params,
        desk: ServiceDesk,
        communities: list[Community],
        streams: Streams,
    ) -> None:
        self.model = model
        self.p = params
        self.desk = desk
        self.communities = communities
        self.streams = streams
        table = params.street.community_list()
        if table is not None:  # the community table gives each community's social workers
            self.sw_pool = float(sum(c.social_workers for c in table))
        else:
            self.sw_pool = params.providers.sw_per_10k * params.street.n_residents / 10_000.0
        self.sw_hours_factor = 1.0

    # ------------------------------------------------------------------ hiring
    def draw_quality(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Intrinsic quality of `n` new providers (normal, clipped to [0.05, 1])."""
        s = self.p.service
        return np.clip(rng.normal(s.quality_mean, s.quality_sd, n), 0.05, 1.0)

    def hire(
        self,
        cls: type[Provider],
        community: int,
        skill: int,
        role: str,
        quality: float,
        employer: SocialOrganization | None = None,
        fraction: float = 1.0,
        wage_factor: float = 1.0,
        days: int | None = None,
    ) -> Provider:
        """Create a paid provider and put it on the roster.

        Args:
            cls: SocialWorker, CommunityWorker or ServiceStaff.
            community: Where it works.
            skill: Skill level.
            role: 'sw', 'cw' or 'staff' (sets hours and salary).
            quality: Intrinsic quality.
            employer: The organization paying it (None: the community or the government).
            fraction: A part-time post: this share of the hours and of the salary.
            wage_factor: The employer pays this share of the role's salary.
            days: Days a week it serves (None: the role's).

        Returns:
            The new provider.
        """
        pp = self.p.providers
        if role == "sw":
            hours = pp.sw_hours * (1 - pp.sw_admin_share) * self.sw_hours_factor
            salary = pp.sw_salary
        elif role == "cw":
            hours = pp.cw_hours * (1 - pp.cw_admin_share)
            salary = pp.staff_salary
        else:
            hours = pp.sw_hours * (1 - pp.sw_admin_share)
            salary = pp.staff_salary
        if fraction != 1.0:
            hours *= fraction
            salary *= fraction
        s = cls(self.model, community, skill, hours, quality)
        s.salary = salary * wage_factor if wage_factor != 1.0 else salary
        if role == "cw":
            s.days = pp.cw_service_days
        if days is not None:
            s.days = days
        s.employer = employer
        if employer is not None:
            employer.staff.append(s)
        self.desk.add_provider(s)
        return s

    # ------------------------------------------------------------------ social workers
    def sw_employed(self) -> int:
        """Social workers employed now."""
        return len(self.model.agents_by_type.get(SocialWorker, ()))

    def sw_available(self) -> float:
        """Social workers of the labour pool not employed (may be fractional)."""
        return self.sw_pool - self.sw_employed()

    def recruit_graduates(self, n: float) -> None:
        """Social-work graduates join the street's labour pool."""
        self.sw_pool += n

    def reserve_sw_hours(self, share: float) -> None:
        """Social workers spend `share` of their service hours on something else (needs
        surveys): from now on, and for those employed already."""
        factor = 1.0 - share
        self.sw_hours_factor *= factor
        for s in self.model.agents_by_type.get(SocialWorker, ()):
            s.weekly_hours *= factor

    def social_workers_per_community(self) -> np.ndarray:
        """Social workers (and community workers qualified as social workers) working in each
        community."""
        out = np.zeros(self.p.street.n_communities)
        for s in self.model.agents_by_type.get(SocialWorker, ()):
            out[s.community] += 1
        for s in self.model.agents_by_type.get(CommunityWorker, ()):
            if s.skill == 2:
                out[s.community] += 1
        return out

    def attend_meeting(self, attendees: list[Provider], hours: float, week: int) -> float:
        """These providers spend `hours` of `week`'s service time in a meeting (at most their
        weekly hours, with the other meetings of the week); returns the hours taken out of
        service."""
        taken = 0.0
        for s in attendees:
            before = s.away_hours if s.away_week == week else 0.0  # another meeting this week
            h = min(hours, s.weekly_hours - before)
            s.away_week, s.away_hours = week, before + h
            taken += h
        return taken

    def respond_to_ratings(self, threshold: float, step: float) -> int:
        """Credit publicity's effort response for the providers rated on their own (social
        workers in posts, community workers; organizations' staff are rated with their
        organization): each whose published reputation is below `threshold` raises its quality
        by `step` (at most 1). Returns how many did."""
        n = 0
        for cls in (SocialWorker, CommunityWorker):
            for s in self.model.agents_by_type.get(cls, ()):
                if s.employer is None and s.reputation < threshold:
                    s.quality = min(1.0, s.quality + step)
                    n += 1
        return n

    # ------------------------------------------------------------------ community workers
    def community_workers(self) -> list[CommunityWorker]:
        """Community workers employed now (core and block-grant staff), in hiring order."""
        return list(self.model.agents_by_type.get(CommunityWorker, ()))

    def staff_communities(self, rng: np.random.Generator) -> None:
        """The residents' committees' core community workers (at set-up)."""
        n_cw = int(round(self.p.providers.cw_per_community))
        for com in self.communities:
            for q in self.draw_quality(rng, n_cw):
                com.workers.append(self.hire(CommunityWorker, com.index, 1, "cw", q))

    def qualify_as_social_worker(self, cw: CommunityWorker, admin_share: float) -> None:
        """A community worker passed the social-work exam: skill 2, with `admin_share` of its
        hours kept for administration (by default the community worker's own share: the exam
        changes a qualification, not the workload)."""
        self.desk.change_skill(cw, 2)
        cw.weekly_hours = self.p.providers.cw_hours * (1 - admin_share)

    def staff_block_grants(self, funds: float, weeks_left: int = 52) -> None:
        """Residents' committees spend the block grants (`funds`, what is left of them for the
        `weeks_left` weeks of the budget year) on community workers (mostly administration):
        the street's grant pays for a whole number of workers, shared among the communities by
        size (largest remainders first); each community hires or lays off to its number."""
        pp = self.p.providers
        sizes = np.array([c.n_residents for c in self.communities], dtype=float)
        cost = pp.staff_salary * weeks_left / 52.0
        if cost <= 0 or funds <= 0:
            target = np.zeros(len(sizes), dtype=int)
        else:
            total = int(funds // cost)
            quota = total * sizes / sizes.sum()
            target = np.floor(quota).astype(int)
            order = np.argsort(-(quota - target), kind="stable")
            target[order[: total - int(target.sum())]] += 1
        rng = self.streams.get("block_grants")
        for com, k in zip(self.communities, target, strict=True):
            while len(com.block_staff) > k:
                com.block_staff.pop().leave()
            while len(com.block_staff) < k:
                com.block_staff.append(
                    self.hire(
                        CommunityWorker, com.index, 1, "cw", float(self.draw_quality(rng, 1)[0])
                    )
                )

    def pay_block_staff(self, government: Government) -> None:
        """A week's wages of the block-grant staff, from the block-grant channel."""
        for com in self.communities:
            for s in com.block_staff:
                government.spend("block_grant", s.salary / 52.0)
