"""Residents as numpy arrays, updated with vectorized operations (no per-resident Python loops).

Residents are many (10^4-10^6). Each is an index into these arrays: community, group, age,
volunteer propensity and state, trust, leader flag. They are the model's shared people table
(Starsim's `People`): the population subsystem ages them and moves their trust, the volunteers
subsystem keeps the volunteer arrays (`vol_*`, `supervised`) up to date, policies read them and
mark leaders and supervised volunteers. Time-bank accounts are the time bank's
(`model.time_bank`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.needs import Catalog
from model.schema import GROUPS

if TYPE_CHECKING:  # pragma: no cover
    from model.community_table import CommunitySpec
    from model.params import Params

ELDERLY, MINOR, MIGRANT, DISABLED, LOW_INCOME, GENERAL = range(len(GROUPS))

# Volunteer state codes.
V_NONE, V_REGISTERED, V_ACTIVE = 0, 1, 2

TRUST_MAX_FACTOR = 1.5  # need expression factor 0.5 + trust, at most 1.5


class Residents:
    """The resident population of the street.

    Args:
        p: The run's parameters.
        rng: The 'population' stream.
    """

    def __init__(self, p: Params, rng: np.random.Generator) -> None:
        s = p.street
        n, nc = s.n_residents, s.n_communities
        self.n, self.n_communities = n, nc
        table = s.community_list()
        if table is not None:  # the community table gives each community's size
            sizes = np.array([c.residents for c in table], dtype=np.int64)
        else:
            # Community sizes: lognormal weights with the requested coefficient of variation.
            if s.community_size_cv > 0:
                sigma = np.sqrt(np.log1p(s.community_size_cv**2))
                w = rng.lognormal(0.0, sigma, nc)
            else:
                w = np.ones(nc)
            sizes = np.floor(w / w.sum() * n).astype(np.int64)
            sizes[: n - sizes.sum()] += 1
        self.community = np.repeat(np.arange(nc, dtype=np.int32), sizes)
        # Residents are numbered community by community: community c is one contiguous block.
        self.community_start = np.concatenate([[0], np.cumsum(sizes)]).tolist()
        if table is not None:
            self.group = self._groups_by_community(table, rng)
        else:
            shares = np.array([getattr(s.groups, g) for g in GROUPS[:-1]])
            shares = np.append(shares, max(0.0, 1.0 - shares.sum()))
            self.group = rng.choice(len(GROUPS), size=n, p=shares / shares.sum()).astype(np.int8)
        self.age = np.empty(n, dtype=np.float32)
        lo = np.array([60, 0, 18, 18, 18, 18])[self.group]
        hi = np.array([92, 18, 50, 60, 60, 60])[self.group]
        self.age[:] = lo + rng.random(n) * (hi - lo)
        self.trust = np.clip(rng.normal(s.initial_trust, 0.1, n), 0, 1).astype(np.float32)
        self.trust_mean0 = float(s.initial_trust)
        # Volunteering (kept up to date by model.volunteers): propensity, state, tenure start.
        self.vol_propensity = rng.beta(2, 8, n).astype(np.float32)  # mean 0.2
        self.vol_state = np.zeros(n, dtype=np.int8)
        self.vol_since = np.zeros(n, dtype=np.int32)
        self.vol_skill = np.zeros(n, dtype=np.int8)
        self.vol_hours = np.zeros(n, dtype=np.float64)  # service record (hours, cumulative)
        self.supervised = np.zeros(n, dtype=bool)  # in a team supervised by a social worker
        self.vol_motivation = np.full(n, 0.5, dtype=np.float32)  # moved by residents' ratings
        # Resident leaders (居民骨干): about 1 per 1,000 residents at start (assumption, 0.5-3).
        self.leader = rng.random(n) < 0.001 * self.vol_propensity / 0.2
        self._rebuild_index()

    def _groups_by_community(
        self, table: list[CommunitySpec], rng: np.random.Generator
    ) -> np.ndarray:
        """Each resident's group, drawn with the shares of their community (one uniform draw
        per resident, compared with the community's cumulative shares)."""
        u = rng.random(self.n)
        group = np.empty(self.n, dtype=np.int8)
        last = len(GROUPS) - 1
        for c, spec in enumerate(table):
            cum = np.cumsum(spec.shares())
            block = slice(self.community_start[c], self.community_start[c + 1])
            group[block] = np.minimum(np.searchsorted(cum / cum[-1], u[block], side="right"), last)
        return group

    # ------------------------------------------------------------------ indices
    def _rebuild_index(self) -> None:
        """Residents ordered by group, for uniform draws within a group."""
        self.by_group = np.argsort(self.group, kind="stable")
        counts = np.bincount(self.group, minlength=len(GROUPS))
        self.group_start = np.concatenate([[0], np.cumsum(counts)[:-1]])
        self.group_count = counts

    def community_sizes(self) -> np.ndarray:
        """Residents per community (from the blocks' bounds: no count over the street)."""
        return np.diff(self.community_start)

    def members(self, c: int) -> slice:
        """The residents of community `c` (a contiguous block of indices): `arr[members(c)]` is
        `arr[community == c]` without scanning everyone."""
        return slice(self.community_start[c], self.community_start[c + 1])

    # ------------------------------------------------------------------ weekly update
    def weekly_update(self, week: int) -> None:
        """Age everyone a week; trust relaxes slowly to its starting mean; yearly group moves."""
        self.age += np.float32(1.0 / 52.0)
        self.trust += np.float32(0.002) * (np.float32(self.trust_mean0) - self.trust)
        if week % 52 == 51:
            moved = False
            to_elderly = (self.age >= 60) & (self.group == GENERAL)
            to_general = (self.age >= 18) & (self.group == MINOR)
            if to_elderly.any():
                self.group[to_elderly] = ELDERLY
                moved = True
            if to_general.any():
                self.group[to_general] = GENERAL
                moved = True
            if moved:
                self._rebuild_index()

    def move_trust(self, who: np.ndarray, change: np.ndarray) -> None:
        """Trust moves by `change` for each resident in `who` (summed per resident over the
        week's outcomes; only the residents concerned are touched), clipped to [0, 1]."""
        who = np.asarray(who).astype(np.int64)
        if not len(who):
            return
        touched, inverse = np.unique(who, return_inverse=True)
        delta = np.bincount(
            inverse, weights=np.asarray(change, dtype=np.float64), minlength=len(touched)
        )
        self.trust[touched] = np.clip(self.trust[touched] + delta, 0, 1)

    def add_trust(self, per_community: np.ndarray) -> None:
        """Add trust to every resident, by community (community work), within [0, 1]."""
        for c, d in enumerate(np.asarray(per_community, dtype=float)):
            if d:
                block = self.members(c)
                self.trust[block] = np.clip(self.trust[block] + np.float32(d), 0, 1)

    # ------------------------------------------------------------------ needs
    def draw_needs(
        self, cat: Catalog, rng: np.random.Generator, rate_scale: float = 1.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw this week's needs: Poisson counts per (group, type), residents uniform within the
        group, thinned by each resident's trust (expression factor 0.5 + trust).

        Returns:
            (resident ids, need types), unsorted.
        """
        lam = self.group_count[:, None] * cat.rates * (TRUST_MAX_FACTOR * rate_scale)
        counts = rng.poisson(lam)  # [G, K]
        total = int(counts.sum())
        if total == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int16)
        g_idx, k_idx = np.nonzero(counts)
        reps = counts[g_idx, k_idx]
        groups = np.repeat(g_idx, reps)
        types = np.repeat(k_idx, reps).astype(np.int16)
        pos = self.group_start[groups] + (rng.random(total) * self.group_count[groups]).astype(
            np.int64
        )
        res = self.by_group[pos]
        keep = rng.random(total) * TRUST_MAX_FACTOR < (0.5 + self.trust[res])
        return res[keep], types[keep]
