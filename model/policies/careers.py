"""Supervision of social workers (督导): supervised social workers serve better and quit less,
at the cost of supervisor and supervisee hours."""

from __future__ import annotations

from typing import TYPE_CHECKING

from model.policies.base import Policy, PolicyParams
from model.schema import ASSUMPTION, P

if TYPE_CHECKING:  # pragma: no cover
    from model.model import LinkageModel


class SupervisionParams(PolicyParams):
    hours_per_month: float = P(
        4.0,
        0,
        80,
        "hours/social worker-month",
        "Supervision session hours per supervised social worker a month; the supervisor's hours "
        "and the supervisee's both come out of social workers' service hours.",
        ASSUMPTION,
        plausible=(2, 8),
    )
    quality_gain: float = P(
        0.05,
        0,
        0.5,
        "quality (0-1)",
        "Quality added to a supervised social worker's service.",
        ASSUMPTION,
        plausible=(0.0, 0.1),
    )
    quit_mult: float = P(
        0.75,
        0,
        1,
        "multiplier",
        "Quit hazard of a supervised social worker, x (supervisory support lowers turnover "
        "intention in meta-analyses of child-welfare and social-service workers).",
        ASSUMPTION + " (docs/sources.md: Mor Barak et al. 2009)",
        plausible=(0.5, 1.0),
    )


class Supervision(Policy):
    """Supervision of social workers: higher quality and fewer quits, paid for in service hours."""

    name = "supervision"
    label_zh = "社会工作服务督导"
    seed_text = "加大对社会工作服务督导与评估的力度"
    Params = SupervisionParams

    def initialize(self, model: LinkageModel) -> None:
        super().initialize(model)
        pr = self.pars
        pp = model.p.providers
        service_hours = pp.sw_hours * (1 - pp.sw_admin_share)
        weekly = 2.0 * pr.hours_per_month * 12.0 / 52.0  # supervisor + supervisee
        share = min(0.9, weekly / service_hours) if service_hours > 0 else 0.0
        model.careers.supervise(pr.quality_gain, pr.quit_mult, share)
