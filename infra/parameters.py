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

from aws_cdk import CfnCondition, CfnParameter, Fn, Stack

from infra.conditions import parameter_differs, parameter_equals
from infra.setting_parameters import cfn_parameter

REGION_PATTERN = r"[a-z]{2}(-[a-z]+)+-[0-9]+"
# The parameter that switches the auditor's own Security Hub CSPM insight.
INSIGHT_PARAMETER = "CreateInsight"
# A Lambda layer version ARN in any partition (Lambda API reference, LayerVersionArn).
# A namespace name: an RFC 1123 DNS label (Kubernetes documentation, "Object Names and
# IDs", DNS Label Names); config.parse_namespaces checks the same at run time.
NAMESPACE_PATTERN = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
LAYER_ARN_PATTERN = (
    rf"arn:aws[a-z-]*:lambda:{REGION_PATTERN}:[0-9]{{12}}:layer:[A-Za-z0-9_-]+:[0-9]+"
)


class AuditorParameters:
    """The parameters of :class:`infra.stack.EksNetpolAuditorStack`, with their conditions."""

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self._audit_parameters()
        self._remediation_parameters()
        self._in_cluster_parameters()
        self._operations_parameters()
        self.event_driven = cfn_parameter(stack, "EventDrivenMode")
        self._create_conditions()

    def _parameter(self, name: str, **constraints: Any) -> CfnParameter:
        """Type, default, allowed values and description: `settings_table`."""
        return cfn_parameter(self._stack, name, **constraints)

    def _audit_parameters(self) -> None:
        self.audit_regions = self._parameter(
            "AuditRegions",
            allowed_pattern=rf"^(all|{REGION_PATTERN}( *, *{REGION_PATTERN})*)$",
            constraint_description="'all' or a comma-separated list of region names.",
        )
        self.findings_region = self._parameter(
            "FindingsRegion",
            allowed_pattern=rf"^({REGION_PATTERN})?$",
            constraint_description="empty or a region name.",
        )
        self.schedule_expression = self._parameter(
            "ScheduleExpression",
            allowed_pattern=r"^(rate|cron)\(.+\)$",
            constraint_description="an EventBridge rate(...) or cron(...) expression.",
        )
        self.findings_refresh_hours = self._parameter("FindingsRefreshHours")
        # AWS::SecurityHub::Insight fails to create where Security Hub CSPM is not enabled
        # (its API answers InvalidAccessException, "not subscribed"), and an account that
        # auto-deployment adds to an organization can receive the StackSet before Security
        # Hub is auto-enabled there. Default true keeps the single-account stack as it was
        # (whoever deploys it has Security Hub on, or findings fail too); the organization
        # StackSets pass false, their insights live in the administrator
        # (infra.org_insights).
        self.create_insight = self._parameter(INSIGHT_PARAMETER)

    def _remediation_parameters(self) -> None:
        self.auto_remediate = self._parameter("AutoRemediate")
        self.remediation_dry_run = self._parameter("RemediationDryRun")
        self.max_remediations = self._parameter("MaxRemediationsPerRun")
        self.remediation_require_tag = self._parameter("RemediationRequireTag")
        self.remediation_cooldown = self._parameter("RemediationCooldownMinutes")

    def _in_cluster_parameters(self) -> None:
        self.in_cluster_check = self._parameter("InClusterCheck")
        self.in_cluster_exclude_namespaces = self._parameter(
            "InClusterExcludeNamespaces",
            allowed_pattern=rf"^$|^{NAMESPACE_PATTERN}( *, *{NAMESPACE_PATTERN})*$",
            constraint_description="empty, or comma-separated namespace names (lower-case "
            "letters, digits and '-', at most 63 characters each).",
        )
        self.in_cluster_enrol = self._parameter("InClusterEnrol")

    def _operations_parameters(self) -> None:
        self.notification_email = self._parameter(
            "NotificationEmail",
            allowed_pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$",
            constraint_description="empty or an email address.",
        )
        self.reserved_concurrency = self._parameter("ReservedConcurrency")
        self.log_level = self._parameter("LogLevel")
        self.powertools_layer_arn = self._parameter(
            "PowertoolsLayerArn",
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
        self.insight_condition = parameter_equals(
            stack, "CreateSecurityHubInsight", self.create_insight, "true"
        )
        self.in_cluster_condition = parameter_equals(
            stack, "InClusterCheckEnabled", self.in_cluster_check, "true"
        )
        # Self-enrolment only where the check runs: InClusterEnrol alone grants nothing.
        self.in_cluster_enrol_condition = CfnCondition(
            stack,
            "InClusterEnrolEnabled",
            expression=Fn.condition_and(
                Fn.condition_equals(self.in_cluster_check.value_as_string, "true"),
                Fn.condition_equals(self.in_cluster_enrol.value_as_string, "true"),
            ),
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
                    self.create_insight,
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
            (
                "In-cluster check (off by default)",
                [
                    self.in_cluster_check,
                    self.in_cluster_exclude_namespaces,
                    self.in_cluster_enrol,
                ],
            ),
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
    "CreateInsight": "Create the Security Hub CSPM insight",
    "AutoRemediate": "Turn on network policy enforcement automatically",
    "RemediationDryRun": "Dry run: plan remediation only",
    "MaxRemediationsPerRun": "Most add-on updates per run",
    "RemediationRequireTag": "Only clusters tagged for remediation",
    "EventDrivenMode": "Re-audit on EKS change events",
    "RemediationCooldownMinutes": "No remediation within (minutes) of an add-on change",
    "InClusterCheck": "Check network policy coverage inside each cluster",
    "InClusterExcludeNamespaces": "Namespaces not counted (besides kube-system, ...)",
    "InClusterEnrol": "Let the auditor grant itself read access (access entry)",
    "NotificationEmail": "Email for alarms (optional)",
    "ReservedConcurrency": "Reserve one concurrent execution",
    "LogLevel": "Log level",
    "PowertoolsLayerArn": "Powertools layer ARN (optional)",
}
