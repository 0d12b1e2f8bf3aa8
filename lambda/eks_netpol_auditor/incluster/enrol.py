"""Self-enrolment (opt-in, `IN_CLUSTER_ENROL`): give the auditor's own role read access to
a cluster that refused it, with the same two requests a user would run by hand
(`access.enrolment_commands`).

Called by the pipeline only when the in-cluster read was unauthorized (HTTP 401/403) on a
cluster whose `accessConfig.authenticationMode` is `API` or `API_AND_CONFIG_MAP`
(`CreateAccessEntry` fails on `CONFIG_MAP`). The stack grants the two actions only with
`InClusterEnrol=true` and only for exactly these requests (`infra/in_cluster.py`): this
role, type STANDARD, no Kubernetes groups, no username, AmazonEKSViewPolicy, cluster
scope. Requests: EKS API reference, CreateAccessEntry and AssociateAccessPolicy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from ..aws import AWS_ERRORS, AwsClients, describe_error, error_code
from .access import ENTRY_TYPE, SCOPE_TYPE, partition_of, view_policy_arn

if TYPE_CHECKING:
    from mypy_boto3_eks.type_defs import AccessScopeTypeDef

# CreateAccessEntry on a principal that already has an entry: HTTP 409 (EKS API
# reference, CreateAccessEntry Errors: "The specified resource is in use").
ALREADY_EXISTS = "ResourceInUseException"


def enrol(clients: AwsClients, region: str, cluster: str, role_arn: str) -> str | None:
    """Create `role_arn`'s access entry (kept if it exists) and associate
    AmazonEKSViewPolicy at cluster scope. None when both are in place, else one line
    saying what failed (never a traceback).

    `role_arn` is the IAM role ARN, not the session: `access.access_entry_principal`
    of the caller identity (access entries cannot name an STS session).
    """
    eks = clients.eks(region)
    action = "CreateAccessEntry"
    try:
        # No kubernetesGroups and no username: EKS's default username for a role, and
        # only what the access policy grants (EKS user guide, "Create access entries").
        eks.create_access_entry(clusterName=cluster, principalArn=role_arn, type=ENTRY_TYPE)
    except ClientError as error:
        if error_code(error) != ALREADY_EXISTS:
            return _failure(cluster, action, error)
    except AWS_ERRORS as error:
        return _failure(cluster, action, error)
    action = "AssociateAccessPolicy"
    scope: AccessScopeTypeDef = {"type": SCOPE_TYPE}
    try:
        # "You can only associate each policy to an access entry once" (EKS user guide,
        # "Associate access policies with access entries"); what EKS answers to a second
        # association is not documented, so ResourceInUseException counts as "already
        # there" and the pipeline's second read is the proof either way.
        eks.associate_access_policy(
            clusterName=cluster,
            principalArn=role_arn,
            policyArn=view_policy_arn(partition_of(role_arn)),
            accessScope=scope,
        )
    except ClientError as error:
        if error_code(error) != ALREADY_EXISTS:
            return _failure(cluster, action, error)
    except AWS_ERRORS as error:
        return _failure(cluster, action, error)
    return None


def _failure(cluster: str, action: str, error: Exception) -> str:
    """The one line for a failed request, with what a user can do about it."""
    detail = describe_error(error)
    code = error_code(error) if isinstance(error, ClientError) else ""
    if code == "AccessDeniedException":
        message = (
            f"self-enrolment in {cluster} was denied: eks:{action} is granted only with "
            f"InClusterEnrol=true, for the auditor's own role ({detail})"
        )
    elif code == "InvalidRequestException":
        message = (
            f"self-enrolment in {cluster} was refused: eks:{action} needs the cluster's "
            f"authentication mode API or API_AND_CONFIG_MAP ({detail})"
        )
    else:
        message = f"self-enrolment in {cluster} failed: eks:{action}: {detail}"
    return message
