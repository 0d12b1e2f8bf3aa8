"""The forwarder StackSet's parameters: which regions forward EKS events home.

Why: EventBridge delivers an EKS event only in its own region, and the auditor runs in
one home region, so every other audited region of every account needs the forwarder
stack (``infra.forwarder``, a rule whose target is the home region's event bus).
StackSets deploys it to ``ForwarderRegions`` of the same OUs as the auditor. The home
region itself is left out: the auditor stack forwards its own region already.
"""

from __future__ import annotations

from aws_cdk import CfnCondition, Fn, Stack

from infra.org_parameters import OrgParameters
from infra.parameters import REGION_PATTERN
from infra.setting_parameters import cfn_parameter

# The auditor parameter that creates the home event bus the forwarders send to.
EVENT_DRIVEN_PARAMETER = "EventDrivenMode"
# The forwarder template's one parameter (infra.forwarder.EventForwarderStack).
HOME_REGION_PARAMETER = "HomeRegion"


class ForwarderParameters:
    """``ForwarderRegions``, ``ForwarderTemplateKey`` and the condition to deploy them."""

    def __init__(self, stack: Stack, params: OrgParameters, template_key: str) -> None:
        self.regions = cfn_parameter(
            stack,
            "ForwarderRegions",
            allowed_pattern=rf"^$|^{REGION_PATTERN}(,{REGION_PATTERN})*$",
            constraint_description="empty, or comma-separated region names, no spaces.",
        )
        self.template_key = cfn_parameter(
            stack,
            "ForwarderTemplateKey",
            default=template_key,
            allowed_pattern=r"^[A-Za-z0-9!_.*'()/-]+\.template\.json$",
        )
        # Only with EventDrivenMode=true: without it the auditors have no home event bus,
        # and every forwarded event would fail delivery and be retried for 24 hours
        # (EventBridge "Event retry policy and using dead-letter queues") with nowhere
        # to land (issue 17, item 3).
        event_driven = params.passthrough_parameter(EVENT_DRIVEN_PARAMETER)
        self.deploy = CfnCondition(
            stack,
            "DeployForwarderStackSet",
            expression=Fn.condition_and(
                Fn.condition_equals(params.deploy_auditors.value_as_string, "true"),
                Fn.condition_not(Fn.condition_equals(self.regions.value_as_string, "")),
                Fn.condition_equals(event_driven.value_as_string, "true"),
            ),
        )

    def region_list(self) -> list[str]:
        """The forwarder regions (Fn::Split)."""
        return Fn.split(",", self.regions.value_as_string)
