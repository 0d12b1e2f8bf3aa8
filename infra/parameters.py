"""The auditor stack's CloudFormation parameters, their conditions and console layout.

Why: users steer a deployed auditor with parameters (``cdk deploy --parameters
AutoRemediate=true``), so every knob the function reads is a parameter passed
through an environment variable. They are created directly in the stack's scope
(this class is not a Construct), so their logical ids are exactly the names users
type, and no refactoring can rename them. ``AWS::CloudFormation::Interface`` groups
and labels them so the console shows the auditor's settings in a useful order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import CfnParameter, Stack

from eks_netpol_auditor.names import FINDINGS_REFRESH_HOURS_DEFAULT, FINDINGS_REFRESH_HOURS_MAX
from infra.conditions import parameter_differs, parameter_equals

_BOOL_VALUES = ["true", "false"]
REGION_PATTERN = r"[a-z]{2}(-[a-z]+)+-[0-9]+"
# A Lambda layer version ARN in any partition (Lambda API reference, LayerVersionArn).
LAYER_ARN_PATTERN = (
    rf"arn:aws[a-z-]*:lambda:{REGION_PATTERN}:[0-9]{{12}}:layer:[A-Za-z0-9_-]+:[0-9]+"
)


class AuditorParameters:
    """The parameters of :class:`infra.stack.EksNetpolAuditorStack`, with their conditions."""

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self._audit_parameters()
        self._remediation_parameters()
        self._operations_parameters()
        self.event_driven = self._string(
            "EventDrivenMode",
            "Re-audit a cluster within minutes of an EKS API call or add-on event. 'false' "
            "removes the event bus, rules, queue, event function and event source (the schedule "
            "still runs).",
            allowed_values=_BOOL_VALUES,
            default="true",
        )
        self._create_conditions()

    def _string(self, name: str, description: str, **options: Any) -> CfnParameter:
        return CfnParameter(self._stack, name, type="String", description=description, **options)

    def _boolean(self, name: str, description: str) -> CfnParameter:
        return self._string(name, description, allowed_values=_BOOL_VALUES, default="false")

    def _audit_parameters(self) -> None:
        self.audit_regions = self._string(
            "AuditRegions",
            "Regions to audit: 'all' (every region enabled in the account) or a "
            "comma-separated list such as 'eu-west-1,us-east-1'.",
            default="all",
            allowed_pattern=rf"^(all|{REGION_PATTERN}( *, *{REGION_PATTERN})*)$",
            constraint_description="'all' or a comma-separated list of region names.",
        )
        self.findings_region = self._string(
            "FindingsRegion",
            "Region to publish all findings to (e.g. a Security Hub aggregation "
            "region). Empty = each cluster's own region.",
            default="",
            allowed_pattern=rf"^({REGION_PATTERN})?$",
            constraint_description="empty or a region name.",
        )
        self.schedule_expression = self._string(
            "ScheduleExpression",
            "EventBridge schedule for the audit.",
            default="rate(6 hours)",
            allowed_pattern=r"^(rate|cron)\(.+\)$",
            constraint_description="an EventBridge rate(...) or cron(...) expression.",
        )
        self.findings_refresh_hours = CfnParameter(
            self._stack,
            "FindingsRefreshHours",
            type="Number",
            default=FINDINGS_REFRESH_HOURS_DEFAULT,
            min_value=1,
            max_value=FINDINGS_REFRESH_HOURS_MAX,
            description="Re-import an unchanged finding at most this often (hours); any change "
            "is imported in the same run. Security Hub CSPM charges per ingestion event.",
        )

    def _remediation_parameters(self) -> None:
        self.auto_remediate = self._boolean(
            "AutoRemediate",
            "Enable vpc-cni enableNetworkPolicy remediation with eks:UpdateAddon. "
            "'false' removes the eks:UpdateAddon permission from the function's role.",
        )
        self.remediation_dry_run = self._boolean(
            "RemediationDryRun",
            "With AutoRemediate=true: log the planned UpdateAddon calls without making them.",
        )
        self.max_remediations = CfnParameter(
            self._stack,
            "MaxRemediationsPerRun",
            type="Number",
            default=5,
            min_value=0,
            description="Upper bound on add-on updates per run (0 = remediate nothing).",
        )
        self.remediation_require_tag = self._boolean(
            "RemediationRequireTag",
            "Only remediate clusters that carry the opt-in remediation tag.",
        )
        self.remediation_cooldown = CfnParameter(
            self._stack,
            "RemediationCooldownMinutes",
            type="Number",
            default=30,
            min_value=0,
            description="Event-driven runs re-audit, but do not remediate, a cluster whose "
            "add-on the auditor updated less than this many minutes ago.",
        )

    def _operations_parameters(self) -> None:
        self.notification_email = self._string(
            "NotificationEmail",
            "Optional email address subscribed to the alarm topic "
            "(confirm the subscription email). Empty = no subscription.",
            default="",
            allowed_pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$",
            constraint_description="empty or an email address.",
        )
        self.reserved_concurrency = CfnParameter(
            self._stack,
            "ReservedConcurrency",
            type="Number",
            default=1,
            min_value=0,
            max_value=1,
            description="1 = reserve one concurrent execution of the scheduled function so "
            "scheduled runs never overlap (event-driven runs have their own function). "
            "0 = reserve nothing: use it when the deployment fails because the account's "
            "concurrency quota is too low (new accounts can have 10, and Lambda always keeps "
            "a minimum of unreserved concurrency).",
        )
        self.log_level = self._string(
            "LogLevel",
            "Powertools Logger level.",
            allowed_values=["DEBUG", "INFO", "WARNING", "ERROR"],
            default="INFO",
        )
        self.powertools_layer_arn = self._string(
            "PowertoolsLayerArn",
            "Powertools for AWS Lambda (Python) layer version ARN. Empty = the AWS-published "
            "public SSM parameter (commercial regions only). Set it in GovCloud, China and "
            "regions without that parameter, or to pin a layer version.",
            default="",
            allowed_pattern=rf"^$|^{LAYER_ARN_PATTERN}$",
            constraint_description="empty or a Lambda layer version ARN.",
        )

    def _create_conditions(self) -> None:
        stack = self._stack
        self.auto_remediate_condition = parameter_equals(
            stack, "AutoRemediateEnabled", self.auto_remediate, "true"
        )
        self.email_condition = parameter_differs(
            stack, "HasNotificationEmail", self.notification_email, ""
        )
        self.reserve_concurrency_condition = parameter_differs(
            stack, "ReserveConcurrency", self.reserved_concurrency, "0"
        )
        self.powertools_from_ssm_condition = parameter_equals(
            stack, "PowertoolsLayerFromSsm", self.powertools_layer_arn, ""
        )
        self.event_driven_condition = parameter_equals(
            stack, "EventDrivenEnabled", self.event_driven, "true"
        )
        self.findings_region_condition = parameter_differs(
            stack, "HasFindingsRegion", self.findings_region, ""
        )

    def interface(
        self, extra_groups: Sequence[tuple[str, list[CfnParameter]]] = ()
    ) -> dict[str, object]:
        """``AWS::CloudFormation::Interface`` metadata: the auditor's settings first."""
        groups = [
            (
                "What to audit",
                [
                    self.audit_regions,
                    self.findings_region,
                    self.schedule_expression,
                    self.findings_refresh_hours,
                ],
            ),
            (
                "Remediation (off by default)",
                [
                    self.auto_remediate,
                    self.remediation_dry_run,
                    self.max_remediations,
                    self.remediation_require_tag,
                ],
            ),
            ("Event-driven runs", [self.event_driven, self.remediation_cooldown]),
            *extra_groups,
            (
                "Operations",
                [
                    self.notification_email,
                    self.reserved_concurrency,
                    self.log_level,
                    self.powertools_layer_arn,
                ],
            ),
        ]
        return {
            "ParameterGroups": [
                {"Label": {"default": label}, "Parameters": [p.node.id for p in params]}
                for label, params in groups
            ],
            "ParameterLabels": {
                p.node.id: {"default": LABELS[p.node.id]} for _, params in groups for p in params
            },
        }


LABELS = {
    "AuditRegions": "Regions to audit",
    "FindingsRegion": "Publish all findings to this region (optional)",
    "ScheduleExpression": "Audit schedule",
    "FindingsRefreshHours": "Re-import unchanged findings every (hours)",
    "AutoRemediate": "Turn on network policy enforcement automatically",
    "RemediationDryRun": "Dry run: plan remediation only",
    "MaxRemediationsPerRun": "Most add-on updates per run",
    "RemediationRequireTag": "Only clusters tagged for remediation",
    "EventDrivenMode": "Re-audit on EKS change events",
    "RemediationCooldownMinutes": "No second remediation within (minutes)",
    "NotificationEmail": "Email for alarms (optional)",
    "ReservedConcurrency": "Reserve one concurrent execution",
    "LogLevel": "Log level",
    "PowertoolsLayerArn": "Powertools layer ARN (optional)",
}
