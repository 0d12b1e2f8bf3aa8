"""The in-cluster check's part of the stack: self-enrolment's conditional grant and the
Outputs that tell a user what to enrol.

Reading a cluster needs no IAM action: the bearer token is a presigned STS
GetCallerIdentity URL built locally, and the Kubernetes API authorises with the cluster's
access entries, not IAM. Only self-enrolment (``InClusterEnrol``) calls AWS:
``eks:CreateAccessEntry`` and ``eks:AssociateAccessPolicy``, which could grant
cluster-admin, so like ``eks:UpdateAddon`` they live in a policy of their own that exists
only while ``InClusterCheck`` and ``InClusterEnrol`` are both true, and every condition
holds the role to the one request ``incluster.enrol`` makes. Each condition key is listed
for its action in the Service Authorization Reference, "Actions, resources, and condition
keys for Amazon Elastic Kubernetes Service" (CreateAccessEntry: eks:principalArn,
eks:accessEntryType, eks:kubernetesGroups, eks:username; AssociateAccessPolicy on the
access-entry resource: eks:principalArn, eks:accessEntryType, eks:policyArn,
eks:accessScope, eks:namespaces). ``Null: true`` = the request carries no such value
(IAM User Guide, "Condition operator to check existence of condition keys").
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Aws, CfnCondition, CfnOutput, Fn, Validations
from aws_cdk import aws_iam as iam
from constructs import Construct

from eks_netpol_auditor.incluster.access import (
    ENTRY_TYPE,
    SCOPE_TYPE,
    enrolment_commands,
    view_policy_arn,
)
from eks_netpol_auditor.names import StackOutput
from infra.arns import ANY_REGION_REASON, EKS_NAG_PREFIX, account_arn

# What the enrolment commands of the Output name instead of a cluster and its region.
CLUSTER_PLACEHOLDER = "CLUSTER"
REGION_PLACEHOLDER = "REGION"
_ROLE_PLACEHOLDER = "arn:PARTITION:iam::ACCOUNT:role/ROLE"


def enrol_statements(role_arn: str) -> list[iam.PolicyStatement]:
    """Exactly the two requests of ``incluster.enrol``, for ``role_arn`` only."""
    return [
        iam.PolicyStatement(
            sid="EksCreateOwnViewAccessEntry",
            actions=["eks:CreateAccessEntry"],
            resources=[account_arn("eks", "cluster/*")],
            conditions={
                "ArnEquals": {"eks:principalArn": role_arn},
                "StringEquals": {"eks:accessEntryType": ENTRY_TYPE},
                # No Kubernetes groups (RBAC bindings could make them powerful) and no
                # chosen username (one could match a binding): EKS's defaults only.
                "Null": {"eks:kubernetesGroups": "true", "eks:username": "true"},
            },
        ),
        iam.PolicyStatement(
            sid="EksAssociateOwnViewPolicy",
            actions=["eks:AssociateAccessPolicy"],
            resources=[account_arn("eks", "access-entry/*")],
            conditions={
                "ArnEquals": {
                    "eks:principalArn": role_arn,
                    "eks:policyArn": view_policy_arn(Aws.PARTITION),
                },
                "StringEquals": {
                    "eks:accessEntryType": ENTRY_TYPE,
                    "eks:accessScope": SCOPE_TYPE,
                },
                "Null": {"eks:namespaces": "true"},
            },
        ),
    ]


class InClusterEnrolPermission(Construct):
    """The self-enrolment grant, present only when ``condition`` holds."""

    def __init__(
        self, scope: Construct, construct_id: str, *, role: iam.IRole, condition: CfnCondition
    ) -> None:
        super().__init__(scope, construct_id)
        self.policy = iam.Policy(
            self, "Policy", roles=[role], statements=enrol_statements(role.role_arn)
        )
        cfn_policy = self.policy.node.default_child
        assert isinstance(cfn_policy, iam.CfnPolicy)
        cfn_policy.cfn_options.condition = condition
        reasons = {
            "cluster/*": "CreateAccessEntry on clusters discovered at run time, only for this "
            "role's own STANDARD entry without groups or username (conditions), only when "
            "InClusterEnrol=true (the policy is conditional). ",
            "access-entry/*": "AssociateAccessPolicy on access entries created at run time "
            "(their ARNs end in a UUID), only AmazonEKSViewPolicy at cluster scope for this "
            "role (conditions), only when InClusterEnrol=true. ",
        }
        for resource, reason in reasons.items():
            Validations.of(self.policy).acknowledge(
                Acknowledgment(
                    id=f"AwsSolutions-IAM5[Resource::{EKS_NAG_PREFIX}:{resource}]",
                    reason=reason + ANY_REGION_REASON,
                )
            )


def enrolment_output_text(role_arn: str) -> str:
    """The two commands with the role filled in and CLUSTER/REGION to replace: the same
    text `incluster.access` gives NOT_ENROLLED, built from a placeholder role because the
    role's ARN is a CloudFormation token here."""
    commands = enrolment_commands(_ROLE_PLACEHOLDER, CLUSTER_PLACEHOLDER, REGION_PLACEHOLDER)
    template = (
        " ; ".join(commands)
        .replace(_ROLE_PLACEHOLDER, "${RoleArn}")
        .replace("arn:PARTITION:", "arn:${AWS::Partition}:")
    )
    return Fn.sub(template, {"RoleArn": role_arn})


def add_in_cluster_outputs(scope: Construct, role: iam.IRole, condition: CfnCondition) -> None:
    """While ``InClusterCheck`` is true: the role to enrol, and how (docs/in-cluster.md)."""
    CfnOutput(
        scope,
        StackOutput.IN_CLUSTER_ROLE_ARN,
        description="The role each cluster's access entry must name (AmazonEKSViewPolicy, "
        "cluster scope) for the in-cluster check",
        value=role.role_arn,
        condition=condition,
    )
    CfnOutput(
        scope,
        StackOutput.IN_CLUSTER_ENROL_COMMANDS,
        description="Run for each cluster, with CLUSTER and REGION replaced, to let the "
        "in-cluster check read it; aws eks delete-access-entry removes it again",
        value=enrolment_output_text(role.role_arn),
        condition=condition,
    )
