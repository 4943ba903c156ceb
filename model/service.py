"""Service delivery in continuous time (hours) on one SimPy environment owned by the model.

Design for speed: needs are rows of `NeedTable`, not processes. Each provider is one SimPy process
that works shifts and pulls work; while idle it parks on an event in an idle pool. A need costs
one arrival timeout, at most one wake-up and one service timeout; reneging costs no event at all
(a need whose patience ran out is found expired when it reaches the head of its queue, and the
weekly sweep closes the rest at their deadlines).

Queues are FIFO per (community, level), plus one street-wide queue per level that the
information platform posts to and that referrals and joint meetings move needs into. Time-bank
redemptions jump their queue.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import simpy

from model.agents import Kind, Provider, Volunteer
from model.needs import (
    ABANDONED,
    F_BELOW,
    F_CODELIVERED,
    F_ESCALATED,
    F_REDEEM,
    F_REFERRED,
    HELD,
    IN_SERVICE,
    MET,
    WAITING,
    NeedTable,
)

if TYPE_CHECKING:  # pragma: no cover
    from model.model import LinkageModel

STOP = -1  # wake value: the provider leaves
NEW_SHIFT = -2  # wake value: the provider's next shift starts
ASSIST = -3  # wake values <= ASSIST: assist a social worker on need (ASSIST - value)


class ServiceDesk:
    """Matching, queueing, reneging and service of needs on a SimPy environment.

    Policies steer it through its switches: `street_scope` (platform), `referrals`, `publicity`,
    `record_priority`, `codelivery_share` and `matching_delay`.

    Args:
        model: The model that owns it.
    """

    def __init__(self, model: LinkageModel) -> None:
        self.model = model
        self.env = simpy.Environment()
        self.needs: NeedTable = model.needs
        p = model.p.service
        self.nc = nc = model.p.street.n_communities
        self.street = nc  # index of the street-wide queue row
        self.queues: list[deque[int]] = [deque() for _ in range((nc + 1) * 3)]
        self.idle: list[list] = [[] for _ in range((nc + 1) * 3)]
        self.roster = np.zeros((nc, 3), dtype=np.int64)  # providers on roster by community, skill
        self._seq = itertools.count()
        # Switches set by policies.
        self.street_scope = False
        self.referrals = False
        self.publicity = False
        self.record_priority = False
        self.codelivery_share = 0.0
        self.codelivery_learn = 0.0
        self.matching_delay = p.matching_delay_hours
        self.fallback_wait = p.fallback_wait_hours
        self.below_quality = p.below_level_quality
        self.sw_takes_level0 = p.sw_takes_level0
        self.alpha = p.reputation_alpha
        # Pre-drawn rating noise (refilled from the 'ratings' stream).
        self._rng_ratings = model.streams.get("ratings")
        self._noise = self._rng_ratings.normal(0.0, p.rating_noise, 8192)
        self._noise_i = 0
        self._rng_learn = model.streams.get("learning")
        # Weekly accumulators (reset by the model each week).
        self.reset_week()

    def reset_week(self) -> None:
        """Clear the weekly accumulators and drop stale idle-pool entries."""
        if hasattr(self, "idle"):
            now = self.env.now
            for i, heap in enumerate(self.idle):
                if heap:
                    live = [e for e in heap if e[3].parked and e[3].token == e[2] and e[3].shift_end > now]
                    heapq.heapify(live)
                    self.idle[i] = live
        self.week_busy = np.zeros(4)
        self.week_shift = np.zeros(4)
        self.week_referrals = 0
        self.week_vol_hours = 0.0
        self.met_ids: list[int] = []
        self.abandoned_ids: list[int] = []

    # ------------------------------------------------------------------ roster
    def add_provider(self, s: Provider) -> None:
        """Put a provider on the roster and start its SimPy process."""
        self.roster[s.community, s.skill] += 1
        self.env.process(self._provider(s))

    def _levels(self, skill: int) -> tuple[int, ...]:
        if skill == 2:
            return (2, 1, 0) if self.sw_takes_level0 else (2, 1)
        return (1, 0) if skill == 1 else (0,)

    def has_adequate(self, c: int, level: int) -> bool:
        """Whether community `c` has any provider on roster who can serve `level` at level."""
        if level == 0 and not self.sw_takes_level0:
            return bool(self.roster[c, 0:2].sum() > 0)
        return bool(self.roster[c, level:3].sum() > 0)

    def change_skill(self, s: Provider, skill: int) -> None:
        """Move a provider to another skill level (training, exams)."""
        if s.on_roster:
            self.roster[s.community, s.skill] -= 1
            self.roster[s.community, skill] += 1
        s.skill = skill
        if s.parked:  # re-file it in the right idle pools
            s.token += 1
            entry = (self._idle_key(s), next(self._seq), s.token, s)
            heapq.heappush(self.idle[s.community * 3 + s.skill], entry)
            heapq.heappush(self.idle[self.street * 3 + s.skill], entry)

    def relocate(self, s: Provider, community: int) -> None:
        """Move a provider to another community (a new project)."""
        if community == s.community:
            return
        if s.on_roster:
            self.roster[s.community, s.skill] -= 1
            self.roster[community, s.skill] += 1
        s.community = community
        if s.parked:
            s.token += 1
            entry = (self._idle_key(s), next(self._seq), s.token, s)
            heapq.heappush(self.idle[s.community * 3 + s.skill], entry)
            heapq.heappush(self.idle[self.street * 3 + s.skill], entry)

    def remove_provider(self, s: Provider) -> None:
        """Take a provider off the roster counts (its process ends at its next wake-up)."""
        self.roster[s.community, s.skill] -= 1
        self.unpark(s)

    # ------------------------------------------------------------------ idle pools
    def _idle_key(self, s: Provider) -> float:
        key = 0.0
        if self.publicity:
            key -= s.reputation
        if self.record_priority and s.kind == Kind.VOLUNTEER:
            key -= 0.1 * s.stars
        return key

    def park(self, s: Provider) -> None:
        s.parked = True
        s.token += 1
        entry = (self._idle_key(s), next(self._seq), s.token, s)
        heapq.heappush(self.idle[s.community * 3 + s.skill], entry)
        heapq.heappush(self.idle[self.street * 3 + s.skill], entry)

    def unpark(self, s: Provider) -> None:
        """Wake a parked provider with STOP: it leaves."""
        if s.parked:
            s.parked = False
            s.wake.succeed(STOP)

    def _pop_idle(self, row: int) -> Provider | None:
        heap = self.idle[row]
        while heap:
            _, _, token, s = heap[0]
            if s.parked and s.token == token and s.shift_end > self.env.now:
                heapq.heappop(heap)
                return s
            heapq.heappop(heap)
        return None

    def _find_idle(self, c: int, level: int, street: bool) -> Provider | None:
        skills = range(level, 3) if (level > 0 or self.sw_takes_level0) else range(0, 2)
        for sk in skills:
            s = self._pop_idle(c * 3 + sk)
            if s is None and street:
                s = self._pop_idle(self.street * 3 + sk)
            if s is not None:
                return s
        return None

    # ------------------------------------------------------------------ arrivals
    def schedule(self, ids: np.ndarray) -> None:
        """Post these needs at their `t_post` times (one arrival process per week)."""
        if len(ids):
            order = np.argsort(self.needs.t_post[ids], kind="stable")
            ids = ids[order]
            self.env.process(self._arrivals(ids.tolist(), self.needs.t_post[ids].tolist()))

    def _arrivals(self, ids: list[int], times: list[float]):
        env = self.env
        for nid, t in zip(ids, times, strict=True):
            if t > env.now:
                yield env.timeout(t - env.now)
            self.post(nid)

    def post(self, nid: int, to_street: bool = False) -> None:
        """A need reaches the providers in its scope: an idle provider takes it, or it queues."""
        nt = self.needs
        now = self.env.now
        if nt.deadline[nid] <= now:
            self.abandon(nid, nt.deadline[nid])
            return
        c = int(nt.community[nid])
        level = int(nt.level[nid])
        street = to_street or self.street_scope
        if not street and self.referrals and not self.has_adequate(c, level):
            street = True
            nt.flags[nid] |= F_REFERRED
            self.week_referrals += 1
        code = (self.street if street else c) * 3 + level
        nt.status[nid] = WAITING
        nt.queue[nid] = code
        s = self._find_idle(c, level, street)
        if s is not None:
            s.parked = False
            s.wake.succeed(nid)
        elif nt.flags[nid] & F_REDEEM:
            self.queues[code].appendleft(nid)
        else:
            self.queues[code].append(nid)

    def escalate(self, nid: int) -> None:
        """Joint meeting: move a waiting need to the street-wide queue."""
        self.needs.flags[nid] |= F_ESCALATED
        self.post(nid, to_street=True)

    # ------------------------------------------------------------------ pulling work
    def _head(self, code: int, now: float) -> int:
        """The first live need of a queue (expired heads are abandoned on the way)."""
        q = self.queues[code]
        nt = self.needs
        while q:
            nid = q[0]
            if nt.status[nid] != WAITING or nt.queue[nid] != code:
                q.popleft()
                continue
            if nt.deadline[nid] <= now:
                q.popleft()
                self.abandon(nid, nt.deadline[nid])
                continue
            return nid
        return -1

    def pull(self, s: Provider) -> int:
        """The next need for a free provider: own level first, oldest of its community and street
        queues; after a long wait, a need above its level (referred on when linkage allows)."""
        now = self.env.now
        c = s.community
        t_post = self.needs.t_post
        for level in self._levels(s.skill):
            a = self._head(c * 3 + level, now)
            b = self._head(self.street * 3 + level, now)
            if a >= 0 and (b < 0 or t_post[a] <= t_post[b]):
                self.queues[c * 3 + level].popleft()
                return a
            if b >= 0:
                self.queues[self.street * 3 + level].popleft()
                return b
        if s.skill < 2:
            code = c * 3 + s.skill + 1
            while True:
                a = self._head(code, now)
                if a < 0 or now - t_post[a] < self.fallback_wait:
                    return -1
                self.queues[code].popleft()
                if self.referrals:
                    self.needs.flags[a] |= F_REFERRED
                    self.week_referrals += 1
                    self.post(a, to_street=True)
                    continue
                self.needs.flags[a] |= F_BELOW
                return a
        return -1

    # ------------------------------------------------------------------ the provider process
    def _new_shift(self, s: Provider, token: int, _event) -> None:
        if s.parked and s.token == token:
            s.parked = False
            s.wake.succeed(NEW_SHIFT)

    def _provider(self, s: Provider):
        """One provider: work shifts; in a shift, pull and serve needs; with nothing to do, park
        until a need arrives or the next shift starts (one timer per idle shift)."""
        env = self.env
        shift = s.next_shift(env.now)
        while s.on_roster and shift is not None:
            start, end = shift
            if start > env.now:
                yield env.timeout(start - env.now)
                if not s.on_roster:
                    return
            s.shift_end = end
            self.week_shift[s.kind] += end - max(start, env.now)
            while True:
                nid = self.pull(s) if env.now < end else -1
                if nid < 0:
                    shift = s.next_shift(max(env.now, end))
                    if shift is None or env.now >= end:
                        break
                    s.wake = env.event()
                    self.park(s)
                    env.timeout(max(0.0, shift[0] - env.now)).callbacks.append(partial(self._new_shift, s, s.token))
                    nid = yield s.wake
                    if nid == STOP:
                        return
                    if nid == NEW_SHIFT:
                        break
                    if nid <= ASSIST:
                        hours = self.needs.hours[ASSIST - nid] * self.codelivery_share
                        yield env.timeout(hours)
                        self._assisted(s, hours, ASSIST - nid)
                        continue
                dur = self._start(s, nid)
                yield env.timeout(dur)
                self._finish(s, nid, dur)

    # ------------------------------------------------------------------ service
    def _start(self, s: Provider, nid: int) -> float:
        nt = self.needs
        nt.status[nid] = IN_SERVICE
        nt.t_start[nid] = self.env.now
        nt.queue[nid] = -1
        hours = float(nt.hours[nid])
        if self.codelivery_share > 0 and s.kind == Kind.SOCIAL_WORKER and nt.level[nid] == 2:
            v = self._pop_idle(s.community * 3 + 1) or self._pop_idle(s.community * 3 + 0)
            if v is not None:
                v.parked = False
                v.wake.succeed(ASSIST - nid)
                nt.flags[nid] |= F_CODELIVERED
                hours *= 1.0 - self.codelivery_share
        return hours

    def _rating_noise(self) -> float:
        if self._noise_i >= len(self._noise):
            self._noise = self._rng_ratings.normal(0.0, self.model.p.service.rating_noise, 8192)
            self._noise_i = 0
        x = self._noise[self._noise_i]
        self._noise_i += 1
        return float(x)

    def _finish(self, s: Provider, nid: int, dur: float) -> None:
        nt = self.needs
        now = self.env.now
        nt.status[nid] = MET
        nt.t_end[nid] = now
        nt.skill[nid] = s.skill
        nt.provider_kind[nid] = s.kind
        q = s.quality
        if s.skill < nt.level[nid]:
            nt.flags[nid] |= F_BELOW
            q *= self.below_quality
        nt.quality[nid] = q
        rating = min(1.0, max(0.0, q + self._rating_noise()))
        s.reputation += self.alpha * (rating - s.reputation)
        s.busy_hours += dur
        s.served += 1
        self.week_busy[s.kind] += dur
        self.met_ids.append(nid)
        if s.contract is not None:
            s.contract.delivered_hours += dur
            s.contract.month_hours += dur
            s.contract.quality_sum += q
            s.contract.served += 1
        if s.kind == Kind.VOLUNTEER:
            self.week_vol_hours += dur
            self.model.volunteer_served(s, dur, rating, nid)
        if nt.flags[nid] & F_REDEEM:
            self.model.timebank_redeem(nid, s)

    def _assisted(self, v: Provider, hours: float, nid: int) -> None:
        """A volunteer finished assisting a social worker: hours credited, a chance to learn."""
        self.week_busy[v.kind] += hours
        v.busy_hours += hours
        if isinstance(v, Volunteer):
            self.week_vol_hours += hours
            self.model.volunteer_served(v, hours, None, nid)
            if v.skill == 0 and self._rng_learn.random() < self.codelivery_learn:
                self.model.promote_volunteer(v)

    def abandon(self, nid: int, t: float) -> None:
        nt = self.needs
        nt.status[nid] = ABANDONED
        nt.t_end[nid] = t
        nt.queue[nid] = -1
        self.abandoned_ids.append(nid)

    def waiting_in_communities(self) -> np.ndarray:
        """Ids of needs waiting in community (not street) queues."""
        nt = self.needs
        ids = np.flatnonzero(nt.view("status") == WAITING)
        return ids[nt.queue[ids] < self.street * 3]


__all__ = ["ServiceDesk", "HELD"]
