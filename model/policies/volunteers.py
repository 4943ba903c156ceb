"""Volunteers: management (注册, 记录, 星级, 培训, 评价), time banking (志愿服务时间储蓄) and
mobilization (邻里互助, 在职党员到社区报到)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field, field_validator

from model.policies.base import Policy, PolicyParams
from model.residents import V_ACTIVE
from model.schema import ASSUMPTION, LEVER, P

if TYPE_CHECKING:  # pragma: no cover
    from model.model import LinkageModel


MAX_STARS = 10  # most star levels of the service-record scheme
MAX_STAR_HOURS = 100_000.0  # hours; far beyond any scheme (the national top star is 1,500 h)


class VolunteerMgmtParams(PolicyParams):
    enabled: bool = Field(
        True, description="Switch the policy on (on by default: a typical street does this today)."
    )
    star_hours: list[float] = Field(
        [5.0, 20.0, 50.0, 100.0, 200.0],
        description="Service-record hours for 1 to 5 stars (the community's star scheme; the national standard uses 100/300/600/1000/1500).",
        json_schema_extra={"unit": "hours", "source": LEVER},
    )
    recognition_mult: float = P(
        0.7,
        0,
        1,
        "multiplier",
        "Dropout hazard of volunteers with at least one star (recognition), x.",
        "docs/sources.md: recognition predicts retention; size is an assumption (tuned so "
        "retention with recognition and motivation stays below the 80% organizations report)",
        plausible=(0.4, 0.9),
    )
    training_rate: float = P(
        0.005,
        0,
        1,
        "probability/week",
        "Weekly chance an active skill-0 volunteer is trained to skill 1.",
        ASSUMPTION,
        plausible=(0.001, 0.02),
    )
    record_priority: bool = P(
        True,
        None,
        None,
        "switch",
        "Volunteers with good records (stars) get priority in matching.",
        "seed",
    )

    @field_validator("star_hours")
    @classmethod
    def _ascending(cls, v: list[float]) -> list[float]:
        if any(b <= a for a, b in zip(v, v[1:], strict=False)) or any(x <= 0 for x in v):
            raise ValueError("star_hours must be positive and strictly increasing")
        if len(v) > MAX_STARS or any(x > MAX_STAR_HOURS for x in v):
            raise ValueError(f"at most {MAX_STARS} levels of at most {MAX_STAR_HOURS:g} hours")
        return v


class VolunteerManagement(Policy):
    """Registration, records, star rating, training, recognition and evaluation of volunteers.

    Evaluation (志愿服务评价机制: 「以志愿者日常服务记录、团队评价、服务对象评价为主要考评依据」) acts
    through motivation: residents' ratings of a volunteer's services move its motivation, which
    raises its participation and lowers its dropout (`volunteers.motivation_effect`).
    """

    name = "volunteer_mgmt"
    label_zh = "志愿者注册、记录、星级评定与培训"
    seed_text = (
        "推行社区志愿者注册登记制度、志愿服务记录制度……科学开展志愿者星级评定……"
        "建立健全社区志愿者日常管理和专业知识技能培训制度……建立健全志愿服务评价机制"
    )
    Params = VolunteerMgmtParams

    def initialize(self, model: LinkageModel) -> None:
        super().initialize(model)
        model.volunteers.recognize_stars(self.pars.star_hours)
        model.volunteers.reduce_hazard(recognized=self.pars.recognition_mult)
        model.desk.set_record_priority(self.pars.record_priority)
        model.volunteers.evaluate_by_ratings()

    def apply(self, model: LinkageModel) -> None:
        res = model.residents
        rng = model.streams.weekly("training", model.week)
        cand = np.flatnonzero((res.vol_state == V_ACTIVE) & (res.vol_skill == 0))
        model.volunteers.train(cand[rng.random(len(cand)) < self.pars.training_rate].tolist())


class TimeBankParams(PolicyParams):
    cap: float = P(1500.0, 1, 1e6, "hours", "Account cap.", "docs/sources.md: Nanjing, 1,500 h")
    portable: bool = P(
        False,
        None,
        None,
        "switch",
        "Credits redeemable in any community (通存通兑).",
        "docs/sources.md: non-portability is the main complaint",
    )
    redeem_share: float = P(
        0.1,
        0,
        1,
        "share",
        "Chance a holder with enough credit redeems it for a need.",
        "docs/sources.md: withdrawals are rare",
        plausible=(0.01, 0.5),
    )
    shadow_price: float = P(
        30.0,
        0,
        1e4,
        "yuan/hour",
        "Shadow price of one credit hour (liability, backstop payment).",
        ASSUMPTION,
        plausible=(20, 60),
    )
    expiry_weeks: int = P(
        260,
        0,
        5200,
        "weeks",
        "A dormant account expires after this many weeks without activity (0: never).",
        ASSUMPTION,
        plausible=(104, 520),
    )
    credit_hazard_mult: float = P(
        0.85,
        0,
        1,
        "multiplier",
        "Dropout hazard of volunteers holding credit, x.",
        ASSUMPTION,
        plausible=(0.7, 1),
    )
    subsidy_per_volunteer: float = P(
        200.0,
        0,
        1e5,
        "yuan/active volunteer-year",
        "Coordination subsidy that fully staffs the bank.",
        ASSUMPTION,
        plausible=(100, 500),
    )
    participation_boost: float = P(
        0.3,
        0,
        5,
        "share",
        "Extra participation of volunteers when the bank is fully subsidized.",
        ASSUMPTION,
        plausible=(0.0, 0.6),
    )
    backstop_first_year: float = P(
        0.05,
        0,
        1,
        "share",
        "Share of the time-bank envelope kept for the backstop in the first year (no redemptions "
        "to go by yet); later years keep last year's backstop spending plus the execution margin.",
        ASSUMPTION,
        plausible=(0.0, 0.2),
    )
    recipient_share: float = P(
        0.7,
        0,
        1,
        "share",
        "Share of residents registered with the bank as its service recipients (服务对象): only "
        "service to them earns credit, other volunteer service is recorded but not banked.",
        ASSUMPTION
        + " (tuned to pattern P11, Shanghai's 3.5 h banked per time-bank volunteer a year "
        "against 4.2-13 h served: most volunteer time is not banked)",
        plausible=(0.4, 1.0),
    )
    bankable_needs: list[str] = Field(
        ["life_care", "emotional_comfort"],
        description="Need types whose service hours earn credit (Nanjing's bank covers elder care: 生活照料, 精神抚慰); empty: every type.",
        json_schema_extra={
            "unit": "need types",
            "source": "docs/sources.md: Nanjing time bank (elder care)",
        },
    )


class TimeBanking(Policy):
    """Hours served are deposited and later redeemed for services; balances and liability tracked."""

    name = "time_bank"
    label_zh = "志愿服务时间储蓄"
    seed_text = "建立健全志愿服务时间储蓄制度"
    Params = TimeBankParams
    channels = ("timebank",)

    def initialize(self, model: LinkageModel) -> None:
        super().initialize(model)
        pr = self.pars
        model.volunteers.time_bank.configure(
            cap=pr.cap,
            portable=pr.portable,
            redeem_share=pr.redeem_share,
            shadow_price=pr.shadow_price,
            expiry_weeks=pr.expiry_weeks,
            bankable_needs=pr.bankable_needs,
            recipient_share=pr.recipient_share,
            rng=model.streams.get("time_bank_recipients"),
        )
        model.volunteers.reduce_hazard(credit=pr.credit_hazard_mult)

    def apply(self, model: LinkageModel) -> None:
        pr = self.pars
        active = float(np.count_nonzero(model.residents.vol_state == V_ACTIVE))
        if model.week % 52 == 0:
            full = active * pr.subsidy_per_volunteer
            # The backstop is sized to the redemptions it will back; coordination gets the rest
            # (what neither uses moves to the fallback channel at the quarterly review).
            left = model.gov.remaining("timebank")
            reserve = self.backstop_reserve(model, left)
            self.weekly = min(full, max(0.0, left - reserve)) / 52.0
            funded = self.weekly * 52.0 / full if full > 0 else 0.0
            model.volunteers.set_participation_boost(1.0 + pr.participation_boost * funded)
        model.gov.spend("timebank", getattr(self, "weekly", 0.0))

    def backstop_reserve(self, model: LinkageModel, envelope: float) -> float:
        """Yuan kept for the backstop this year: last year's backstop spending plus the
        execution margin, or `backstop_first_year` of the envelope in the first year."""
        bank = model.volunteers.time_bank
        hours = bank.totals["backstop_hours"]
        if model.week < 52:
            reserve = self.pars.backstop_first_year * envelope
        else:
            last = hours - getattr(self, "_backstop_hours_at_year", 0.0)
            reserve = last * bank.price * (1.0 + model.gov.funding.execution_margin)
        self._backstop_hours_at_year = hours
        return min(envelope, reserve)


class MobilizationParams(PolicyParams):
    party_members_per_1000: float = P(
        3.0,
        0,
        100,
        "per 1,000 residents per year",
        "In-service party members reporting to the community (在职党员到社区报到) who become active volunteers.",
        ASSUMPTION,
        plausible=(1, 10),
    )
    mutual_aid_mult: float = P(
        1.3,
        1,
        5,
        "multiplier",
        "Neighbourhood mutual aid (邻里互助) raises everyday recruitment, x.",
        ASSUMPTION,
        plausible=(1, 2),
    )


class Mobilization(Policy):
    """Volunteer mobilization: neighbourhood mutual aid and in-service party members."""

    name = "mobilization"
    label_zh = "志愿者动员(邻里互助、在职党员报到)"
    seed_text = "鼓励和支持社区居民开展邻居节、社区文化节等邻里互助活动……推行在职党员到社区报到开展志愿服务活动"
    Params = MobilizationParams

    def initialize(self, model: LinkageModel) -> None:
        super().initialize(model)
        model.volunteers.boost_recruitment(
            mult=self.pars.mutual_aid_mult, extra_per_1000=self.pars.party_members_per_1000
        )


def __getattr__(name: str):
    """Deprecated name: the time-bank policy is `TimeBanking` (the bank itself is
    `model.time_bank.TimeBank`)."""
    if name == "TimeBank":
        import warnings

        warnings.warn(
            "model.policies.volunteers.TimeBank is deprecated: the policy is TimeBanking",
            DeprecationWarning,
            stacklevel=2,
        )
        return TimeBanking
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
