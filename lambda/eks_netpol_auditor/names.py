"""Names shared by the engine, the Lambda front end and the CDK stack: one home each.

The stack imports these to write the function's environment and the engine imports them
to read it, so a renamed variable cannot drift between the two. Stdlib only: the CDK app
imports this module without pulling in boto3.
"""

from __future__ import annotations

from enum import StrEnum

PRODUCT = "eks-netpol-auditor"
# CloudWatch metrics namespace (Powertools reads POWERTOOLS_METRICS_NAMESPACE).
METRICS_NAMESPACE = "EksNetpolAuditor"

# FINDINGS_REFRESH_HOURS: re-import an unchanged finding at most this often. Security Hub CSPM
# deletes an active finding 90 days after its last update ("Security Hub CSPM data
# retention"); 30 days keeps every refresh well inside that window even if runs fail.
FINDINGS_REFRESH_HOURS_DEFAULT = 24
FINDINGS_REFRESH_HOURS_MAX = 30 * 24


class Env(StrEnum):
    """Environment variables of the configuration contract (docs/configuration.md)."""

    AUDIT_REGIONS = "AUDIT_REGIONS"
    PUBLISH_FINDINGS = "PUBLISH_FINDINGS"
    FINDINGS_REGION = "FINDINGS_REGION"
    FINDINGS_REFRESH_HOURS = "FINDINGS_REFRESH_HOURS"
    AUTO_REMEDIATE = "AUTO_REMEDIATE"
    REMEDIATION_DRY_RUN = "REMEDIATION_DRY_RUN"
    MAX_REMEDIATIONS_PER_RUN = "MAX_REMEDIATIONS_PER_RUN"
    REMEDIATION_REQUIRE_TAG = "REMEDIATION_REQUIRE_TAG"
    # Event runs re-audit, but never remediate, an add-on changed less than this ago.
    REMEDIATION_COOLDOWN_MINUTES = "REMEDIATION_COOLDOWN_MINUTES"
    # The in-cluster check (CIS Amazon EKS Benchmark 4.3.2, issue 18): opt-in.
    IN_CLUSTER_CHECK = "IN_CLUSTER_CHECK"
    IN_CLUSTER_EXCLUDE_NAMESPACES = "IN_CLUSTER_EXCLUDE_NAMESPACES"
    IN_CLUSTER_ENROL = "IN_CLUSTER_ENROL"
    # Read by Powertools itself (service name, metrics namespace, log level).
    POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
    POWERTOOLS_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
    LOG_LEVEL = "LOG_LEVEL"


# Each function's entry point (module.function in the Lambda package): the scheduled (and
# hand-started) function and the event function have one each, so a payload meant for
# one can never take the other's path (issue 16 item 3).
SCHEDULED_HANDLER = "eks_netpol_auditor.handler.scheduled_handler"
EVENT_HANDLER = "eks_netpol_auditor.handler.event_handler"

# The auditor stack's name: app.py deploys it under this name, the release template is
# documented with it, and `eks-netpol-audit doctor` looks for it (--stack-name overrides).
AUDITOR_STACK_NAME = "EksNetpolAuditor"
# An event waiting longer than this in the event queue has been through several failed or
# throttled receives (each returns after the 12-minute visibility timeout): the stack's
# EventQueueOldestMessage alarm and `doctor` use the same threshold.
OLDEST_EVENT_ALARM_SECONDS = 30 * 60


class StackOutput(StrEnum):
    """The auditor stack's Outputs (infra/outputs.py writes them, `doctor` reads them)."""

    FUNCTION_NAME = "FunctionName"
    LOG_GROUP_NAME = "LogGroupName"
    ALARM_TOPIC_ARN = "AlarmTopicArn"
    DEAD_LETTER_QUEUE_URL = "DeadLetterQueueUrl"
    DASHBOARD_URL = "DashboardUrl"
    FINDINGS_URL = "FindingsUrl"
    # Only when CreateInsight is true (older stacks have no such parameter: always).
    FAILED_BY_REGION_INSIGHT_URL = "FailedByRegionInsightUrl"
    # Only when EventDrivenMode is true.
    EVENT_FUNCTION_NAME = "EventFunctionName"
    EVENT_LOG_GROUP_NAME = "EventLogGroupName"
    EVENT_BUS_ARN = "EventBusArn"
    EVENT_QUEUE_URL = "EventQueueUrl"
    EVENT_DEAD_LETTER_QUEUE_URL = "EventDeadLetterQueueUrl"
    EVENT_PREREQUISITE = "EventPrerequisite"
    # Only when InClusterCheck is true (infra/in_cluster.py).
    IN_CLUSTER_ROLE_ARN = "InClusterRoleArn"
    IN_CLUSTER_ENROL_COMMANDS = "InClusterEnrolCommands"
