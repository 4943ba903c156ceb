"""Residents' needs: the catalog as arrays, and the table that holds every need of a run.

A need has a type, a required skill level, service hours, a patience deadline, and may be hidden
until discovered. Its status moves HIDDEN/HELD -> WAITING -> IN_SERVICE -> MET, or ends ABANDONED
when the deadline passes first; needs still open at the end of the run are pending.

A need is a case of one or more sessions (`sessions`, drawn when it arises): between two sessions
it stays IN_SERVICE (an open case) and waits again for its next session. A met need (MET: served
to its last session) is resolved or not (flag F_RESOLVED, model.service); an unresolved one may
come back for one more session first (F_RETURNED).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from model.schema import GROUPS

if TYPE_CHECKING:  # pragma: no cover
    from model.params import Params

# Status codes (int8).
HIDDEN, HELD, WAITING, IN_SERVICE, MET, ABANDONED = 0, 1, 2, 3, 4, 5
OPEN_STATUSES = (HIDDEN, HELD, WAITING, IN_SERVICE)

# Flag bits (uint16).
F_REFERRED = 1  # moved to the street-wide queue by a referral link
F_ESCALATED = 2  # moved to the street-wide queue by a joint meeting (no adequate provider at home)
F_REDEEM = 4  # the resident pays with time-bank credits
F_CODELIVERED = 8  # a volunteer assisted a social worker
F_BELOW = 16  # served by a provider below the required level
F_DISCOVERED = 32  # was hidden, then discovered
F_HIDDEN = 64  # arose hidden
F_RESOLVED = 128  # served to its last session and resolved
F_COMPLEX = 256  # needs a social worker, an organization and volunteers together
F_JOINT = 512  # taken on as a joint case by the joint meeting
F_RETURNED = 1024  # came back unresolved for one more session
F_GROUP_POOL = 2048  # group work: waits in its community's pool for a group of its need type
F_GROUP = 4096  # served in a group session (group work formed a group it belongs to)


@dataclass(frozen=True)
class Catalog:
    """The need catalog as arrays indexed by need type."""

    names: tuple[str, ...]
    labels_zh: tuple[str, ...]
    level: np.ndarray  # int8 [K]
    hours: np.ndarray  # float [K] provider hours per need (group activities divided by group size)
    patience: np.ndarray  # float [K]
    hidden: np.ndarray  # float [K]
    professional: np.ndarray  # bool [K] service area 'professional'
    venue: np.ndarray  # bool [K]
    venue_hours: np.ndarray  # float [K] venue hours one need uses
    rates: np.ndarray  # float [G, K] needs per resident per week
    sessions: np.ndarray  # float [K] mean sessions of one case
    complex_share: np.ndarray  # float [K] share of these needs that are complex

    @classmethod
    def from_params(cls, p: Params) -> Catalog:
        """The catalog of the run's need types (`p.needs`, in their order)."""
        names = tuple(p.needs)
        nt = [p.needs[n] for n in names]
        size = p.street.activity_group_size
        rates = np.zeros((len(GROUPS), len(names)))
        for k, t in enumerate(nt):
            for g, r in t.rates.items():
                rates[GROUPS.index(g), k] = r / 1000.0
        venue = np.array([t.venue for t in nt])
        hours = np.array([t.hours for t in nt], dtype=float)
        return cls(
            names=names,
            labels_zh=tuple(t.label_zh for t in nt),
            level=np.array([t.level for t in nt], dtype=np.int8),
            hours=np.where(venue, hours / size, hours),
            patience=np.array([t.patience for t in nt], dtype=float),
            hidden=np.array([t.hidden for t in nt], dtype=float),
            professional=np.array([t.area == "professional" for t in nt]),
            venue=venue,
            venue_hours=np.where(venue, hours / size, 0.0),
            rates=rates,
            sessions=np.array([t.sessions for t in nt], dtype=float),
            complex_share=np.array([t.complex_share for t in nt], dtype=float),
        )


class NeedTable:
    """Every need of a run, in growable column arrays (index = need id)."""

    COLUMNS = {
        "ntype": np.int16,
        "level": np.int8,
        "resident": np.int64,
        "community": np.int32,
        "group": np.int8,
        "t_raise": np.float64,
        "t_post": np.float64,
        "deadline": np.float64,
        "hours": np.float64,
        "status": np.int8,
        "t_start": np.float64,
        "t_end": np.float64,
        "quality": np.float64,
        "skill": np.int8,
        "flags": np.uint16,
        "sessions": np.int16,  # sessions still to serve (a case is one or more sessions)
        "attempts": np.int8,  # times it came back unresolved
        "provider_kind": np.int8,
        "queue": np.int32,
        "t_pool": np.float64,  # group work: when it joined its group pool (inf: never)
    }

    def __init__(self, capacity: int = 4096) -> None:
        self.n = 0
        self._first_open = 0  # no need before this index is open (a closed need never reopens)
        for name, dt in self.COLUMNS.items():
            setattr(self, name, np.zeros(capacity, dtype=dt))
        self.skill[:] = -1
        self.provider_kind[:] = -1
        self.queue[:] = -1
        self.t_pool[:] = np.inf

    @property
    def capacity(self) -> int:
        """Rows allocated (the table grows by doubling)."""
        return len(self.status)

    def _grow(self, need: int) -> None:
        cap = self.capacity
        while cap < need:
            cap *= 2
        for name, dt in self.COLUMNS.items():
            old = getattr(self, name)
            new = np.zeros(cap, dtype=dt)
            new[: self.n] = old[: self.n]
            if name in ("skill", "provider_kind", "queue"):
                new[self.n :] = -1
            elif name == "t_pool":
                new[self.n :] = np.inf
            setattr(self, name, new)

    def add(self, **cols: np.ndarray) -> np.ndarray:
        """Append a block of needs; returns their ids."""
        m = len(cols["ntype"])
        if self.n + m > self.capacity:
            self._grow(self.n + m)
        ids = np.arange(self.n, self.n + m)
        for name, values in cols.items():
            getattr(self, name)[self.n : self.n + m] = values
        self.n += m
        return ids

    def view(self, name: str) -> np.ndarray:
        """The filled part of a column."""
        return getattr(self, name)[: self.n]

    def first_open(self) -> int:
        """Index of the first need not yet closed (met or abandoned); `n` when none is open.

        Needs close for good and new needs are appended, so the scan resumes where the last one
        stopped: the weekly passes over open needs cost what is open, not the run's history.
        """
        # Statuses run HIDDEN..IN_SERVICE (open), then MET and ABANDONED (closed).
        lo = self._first_open
        is_open = self.status[lo : self.n] < MET
        if len(is_open):
            first = int(np.argmax(is_open))  # stops at the first open need
            self._first_open = lo + first if is_open[first] else self.n
        return self._first_open
