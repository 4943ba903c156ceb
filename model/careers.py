"""Social workers' careers: turnover (流失), vacant posts refilled from the labour pool, and
supervision (督导).

Owns:
- whether social workers quit (`careers.turnover`, on by default; off, a street draws nothing
  from the turnover streams) and their yearly quit hazard, which falls with salary and with
  supervision;
- the vacancies a quit leaves: the post (its community, employer and contract) stays empty for a
  random number of weeks (mean `vacancy_weeks`) and is then refilled from the street's labour
  pool, when the pool has someone;
- who succeeds whom (`current`), so a holder of a purchased post is followed by its successor;
- supervision (set by the supervision policy): supervised social workers serve at a higher
  quality and quit less; the supervision hours (supervisor and supervisee) come out of social
  workers' service hours;
- the counts: quits, refills, vacant post-weeks, supervised social workers.

Every random draw comes from the named streams "sw_turnover" (weekly) and "sw_refill".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.agents import SocialWorker
from model.schema import ASSUMPTION, SETTING, P, Section

if TYPE_CHECKING:  # pragma: no cover
    from model.agents import Provider
    from model.model import LinkageModel


class CareerParams(Section):
    """Social workers' careers: turnover and vacancies (the `careers` section)."""

    turnover: bool = P(
        True,
        None,
        None,
        "switch",
        "Social workers quit and their posts stay vacant until refilled (off: nobody quits, as "
        "in earlier versions of the model). On by default: turnover is one of the field's "
        "best-known problems (about 18-22% a year; pattern P15).",
        SETTING,
    )
    quit_hazard_annual: float = P(
        0.20,
        0,
        0.95,
        "per year",
        "Yearly quit hazard of a social worker at the reference salary, unsupervised.",
        "docs/sources.md: Shenzhen front-line turnover 17.6-22.2% (2011-2014); about 20% in "
        "several cities (PATTERNS 1.7, 1.10)",
        plausible=(0.12, 0.30),
    )
    reference_salary: float = P(
        80_000.0,
        1,
        1e7,
        "yuan/year",
        "Salary at which the quit hazard is `quit_hazard_annual` (the default `providers.sw_salary`).",
        SETTING,
    )
    salary_elasticity: float = P(
        1.0,
        0,
        5,
        "elasticity",
        "Quit hazard x (providers.sw_salary / reference_salary) ** -elasticity: low pay is the "
        "reason for leaving most often given.",
        ASSUMPTION,
        plausible=(0.3, 2.0),
    )
    vacancy_weeks: float = P(
        8.0,
        1,
        104,
        "weeks",
        "Mean weeks a vacated post stays empty before it is refilled from the labour pool "
        "(geometric); a purchased post not refilled by the budget year's end is bought afresh.",
        ASSUMPTION,
        plausible=(4, 26),
    )


class Careers:
    """Turnover, vacancies and supervision of the street's social workers.

    Args:
        model: The model (its workforce, organizations and streams).
        params: The `careers` parameters.

    Attributes:
        enabled: Whether social workers quit.
        quality_gain: Quality added to a supervised social worker (0: no supervision).
        quit_mult: Quit hazard of a supervised social worker, x.
        quits_week, refills_week, vacant_week: This week's quits, refills and vacant posts.
        quits_total, refills_total: Over the run.
    """

    def __init__(self, model: LinkageModel, params: CareerParams) -> None:
        self.model = model
        self.p = params
        self.enabled = bool(params.turnover)
        self.supervised = False
        self.quality_gain = 0.0
        self.quit_mult = 1.0
        self._supervised_ids: set[int] = set()
        self._vacant: list[tuple[int, Provider]] = []  # (week it can be refilled, who left)
        self._successor: dict[int, Provider] = {}
        self.quits_week = 0
        self.refills_week = 0
        self.vacant_week = 0
        self.quits_total = 0
        self.refills_total = 0

    # ------------------------------------------------------------------ set-up
    def supervise(self, quality_gain: float, quit_mult: float, hours_share: float) -> None:
        """Social workers are supervised from now on: quality + `quality_gain`, quit hazard x
        `quit_mult`; `hours_share` of their service hours go to supervision sessions."""
        self.supervised = True
        self.quality_gain = float(quality_gain)
        self.quit_mult = float(quit_mult)
        self.model.workforce.reserve_sw_hours(hours_share)
        self._apply_supervision()

    def _apply_supervision(self) -> None:
        for s in self.model.agents_by_type.get(SocialWorker, ()):
            if s.unique_id not in self._supervised_ids:
                self._supervised_ids.add(s.unique_id)
                s.quality = float(min(1.0, s.quality + self.quality_gain))

    # ------------------------------------------------------------------ the week
    def weekly_quit_probability(self) -> float:
        """A social worker's chance to quit this week (before supervision)."""
        p = self.p
        salary = self.model.p.providers.sw_salary
        ratio = max(salary, 1.0) / p.reference_salary
        annual = min(0.99, p.quit_hazard_annual * ratio ** (-p.salary_elasticity))
        return 1.0 - (1.0 - annual) ** (1.0 / 52.0)

    def turnover(self, week: int) -> None:
        """Supervision reaches new social workers; social workers quit by hazard; vacant posts
        whose search is over are refilled from the labour pool."""
        self.quits_week = self.refills_week = 0
        if self.supervised:
            self._apply_supervision()
        if not self.enabled:
            return
        rng = self.model.streams.weekly("sw_turnover", week)
        sws = list(self.model.agents_by_type.get(SocialWorker, ()))
        if sws:
            base = self.weekly_quit_probability()
            hazard = np.array(
                [
                    base * (self.quit_mult if s.unique_id in self._supervised_ids else 1.0)
                    for s in sws
                ]
            )
            draws = rng.random(len(sws))
            search = rng.geometric(1.0 / max(1.0, self.p.vacancy_weeks), len(sws))
            for s, quit, weeks in zip(sws, draws < hazard, search, strict=True):
                if quit:
                    self._quit(s, week + int(weeks))
        self._refill(week)
        self.vacant_week = len(self._vacant)

    def _quit(self, s: Provider, due: int) -> None:
        """`s` leaves the post; the post is vacant until `due`, then searched for."""
        con = s.contract
        s.leave()
        if con is not None and s in con.staff:
            con.staff.remove(s)
        self._vacant.append((due, s))
        self.quits_week += 1
        self.quits_total += 1

    def _refill(self, week: int) -> None:
        """Vacant posts whose search is over get a new social worker from the labour pool (when
        it has one; otherwise they wait). Posts of closed organizations and of ended project
        contracts lapse."""
        wf = self.model.workforce
        rng = self.model.streams.get("sw_refill")
        still = []
        new_year = week % 52 == 0
        for due, old in self._vacant:
            employer = old.employer
            con = old.contract
            if con is not None and con.end_week <= week:
                con = None
            lapsed = (
                (employer is not None and employer.closed)
                or (con is None and getattr(old, "contract_hire", False))
                # a purchased post (no employer) is bought afresh at a new budget year
                or (new_year and employer is None and old.contract is None)
            )
            if lapsed:
                continue
            if due > week or wf.sw_available() < 1:
                still.append((due, old))
                continue
            offset = employer.quality_offset if employer is not None else 0.0
            q = float(np.clip(wf.draw_quality(rng, 1)[0] + offset, 0.05, 1.0))
            new = wf.hire(SocialWorker, old.community, 2, "sw", q, employer=employer)
            if con is not None:
                new.contract = con
                con.staff.append(new)
            if getattr(old, "contract_hire", False):
                new.contract_hire = True
            self._successor[old.unique_id] = new
            self.refills_week += 1
            self.refills_total += 1
        self._vacant = still

    def current(self, holders: list[Provider]) -> list[Provider]:
        """The present holders of these posts: each one, or whoever succeeded it."""
        out = []
        for s in holders:
            while not s.on_roster and s.unique_id in self._successor:
                s = self._successor[s.unique_id]
            out.append(s)
        return out
