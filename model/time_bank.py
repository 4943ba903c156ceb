"""The volunteer time bank (志愿服务时间储蓄): its rules, its ledger and its redemptions, together.

Owns:
- the rules: whether the bank is open, the account cap, portability between communities, the
  share of holders who pay for a need with credit, the shadow price of an hour, the dormancy
  expiry, which need types earn credit and which residents are the bank's registered service
  recipients, whose needs alone earn credit (`configure`, called by the time-bank policy);
- the ledger: one account per resident (`balance`, and `deposited`, `redeemed`, `expired` so
  that balance == deposited - redeemed - expired holds account by account), the week each was
  last active, and the bank's totals, for the run and for the current week;
- the operations on it: deposits after a volunteer's service, redemptions when a need is met,
  expiry of dormant accounts at the week's close, and the choice, when a need arises, of whether
  its resident will pay with credit.

The bank belongs to the volunteers subsystem (`model.volunteers.time_bank`). A redemption served
by a paid provider is backed by the government's `timebank` channel at the shadow price.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from model.agents import Provider
    from model.clock import Clock
    from model.finance import Government


class TimeBank:
    """The street's time bank: closed until `configure` opens it.

    Args:
        home: Each resident's community (the residents' `community` array).
        need_names: The need catalog's type names (for the bankable types).
        government: Pays the backstop of redemptions served by paid providers.
        clock: The model's week.

    Attributes:
        enabled: Whether the bank is open (no deposit, redemption or expiry while closed).
        cap: Largest balance of an account (hours).
        portable: Credits redeemable in any community (通存通兑), not only at home.
        redeem_share: Chance that a holder with enough credit pays for a new need with it.
        price: Shadow price of one credit hour (yuan): liability and backstop payments.
        expiry_weeks: Weeks without activity after which an account expires (0: never).
        bankable: Per need type, whether serving it earns credit.
        recipient: Per resident, whether the resident is registered with the bank as a service
            recipient (serving only their needs earns credit).
        balance, deposited, redeemed, expired: Per-account ledger (hours).
        last_active: Per account, the last week of a deposit or a redemption.
        totals: Run totals: deposited, redeemed, expired and backstop hours paid.
        week_totals: This week's deposited, redeemed and expired hours.
    """

    def __init__(
        self,
        home: np.ndarray,
        need_names: Sequence[str],
        government: Government,
        clock: Clock,
    ) -> None:
        n = len(home)
        self.home = home
        self.need_names = tuple(need_names)
        self.government = government
        self.clock = clock
        self.enabled = False
        self.cap = 0.0
        self.portable = False
        self.redeem_share = 0.0
        self.price = 0.0
        self.expiry_weeks = 0
        self.bankable = np.ones(len(self.need_names), dtype=bool)
        self.recipient = np.ones(n, dtype=bool)
        self.balance = np.zeros(n, dtype=np.float64)
        self.last_active = np.zeros(n, dtype=np.int32)
        self.deposited = np.zeros(n, dtype=np.float64)
        self.redeemed = np.zeros(n, dtype=np.float64)
        self.expired = np.zeros(n, dtype=np.float64)
        self.totals = {"deposited": 0.0, "redeemed": 0.0, "expired": 0.0, "backstop_hours": 0.0}
        self.reset_week()

    # ------------------------------------------------------------------ rules
    def configure(
        self,
        *,
        cap: float,
        portable: bool,
        redeem_share: float,
        shadow_price: float,
        expiry_weeks: int,
        bankable_needs: Sequence[str] = (),
        recipient_share: float = 1.0,
        rng: np.random.Generator | None = None,
    ) -> None:
        """Open the bank with these rules.

        Args:
            cap: Account cap (hours).
            portable: Credits redeemable in any community.
            redeem_share: Chance a holder with enough credit pays for a need with it.
            shadow_price: Yuan per credit hour.
            expiry_weeks: Dormancy expiry in weeks (0: never).
            bankable_needs: Need types whose service earns credit; empty: every type.
            recipient_share: Share of residents registered as the bank's service recipients,
                drawn once per resident from `rng` (1: everyone, no draw).
            rng: The recipients' stream (required when `recipient_share` < 1).
        """
        self.enabled = True
        self.cap = cap
        self.portable = portable
        self.redeem_share = redeem_share
        self.price = shadow_price
        self.expiry_weeks = expiry_weeks
        if bankable_needs:  # names were checked against the catalog by Params
            self.bankable = np.array([n in bankable_needs for n in self.need_names])
        if recipient_share < 1.0:
            if rng is None:
                raise ValueError("TimeBank.configure: recipient_share < 1 needs a random stream")
            self.recipient = rng.random(len(self.home)) < recipient_share

    # ------------------------------------------------------------------ ledger
    def deposit(self, resident: int, hours: float, ntype: int = -1, recipient: int = -1) -> None:
        """Credit a volunteer's service hours, up to the account cap.

        Args:
            resident: The volunteer's resident index.
            hours: Hours served.
            ntype: Type of the need served (-1: none; always bankable).
            recipient: Resident whose need was served (-1: none; always bankable).
        """
        if ntype >= 0 and not self.bankable[ntype]:
            return
        if recipient >= 0 and not self.recipient[recipient]:
            return
        bal = self.balance.item(resident)  # a Python float: the same double arithmetic, faster
        dep = min(hours, max(0.0, self.cap - bal))
        if dep > 0:
            self.balance[resident] = bal + dep
            self.deposited[resident] += dep
            self.last_active[resident] = self.clock.week
            self.totals["deposited"] += dep
            self.week_totals["deposited"] += dep

    def will_redeem(
        self, residents: np.ndarray, hours: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Which of these new needs their residents will pay for with credit: those holding at
        least the need's hours, each with the redeem share. Draws one uniform per need whether
        the bank is open or not (the needs stream stays aligned across scenarios)."""
        if self.enabled and self.redeem_share > 0:
            return (self.balance[residents] >= hours) & (
                rng.random(len(residents)) < self.redeem_share
            )
        rng.random(len(residents))
        return np.zeros(len(residents), dtype=bool)

    def redeem(self, resident: int, hours: float, provider: Provider) -> None:
        """A resident pays for a session with credit (up to its balance), when a provider of
        the resident's own community served it or credits are portable (otherwise it is an
        ordinary need: nothing is charged); when a paid provider served it, the government
        backs the hours at the shadow price and the payment goes to the provider's employer
        (an organization; a post or a community worker has none: the payment is the
        government's own).

        Args:
            resident: Who raised the need.
            hours: The need's service hours.
            provider: Who served it (its community, and whether it is paid).
        """
        if not self.portable and provider.community != self.home[resident]:
            return
        take = min(hours, self.balance[resident])
        if take <= 0:
            return
        self.balance[resident] -= take
        self.redeemed[resident] += take
        self.last_active[resident] = self.clock.week
        self.totals["redeemed"] += take
        self.week_totals["redeemed"] += take
        if provider.paid:
            paid = self.government.spend("timebank", take * self.price)
            self.totals["backstop_hours"] += paid / self.price if self.price > 0 else 0.0
            if provider.employer is not None and paid > 0:
                provider.employer.receive(paid)

    def expire_dormant(self, week: int) -> None:
        """Empty every account dormant for `expiry_weeks` (accounts are last active in week 0
        or later: none is dormant before the expiry period)."""
        if not (self.enabled and 0 < self.expiry_weeks <= week):
            return
        dormant = (self.balance > 0) & (week - self.last_active >= self.expiry_weeks)
        if dormant.any():
            amt = float(self.balance[dormant].sum())
            self.expired[dormant] += self.balance[dormant]
            self.balance[dormant] = 0.0
            self.totals["expired"] += amt
            self.week_totals["expired"] += amt

    def reset_week(self) -> None:
        """Start the next week's totals."""
        self.week_totals = {"deposited": 0.0, "redeemed": 0.0, "expired": 0.0}
