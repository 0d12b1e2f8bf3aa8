"""The small stack deployed in every audited region other than the home region.

Why a Stack of its own with a clean constructor: single-account users deploy it with
``cdk deploy -c forwarderRegions=eu-west-1,us-west-2`` (see ``app.py``), and the
organization release ships the same class as its own template for StackSets, where
the home region is a parameter (``home_region=None``). It holds nothing but the
forwarding rules and their role (``infra.event_path.ForwardingRules``).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from eks_netpol_auditor.names import PRODUCT
from infra.event_path import ForwardingRules, home_bus_arn
from infra.parameters import REGION_PATTERN
from infra.setting_parameters import cfn_parameter


class EventForwarderStack(Stack):
    """Forwards this region's EKS change events to the auditor's bus in the home region."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        home_region: str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault(
            "description",
            f"{PRODUCT}: forwards EKS change events of this region to the auditor's home region.",
        )
        super().__init__(scope, construct_id, **kwargs)
        if home_region is None:
            home_region = cfn_parameter(
                self,
                "HomeRegion",
                allowed_pattern=rf"^{REGION_PATTERN}$",
                constraint_description="a region name.",
            ).value_as_string
        self.forwarding = ForwardingRules(
            self, "Forwarding", target_bus_arn=home_bus_arn(home_region)
        )
