"""Alarms of the auditor, all to one topic: failures must reach a person.

Why a Construct: the stack grows alarms with each capability (function errors
and throttles, the dead-letter queues, the event queue's backlog); one unit that
owns the common shape (threshold semantics, missing data = fine, action = the
topic) keeps every alarm consistent and the stack short.

The SNS topic (``alarm_topic``) is created in the stack's scope and passed in, so
its logical id (and a confirmed email subscription) survives refactoring.
"""

from __future__ import annotations

from aws_cdk import Aws, CfnCondition, CfnParameter, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from eks_netpol_auditor.names import PRODUCT

ALARM_PERIOD = Duration.minutes(5)


class Alarms(Construct):
    """Alarms that notify ``topic`` when a metric reaches its threshold."""

    def __init__(self, scope: Construct, construct_id: str, *, topic: sns.ITopic) -> None:
        super().__init__(scope, construct_id)
        self._action = cw_actions.SnsAction(topic)
        self.alarms: list[cloudwatch.Alarm] = []

    def add(
        self,
        alarm_id: str,
        description: str,
        metric: cloudwatch.IMetric,
        threshold: float = 1,
    ) -> cloudwatch.Alarm:
        """Alarm when ``metric`` is at or above ``threshold`` for one period."""
        alarm = cloudwatch.Alarm(
            self,
            alarm_id,
            alarm_description=f"{PRODUCT}: {description}",
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            # No data = nothing ran or nothing queued: not a failure.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        self.alarms.append(alarm)
        return alarm


def alarm_topic(stack: Stack, *, email: CfnParameter, email_condition: CfnCondition) -> sns.Topic:
    """The encrypted, SSL-only topic every alarm notifies, with an optional email.

    Created in the stack's own scope (a function, not a Construct) so the topic's, the
    key's and a confirmed subscription's logical ids never change with refactoring.
    """
    # A customer managed key, because the AWS managed alias/aws/sns key policy
    # does not let CloudWatch alarms use it: alarms could not publish.
    key = kms.Key(
        stack,
        "AlarmTopicKey",
        description=f"Encrypts the {PRODUCT} alarm topic",
        enable_key_rotation=True,
        removal_policy=RemovalPolicy.DESTROY,
        pending_window=Duration.days(7),
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchAlarmsToUseTheKey",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],
        )
    )
    # Grants only for AWS services acting for a resource (Control Tower CT.KMS.PR.3):
    # nothing here creates grants, so this removes a path without breaking one.
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="DenyGrantsExceptForAwsResources",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["kms:CreateGrant"],
            resources=["*"],
            conditions={
                "BoolIfExists": {
                    "kms:GrantIsForAWSResource": "false",
                    "aws:PrincipalIsAWSService": "false",
                }
            },
        )
    )
    topic = sns.Topic(
        stack,
        "AlarmTopic",
        display_name=f"{PRODUCT} alarms",
        master_key=key,
        enforce_ssl=True,
    )
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchAlarmsOfThisAccount",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
        )
    )
    subscription = sns.Subscription(
        stack,
        "AlarmEmailSubscription",
        topic=topic,
        protocol=sns.SubscriptionProtocol.EMAIL,
        endpoint=email.value_as_string,
    )
    cfn_subscription = subscription.node.default_child
    assert isinstance(cfn_subscription, sns.CfnSubscription)
    cfn_subscription.cfn_options.condition = email_condition
    return topic
