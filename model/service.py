"""Service delivery in continuous time (hours): the service desk.

Owns the roster of providers on duty and their shifts (as processes on the model's SimPy
environment), the queues and idle pools, matching (with the switches policies turn on: street
scope, referrals, published reputations, record priority, co-delivery), service episodes and
ratings, and the week's service counters. It tells the volunteers subsystem of every volunteer's
service (records, stars, time-bank deposits) and the time bank of every redemption.

Design for speed (docs/performance.md has the measurements). Needs are rows of `NeedTable`, not
processes. Each provider serves needs one after another, driven by one pending SimPy event (its
`wake`) whose callback (`_woken`) finishes the service and takes the next need; between services
it is *parked* on that event. A served need costs two events:

- its arrival (one timeout of the week's arrivals, `_Arrivals`), and
- its service completion, which fires the provider's `wake`.

(Providers and arrivals were generator processes until 2026-11-30; the callbacks see the same
events at the same times in the same order, without resuming a generator at every event.)

There is no separate wake-up event: whoever hands a need to a parked provider (an arrival, or a
shift start) starts the service at once and triggers the provider's pending `wake` event *with a
delay* equal to the service time (`_fire`), so the provider next acts when the service ends.
Reneging costs no event at all: a need whose patience ran out is found expired when it reaches
the head of its queue, and the weekly sweep closes the rest at their deadlines.

Shifts are planned a week at a time, at each week boundary (`_planner`):

- paid staff's daily shifts form a calendar that one process walks: one event per distinct start
  time (staff who start at the same hour share it);
- the volunteers who serve that week are drawn for the whole roster at once
  (`Volunteers.plan_week`). A volunteer's shift start needs an event only if, at that moment, a
  queue the volunteer could pull from holds a need; otherwise all it does is make the volunteer
  idle in the idle pools, which can wait until someone next looks there. So volunteer shift
  starts are *lazy* (`_catch_up`, before any search of the idle pools), and one timer is armed
  only for the next shift of a volunteer whose queues are not empty (`_heat`, when a queue
  fills). With the information platform about nine in ten volunteer shifts cost no event.

A provider idle in its shift sits in the idle pool of its community and skill: a heap ordered by
published reputation and volunteer stars, then by how long the provider has been idle. An
arriving need takes the first idle provider able to serve it, from its own community first and,
when it is in street scope, then from the best of the other communities' pool heads.

Queues are FIFO per (community, level), plus one street-wide queue per level that the
information platform posts to and that referrals and joint meetings move needs into. Time-bank
redemptions jump their queue.

While a need is at the desk, its hot fields live in a small Python record (`_Need`): reading
numpy scalars one at a time costs several times more than attribute access. State changes are
still written through to the need table at once (status, times, queue), so the table is true at
every instant of the week.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
from collections import deque
from heapq import heapify, heappop, heappush, heapreplace
from typing import TYPE_CHECKING

import numpy as np
import simpy
from simpy.events import NORMAL, URGENT

from model.agents import WEEK, Kind, Provider, Volunteer
from model.needs import (
    ABANDONED,
    F_BELOW,
    F_CODELIVERED,
    F_COMPLEX,
    F_ESCALATED,
    F_JOINT,
    F_REDEEM,
    F_REFERRED,
    F_RESOLVED,
    F_RETURNED,
    HELD,
    IN_SERVICE,
    MET,
    WAITING,
    NeedTable,
)
from model.streams import UniformBuffer

if TYPE_CHECKING:  # pragma: no cover
    from model.params import ServiceParams
    from model.streams import Streams
    from model.volunteers import Volunteers

STOP = "stop"  # wake value: the provider leaves
ASSIST = "assist"  # wake value: the provider finished assisting a social worker

_VOLUNTEER = int(Kind.VOLUNTEER)
_SOCIAL_WORKER = int(Kind.SOCIAL_WORKER)


def _start_time(entry: tuple) -> float:
    return entry[0]


class _Need:
    """The hot fields of one need while it is at the desk (mirrors of its need-table row).

    `code` is the queue the need is waiting in (-1: not waiting). Queues are cleaned lazily: an
    entry whose record says another queue (moved by a referral or a joint meeting) or -1 (served
    or abandoned) is dropped when it reaches the head. `sessions` counts the sessions still to
    serve; `started` tells whether the first one has begun.
    """

    __slots__ = (
        "code",
        "community",
        "deadline",
        "flags",
        "hours",
        "level",
        "nid",
        "sessions",
        "started",
        "t_post",
    )

    def __init__(
        self,
        nid: int,
        t_post: float,
        deadline: float,
        level: int,
        community: int,
        hours: float,
        flags: int,
        sessions: int = 1,
    ) -> None:
        self.nid = nid
        self.sessions = sessions
        self.started = False
        self.t_post = t_post
        self.deadline = deadline
        self.level = level
        self.community = community
        self.hours = hours
        self.flags = flags
        self.code = -1


class _Arrivals:
    """A week's arrivals: posts each need at its `t_post`, one timeout per need still to come
    (needs sorted by `t_post`; those due at the same instant go together).

    Chained callbacks rather than a SimPy process: the same events in the same order (it
    starts with an urgent event at once, as a process's initialization does, and then waits
    for each arrival time with a timeout, as the process did), without a generator to resume
    at every arrival (docs/performance.md, 2026-11-30 evening).
    """

    __slots__ = ("env", "i", "post", "recs")

    def __init__(self, env: simpy.Environment, post, recs: list[_Need]) -> None:
        self.env = env
        self.post = post
        self.recs = recs
        self.i = 0
        start = env.event()  # like simpy's Initialize: urgent, now
        start._ok = True
        start._value = None
        start.callbacks.append(self._begin)
        env.schedule(start, URGENT)

    def _begin(self, _event: simpy.Event) -> None:
        self._post_due(0)

    def _arrived(self, _event: simpy.Event) -> None:
        # The timeout for need i has fired: post it (no second comparison with `now`: the
        # clock is now + (t - now), which need not equal t to the last bit), then the rest.
        i = self.i
        self.post(self.recs[i])
        self._post_due(i + 1)

    def _post_due(self, i: int) -> None:
        """Post the needs from `i` on that are due now; wait for the next one."""
        env, recs, post = self.env, self.recs, self.post
        now = env.now  # the clock stands still while callbacks run
        n = len(recs)
        while i < n:
            rec = recs[i]
            t = rec.t_post
            if t > now:
                self.i = i
                env.timeout(t - now).callbacks.append(self._arrived)
                return
            post(rec)
            i += 1


class ServiceDesk:
    """Matching, queueing, reneging and service of needs on a SimPy environment.

    Owns the roster of providers on duty and their shifts, the queues and idle pools, and the
    week's service counters; its processes run on the model's SimPy environment. Policies steer
    it through its methods: `match_street_wide` (platform), `enable_referrals`,
    `publish_reputations`, `set_record_priority` and `enable_codelivery`.

    Args:
        env: The model's SimPy environment (time in hours).
        service: The `service` parameters.
        n_communities: Communities of the street.
        needs: The need table.
        streams: The run's random streams ('ratings', 'learning').

    Attributes:
        volunteers: The volunteers subsystem, told of every volunteer's service (set by the
            model when it wires its subsystems).
    """

    def __init__(
        self,
        env: simpy.Environment,
        service: ServiceParams,
        n_communities: int,
        needs: NeedTable,
        streams: Streams,
    ) -> None:
        self.volunteers: Volunteers | None = None
        self.env = env
        self.needs: NeedTable = needs
        p = service
        self.rating_noise = p.rating_noise
        self.nc = nc = n_communities
        self.street = nc  # index of the street-wide queue row
        n_codes = (nc + 1) * 3  # queue code = row * 3 + level (row nc: the street)
        self.queues: list[deque[_Need]] = [deque() for _ in range(n_codes)]
        self.qlen = [0] * n_codes  # needs waiting per queue (records whose code is that queue)
        self.idle: list[list] = [[] for _ in range(nc * 3)]  # idle pools by community * 3 + skill
        self._skill_pools = [self.idle[sk::3] for sk in range(3)]  # the same pools by skill
        # Entries (live or stale) in each skill's pools. In a busy street the pools are nearly
        # always empty (every need queues), and an arrival in street scope would otherwise look
        # at every community's pool of each skill that could serve it, to find nothing.
        self._idle_n = [0, 0, 0]
        self.roster = np.zeros((nc, 3), dtype=np.int64)  # providers on roster by community, skill
        self._roster = [[0, 0, 0] for _ in range(nc)]  # the same counts as Python ints (hot path)
        self._seq = itertools.count()
        self._live: dict[int, _Need] = {}  # records of needs scheduled and not yet met or abandoned
        self._paid: dict[Provider, None] = {}  # paid staff on roster (an ordered set)
        self._volunteers: dict[Provider, None] = {}  # volunteers on roster (an ordered set)
        self._planned_week = -1  # the week whose shift calendar is being walked
        # Switches set by policies (through the methods below).
        self.street_scope = False
        self.referrals = False
        self.publicity = False
        self.record_priority = False
        self.codelivery_share = 0.0
        self.codelivery_learn = 0.0
        self.codelivery_planned = False
        self.matching_delay = p.matching_delay_hours
        self.min_left = p.min_shift_left_hours
        self.fallback_wait = p.fallback_wait_hours
        self.below_quality = p.below_level_quality
        self.sw_takes_level0 = p.sw_takes_level0
        self.alpha = p.reputation_alpha
        # Which skills serve a level (idle search), and which levels a skill pulls (own first).
        self._serving_skills = tuple(
            tuple(range(lv, 3)) if (lv > 0 or self.sw_takes_level0) else (0, 1) for lv in range(3)
        )
        self._pull_levels = ((0,), (1, 0), (2, 1, 0) if self.sw_takes_level0 else (2, 1))
        # Lazy volunteer shift starts. A volunteer's class is (community, skill) = community * 3 +
        # skill; it may pull from its own levels' queues (community and street) and, as a
        # fallback, from its community's queue one level up. A class is *hot* while one of those
        # queues holds a need: `_nhot[k]` counts them.
        s3 = nc * 3
        pullers: list[list[int]] = [[] for _ in range(n_codes)]
        for k in range(nc * 3):
            c3, sk = k // 3 * 3, k % 3
            if sk < 2:  # volunteers are skill 0 or 1
                for q in (
                    *(x for lv in self._pull_levels[sk] for x in (c3 + lv, s3 + lv)),
                    c3 + sk + 1,
                ):
                    pullers[q].append(k)
        self._pullers = [tuple(x) for x in pullers]  # volunteer classes that may pull from a queue
        self._nhot = [0] * (nc * 3)
        self._hotheap: list[tuple[float, int]] = []  # (next shift start, class) of hot classes
        self._in_heap = [False] * (nc * 3)
        # This week's volunteer shifts, by start: shift i is volunteer `_vwho[i]` from
        # `_vstart[i]` to `_vend[i]`, not started yet while `_vwho[i].pending_shift == i`.
        self._vstart: list[float] = []
        self._vwho: list[Provider] = []
        self._vend: list[float] = []
        self._vnext = 0  # the first shift not started yet
        self._vdue = math.inf  # its start
        self._vclass: dict[int, list[int]] = {}  # the same shifts by class
        self._vclass_i: dict[int, int] = {}  # first shift of each class not started yet
        self._armed = math.inf  # when the armed start timer fires
        self._arm_token = 0
        # Pre-drawn rating noise (refilled from the 'ratings' stream), as Python floats.
        self._rng_ratings = streams.get("ratings")
        self._noise: list[float] = []
        self._refill_noise()
        self._rng_learn = streams.get("learning")
        # Cases and their outcomes (docs/ODD.md, 7.2): resolution draws come from their own
        # stream, in blocks.
        self.resolution = p.outcome == "resolution"
        self.resolve_base = p.resolve_base
        self._q_scale = 1.0 / max(0.05, p.quality_mean)  # quality relative to the mean
        self.q_elast = p.quality_elasticity
        self.team_bonus = p.team_bonus
        self.complex_penalty = p.complex_penalty
        self.return_share = p.return_share
        self.max_returns = p.max_returns
        self.return_delay = p.return_delay_hours
        self.session_gap = p.session_gap_hours
        self.followup_patience = p.followup_patience_hours
        self._resolve = UniformBuffer(streams.get("resolution"))
        # Planned co-delivery: per community, this week's volunteers in a random order, and the
        # first of them who may still have pledged hours left.
        self._streams = streams
        self._assist_pool: list[list[Provider]] = [[] for _ in range(nc)]
        self._assist_i = [0] * nc
        self._assist_users: list[Provider] = []  # volunteers with planned assists this week
        # Weekly accumulators (reset by the model each week).
        self.reset_week()
        self.env.process(self._planner())

    # ------------------------------------------------------------------ settings
    def match_street_wide(self, delay_hours: float) -> None:
        """Every provider of the street sees every need (the information platform), which
        reaches providers `delay_hours` after it is expressed."""
        self.street_scope = True
        self.matching_delay = delay_hours

    def enable_referrals(self) -> None:
        """Needs a community cannot serve at their level are referred street-wide."""
        self.referrals = True

    def publish_reputations(self) -> None:
        """Published reputations steer matching: the best-rated idle provider serves first."""
        self.publicity = True

    def set_record_priority(self, on: bool) -> None:
        """Whether volunteers with stars get priority in matching."""
        self.record_priority = on

    def enable_codelivery(self, share: float, learn: float, planned: bool = False) -> None:
        """A volunteer assists social workers on professional cases, taking over `share` of
        the hours; a skill-0 assistant learns (reaches skill 1) with chance `learn`. `planned`:
        when no volunteer of the community is idle on shift, one with pledged hours left this
        week comes for the session (off-shift assist hours count as duty)."""
        self.codelivery_share = share
        self.codelivery_learn = learn
        self.codelivery_planned = planned

    # ------------------------------------------------------------------ the week
    def outcomes(self) -> tuple[np.ndarray, np.ndarray]:
        """Ids of the needs met and abandoned this week (so far)."""
        return (
            np.array(self.met_ids, dtype=np.int64),
            np.array(self.abandoned_ids, dtype=np.int64),
        )

    def reset_week(self) -> None:
        """Clear the weekly accumulators, and drop the stale entries of large idle pools."""
        if hasattr(self, "week_busy"):
            now = self.env.now
            for heap in self.idle:
                if len(heap) > 256:
                    live = [
                        e
                        for e in heap
                        if e[4].parked and e[4].token == e[3] and e[4].shift_end > now
                    ]
                    heapify(live)
                    heap[:] = live  # in place: `_skill_pools` holds the same lists
            self._idle_n = [sum(map(len, pools)) for pools in self._skill_pools]
        # Python lists, not numpy: they are updated once per service (indexed by Kind). Duty
        # time (`week_shift`) includes overtime: sessions that ran past a shift's end, and
        # planned assists off shift.
        self.week_busy = [0.0, 0.0, 0.0, 0.0]
        self.week_shift = [0.0, 0.0, 0.0, 0.0]
        self.week_overtime = [0.0, 0.0, 0.0, 0.0]
        self.week_sessions = [0, 0, 0, 0]
        self.week_referrals = 0
        self.week_vol_hours = 0.0
        self.met_ids: list[int] = []
        self.abandoned_ids: list[int] = []

    # ------------------------------------------------------------------ roster
    def add_provider(self, s: Provider) -> None:
        """Put a provider on the roster with its pending `wake` event. Its shifts start with the
        next weekly plan (paid staff added in the middle of a week also work the rest of it)."""
        self._count(s.community, s.skill, 1)
        (self._volunteers if s.kind == _VOLUNTEER else self._paid)[s] = None
        # The provider's wake-up handler (see `_woken`), made once per provider.
        s.on_wake = functools.partial(self._woken, s)
        s.wake = self.env.event()
        s.wake.callbacks.append(s.on_wake)
        s.parked = True  # off duty: not in the idle pools until a shift starts
        if self._planned_week >= 0 and s.kind != _VOLUNTEER:
            now = self.env.now
            for start, end in s.week_shifts(self._planned_week):
                if end > now:
                    self._arm_shift(s, start, end)

    def has_adequate(self, c: int, level: int) -> bool:
        """Whether community `c` has any provider on roster who can serve `level` at level."""
        row = self._roster[c]
        if level == 0 and not self.sw_takes_level0:
            return row[0] + row[1] > 0
        return sum(row[level:3]) > 0

    def _count(self, community: int, skill: int, delta: int) -> None:
        self.roster[community, skill] += delta
        self._roster[community][skill] += delta

    def change_skill(self, s: Provider, skill: int) -> None:
        """Move a provider to another skill level (training, exams)."""
        if s.on_roster:
            self._count(s.community, s.skill, -1)
            self._count(s.community, skill, 1)
        s.skill = skill
        self._refile(s)

    def relocate(self, s: Provider, community: int) -> None:
        """Move a provider to another community (a new project)."""
        if community == s.community:
            return
        if s.on_roster:
            self._count(s.community, s.skill, -1)
            self._count(community, s.skill, 1)
        s.community = community
        self._refile(s)

    def _refile(self, s: Provider) -> None:
        """After a change of class: re-file an idle provider in the right idle pools, and a
        volunteer's shift not started yet under its new class."""
        if s.parked:
            self.park(s, self.env.now)
        i = s.pending_shift
        if i >= 0:
            k = s.community * 3 + s.skill
            lst = self._vclass.setdefault(k, [])
            j = bisect.bisect_right(lst, self._vstart[i], key=self._vstart.__getitem__)
            lst.insert(j, i)
            self._vclass_i[k] = min(j, self._vclass_i.get(k, j))
            if self._nhot[k]:
                self._heat(k, again=True)

    def remove_provider(self, s: Provider) -> None:
        """Take a provider off the roster counts (it stops at its next wake-up)."""
        self._count(s.community, s.skill, -1)
        (self._volunteers if s.kind == _VOLUNTEER else self._paid).pop(s, None)
        self.unpark(s)

    # ------------------------------------------------------------------ idle pools
    def park(self, s: Provider, since: float) -> None:
        """File an idle provider in the idle pool of its community and skill, best published
        reputation (and, for volunteers, most stars) first, then idle longest (since `since`). A
        new token makes its older entries stale: pools are cleaned lazily, as entries surface."""
        s.parked = True
        s.token += 1
        key = -s.reputation if self.publicity else 0.0
        if self.record_priority and s.kind == _VOLUNTEER:
            key -= 0.1 * s.stars
        heappush(self.idle[s.community * 3 + s.skill], (key, since, next(self._seq), s.token, s))
        self._idle_n[s.skill] += 1

    def unpark(self, s: Provider) -> None:
        """Wake a parked provider with STOP: it leaves."""
        if s.parked:
            s.parked = False
            s.wake.succeed(STOP)

    def _pop_idle(self, row: int, now: float) -> Provider | None:
        """The first provider of an idle pool who is still idle and on shift (stale entries are
        dropped on the way)."""
        heap = self.idle[row]
        until = now + self.min_left
        n_idle = self._idle_n
        while heap:
            _, _, _, token, s = heappop(heap)
            n_idle[row % 3] -= 1
            if s.token == token and s.parked and s.shift_end > until:
                return s
        return None

    def _find_idle(self, c: int, level: int, street: bool, now: float) -> Provider | None:
        """An idle provider for a need of `level` from community `c`: the lowest adequate skill
        first, own community before the rest of the street (when in scope)."""
        if now >= self._vdue:
            self._catch_up(now)
        n_idle = self._idle_n
        if not (n_idle[0] or n_idle[1] or n_idle[2]):
            return None  # every idle pool is empty (in a busy street, nearly always)
        idle = self.idle
        for sk in self._serving_skills[level]:
            if idle[c * 3 + sk]:
                s = self._pop_idle(c * 3 + sk, now)
                if s is not None:
                    return s
            if street and n_idle[sk]:  # no entry in the skill's pools: nobody idle there
                s = self._pop_street(sk, now)
                if s is not None:
                    return s
        return None

    def _pop_street(self, skill: int, now: float) -> Provider | None:
        """The first idle provider of a skill in the whole street: the best of the communities'
        pool heads (each pool a heap, so the street's first is the least of their firsts; entries
        are unique by their sequence number, so the order is total)."""
        best = best_heap = None
        until = now + self.min_left
        stale = 0
        for heap in self._skill_pools[skill]:
            while heap:
                e = heap[0]
                s = e[4]
                if s.token == e[3] and s.parked and s.shift_end > until:
                    if best is None or e < best:
                        best, best_heap = e, heap
                    break
                heappop(heap)
                stale += 1
        self._idle_n[skill] -= stale
        if best is None:
            return None
        heappop(best_heap)
        self._idle_n[skill] -= 1
        return best[4]

    # ------------------------------------------------------------------ shifts
    def _planner(self):
        """Plan each week at its start; walk the paid staff's calendar (one timeout per distinct
        start time); volunteers' shifts start lazily (`_plan_volunteers`)."""
        env = self.env
        while True:
            week = round(env.now / WEEK)
            self._planned_week = week
            self._plan_volunteers(week)
            cal = [(start, s, end) for s in self._paid for start, end in s.week_shifts(week)]
            cal.sort(key=_start_time)  # stable: staff in roster order
            for start, s, end in cal:
                if start > env.now:
                    yield env.timeout(start - env.now)
                self._begin_shift(s, end)
            yield env.timeout((week + 1) * WEEK - env.now)

    def _arm_shift(self, s: Provider, start: float, end: float) -> None:
        """Start one shift of `s` outside the weekly plan (a provider added mid-week)."""
        if start <= self.env.now:
            self._begin_shift(s, end)
        else:
            self.env.timeout(start - self.env.now).callbacks.append(
                lambda _ev: self._begin_shift(s, end)
            )

    def _begin_shift(self, s: Provider, end: float) -> None:
        """A paid shift starts now: book its hours (not twice where it overlaps the last one) and
        get to work if idle."""
        if not s.on_roster:
            return
        now = self.env.now
        booked = max(now, s.shift_end)
        if end <= booked:
            return
        self.week_shift[s.kind] += end - booked
        s.shift_end = end
        if s.parked:
            self._work(s, now, now)

    def _plan_volunteers(self, week: int) -> None:
        """Draw the week's volunteer shifts and book their hours; their starts are lazy."""
        for v in self._vwho[self._vnext :]:  # last week's shifts never started: nothing to do
            v.pending_shift = -1
        self._arm_token += 1  # forget a timer armed last week
        self._armed = math.inf
        starts, who, ends = self.volunteers.plan_week(list(self._volunteers), week)
        self._vstart, self._vwho, self._vend = starts, who, ends
        self._vnext = 0
        self._vdue = starts[0] if starts else math.inf
        self.week_shift[_VOLUNTEER] += math.fsum(ends) - math.fsum(starts)
        byclass: dict[int, list[int]] = {}
        for i, v in enumerate(who):
            v.pending_shift = i
            byclass.setdefault(v.community * 3 + v.skill, []).append(i)
        self._vclass = byclass
        self._vclass_i = dict.fromkeys(byclass, 0)
        self._hotheap = []
        self._in_heap = [False] * len(self._in_heap)
        for k in byclass:
            if self._nhot[k]:
                self._heat(k)
        if self.codelivery_planned:
            self._plan_assists(week)

    def _plan_assists(self, week: int) -> None:
        """Planned co-delivery: this week's volunteers of each community, in a random order
        (their own weekly stream), are who a social worker can call on to assist."""
        for v in self._assist_users:  # only they used pledged hours (others are at 0.0)
            v.assist_used = 0.0
        self._assist_users = []
        pools: list[list[Provider]] = [[] for _ in range(self.nc)]
        for v in self._volunteers:
            pools[v.community].append(v)
        rng = self._streams.weekly("assists", week)
        for c, pool in enumerate(pools):
            if len(pool) > 1:
                pools[c] = [pool[i] for i in rng.permutation(len(pool)).tolist()]
        self._assist_pool = pools
        self._assist_i = [0] * self.nc

    def _catch_up(self, now: float) -> None:
        """Start every volunteer shift due by `now`, in order of start. Exact: a shift started
        late here is one whose queues were all empty when it began (else a timer started it on
        time), so it would have found no work then either; it is filed in the idle pools as idle
        since its start, and the pools have not been searched in between."""
        starts, who = self._vstart, self._vwho
        i, n = self._vnext, len(starts)
        while i < n and starts[i] <= now:
            v = who[i]
            i += 1
            self._vnext = i  # before starting it: starting may post a referral, which catches up
            if v.pending_shift == i - 1:
                self._begin_volunteer(v, i - 1, now)
            i = self._vnext
        self._vdue = starts[i] if i < n else math.inf

    def _begin_volunteer(self, v: Provider, i: int, now: float) -> None:
        v.pending_shift = -1
        if not v.on_roster:
            return
        v.shift_end = self._vend[i]
        if v.parked:
            since = max(self._vstart[i], v.idle_since)
            if now < v.shift_end and not self._nhot[v.community * 3 + v.skill]:
                self.park(v, since)  # nothing it could pull (the usual case): skip the search
            else:
                self._work(v, now, since)

    def _next_shift_of(self, k: int) -> int:
        """The first shift of class `k` not started yet (-1: none)."""
        lst = self._vclass.get(k)
        if not lst:
            return -1
        who = self._vwho
        j = self._vclass_i[k]
        while j < len(lst):
            i = lst[j]
            v = who[i]
            if v.pending_shift == i and v.community * 3 + v.skill == k:
                break
            j += 1
        self._vclass_i[k] = j
        return lst[j] if j < len(lst) else -1

    def _heat(self, k: int, again: bool = False) -> None:
        """Class `k` is hot: its next shift must start on time (arm the timer for it). `again`:
        its next shift may have changed (a volunteer joined the class)."""
        if self._in_heap[k] and not again:
            return
        i = self._next_shift_of(k)
        if i < 0:
            return
        start = self._vstart[i]
        heappush(self._hotheap, (start, k))
        self._in_heap[k] = True
        if start < self._armed:
            self._arm(start)

    def _arm(self, when: float) -> None:
        """(Re)arm the one timer that starts volunteer shifts on time."""
        self._armed = when
        self._arm_token += 1
        token = self._arm_token
        self.env.timeout(max(0.0, when - self.env.now)).callbacks.append(
            lambda _ev: self._start_timer(token)
        )

    def _start_timer(self, token: int) -> None:
        """Start the shifts due now, then arm for the next shift of a class still hot (the heap
        is cleaned lazily: classes gone cold or shifts already started are dropped or updated)."""
        if token != self._arm_token:
            return
        self._armed = math.inf
        self._catch_up(self.env.now)
        heap, start = self._hotheap, self._vstart
        while heap:
            t, k = heap[0]
            i = self._next_shift_of(k) if self._nhot[k] else -1
            if i < 0:
                heappop(heap)
                self._in_heap[k] = False
            elif start[i] != t:
                heapreplace(heap, (start[i], k))
            else:
                self._arm(t)
                return

    def _work(self, s: Provider, now: float, since: float) -> None:
        """A provider who is free takes the next need it may serve, or waits parked (in the idle
        pools, as idle since `since`, while its shift lasts; off duty after it). It starts no
        session in the last `min_shift_left_hours` of its shift."""
        if now + self.min_left < s.shift_end:
            rec = self.pull(s, now)
            if rec is not None:
                self._start(s, rec, now)
            else:
                self.park(s, since)
        else:
            s.parked = True

    def _fire(self, event: simpy.Event, value, delay: float) -> None:
        """Trigger a pending event `delay` hours from now (`Event.succeed` with a delay; SimPy's
        own `Timeout` and `run(until=...)` set up their events the same way)."""
        event._ok = True
        event._value = value
        self.env.schedule(event, NORMAL, delay)

    # ------------------------------------------------------------------ queues
    def _set_code(self, rec: _Need, code: int) -> None:
        """Move a need's record to queue `code` (-1: out of every queue), counting per queue. A
        queue that fills may make volunteers' shift starts matter: re-arm their timer."""
        qlen = self.qlen
        old = rec.code
        if old >= 0:
            qlen[old] -= 1
            if not qlen[old]:  # emptied: its puller classes have one hot queue less
                for k in self._pullers[old]:
                    self._nhot[k] -= 1
        rec.code = code
        if code >= 0:
            qlen[code] += 1
            if qlen[code] == 1:  # filled: its puller classes may turn hot
                nhot = self._nhot
                for k in self._pullers[code]:
                    nhot[k] += 1
                    if nhot[k] == 1 and k in self._vclass:
                        self._heat(k)

    # ------------------------------------------------------------------ arrivals
    def schedule(self, ids: np.ndarray) -> None:
        """Post these needs at their `t_post` times (one arrival process per week)."""
        if not len(ids):
            return
        nt = self.needs
        ids = ids[np.argsort(nt.t_post[ids], kind="stable")]
        nids = ids.tolist()
        recs = list(
            map(
                _Need,
                nids,
                nt.t_post[ids].tolist(),
                nt.deadline[ids].tolist(),
                nt.level[ids].tolist(),
                nt.community[ids].tolist(),
                nt.hours[ids].tolist(),
                nt.flags[ids].tolist(),
                nt.sessions[ids].tolist(),
            )
        )
        self._live.update(zip(nids, recs, strict=True))
        _Arrivals(self.env, self.post, recs)

    def post(self, rec: _Need, to_street: bool = False, first: bool = False) -> None:
        """A need reaches the providers in its scope: an idle provider takes it, or it queues.
        `first`: it goes to the head of its queue (a case's next session: an appointment)."""
        now = self.env.now
        if rec.deadline <= now:
            self._abandon(rec, rec.deadline)
            return
        nt = self.needs
        nid = rec.nid
        c = rec.community
        level = rec.level
        street = to_street or self.street_scope
        if not street and self.referrals and not self.has_adequate(c, level):
            street = True
            rec.flags |= F_REFERRED
            nt.flags[nid] = rec.flags
            self.week_referrals += 1
        s = self._find_idle(c, level, street, now)
        if s is not None:
            self._start(s, rec, now)
            return
        code = (self.street if street else c) * 3 + level
        nt.status[nid] = WAITING
        nt.queue[nid] = code
        # A case's next session and a redemption jump the queue (a redemption only its own
        # community's queue, or the street's with portable credits).
        if first or (rec.flags & F_REDEEM and (not street or self.volunteers.time_bank.portable)):
            self.queues[code].appendleft(rec)
        else:
            self.queues[code].append(rec)
        self._set_code(rec, code)

    def escalate(self, nid: int) -> None:
        """Joint meeting: move a waiting need to the street-wide queue."""
        rec = self._live[nid]
        rec.flags |= F_ESCALATED
        self.needs.flags[nid] = rec.flags
        self.post(rec, to_street=True)

    def take_joint_cases(self, limit: int) -> list[int]:
        """Joint meeting: the oldest complex needs waiting or in an open case (up to `limit`)
        become joint cases (a social worker, an organization and volunteers together: no
        complexity penalty, the team bonus); those waiting in a community queue move to the
        street queue. Returns their ids."""
        nt = self.needs
        cands = [
            r
            for r in self._live.values()
            if r.flags & F_COMPLEX and not r.flags & F_JOINT and nt.status[r.nid] >= WAITING
        ]
        cands.sort(key=lambda r: (nt.t_raise[r.nid], r.nid))
        taken = []
        s3 = self.street * 3
        for r in cands[:limit]:
            r.flags |= F_JOINT
            nt.flags[r.nid] = r.flags
            taken.append(r.nid)
            if 0 <= r.code < s3:
                self.post(r, to_street=True)
        return taken

    def expire(self, ids: np.ndarray) -> None:
        """The weekly sweep abandoned these needs at their deadlines: forget their records."""
        live = self._live
        for nid in ids.tolist():
            rec = live.pop(nid, None)
            if rec is not None:
                self._set_code(rec, -1)
        self.abandoned_ids.extend(ids.tolist())

    # ------------------------------------------------------------------ pulling work
    def _head(self, code: int, now: float) -> _Need | None:
        """The first live need of a queue (expired heads are abandoned on the way)."""
        q = self.queues[code]
        while q:
            rec = q[0]
            if rec.code != code:
                q.popleft()
            elif rec.deadline <= now:
                q.popleft()
                self._abandon(rec, rec.deadline)
            else:
                return rec
        return None

    def pull(self, s: Provider, now: float) -> _Need | None:
        """The next need for a free provider: own level first, oldest of its community and street
        queues; after a long wait, a need one level above its own.

        The fallback (`fallback_wait_hours`): the oldest need one level up in its community that
        has waited that long goes, when a referral link exists, to an adequate provider idle
        anywhere in the street; with none idle (or no referral link) this provider serves it now,
        below its level. A need referred to the street queue may likewise be served below level
        once it has waited that long there."""
        c3 = s.community * 3
        s3 = self.street * 3
        queues = self.queues
        for level in self._pull_levels[s.skill]:
            a = self._head(c3 + level, now) if queues[c3 + level] else None
            b = self._head(s3 + level, now) if queues[s3 + level] else None
            if a is not None and (b is None or a.t_post <= b.t_post):
                queues[c3 + level].popleft()
                return a
            if b is not None:
                queues[s3 + level].popleft()
                return b
        if s.skill < 2:
            code = c3 + s.skill + 1
            q = queues[code]
            nt = self.needs
            while q:
                a = self._head(code, now)
                if a is None or now - a.t_post < self.fallback_wait:
                    return None
                q.popleft()
                if self.referrals:
                    a.flags |= F_REFERRED
                    nt.flags[a.nid] = a.flags
                    self.week_referrals += 1
                    other = self._find_idle(a.community, a.level, True, now)
                    if other is not None:
                        self._start(other, a, now)
                        continue
                a.flags |= F_BELOW
                nt.flags[a.nid] = a.flags
                return a
            if self.referrals:
                code = s3 + s.skill + 1
                if queues[code]:
                    a = self._head(code, now)
                    if a is not None and now - a.t_post >= self.fallback_wait:
                        queues[code].popleft()
                        a.flags |= F_BELOW
                        nt.flags[a.nid] = a.flags
                        return a
        return None

    # ------------------------------------------------------------------ the provider
    def _woken(self, s: Provider, event: simpy.Event) -> None:
        """One provider's wake-up: the callback of its pending `wake` event. It serves needs one
        after another while on shift and parks when there is nothing to do; it only runs when a
        service (or an assist) ends: shift starts and arriving needs start its next service from
        outside by firing its `wake` event.

        A callback rather than a SimPy process (a generator yielding `wake`): the same events at
        the same times in the same order, without resuming a generator at every completion
        (docs/performance.md, 2026-11-30 evening). The next `wake` gets this callback before
        any of it can fire, as a process would have attached itself to it.
        """
        value = event._value
        if value is STOP:
            return
        if value is ASSIST:
            self._assisted(s)
        else:
            self._finish(s, value)
        if not s.on_roster:
            return
        env = self.env
        s.wake = wake = env.event()
        wake.callbacks.append(s.on_wake)
        now = env.now
        s.idle_since = now
        self._work(s, now, now)

    # ------------------------------------------------------------------ service
    def _start(self, s: Provider, rec: _Need, now: float) -> None:
        """`s` starts a session of `rec` now; its `wake` fires when the session ends. The part
        of a session that runs past the shift's end is overtime: duty time of its kind."""
        nt = self.needs
        nid = rec.nid
        s.parked = False
        nt.status[nid] = IN_SERVICE
        if not rec.started:
            rec.started = True
            nt.t_start[nid] = now
        if rec.code >= 0:
            nt.queue[nid] = -1
            self._set_code(rec, -1)
        hours = rec.hours
        if self.codelivery_share > 0 and s.kind == _SOCIAL_WORKER and rec.level == 2:
            if now >= self._vdue:
                self._catch_up(now)
            v = self._pop_idle(s.community * 3 + 1, now) or self._pop_idle(s.community * 3 + 0, now)
            share = hours * self.codelivery_share
            if v is None and self.codelivery_planned:
                v = self._planned_assistant(s.community, share)
            if v is not None:
                v.parked = False
                v.assist_hours = share
                v.assist_nid = nid
                self._overtime(v, now, share)
                self._fire(v.wake, ASSIST, share)
                rec.flags |= F_CODELIVERED
                nt.flags[nid] = rec.flags
                hours *= 1.0 - self.codelivery_share
        s.service_hours = hours
        # `_overtime` and `_fire` written out for the provider (once per session: the calls
        # cost more than the arithmetic).
        end = s.shift_end
        over = now + hours - (end if end > now else now)
        if over > 0:
            kind = s.kind
            self.week_shift[kind] += over
            self.week_overtime[kind] += over
        wake = s.wake
        wake._ok = True
        wake._value = rec
        self.env.schedule(wake, NORMAL, hours)

    def _overtime(self, s: Provider, now: float, hours: float) -> None:
        """Count the hours of a session (or an assist) past the provider's shift end as duty."""
        over = now + hours - (s.shift_end if s.shift_end > now else now)
        if over > 0:
            kind = s.kind
            self.week_shift[kind] += over
            self.week_overtime[kind] += over

    def _planned_assistant(self, c: int, hours: float) -> Provider | None:
        """Planned co-delivery: the first volunteer of community `c` in this week's random order
        who is not serving now, has no shift still to start this week, and has `hours` of its
        pledged weekly hours left for assists.
        Volunteers whose pledge is used up are passed for the rest of the week."""
        pool = self._assist_pool[c]
        i = self._assist_i[c]
        n = len(pool)
        while i < n and (not pool[i].on_roster or pool[i].assist_used >= pool[i].weekly_hours):
            i += 1
        self._assist_i[c] = i
        for j in range(i, n):
            v = pool[j]
            if (
                v.parked
                and v.pending_shift < 0  # a shift not started yet is booked already
                and v.on_roster
                and v.assist_used + hours <= v.weekly_hours
            ):
                if not v.assist_used:
                    self._assist_users.append(v)
                v.assist_used += hours
                v.token += 1  # its idle-pool entries are stale now
                return v
        return None

    def _refill_noise(self) -> None:
        """Draw the next block of rating noise from the 'ratings' stream."""
        self._noise = self._rng_ratings.normal(0.0, self.rating_noise, 8192).tolist()
        self._noise_i = 0

    def _finish(self, s: Provider, rec: _Need) -> None:
        """`s` finished a session of `rec`: rated, counted, and the case goes on or ends.

        After a session that is not the case's last, the need stays in service (an open case)
        and comes back to the desk `session_gap_hours` later for its next session. After the
        last, with `service.outcome` 'resolution', it is resolved with probability
        resolve_base x (quality / quality_mean) ** quality_elasticity, x (1 + team_bonus) for a
        team (co-delivered or joint case), x complex_penalty for a complex need served alone;
        quality is the provider's, times `below_level_quality` below the need's level. An
        unresolved need comes back once more (at most `max_returns` times) with probability
        `return_share`, `return_delay_hours` later; otherwise it ends met but unresolved.
        """
        nt = self.needs
        nid = rec.nid
        dur = s.service_hours
        skill = s.skill
        kind = s.kind  # an IntEnum: indexes lists and numpy arrays as its int
        now = self.env.now
        nt.skill[nid] = skill
        nt.provider_kind[nid] = kind
        q = s.quality
        if skill < rec.level:
            rec.flags |= F_BELOW
            nt.flags[nid] = rec.flags
            q *= self.below_quality
        nt.quality[nid] = q
        last = rec.sessions <= 1
        decided = resolved = False
        if last and self.resolution:
            ratio = q * self._q_scale
            p = self.resolve_base * (ratio if self.q_elast == 1.0 else ratio**self.q_elast)
            flags = rec.flags
            if flags & (F_CODELIVERED | F_JOINT):
                p *= 1.0 + self.team_bonus
            if flags & F_COMPLEX and not flags & F_JOINT:
                p *= self.complex_penalty
            decided = True
            resolved = self._resolve.random() < p
            if (
                not resolved
                and nt.attempts[nid] < self.max_returns
                and self._resolve.random() < self.return_share
            ):
                nt.attempts[nid] += 1
                rec.flags |= F_RETURNED
                nt.flags[nid] = rec.flags
                rec.sessions = 2  # one more session, after the return delay
                last = False
        if last:
            nt.status[nid] = MET
            nt.t_end[nid] = now
            if resolved or not self.resolution:
                rec.flags |= F_RESOLVED
                nt.flags[nid] = rec.flags
            del self._live[nid]
            self.met_ids.append(nid)
        else:
            rec.sessions -= 1
            nt.sessions[nid] = rec.sessions
            self._next_session(rec, now, self.return_delay if decided else self.session_gap)
        i = self._noise_i
        if i >= len(self._noise):
            self._refill_noise()
            i = 0
        self._noise_i = i + 1
        # The resident rates the session; once the outcome is known, half the rating is it.
        rating = (0.5 * q + 0.5 * resolved if decided else q) + self._noise[i]
        rating = 0.0 if rating < 0.0 else (1.0 if rating > 1.0 else rating)
        s.reputation += self.alpha * (rating - s.reputation)
        s.busy_hours += dur
        s.served += 1
        self.week_busy[kind] += dur
        self.week_sessions[kind] += 1
        con = s.contract
        if con is not None:
            con.delivered_hours += dur
            con.month_hours += dur
            if last:
                con.quality_sum += q
                con.served += 1
                con.resolved += rec.flags & F_RESOLVED > 0
        if kind == _VOLUNTEER:
            self.week_vol_hours += dur
            self.volunteers.served(s, dur, rating, nid)
        if rec.flags & F_REDEEM:
            self.volunteers.time_bank.redeem(int(nt.resident[nid]), float(nt.hours[nid]), s)

    def _next_session(self, rec: _Need, now: float, gap: float) -> None:
        """The case's next session reaches the desk `gap` hours from now, at the head of its
        queue (an appointment: open cases come before new intakes); it drops out if that
        session has not started `followup_patience_hours` after."""
        nt = self.needs
        nid = rec.nid
        rec.t_post = now + gap
        rec.deadline = rec.t_post + self.followup_patience
        nt.t_post[nid] = rec.t_post
        nt.deadline[nid] = rec.deadline
        street = bool(rec.flags & (F_ESCALATED | F_JOINT))  # cases the street took on stay there
        self.env.timeout(gap).callbacks.append(
            lambda _ev: self.post(rec, to_street=street, first=True)
        )

    def _assisted(self, v: Provider) -> None:
        """A volunteer finished assisting a social worker: hours credited, a chance to learn."""
        hours = v.assist_hours
        self.week_busy[v.kind] += hours
        v.busy_hours += hours
        if isinstance(v, Volunteer):
            self.week_vol_hours += hours
            self.volunteers.served(v, hours, None, v.assist_nid)
            if v.skill == 0 and self._rng_learn.random() < self.codelivery_learn:
                self.volunteers.promote(v)

    def _abandon(self, rec: _Need, t: float) -> None:
        nt = self.needs
        nid = rec.nid
        nt.status[nid] = ABANDONED
        nt.t_end[nid] = t
        nt.queue[nid] = -1
        self._set_code(rec, -1)
        self._live.pop(nid, None)
        self.abandoned_ids.append(nid)

    def waiting_in_communities(self) -> np.ndarray:
        """Ids of needs waiting in community (not street) queues."""
        nt = self.needs
        ids = np.flatnonzero(nt.view("status") == WAITING)
        return ids[nt.queue[ids] < self.street * 3]


__all__ = ["HELD", "ServiceDesk"]
