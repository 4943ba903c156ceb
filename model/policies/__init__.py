"""Policies: every linkage lever of the seed as a pluggable object (initialize / apply / finalize).

`REGISTRY` lists them in the order they apply within phase 2 of a week; the order is part of the
model (procurement runs before project teams recruit for the new contracts, for example).
"""

from __future__ import annotations

from pydantic import Field, create_model

from model.policies.base import Policy, PolicyParams
from model.policies.careers import Supervision
from model.policies.charity import CharitableResources
from model.policies.methods import CommunityWork, GroupWork
from model.policies.organizations import Cultivation, Evaluation, ProjectTeams, Purchase
from model.policies.participation import Claiming, Consultation
from model.policies.platform import CreditPublicity, InformationPlatform
from model.policies.social_work import (
    CoDelivery,
    JointMeeting,
    Professionalization,
    SurveysAndLeaders,
    TeamBuilding,
)
from model.policies.volunteers import Mobilization, TimeBanking, VolunteerManagement
from model.schema import Section

REGISTRY: dict[str, type[Policy]] = {
    cls.name: cls
    for cls in (
        InformationPlatform,
        CreditPublicity,
        Evaluation,
        Purchase,
        ProjectTeams,
        Cultivation,
        Professionalization,
        SurveysAndLeaders,
        VolunteerManagement,
        TimeBanking,
        Mobilization,
        JointMeeting,
        TeamBuilding,
        CoDelivery,
        CharitableResources,
        Supervision,
        GroupWork,
        CommunityWork,
        Consultation,
        Claiming,
    )
}


PoliciesParams = create_model(
    "PoliciesParams",
    __base__=Section,
    **{
        name: (
            cls.Params,
            Field(
                default_factory=cls.Params,
                description=f"{cls.label_zh}: {cls.__doc__.splitlines()[0]}",
            ),
        )
        for name, cls in REGISTRY.items()
    },
)
"""The `policies:` section: one typed sub-section per policy (unknown names raise)."""


def build_policies(pars: Section) -> list[Policy]:
    """Instantiate the enabled policies in registry order."""
    out = []
    for name, cls in REGISTRY.items():
        section = getattr(pars, name)
        if section.enabled:
            out.append(cls(section))
    return out


__all__ = ["REGISTRY", "PoliciesParams", "Policy", "PolicyParams", "build_policies"]
