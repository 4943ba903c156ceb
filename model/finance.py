"""The government's money: the budget year, its channel envelopes and all spending.

Owns the street government (a Mesa agent, `Government`): the yearly budget (special fund plus
lottery fund), its split into one envelope per spending channel, which channels have an active
programme (set by the policies that run one), and what was spent, per channel, this week, this
year and over the run. Every yuan the model spends goes through `Government.spend`, which
grants only what is left in the channel's envelope: spending never exceeds the budget and the
channels always add up to the total.

Who spends: the policies (posts, projects, venture grants, incubation, evaluation, the platform,
the time-bank subsidy), the workforce (block-grant staff's wages) and the time bank (backstop of
redemptions).

Budget execution (预算执行). Every budget year is reviewed each quarter (`review_quarter`, at
weeks 13, 26 and 39 of the year): a channel keeps what it still needs this year, namely what its
spender declares (`Policy.committed`: contracts still to pay, evaluations still to buy; nothing
for venture grants and incubation, which are given at the year's start) or, for a channel whose
spender declares nothing, its spending rate over the quarter just ended times the weeks left,
plus `funding.execution_margin` of that. The rest is money the channel cannot use: it moves to
the strategy's fallback channel (`funding.fallback`, by default block grants, whose residents'
committees re-staff every quarter with what they hold). Earmarked channels give up nothing: by
default the purchase channels, posts and procurement (`funding.purchase_earmarked`, 专款专用),
whose money buys social-work services only, so what they cannot use (no social worker to hire, a
post left vacant, instalments a project did not earn) is returned. What is still unspent at the
year's end is recorded as returned (`close_year`). The ledger of each year keeps, per channel,
what was allocated, moved in, moved out, spent and returned; `allocated + moved in == spent + moved out
+ returned` for every closed channel-year (`check_invariants` checks it).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

import mesa

from model.schema import CHANNELS

if TYPE_CHECKING:  # pragma: no cover
    from model.params import FundingParams

PROGRAMME_CHANNELS = ("procurement", "posts", "venture", "incubation", "timebank", "block_grant")
"""Channels that receive a share of the programme budget (`funding.allocation`), in order."""

QUARTER_WEEKS = 13
"""Weeks between two budget-execution reviews (a quarter)."""

LAST_RESORT = "block_grant"
"""Where money goes that the fallback channel itself cannot use: the residents' committees can
always spend on their own staff."""

EARMARKED = ("posts", "procurement")
"""The purchase channels `funding.purchase_earmarked` earmarks (专款专用)."""

LEDGER_FIELDS = ("allocated", "moved_in", "moved_out", "spent", "returned")
"""Per channel and budget year: what the ledger records."""


class Government(mesa.Agent):
    """The street/district government: a yearly budget split into channel envelopes.

    Args:
        model: The Mesa model it belongs to.
        funding: The `funding` parameters (budget and allocation).

    Attributes:
        year: The current budget year (-1 before the first).
        budget: This year's budget (yuan).
        budget_total: All budgets opened so far.
        envelope: This year's envelope per channel.
        spent_year, spent_total, spent_week: Spending per channel.
        programmes: Channels whose programme runs (their allocation share gets its own envelope;
            otherwise it goes to block grants).
    """

    def __init__(self, model: mesa.Model, funding: FundingParams) -> None:
        super().__init__(model)
        self.funding = funding
        self.year = -1
        self.budget = 0.0
        self.envelope = dict.fromkeys(CHANNELS, 0.0)
        self.spent_year = dict.fromkeys(CHANNELS, 0.0)
        self.spent_total = dict.fromkeys(CHANNELS, 0.0)
        self.spent_week = dict.fromkeys(CHANNELS, 0.0)
        self.budget_total = 0.0
        self.programmes: set[str] = set()
        # Earmarked channels (专款专用) give up nothing at the reviews: what they cannot use is
        # returned at the year's end.
        self.earmarked: frozenset[str] = frozenset(
            EARMARKED if getattr(funding, "purchase_earmarked", False) else ()
        )
        self.ledger: dict[int, dict[str, dict[str, float]]] = {}
        self.closed: set[int] = set()
        self._spent_at_review = dict.fromkeys(CHANNELS, 0.0)
        self._review_week = 0

    def open_channels(self, channels: Iterable[str]) -> None:
        """A policy runs the programme of these channels: they get their share of the budget."""
        self.programmes.update(channels)

    def open_budget_year(self, year: int, overheads: Iterable[dict[str, float]]) -> None:
        """Open a budget year: overheads come off the top (scaled down to the budget if they
        exceed it), then the programme budget is split by the allocation among the channels
        with an active programme, the rest of it going to block grants.

        Args:
            year: The budget year (week // 52).
            overheads: Each policy's costs off the top, by channel.
        """
        f = self.funding
        budget = f.special_fund + f.lottery_fund
        overhead = {ch: 0.0 for ch in CHANNELS}
        for costs in overheads:
            for ch, amount in costs.items():
                overhead[ch] += amount
        total_over = sum(overhead.values())
        if total_over > budget:  # scale overheads down to the budget
            overhead = {k: v * budget / total_over for k, v in overhead.items()}
            total_over = budget
        programme = budget - total_over
        alloc = f.allocation
        env = dict(overhead)
        for ch in PROGRAMME_CHANNELS:
            share = getattr(alloc, ch)
            target = ch if (ch == "block_grant" or ch in self.programmes) else "block_grant"
            env[target] += programme * share
        self.open_year(year, budget, env)

    def open_year(self, year: int, budget: float, envelopes: dict[str, float]) -> None:
        """Start a budget year with its envelopes (their sum must not exceed the budget)."""
        assert sum(envelopes.values()) <= budget * (1 + 1e-9) + 1e-6
        if self.year >= 0 and self.year not in self.closed:
            self.close_year()
        self.year = year
        self.budget = budget
        self.budget_total += budget
        self.envelope = {c: float(envelopes.get(c, 0.0)) for c in CHANNELS}
        self.spent_year = dict.fromkeys(CHANNELS, 0.0)
        self.ledger[year] = {f: dict.fromkeys(CHANNELS, 0.0) for f in LEDGER_FIELDS}
        self.ledger[year]["allocated"] = dict(self.envelope)
        self._spent_at_review = dict.fromkeys(CHANNELS, 0.0)
        self._review_week = 0

    def close_year(self) -> None:
        """The budget year ends: what each channel has not spent is recorded as returned."""
        if self.year < 0 or self.year in self.closed:
            return
        led = self.ledger[self.year]
        for c in CHANNELS:
            led["spent"][c] = self.spent_year[c]
            led["returned"][c] = self.remaining(c)
        self.closed.add(self.year)

    def move(self, source: str, target: str, amount: float) -> float:
        """Move up to `amount` of what is left of `source`'s envelope to `target`'s this year.

        Returns:
            The amount moved.
        """
        amount = min(max(0.0, amount), self.remaining(source))
        if amount <= 0 or source == target:
            return 0.0
        self.envelope[source] -= amount
        self.envelope[target] += amount
        led = self.ledger[self.year]
        led["moved_out"][source] += amount
        led["moved_in"][target] += amount
        return amount

    def review_quarter(
        self, week_of_year: int, committed: Iterable[dict[str, float]]
    ) -> dict[str, float]:
        """The quarterly budget-execution review: what a channel cannot use this year moves to
        the fallback channel (see the module's docstring for the rule).

        Args:
            week_of_year: Weeks of the budget year already run (13, 26 or 39).
            committed: Each policy's declared spending for the rest of the year, by channel.

        Returns:
            What each channel gave up (yuan).
        """
        weeks_left = 52 - week_of_year
        declared: dict[str, float] = {}
        for d in committed:
            for c, v in d.items():
                declared[c] = declared.get(c, 0.0) + float(v)
        elapsed = max(1, week_of_year - self._review_week)
        need = {}
        for c in CHANNELS:
            if c in declared:
                need[c] = declared[c]
            else:
                rate = (self.spent_year[c] - self._spent_at_review[c]) / elapsed
                need[c] = rate * weeks_left
            need[c] *= 1.0 + self.funding.execution_margin
        fallback = self.funding.fallback
        out = dict.fromkeys(CHANNELS, 0.0)
        if fallback != LAST_RESORT and fallback not in self.earmarked:
            # the fallback's own surplus, before it receives any
            out[fallback] = self.move(
                fallback, LAST_RESORT, self.remaining(fallback) - need[fallback]
            )
        for c in CHANNELS:
            if c in (fallback, LAST_RESORT) or c in self.earmarked:
                continue
            out[c] = self.move(c, fallback, self.remaining(c) - need[c])
        self._spent_at_review = dict(self.spent_year)
        self._review_week = week_of_year
        return out

    def remaining(self, channel: str) -> float:
        """What is left of a channel's envelope this year."""
        return max(0.0, self.envelope[channel] - self.spent_year[channel])

    def spend(self, channel: str, amount: float) -> float:
        """Spend up to `amount` from a channel's envelope; returns what was granted."""
        if amount <= 0 or math.isnan(amount):
            return 0.0
        granted = min(amount, self.remaining(channel))
        if granted <= 0:
            return 0.0
        self.spent_year[channel] += granted
        self.spent_total[channel] += granted
        self.spent_week[channel] += granted
        return granted

    def reset_week(self) -> None:
        """Start the next week's spending record."""
        self.spent_week = dict.fromkeys(CHANNELS, 0.0)
