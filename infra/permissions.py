"""What the auditor's role may do: the read and publish grants, one action at a time.

Why a module of its own: the grant list must equal the AWS operations the engine
calls (``tests/integration/test_iam_matches_calls.py`` runs a full sandbox audit
and compares), so it lives apart from the wiring of the stack where a reviewer can
read it against the code. Resource scoping follows the Service Authorization
Reference (https://docs.aws.amazon.com/service-authorization/latest/reference/
list_amazonelastickubernetesservice.html and list_awssecurityhub.html):

- eks:ListClusters, eks:DescribeAddonConfiguration, ec2:DescribeRegions and
  sts:GetCallerIdentity support no resource types -> "*".
- eks:DescribeCluster and eks:ListAddons take the cluster resource, eks:DescribeAddon
  the addon resource. ListAddons is called only after DescribeAddon answered
  AccessDenied (issue 10 item 8). Nothing else is granted: eks:DescribeUpdate was once
  granted but never called (issue 10 item 7).
- securityhub:BatchImportFindings takes the product resource, BatchUpdateFindings
  and GetFindings the hub resource (hub/default).

Region is "*" because the auditor publishes findings in each cluster's region.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Aws, Validations
from aws_cdk import aws_iam as iam

from infra.arns import (
    ANY_REGION_REASON,
    EKS_NAG_PREFIX,
    SECURITYHUB_NAG_PREFIX,
    VPC_CNI,
    account_arn,
)


def audit_policy_document() -> iam.PolicyDocument:
    """The read-only audit and the Security Hub publishing grants."""
    cluster_arn = account_arn("eks", "cluster/*")
    # Add-on ARNs are addon/<cluster>/<addon>/<uuid>. The bare form covers the
    # authorization of a DescribeAddon for an add-on that does not exist, so the
    # engine sees ResourceNotFoundException (= no managed vpc-cni) and not
    # AccessDenied.
    vpc_cni_addon_arns = [
        account_arn("eks", f"addon/*/{VPC_CNI}/*"),
        account_arn("eks", f"addon/*/{VPC_CNI}"),
    ]
    return iam.PolicyDocument(
        statements=[
            iam.PolicyStatement(
                sid="DiscoverAccountAndRegions",
                actions=["sts:GetCallerIdentity", "ec2:DescribeRegions"],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="EksActionsWithoutResourceTypes",
                actions=["eks:ListClusters", "eks:DescribeAddonConfiguration"],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="EksReadClusters",
                # eks:ListAddons (resource: cluster) confirms whether vpc-cni exists after
                # DescribeAddon answered AccessDenied (discovery._confirm_denied).
                actions=["eks:DescribeCluster", "eks:ListAddons"],
                resources=[cluster_arn],
            ),
            iam.PolicyStatement(
                sid="EksReadVpcCniAddon",
                actions=["eks:DescribeAddon"],
                resources=vpc_cni_addon_arns,
            ),
            iam.PolicyStatement(
                sid="SecurityHubImportOwnFindings",
                actions=["securityhub:BatchImportFindings"],
                resources=[account_arn("securityhub", f"product/{Aws.ACCOUNT_ID}/default")],
            ),
            iam.PolicyStatement(
                sid="SecurityHubReadAndResolveFindings",
                actions=["securityhub:BatchUpdateFindings", "securityhub:GetFindings"],
                resources=[account_arn("securityhub", "hub/default")],
            ),
        ]
    )


def acknowledge_audit_wildcards(role: iam.IRole) -> None:
    """Acknowledge each wildcard of the audit grants, with its reason.

    cdk-nag v3 reports IAM5 per wildcard resource ("AwsSolutions-IAM5[Resource::...]"),
    so each wildcard is acknowledged on its own: a new wildcard fails synthesis.
    """
    eks, securityhub = EKS_NAG_PREFIX, SECURITYHUB_NAG_PREFIX
    role_acks = {
        "Resource::*": "Only actions that support no resource types (Service Authorization "
        "Reference): sts:GetCallerIdentity, ec2:DescribeRegions, eks:ListClusters, "
        "eks:DescribeAddonConfiguration, and X-Ray tracing's xray:PutTraceSegments and "
        "xray:PutTelemetryRecords.",
        f"Resource::{eks}:cluster/*": "Read-only DescribeCluster and ListAddons on every "
        "cluster of the account: clusters are discovered at run time. " + ANY_REGION_REASON,
        f"Resource::{eks}:addon/*/{VPC_CNI}/*": "Read-only DescribeAddon, limited to vpc-cni "
        "add-ons; cluster name and add-on UUID are only known at run time. " + ANY_REGION_REASON,
        f"Resource::{eks}:addon/*/{VPC_CNI}": "Read-only DescribeAddon of a vpc-cni add-on "
        "that may not exist, so the answer is ResourceNotFound (no managed add-on) rather "
        "than AccessDenied. " + ANY_REGION_REASON,
        f"Resource::{securityhub}:product/<AWS::AccountId>/default": "BatchImportFindings "
        "only into this account's default product. " + ANY_REGION_REASON,
        f"Resource::{securityhub}:hub/default": "GetFindings and BatchUpdateFindings "
        "(resolving our own findings) on this account's hub. " + ANY_REGION_REASON,
    }
    for applies_to, reason in role_acks.items():
        Validations.of(role).acknowledge(
            Acknowledgment(id=f"AwsSolutions-IAM5[{applies_to}]", reason=reason)
        )
