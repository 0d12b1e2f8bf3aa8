"""The auditor stack's CloudFormation parameters and the conditions derived from them.

Why: users steer a deployed auditor with parameters (``cdk deploy --parameters
AutoRemediate=true``), so every knob the function reads is a parameter passed
through an environment variable. They are created directly in the stack's scope
(this class is not a Construct), so their logical ids are exactly the names users
type, and no refactoring can rename them.
"""

from __future__ import annotations

from aws_cdk import CfnCondition, CfnParameter, Fn, Stack

_BOOL_VALUES = ["true", "false"]


class AuditorParameters:
    """The parameters of :class:`infra.stack.EksNetpolAuditorStack`, with their conditions."""

    def __init__(self, stack: Stack) -> None:
        self._create_parameters(stack)
        self._create_conditions(stack)

    def _create_parameters(self, stack: Stack) -> None:
        self.auto_remediate = CfnParameter(
            stack,
            "AutoRemediate",
            type="String",
            allowed_values=_BOOL_VALUES,
            default="false",
            description="Enable vpc-cni enableNetworkPolicy remediation with eks:UpdateAddon. "
            "'false' removes the eks:UpdateAddon permission from the function's role.",
        )
        self.remediation_dry_run = CfnParameter(
            stack,
            "RemediationDryRun",
            type="String",
            allowed_values=_BOOL_VALUES,
            default="false",
            description="With AutoRemediate=true: log the planned UpdateAddon calls without "
            "making them.",
        )
        self.max_remediations = CfnParameter(
            stack,
            "MaxRemediationsPerRun",
            type="Number",
            default=5,
            min_value=0,
            description="Upper bound on add-on updates per run (0 = remediate nothing).",
        )
        self.remediation_require_tag = CfnParameter(
            stack,
            "RemediationRequireTag",
            type="String",
            allowed_values=_BOOL_VALUES,
            default="false",
            description="Only remediate clusters that carry the opt-in remediation tag.",
        )
        self.audit_regions = CfnParameter(
            stack,
            "AuditRegions",
            type="String",
            default="all",
            allowed_pattern=r"^(all|[a-z]{2}(-[a-z]+)+-[0-9]+( *, *[a-z]{2}(-[a-z]+)+-[0-9]+)*)$",
            constraint_description="'all' or a comma-separated list of region names.",
            description="Regions to audit: 'all' (every region enabled in the account) or a "
            "comma-separated list such as 'eu-west-1,us-east-1'.",
        )
        self.findings_region = CfnParameter(
            stack,
            "FindingsRegion",
            type="String",
            default="",
            allowed_pattern=r"^([a-z]{2}(-[a-z]+)+-[0-9]+)?$",
            constraint_description="empty or a region name.",
            description="Region to publish all findings to (e.g. a Security Hub aggregation "
            "region). Empty = each cluster's own region.",
        )
        self.schedule_expression = CfnParameter(
            stack,
            "ScheduleExpression",
            type="String",
            default="rate(6 hours)",
            allowed_pattern=r"^(rate|cron)\(.+\)$",
            constraint_description="an EventBridge rate(...) or cron(...) expression.",
            description="EventBridge schedule for the audit.",
        )
        self.notification_email = CfnParameter(
            stack,
            "NotificationEmail",
            type="String",
            default="",
            allowed_pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$",
            constraint_description="empty or an email address.",
            description="Optional email address subscribed to the alarm topic "
            "(confirm the subscription email). Empty = no subscription.",
        )
        self.reserved_concurrency = CfnParameter(
            stack,
            "ReservedConcurrency",
            type="Number",
            default=1,
            min_value=0,
            max_value=1,
            description="1 = reserve one concurrent execution so runs never overlap. "
            "0 = reserve nothing: use it when the deployment fails because the account's "
            "concurrency quota is too low (new accounts can have 10, and Lambda always keeps "
            "a minimum of unreserved concurrency).",
        )
        self.log_level = CfnParameter(
            stack,
            "LogLevel",
            type="String",
            allowed_values=["DEBUG", "INFO", "WARNING", "ERROR"],
            default="INFO",
            description="Powertools Logger level.",
        )

    def _create_conditions(self, stack: Stack) -> None:
        self.auto_remediate_condition = CfnCondition(
            stack,
            "AutoRemediateEnabled",
            expression=Fn.condition_equals(self.auto_remediate.value_as_string, "true"),
        )
        self.email_condition = CfnCondition(
            stack,
            "HasNotificationEmail",
            expression=Fn.condition_not(
                Fn.condition_equals(self.notification_email.value_as_string, "")
            ),
        )
        self.reserve_concurrency_condition = CfnCondition(
            stack,
            "ReserveConcurrency",
            expression=Fn.condition_not(
                Fn.condition_equals(self.reserved_concurrency.value_as_string, "0")
            ),
        )
