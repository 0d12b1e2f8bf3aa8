"""Finding the account, its regions and its clusters, and gathering each cluster's facts.

At most two EKS calls per cluster (DescribeCluster, DescribeAddon) plus ListClusters pages;
a third (ListAddons) only when DescribeAddon is denied.
Errors are returned as data so one failing cluster or region never stops the others.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from .aws import describe_error, error_code
from .model import (
    NOT_READY_CLUSTER_STATUSES,
    VPC_CNI_ADDON,
    AddonFacts,
    ApiAccess,
    ClusterFacts,
)

if TYPE_CHECKING:
    from .aws import AwsClients

# ListClusters and ListAddons maxResults is 1-100 (EKS API reference); fewer pages, fewer calls.
LIST_PAGE_SIZE = 100


class RegionError(Exception):
    """A whole region could not be listed (SCP denial, region not enabled, outage)."""


@dataclass(frozen=True, slots=True)
class Deleted:
    """DescribeCluster's answer for a cluster that is gone or going: it has no facts.

    `confirmed` is True when DescribeCluster said ResourceNotFoundException (the cluster no
    longer exists, so its finding may be archived); False while its status is DELETING (the
    finding is left alone until a later run sees it gone)."""

    region: str
    name: str
    confirmed: bool


# Who we are, per client set: the one identity cache. A client set reused by warm Lambda
# invocations (event runs) asks STS once; the role of an execution environment never changes.
_identities: weakref.WeakKeyDictionary[AwsClients, tuple[str, str, str]] = (
    weakref.WeakKeyDictionary()
)


def caller_identity(clients: AwsClients, region: str) -> tuple[str, str, str]:
    """(account id, partition, caller ARN) from one STS GetCallerIdentity call per client
    set; event runs compare the ARN with the caller of each EKS API event (their own calls
    come back)."""
    known = _identities.get(clients)
    if known is None:
        identity = clients.sts(region).get_caller_identity()
        partition = identity["Arn"].split(":")[1]
        known = _identities[clients] = (identity["Account"], partition, identity["Arn"])
    return known


def enabled_regions(clients: AwsClients, region: str, eks_regions: frozenset[str]) -> list[str]:
    """Regions that are enabled for the account (EC2 DescribeRegions default AllRegions=False
    returns only opt-in-not-required and opted-in regions) and where EKS exists."""
    response = clients.ec2(region).describe_regions()
    names = {r["RegionName"] for r in response.get("Regions", []) if "RegionName" in r}
    return sorted(names & eks_regions)


def list_clusters(clients: AwsClients, region: str) -> list[str]:
    paginator = clients.paginator("eks", region, "list_clusters")
    names: list[str] = []
    try:
        for page in paginator.paginate(PaginationConfig={"PageSize": LIST_PAGE_SIZE}):
            names.extend(page.get("clusters", []))
    except (ClientError, BotoCoreError) as error:
        raise RegionError(describe_error(error)) from error
    return names


def describe_cluster(
    clients: AwsClients,
    account: str,
    partition: str,
    region: str,
    name: str,
) -> ClusterFacts | Deleted:
    """Facts for one cluster, or `Deleted` when it no longer exists or is being deleted."""
    eks = clients.eks(region)
    arn = f"arn:{partition}:eks:{region}:{account}:cluster/{name}"
    base: dict[str, Any] = {
        "account": account,
        "partition": partition,
        "region": region,
        "name": name,
    }
    try:
        cluster: Any = eks.describe_cluster(name=name)["cluster"]
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            # deleted between ListClusters (or the event) and DescribeCluster
            return Deleted(region, name, confirmed=True)
        return ClusterFacts(**base, arn=arn, status="UNKNOWN", error=describe_error(error))
    except BotoCoreError as error:
        return ClusterFacts(**base, arn=arn, status="UNKNOWN", error=describe_error(error))

    status = cluster.get("status", "UNKNOWN")
    if status == "DELETING":
        return Deleted(region, name, confirmed=False)
    facts: dict[str, Any] = {
        **base,
        "arn": cluster.get("arn", arn),
        "status": status,
        "kubernetes_version": cluster.get("version"),
        "platform_version": cluster.get("platformVersion"),
        "auto_mode": bool(cluster.get("computeConfig", {}).get("enabled", False)),
        "tags": dict(cluster.get("tags", {})),
        "details": _finding_details(cluster),
        "api": _api_access(cluster),
    }
    if status in NOT_READY_CLUSTER_STATUSES or facts["auto_mode"]:
        return ClusterFacts(**facts)  # the add-on would not change the verdict: save a call
    addon, unknown = _vpc_cni_addon(eks, name)
    return ClusterFacts(**facts, addon=addon, error=unknown)


def _vpc_cni_addon(eks: Any, name: str) -> tuple[AddonFacts | None, str | None]:
    """(the vpc-cni add-on or None when the cluster has none, the error when unknown).

    DescribeAddon answers ResourceNotFoundException for a missing add-on (EKS API
    reference, DescribeAddon). But which resource IAM authorises for an add-on that does
    not exist is undocumented: public reports (terraform-aws-modules/terraform-aws-eks#1725,
    aws/containers-roadmap#1172) show AccessDeniedException naming
    `arn:aws:eks:REGION:ACCOUNT:/clusters/NAME/addons/vpc-cni`, which a grant on the
    add-on ARN does not match. So an AccessDenied is confirmed with ListAddons (EKS API
    reference, ListAddons; resource `cluster`): vpc-cni absent means no managed add-on,
    present means a real denial. The normal path stays at one add-on call.
    """
    try:
        addon: Any = eks.describe_addon(clusterName=name, addonName=VPC_CNI_ADDON)["addon"]
    except ClientError as error:
        code = error_code(error)
        if code == "ResourceNotFoundException":
            return None, None
        if code == "AccessDeniedException":
            return _confirm_denied(eks, name, describe_error(error))
        return None, describe_error(error)
    except BotoCoreError as error:
        return None, describe_error(error)
    return (
        AddonFacts(
            version=addon.get("addonVersion", ""),
            status=addon.get("status", "UNKNOWN"),
            configuration_values=addon.get("configurationValues"),
            arn=addon.get("addonArn"),
            health_issues=tuple(
                issue.get("code", "") for issue in addon.get("health", {}).get("issues", [])
            ),
            modified_at=addon.get("modifiedAt"),
        ),
        None,
    )


def _confirm_denied(eks: Any, name: str, denied: str) -> tuple[None, str | None]:
    """After DescribeAddon was denied: no error if ListAddons shows no vpc-cni add-on."""
    try:
        pages = eks.get_paginator("list_addons").paginate(
            clusterName=name, PaginationConfig={"PageSize": LIST_PAGE_SIZE}
        )
        installed = {addon for page in pages for addon in page.get("addons", [])}
    except (ClientError, BotoCoreError) as error:
        return None, f"{denied}; ListAddons could not tell whether vpc-cni is installed: " + (
            describe_error(error)
        )
    if VPC_CNI_ADDON in installed:
        return None, denied
    return None, None


def _finding_details(cluster: dict[str, Any]) -> dict[str, Any]:
    """The DescribeCluster fields ASFF's AwsEksClusterDetails can carry."""
    vpc = cluster.get("resourcesVpcConfig", {})
    return {
        "Arn": cluster.get("arn"),
        "ClusterStatus": cluster.get("status"),
        "Endpoint": cluster.get("endpoint"),
        "Name": cluster.get("name"),
        "RoleArn": cluster.get("roleArn"),
        "Version": cluster.get("version"),
        "ResourcesVpcConfig": {
            "SecurityGroupIds": vpc.get("securityGroupIds", []),
            "SubnetIds": vpc.get("subnetIds", []),
            "EndpointPublicAccess": vpc.get("endpointPublicAccess"),
        },
    }


def _api_access(cluster: dict[str, Any]) -> ApiAccess:
    """How to reach the cluster's Kubernetes API (EKS API reference, Cluster: `endpoint`,
    `certificateAuthority.data`, `resourcesVpcConfig`, `accessConfig`)."""
    vpc = cluster.get("resourcesVpcConfig", {})
    return ApiAccess(
        endpoint=cluster.get("endpoint") or None,
        certificate_authority=cluster.get("certificateAuthority", {}).get("data") or None,
        public_access=bool(vpc.get("endpointPublicAccess", False)),
        public_access_cidrs=tuple(vpc.get("publicAccessCidrs", ())),
        authentication_mode=cluster.get("accessConfig", {}).get("authenticationMode"),
    )
