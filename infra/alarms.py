"""Alarms of the auditor, all to one topic: failures must reach a person.

Why a Construct: the stack grows alarms with each capability (function errors
and throttles, the dead-letter queues, the event queue's backlog); one unit that
owns the common shape (threshold semantics, missing data = fine, action = the
topic) keeps every alarm consistent and the stack short.

The SNS topic itself is created by the stack and passed in, so its logical id
(and a confirmed email subscription) survives refactoring of this unit.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
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
