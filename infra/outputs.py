"""The stack's Outputs: where a user looks on day one, by stable names.

Why a module: the Outputs are the user's index of the deployment (names, the
dashboard, the insight, the findings link, the event path); they read the stack's
parts but add none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from aws_cdk import Aws, CfnOutput, Fn, Token

from eks_netpol_auditor.names import StackOutput

if TYPE_CHECKING:
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_logs as logs
    from aws_cdk import aws_sns as sns
    from aws_cdk import aws_sqs as sqs
    from constructs import Construct

    from infra.event_path import EventPath
    from infra.operations import OperationsViews
    from infra.parameters import AuditorParameters


class OutputSources(Protocol):
    """The parts of the auditor stack the Outputs read. A Protocol rather than the stack's
    class, so this module sits below `infra.stack` instead of importing it back."""

    @property
    def params(self) -> AuditorParameters: ...
    @property
    def function(self) -> lambda_.IFunction: ...
    @property
    def log_group(self) -> logs.ILogGroup: ...
    @property
    def alarm_topic(self) -> sns.ITopic: ...
    @property
    def dlq(self) -> sqs.IQueue: ...
    @property
    def views(self) -> OperationsViews: ...
    @property
    def event_path(self) -> EventPath: ...


def add_outputs(scope: Construct, stack: OutputSources) -> None:
    """Where to look on day one: names, and console links to the two pictures."""
    params = stack.params
    findings_region = Fn.condition_if(
        params.findings_region_condition.logical_id,
        params.findings_region.value_as_string,
        Aws.REGION,
    )
    outputs = {
        StackOutput.FUNCTION_NAME: ("The auditor function", stack.function.function_name),
        StackOutput.LOG_GROUP_NAME: ("The function's logs", stack.log_group.log_group_name),
        StackOutput.ALARM_TOPIC_ARN: ("Alarms are published here", stack.alarm_topic.topic_arn),
        StackOutput.DEAD_LETTER_QUEUE_URL: (
            "Failed runs and events wait here",
            stack.dlq.queue_url,
        ),
        StackOutput.DASHBOARD_URL: (
            "CloudWatch dashboard of the auditor",
            stack.views.dashboard_url(),
        ),
        StackOutput.FINDINGS_URL: (
            "Security Hub CSPM findings of this auditor (FindingsRegion or this region)",
            stack.views.findings_url(Token.as_string(findings_region)),
        ),
    }
    for output_id, (description, value) in outputs.items():
        CfnOutput(scope, output_id, description=description, value=value)
    CfnOutput(
        scope,
        StackOutput.FAILED_BY_REGION_INSIGHT_URL,
        description="Security Hub CSPM insight: FAILED clusters by region",
        value=stack.views.insight_url(),
        condition=params.insight_condition,
    )
    event_outputs = {
        StackOutput.EVENT_FUNCTION_NAME: (
            "The function that runs event-driven audits",
            stack.event_path.function.function_name,
        ),
        StackOutput.EVENT_LOG_GROUP_NAME: (
            "The event function's logs",
            stack.event_path.log_group.log_group_name,
        ),
        StackOutput.EVENT_BUS_ARN: (
            "Forwarders send EKS change events here",
            stack.event_path.bus.event_bus_arn,
        ),
        StackOutput.EVENT_QUEUE_URL: (
            "EKS change events wait here for the function",
            stack.event_path.queue.queue_url,
        ),
        StackOutput.EVENT_DEAD_LETTER_QUEUE_URL: (
            "Events that failed processing",
            stack.event_path.dlq.queue_url,
        ),
        # EventBridge receives "AWS API Call via CloudTrail" events only where a trail
        # logs them (EventBridge User Guide, "AWS service events delivered via AWS
        # CloudTrail"); nothing in the stack can create or check that (issue 17, item 9).
        StackOutput.EVENT_PREREQUISITE: (
            "Event-driven runs need a CloudTrail trail, and how to see that none arrives",
            "A CloudTrail trail with logging on must record this account's management "
            "events in every audited region. The dashboard graph 'EKS change events "
            "received' stays at 0 while clusters change when it does not (or a forwarder "
            "is missing); the schedule still audits everything.",
        ),
    }
    for output_id, (description, value) in event_outputs.items():
        CfnOutput(
            scope,
            output_id,
            description=description,
            value=value,
            condition=stack.params.event_driven_condition,
        )
