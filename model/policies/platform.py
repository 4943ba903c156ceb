"""The community information platform (信息平台) and credit publicity (信用公示和评价机制)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from model.policies.base import Policy, PolicyParams
from model.schema import ASSUMPTION, LEVER, P

if TYPE_CHECKING:  # pragma: no cover
    from model.model import LinkageModel


class PlatformParams(PolicyParams):
    delay_hours: float = P(
        4.0,
        0,
        1000,
        "hours",
        "Matching delay with the platform (needs reach providers in hours, not days).",
        ASSUMPTION,
        plausible=(1, 24),
    )
    discovery: float = P(
        0.03,
        0,
        1,
        "probability/week",
        "Extra weekly chance that a hidden need surfaces through the platform.",
        ASSUMPTION,
        plausible=(0.0, 0.1),
    )
    cost_per_10k: float = P(
        30_000.0,
        0,
        1e9,
        "yuan/year per 10,000 residents",
        "Operating cost of the platform, off the top of the budget (150,000 a year for the default street).",
        ASSUMPTION,
        plausible=(10000, 100000),
    )
    referrals: bool = P(
        True,
        None,
        None,
        "switch",
        "The platform also carries referrals between providers.",
        LEVER,
    )


class InformationPlatform(Policy):
    """District-wide matching: any provider of the street sees every need, with a short delay."""

    name = "platform"
    label_zh = "信息平台"
    seed_text = (
        "打造信息平台……搭建社会组织、社工机构、志愿服务组织对接社区需求、开展社区服务的重要平台"
    )
    Params = PlatformParams
    channels = ("platform",)

    def initialize(self, model: LinkageModel) -> None:
        super().initialize(model)
        model.desk.match_street_wide(delay_hours=self.pars.delay_hours)
        if self.pars.referrals:
            model.desk.enable_referrals()
        model.population.add_discovery(self.pars.discovery)

    def annual_cost(self, model: LinkageModel) -> float:
        """Operating cost of the platform per year (yuan)."""
        return self.pars.cost_per_10k * model.p.street.n_residents / 10_000.0

    def overhead(self, model: LinkageModel) -> dict[str, float]:
        return {"platform": self.annual_cost(model)}

    def apply(self, model: LinkageModel) -> None:
        model.gov.spend("platform", self.annual_cost(model) / 52.0)


class CreditParams(PolicyParams):
    procurement_weight: float = P(
        0.3,
        0,
        1,
        "weight",
        "Weight of published reputation in procurement scores (beside the buyer's own noisy "
        "guess).",
        ASSUMPTION,
        plausible=(0.1, 0.5),
    )
    publish_weeks: int = P(
        13,
        1,
        52,
        "weeks",
        "Ratings are published every this many weeks (quarterly).",
        ASSUMPTION,
        plausible=(4, 26),
    )
    effort_threshold: float = P(
        0.75,
        0,
        1,
        "rating",
        "A provider or organization whose published reputation is below this is under "
        "residents' supervision: it improves (`effort_step`).",
        ASSUMPTION,
        plausible=(0.65, 0.8),
    )
    effort_step: float = P(
        0.02,
        0,
        0.2,
        "quality per publication",
        "Quality a provider or organization rated below `effort_threshold` gains at each "
        "publication (training, supervision, effort): the size of credit publicity's effect.",
        ASSUMPTION,
        plausible=(0.0, 0.04),
    )


class CreditPublicity(Policy):
    """Residents' ratings are published: providers under supervision improve; reputation steers.

    The seed asks to 「建立社区各类组织、各类主体参与社区服务的信用公示和评价机制,接受社区居民监督」. Published
    ratings put providers under residents' supervision: every `publish_weeks`, each
    organization (its reputation: the mean of its staff's) and each paid provider rated on its
    own (social workers in posts, community workers) whose published reputation is below
    `effort_threshold` raises its quality by `effort_step` (an assumption: the size of the
    effect is that parameter). Published reputations also order idle providers in matching and
    enter procurement scores with `procurement_weight`.
    """

    name = "credit"
    label_zh = "信用公示和评价"
    seed_text = "建立社区各类组织、各类主体参与社区服务的信用公示和评价机制,接受社区居民监督"
    Params = CreditParams

    def __init__(self, pars: CreditParams) -> None:
        super().__init__(pars)
        self.responses = 0  # providers and organizations that improved after a publication

    def initialize(self, model: LinkageModel) -> None:
        super().initialize(model)
        model.desk.publish_reputations()
        model.organizations.publish_credit(self.pars.procurement_weight)

    def apply(self, model: LinkageModel) -> None:
        pr = self.pars
        if model.week % pr.publish_weeks != pr.publish_weeks - 1 or pr.effort_step <= 0:
            return
        self.responses += model.organizations.respond_to_ratings(
            pr.effort_threshold, pr.effort_step
        )
        self.responses += model.workforce.respond_to_ratings(pr.effort_threshold, pr.effort_step)
