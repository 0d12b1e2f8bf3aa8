"""The one shape of the stack's dead-letter queues (the scheduled path's and the event path's).

SQS-managed SSE rather than KMS: EventBridge can only deliver to a KMS-encrypted DLQ with
a customer managed key and an extra key policy, and these queues carry only event
envelopes and invocation records (no secrets). TLS is enforced; messages are kept 14 days.
Only the redrive policy and the reasons for the acknowledgements differ between callers.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_sqs as sqs
from constructs import Construct

DLQ_RETENTION = Duration.days(14)


def dead_letter_queue(
    scope: Construct,
    construct_id: str,
    *,
    redrive_permission: sqs.RedrivePermission,
    acknowledgments: list[Acknowledgment],
) -> sqs.Queue:
    """An encrypted, SSL-only DLQ with its acknowledgements (AwsSolutions-SQS3 and others:
    a DLQ of a DLQ adds nothing; each caller says why for its own queue)."""
    dlq = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=DLQ_RETENTION,
        redrive_allow_policy=sqs.RedriveAllowPolicy(redrive_permission=redrive_permission),
    )
    Validations.of(dlq).acknowledge(*acknowledgments)
    return dlq
