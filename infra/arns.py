"""ARN helpers and the matching cdk-nag renderings, shared by the stack's Constructs.

Why: the audit policy, the remediation policy and their cdk-nag acknowledgments
must spell each ARN identically; an acknowledgment that drifts from its grant
would fail synthesis, or worse, acknowledge nothing.
"""

from __future__ import annotations

from aws_cdk import Aws

VPC_CNI = "vpc-cni"

# How cdk-nag renders the ARN prefixes built by account_arn().
EKS_NAG_PREFIX = "arn:<AWS::Partition>:eks:*:<AWS::AccountId>"
SECURITYHUB_NAG_PREFIX = "arn:<AWS::Partition>:securityhub:*:<AWS::AccountId>"

ANY_REGION_REASON = (
    "Region is '*' because the auditor reads and publishes in every enabled region "
    "of the account; account and partition are fixed."
)


def account_arn(service: str, resource: str) -> str:
    """ARN in any region of this account and partition (the audit covers all regions)."""
    return f"arn:{Aws.PARTITION}:{service}:*:{Aws.ACCOUNT_ID}:{resource}"
