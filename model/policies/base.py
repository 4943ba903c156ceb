"""The policy lifecycle (Covasim's interventions): initialize once, apply each week, finalize.

A policy is configured by one section of the scenario's `policies:` mapping, validated by its
own `Params` model (unknown keys raise). Disabled policies are not built at all, so a switched-off
lever cannot act.

A policy acts on the model only through the subsystems' own methods (for example
`model.volunteers.time_bank.configure(...)`, `model.desk.enable_referrals()`,
`model.workforce.hire(...)`): it never assigns an attribute of the model, so the owner of every
number it changes is the subsystem named in the expression (`tests/test_architecture.py` checks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from model.schema import Section

if TYPE_CHECKING:  # pragma: no cover
    from model.model import LinkageModel


class PolicyParams(Section):
    """Every policy section has an on/off switch."""

    enabled: bool = Field(False, description="Switch the policy on.")


class Policy:
    """Base class of every policy.

    Attributes:
        name: Key of the policy in the scenario's `policies:` mapping.
        label_zh: The seed's term.
        seed_text: The seed sentence it implements (quoted in docs/ODD.md).
        channels: Spending channels whose programme this policy runs.
    """

    name: ClassVar[str] = ""
    label_zh: ClassVar[str] = ""
    seed_text: ClassVar[str] = ""
    Params: ClassVar[type[PolicyParams]] = PolicyParams
    channels: ClassVar[tuple[str, ...]] = ()

    def __init__(self, pars: PolicyParams) -> None:
        self.pars = pars

    def initialize(self, model: LinkageModel) -> None:
        """Change the settings of the subsystems it concerns (called once, before week 0). The
        base opens the programme of its spending channels."""
        model.gov.open_channels(self.active_channels())

    def active_channels(self) -> tuple[str, ...]:
        """Spending channels whose programme this policy runs (with its settings)."""
        return self.channels

    def overhead(self, model: LinkageModel) -> dict[str, float]:
        """Costs taken off the top of a new budget year, by channel."""
        return {}

    def committed(self, model: LinkageModel) -> dict[str, float]:
        """What it will still spend this budget year, by channel, for the quarterly
        budget-execution review (`Government.review_quarter`). A channel no policy declares is
        projected from its spending over the last quarter."""
        return {}

    def apply(self, model: LinkageModel) -> None:
        """Act at phase 2 of every weekly step."""

    def finalize(self, model: LinkageModel) -> None:
        """Act once after the last week."""
