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
        self.year = year
        self.budget = budget
        self.budget_total += budget
        self.envelope = {c: float(envelopes.get(c, 0.0)) for c in CHANNELS}
        self.spent_year = dict.fromkeys(CHANNELS, 0.0)

    def remaining(self, channel: str) -> float:
        """What is left of a channel's envelope this year."""
        return max(0.0, self.envelope[channel] - self.spent_year[channel])

    def spend(self, channel: str, amount: float) -> float:
        """Spend up to `amount` from a channel's envelope; returns what was granted."""
        if amount <= 0 or math.isnan(amount):
            return 0.0
        granted = min(amount, self.remaining(channel))
        self.spent_year[channel] += granted
        self.spent_total[channel] += granted
        self.spent_week[channel] += granted
        return granted

    def reset_week(self) -> None:
        """Start the next week's spending record."""
        self.spent_week = dict.fromkeys(CHANNELS, 0.0)
