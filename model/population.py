"""The residents' side of the street: communities, need arrival and needs' outcomes.

Owns:
- the communities (Mesa agents `Community`: size, venue hours, their workers' lists);
- need arrival: each week's new needs (counts by group and type, residents, raise times,
  patience, service hours, sessions of the case, complex or not, hidden or visible, paid with
  credit or not, the intake delay), written to the need table;
- discovery of hidden needs (a base chance, plus what policies add: the platform's standing
  extra and social workers' outreach surveys), venue slots for group activities, and group
  work's pools (needs waiting for a group of their type in their community);
- the close of a need's life on the residents' side: overdue needs abandoned at their deadlines,
  satisfaction of met needs (resolved or not), and trust moving with the week's outcomes;
- resident leaders' turnover (they stop leading) and how many more a community can hold.

The resident arrays themselves (`model.residents.Residents`) and the need table
(`model.needs.NeedTable`) are the model's shared tables: this subsystem raises needs into the
table, the service desk serves them, the recorder counts them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa
import numpy as np

from model.agents import WEEK, Community
from model.needs import (
    ABANDONED,
    F_COMPLEX,
    F_DISCOVERED,
    F_GROUP,
    F_GROUP_POOL,
    F_HIDDEN,
    F_REDEEM,
    F_RESOLVED,
    HELD,
    HIDDEN,
    WAITING,
)

if TYPE_CHECKING:  # pragma: no cover
    from model.needs import Catalog, NeedTable
    from model.params import Params
    from model.residents import Residents
    from model.streams import Streams
    from model.time_bank import TimeBank

BASE_DISCOVERY = 0.02  # weekly chance a hidden need surfaces by itself (assumption, range 0-0.05)


class Population:
    """Communities, need arrival, discovery, venue slots and needs' outcomes for residents.

    Args:
        model: The Mesa model (communities are its agents).
        params: The run's parameters (street and service sections).
        residents: The resident arrays.
        catalog: The need catalog.
        needs: The need table.
        streams: The run's random streams.
        time_bank: Decides which new needs are paid with credit.

    Attributes:
        communities: The communities, by index.
        discovery_extra: Standing extra weekly discovery chance per community (policies add).
        outreach_discovery: This week's extra discovery chance per community from outreach.
        arisen_week: Needs raised in the current week.
    """

    def __init__(
        self,
        model: mesa.Model,
        params: Params,
        residents: Residents,
        catalog: Catalog,
        needs: NeedTable,
        streams: Streams,
        time_bank: TimeBank,
    ) -> None:
        self.p = params
        self.residents = residents
        self.catalog = catalog
        self.needs = needs
        self.streams = streams
        self.time_bank = time_bank
        nc = params.street.n_communities
        sizes = residents.community_sizes()
        table = params.street.community_list()
        venue = (
            [params.street.venue_hours] * nc if table is None else [c.venue_hours for c in table]
        )
        self.communities = [Community(model, c, sizes[c], venue[c]) for c in range(nc)]
        self.discovery_extra = np.zeros(nc)
        self.outreach_discovery = np.zeros(nc)
        self.community_work_discovery = np.zeros(nc)
        self.group_share = np.zeros(len(catalog.names))
        self.group_size = 1
        self.group_min = 1
        self.group_factor = 1.0
        self.group_wait = 0.0
        self.group_sessions = 0  # groups formed
        self.group_members = 0  # needs served in a group
        self.group_released = 0  # needs that waited in a pool in vain and went one to one
        self.arisen_week = 0

    # ------------------------------------------------------------------ settings
    def add_discovery(self, extra: float | np.ndarray) -> None:
        """Raise the standing weekly chance that a hidden need surfaces (in every community, or
        per community)."""
        self.discovery_extra += extra

    def set_outreach_discovery(self, extra: np.ndarray) -> None:
        """This week's extra discovery chance per community from outreach (needs surveys)."""
        self.outreach_discovery = extra

    def serve_in_groups(
        self, share: np.ndarray, size: int, min_size: int, factor: float, wait_hours: float
    ) -> None:
        """Group work (小组工作): from now on, `share` (per need type) of new needs wait in their
        community's pool of that type for a group (see `_form_groups`).

        Args:
            share: Per need type, the share of its needs that wait for a group.
            size: Most members of one group.
            min_size: Fewest members a group starts with.
            factor: Provider hours of a group session, times one individual session's.
            wait_hours: Longest wait in a pool; then the need is served one to one.
        """
        self.group_share = np.asarray(share, dtype=float)
        self.group_size = max(1, int(size))
        self.group_min = max(1, min(int(min_size), self.group_size))
        self.group_factor = float(factor)
        self.group_wait = float(wait_hours)

    def set_community_work(self, discovery: np.ndarray, trust: np.ndarray) -> None:
        """Community work (社区工作) this week: extra discovery chance per community, and trust
        added to every resident of each community."""
        self.community_work_discovery = discovery
        self.residents.add_trust(trust)

    def add_trust(self, per_community: np.ndarray) -> None:
        """Trust added to every resident of each community (consultation meetings)."""
        self.residents.add_trust(per_community)

    # ------------------------------------------------------------------ the week
    def age(self, week: int) -> None:
        """Everyone ages a week; trust relaxes to its starting mean; yearly group moves; resident
        leaders stop leading with the weekly hazard of `volunteers.leader_exit_annual`."""
        self.residents.weekly_update(week)
        annual = self.p.volunteers.leader_exit_annual
        if annual > 0:
            res = self.residents
            lead = np.flatnonzero(res.leader)
            if len(lead):
                p_out = -math.expm1(math.log1p(-min(annual, 0.999)) / 52.0)
                rng = self.streams.weekly("leader_exits", week)
                res.leader[lead[rng.random(len(lead)) < p_out]] = False

    def leader_room(self) -> np.ndarray:
        """Per community, how many more resident leaders it can hold
        (`volunteers.leaders_max_per_1000`)."""
        res = self.residents
        cap = np.floor(self.p.volunteers.leaders_max_per_1000 * res.community_sizes() / 1000.0)
        have = np.bincount(res.community[res.leader], minlength=res.n_communities)
        return np.maximum(0, cap - have).astype(np.int64)

    def raise_needs(self, week: int, matching_delay: float) -> np.ndarray:
        """The week's new needs, discovery of hidden needs and venue slots.

        Args:
            week: The week.
            matching_delay: Hours from a need being expressed to reaching providers.

        Returns:
            Ids of the needs due to reach the service desk this week.
        """
        p = self.p
        cat = self.catalog
        res = self.residents
        nt = self.needs
        t0 = week * WEEK
        rng = self.streams.weekly("needs", week)
        rids, types = res.draw_needs(cat, rng)
        m = len(rids)
        t_raise = t0 + rng.random(m) * WEEK
        pat = cat.patience[types]
        if p.service.patience_dist == "exponential":
            patience = rng.exponential(pat)
        elif p.service.patience_dist == "gamma":
            k = p.service.patience_shape
            patience = rng.gamma(k, pat / k)
        elif p.service.patience_dist == "fixed":
            patience = pat.astype(float)
            rng.random(m)  # keep the stream aligned across patience choices
        else:
            patience = np.full(m, np.inf)
            rng.random(m)
        mean_h = cat.hours[types]
        st = p.service.service_time
        if st == "exponential":
            hours = rng.exponential(mean_h)
        elif st == "lognormal":
            sig = p.service.lognormal_sigma
            hours = mean_h * np.exp(sig * rng.standard_normal(m) - 0.5 * sig * sig)
        else:
            hours = mean_h.astype(float)
            rng.standard_normal(m)
        grp = np.zeros(m, dtype=bool)
        if self.group_share.any():  # group work: these needs wait in a pool for a group
            grp = self.streams.weekly("group_work", week).random(m) < self.group_share[types]
        hidden = rng.random(m) < cat.hidden[types]
        venue = cat.venue[types]
        status = np.where(hidden, HIDDEN, HELD).astype(np.int8)
        t_desk = t_raise + self._intake(week, m, matching_delay)
        t_post = np.where(hidden | venue | grp, np.inf, t_desk)
        t_pool = np.where(grp & ~hidden, t_desk, np.inf)
        flags = np.where(hidden, F_HIDDEN, 0).astype(np.uint16)
        flags[grp] |= F_GROUP_POOL
        flags[self.time_bank.will_redeem(rids, hours, rng)] |= F_REDEEM
        # Cases: sessions and complexity, from their own stream (the needs stream stays aligned).
        crng = self.streams.weekly("cases", week)
        sessions = 1 + crng.poisson(np.maximum(0.0, cat.sessions[types] - 1.0))
        flags[crng.random(m) < cat.complex_share[types]] |= F_COMPLEX
        nt.add(
            ntype=types,
            level=cat.level[types],
            resident=rids,
            community=res.community[rids],
            group=res.group[rids],
            t_raise=t_raise,
            t_post=t_post,
            deadline=t_raise + patience,
            hours=hours,
            status=status,
            flags=flags,
            sessions=sessions,
            t_pool=t_pool,
        )
        self.arisen_week = m
        # Discovery of hidden needs; venue slots; then everything due this week.
        lo = nt.first_open()
        st_all = nt.status[lo : nt.n]
        ids = lo + np.flatnonzero(st_all == HIDDEN)
        if len(ids):
            comm = nt.community[ids]
            extra = self.discovery_extra + self.outreach_discovery + self.community_work_discovery
            pdisc = (BASE_DISCOVERY + extra[comm]) * (0.5 + res.trust[nt.resident[ids]])
            found = ids[rng.random(len(ids)) < np.minimum(pdisc, 1.0)]
            if len(found):
                nt.status[found] = HELD
                nt.flags[found] |= F_DISCOVERED
                when = np.maximum(nt.t_raise[found], t0 + rng.random(len(found)) * WEEK)
                at_desk = when + self._intake(week, len(found), matching_delay, 1)
                pool = (nt.flags[found] & F_GROUP_POOL) > 0
                nt.t_post[found] = np.where(pool, np.inf, at_desk)
                nt.t_pool[found] = np.where(pool, at_desk, np.inf)
        if cat.venue.any():
            self._venue_slots(lo, t0, rng, week, matching_delay)
        if self.group_share.any():
            self._form_groups(lo, t0, week)
        st_all = nt.status[lo : nt.n]
        return lo + np.flatnonzero((st_all == HELD) & (nt.t_post[lo : nt.n] < t0 + WEEK))

    def _intake(self, week: int, n: int, mean: float, site: int = 0) -> float | np.ndarray:
        """Hours from a need being expressed to reaching providers, for `n` needs: the mean
        (`service.matching_delay_dist` 'fixed'), or exponential draws around it from a weekly
        stream of their own (one per call site, so other draws do not shift)."""
        if self.p.service.matching_delay_dist == "fixed" or mean <= 0:
            return mean
        return self.streams.weekly(f"intake_{site}", week).exponential(mean, n)

    def _venue_slots(
        self, lo: int, t0: float, rng: np.random.Generator, week: int, matching_delay: float
    ) -> None:
        """Group activities wait for venue hours of their community (first come, first served)."""
        nt = self.needs
        cat = self.catalog
        ids = lo + np.flatnonzero((nt.status[lo : nt.n] == HELD) & np.isinf(nt.t_post[lo : nt.n]))
        ids = ids[cat.venue[nt.ntype[ids]]]
        if not len(ids):
            return
        use = cat.venue_hours[nt.ntype[ids]]
        comm = nt.community[ids]
        order = np.lexsort((ids, comm))
        ids, use, comm = ids[order], use[order], comm[order]
        cum = np.cumsum(use)
        starts = np.searchsorted(comm, comm, side="left")
        before = np.where(starts > 0, cum[starts - 1], 0.0)
        within = cum - before
        cap = np.array([c.venue_hours for c in self.communities])[comm]
        ok = ids[within <= cap]
        if len(ok):
            when = np.maximum(nt.t_raise[ok], t0 + rng.random(len(ok)) * WEEK * 0.5)
            nt.t_post[ok] = when + self._intake(week, len(ok), matching_delay, 2)

    def _form_groups(self, lo: int, t0: float, week: int) -> None:
        """Group work: needs in a pool (a community and a need type) that have reached the desk
        by the week's end form groups when the pool holds at least `group_min` of them and
        either `group_size` or a member has waited `group_wait` hours. All members of the pool
        then go, in ceil(n / group_size) groups of near-equal size; each member's session takes
        `group_factor` / its group's size of an individual session's provider hours (the
        group's session hours shared by its members). A member that has waited `group_wait`
        hours in a pool too small for a group is served one to one. Posted needs reach the desk
        at a uniform time in the week (a weekly stream of their own), not before joining the
        pool. Loops over (community, type) pools, not over residents."""
        nt = self.needs
        t1 = t0 + WEEK
        hi = nt.n
        ids = lo + np.flatnonzero(
            (nt.status[lo:hi] == HELD)
            & ((nt.flags[lo:hi] & F_GROUP_POOL) > 0)
            & np.isinf(nt.t_post[lo:hi])
            & (nt.t_pool[lo:hi] < t1)
        )
        if not len(ids):
            return
        key = nt.community[ids].astype(np.int64) * len(self.catalog.names) + nt.ntype[ids]
        order = np.lexsort((ids, key))
        ids, key = ids[order], key[order]
        cuts = np.flatnonzero(np.diff(key)) + 1
        rng = self.streams.weekly("group_sessions", week)
        go: list[np.ndarray] = []
        share: list[np.ndarray] = []
        alone: list[np.ndarray] = []
        for pool in np.split(ids, cuts):
            n = len(pool)
            waited = t1 - nt.t_pool[pool] >= self.group_wait
            if n >= self.group_min and (n >= self.group_size or waited.any()):
                groups = -(-n // self.group_size)
                sizes = np.full(groups, n // groups)
                sizes[: n % groups] += 1
                go.append(pool)
                share.append(np.repeat(self.group_factor / sizes, sizes))
                self.group_sessions += groups
            elif waited.any():
                alone.append(pool[waited])
        if go:
            g = np.concatenate(go)
            nt.hours[g] *= np.concatenate(share)
            nt.flags[g] |= F_GROUP
            self.group_members += len(g)
        if alone:
            self.group_released += sum(len(a) for a in alone)
        posted = np.concatenate(go + alone) if go or alone else ids[:0]
        if len(posted):
            when = t0 + rng.random(len(posted)) * WEEK
            nt.t_post[posted] = np.maximum(nt.t_pool[posted], when)

    def abandon_overdue(self, week: int) -> np.ndarray:
        """Needs still open and not in service whose deadline passed this week are abandoned at
        their deadlines; returns their ids (the service desk forgets them)."""
        nt = self.needs
        t_end = (week + 1) * WEEK
        lo = nt.first_open()
        st = nt.status[lo : nt.n]
        dl = nt.deadline[lo : nt.n]
        # Still open and not in service: HIDDEN, HELD or WAITING (the lowest status codes).
        over = lo + np.flatnonzero((st <= WAITING) & (dl <= t_end))
        if len(over):
            nt.status[over] = ABANDONED
            nt.t_end[over] = nt.deadline[over]
            nt.queue[over] = -1
        return over

    def satisfaction_of(self, ids: np.ndarray) -> np.ndarray:
        """Satisfaction of met needs. With `service.outcome` 'resolution': 1 when resolved, 0
        when served but unresolved. With 'service': 1 at or above the required level,
        `below_level_quality` below it."""
        if not len(ids):
            return np.zeros(0)
        if self.p.service.outcome == "resolution":
            return ((self.needs.flags[ids] & F_RESOLVED) > 0).astype(float)
        below = self.needs.skill[ids] < self.needs.level[ids]
        return np.where(below, self.p.service.below_level_quality, 1.0)

    def apply_outcomes(self, met: np.ndarray, abandoned: np.ndarray) -> None:
        """Trust moves with the week's outcomes: up by `trust_gain` x satisfaction for a met
        need (with 'resolution': up for a resolved one, down by `trust_loss_unresolved` for one
        served but unresolved), down by `trust_loss` for an abandoned one."""
        nt = self.needs
        st = self.p.street
        sat = self.satisfaction_of(met)
        if self.p.service.outcome == "resolution":
            met_change = np.where(sat > 0, st.trust_gain, -st.trust_loss_unresolved)
        else:
            met_change = st.trust_gain * sat
        self.residents.move_trust(
            np.concatenate([nt.resident[met], nt.resident[abandoned]]),
            np.concatenate([met_change, np.full(len(abandoned), -st.trust_loss)]),
        )
