"""EKS access entries: who may call the cluster's Kubernetes API, and with which access
policies. State methods raising ``AwsError``, as ``clusters``/``addons``.

* https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateAccessEntry.html (and
  DescribeAccessEntry, ListAccessEntries, DeleteAccessEntry, AssociateAccessPolicy,
  ListAssociatedAccessPolicies); shapes from the botocore ``eks`` model (``AccessEntry``,
  ``AssociatedAccessPolicy``, ``AccessScope``);
* EKS user guide, "Grant IAM users access to Kubernetes with EKS access entries"
  (access-entries.html) and "Create access entries" (creating-access-entries.html): the
  cluster's ``authenticationMode`` must be ``API`` or ``API_AND_CONFIG_MAP``; the
  principal is an IAM user or role ARN (not an assumed-role session); the default
  username; Kubernetes group names may not start with ``system:``; only ``STANDARD``
  entries take access policies;
* "Review access policy permissions" (access-policy-permissions.html): the policy ARNs.

Callers hold ``store.lock``.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sandbox.errors import AwsError
from sandbox.services.eks import clusters
from sandbox.services.eks.backend import EksBackend
from sandbox.services.eks.clusters import Caller, invalid, not_found, paginate, require_cluster
from sandbox.services.eks.models import AccessEntry, AssociatedPolicy, Cluster

POLICY_PREFIX = "arn:aws:eks::aws:cluster-access-policy/"
# Access policies a sandbox cluster knows; the Kubernetes API (services/kubernetes)
# authorises with VIEW and CLUSTER_ADMIN, the others are accepted and grant nothing there.
VIEW_POLICY = POLICY_PREFIX + "AmazonEKSViewPolicy"
CLUSTER_ADMIN_POLICY = POLICY_PREFIX + "AmazonEKSClusterAdminPolicy"
KNOWN_POLICIES = frozenset(
    {
        VIEW_POLICY,
        CLUSTER_ADMIN_POLICY,
        POLICY_PREFIX + "AmazonEKSAdminPolicy",
        POLICY_PREFIX + "AmazonEKSEditPolicy",
        POLICY_PREFIX + "AmazonEKSAdminViewPolicy",
    }
)
ENTRY_TYPES = (
    "STANDARD",
    "EC2",
    "EC2_LINUX",
    "EC2_WINDOWS",
    "FARGATE_LINUX",
    "HYBRID_LINUX",
    "HYPERPOD_LINUX",
)
_IAM_PRINCIPAL = re.compile(r"^arn:aws:iam::(\d{12}):(user|role)/(?:[^/]+/)*([^/]+)$")
# What EKS answers to access-entry calls on a CONFIG_MAP cluster: InvalidRequestException
# 400 (API reference) with this text, as reported for CreateAccessEntry
# (aws-ia/terraform-aws-eks-blueprints#1877) and DescribeAccessEntry
# (upbound/configuration-aws-eks#122).
CONFIG_MAP_MESSAGE = (
    "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] "
    "to perform this operation."
)


def _require_api_mode(cluster: Cluster) -> None:
    if cluster.authentication_mode == "CONFIG_MAP":
        raise AwsError(
            400, "InvalidRequestException", CONFIG_MAP_MESSAGE, {"clusterName": cluster.name}
        )


def _entry(cluster: Cluster, principal: str) -> AccessEntry:
    entry = cluster.access_entries.get(principal)
    if entry is None:
        raise not_found(
            "The specified principalArn could not be found. You can view your available "
            "access entries with 'list-access-entries'.",
            clusterName=cluster.name,
        )
    return entry


def canonical_principal(arn: str) -> str:
    """The IAM ARN an access entry names for a caller: an assumed-role session maps to
    its role (aws-iam-authenticator ``arn.Canonicalize``), a user to itself."""
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        role = parts[5].split("/")[1]
        return f"arn:aws:iam::{parts[4]}:role/{role}"
    return arn


def create_cluster(store: EksBackend, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """CreateCluster with its ``accessConfig`` (botocore ``CreateAccessConfigRequest``):
    ``authenticationMode`` defaults to CONFIG_MAP through the API and SDKs;
    ``bootstrapClusterCreatorAdminPermissions`` (default true) makes the creator a cluster
    admin, with an access entry holding AmazonEKSClusterAdminPolicy when the mode has access
    entries. CONFIG_MAP without it is refused with InvalidParameterException
    (terraform-aws-modules/terraform-aws-eks#3026 quotes the message)."""
    access = params.get("accessConfig") or {}
    mode = str(access.get("authenticationMode") or "CONFIG_MAP")
    bootstrap = access.get("bootstrapClusterCreatorAdminPermissions", True) is not False
    if mode == "CONFIG_MAP" and not bootstrap:
        raise invalid(
            "bootstrapClusterCreatorAdminPermissions must be true if cluster authentication "
            "mode is set to CONFIG_MAP"
        )
    body = clusters.create_cluster(store, caller, params)
    cluster = require_cluster(store, caller, str(params.get("name", "")))
    cluster.authentication_mode = mode
    if bootstrap and caller.principal:
        creator = canonical_principal(caller.principal)
        cluster.creator_admin = creator
        if mode != "CONFIG_MAP":
            now = store.clock()
            entry = _new_entry(cluster, creator, "STANDARD", [], {}, None, now)
            entry.policies[CLUSTER_ADMIN_POLICY] = AssociatedPolicy(
                CLUSTER_ADMIN_POLICY, "cluster", [], now, now
            )
            cluster.access_entries[creator] = entry
    body["cluster"] = cluster.to_wire()
    return body


def _new_entry(
    cluster: Cluster,
    principal: str,
    kind: str,
    groups: list[str],
    tags: dict[str, str],
    username: str | None,
    now: float,
) -> AccessEntry:
    match = _IAM_PRINCIPAL.match(principal)
    assert match is not None  # callers check the principal first
    return AccessEntry(
        principal_arn=principal,
        kind=kind,
        username=username or default_username(principal),
        kubernetes_groups=groups,
        tags=tags,
        arn=f"arn:aws:eks:{cluster.region}:{cluster.account}:access-entry/{cluster.name}/"
        f"{match.group(2)}/{match.group(1)}/{match.group(3)}/{uuid.uuid4()}",
        created_at=now,
        modified_at=now,
    )


def default_username(principal: str) -> str:
    """EKS's default username: a role's session ARN template, a user's ARN."""
    match = _IAM_PRINCIPAL.match(principal)
    if match and match.group(2) == "role":
        return f"arn:aws:sts::{match.group(1)}:assumed-role/{match.group(3)}/{{{{SessionName}}}}"
    return principal


def create_access_entry(
    store: EksBackend, caller: Caller, params: dict[str, Any]
) -> dict[str, Any]:
    cluster = require_cluster(store, caller, str(params.get("clusterName", "")))
    _require_api_mode(cluster)
    principal = str(params.get("principalArn", ""))
    match = _IAM_PRINCIPAL.match(principal)
    if match is None:
        # Exact EKS text unknown; an STS session ARN is refused (user guide).
        raise invalid(
            f"The principalArn {principal} is not a valid IAM user or role ARN.",
            clusterName=cluster.name,
        )
    kind = str(params.get("type") or "STANDARD")
    if kind not in ENTRY_TYPES:
        raise invalid(f"Invalid type {kind}; expected one of {list(ENTRY_TYPES)}")
    groups = [str(g) for g in params.get("kubernetesGroups") or []]
    if any(g.startswith("system:") for g in groups):
        raise invalid("Kubernetes group names can't start with system:")
    if principal in cluster.access_entries:
        raise AwsError(
            409,
            "ResourceInUseException",
            "The specified access entry resource is already in use on this cluster.",
            {"clusterName": cluster.name},
        )
    username = params.get("username")
    tags = dict(params.get("tags") or {})
    entry = _new_entry(cluster, principal, kind, groups, tags, username, store.clock())
    cluster.access_entries[principal] = entry
    return {"accessEntry": entry.to_wire(cluster.name)}


def describe_access_entry(
    store: EksBackend, caller: Caller, params: dict[str, Any]
) -> dict[str, Any]:
    cluster = require_cluster(store, caller, str(params.get("clusterName", "")))
    _require_api_mode(cluster)
    entry = _entry(cluster, str(params.get("principalArn", "")))
    return {"accessEntry": entry.to_wire(cluster.name)}


def delete_access_entry(
    store: EksBackend, caller: Caller, params: dict[str, Any]
) -> dict[str, Any]:
    cluster = require_cluster(store, caller, str(params.get("clusterName", "")))
    _require_api_mode(cluster)
    entry = _entry(cluster, str(params.get("principalArn", "")))
    del cluster.access_entries[entry.principal_arn]
    return {}


def list_access_entries(
    store: EksBackend, caller: Caller, params: dict[str, Any]
) -> dict[str, Any]:
    cluster = require_cluster(store, caller, str(params.get("clusterName", "")))
    _require_api_mode(cluster)
    wanted = params.get("associatedPolicyArn")
    names = [
        arn
        for arn, entry in cluster.access_entries.items()
        if wanted is None or wanted in entry.policies
    ]
    return paginate("accessEntries", names, params)


def associate_access_policy(
    store: EksBackend, caller: Caller, params: dict[str, Any]
) -> dict[str, Any]:
    cluster = require_cluster(store, caller, str(params.get("clusterName", "")))
    _require_api_mode(cluster)
    entry = _entry(cluster, str(params.get("principalArn", "")))
    policy = str(params.get("policyArn", ""))
    if policy not in KNOWN_POLICIES:
        raise invalid(f"The specified policyArn {policy} is invalid.", clusterName=cluster.name)
    if entry.kind != "STANDARD":
        raise invalid(
            "Access policies can only be associated with access entries of type STANDARD.",
            clusterName=cluster.name,
        )
    scope = params.get("accessScope") or {}
    scope_type = scope.get("type")
    namespaces = [str(n) for n in scope.get("namespaces") or []]
    if scope_type not in ("cluster", "namespace"):
        raise invalid("accessScope.type must be cluster or namespace")
    if (scope_type == "namespace") != bool(namespaces):
        raise invalid(
            "accessScope.namespaces must be given for type namespace, and only for it",
            clusterName=cluster.name,
        )
    now = store.clock()
    previous = entry.policies.get(policy)
    associated = AssociatedPolicy(
        policy_arn=policy,
        scope_type=scope_type,
        namespaces=namespaces,
        associated_at=previous.associated_at if previous else now,
        modified_at=now,
    )
    entry.policies[policy] = associated
    return {
        "clusterName": cluster.name,
        "principalArn": entry.principal_arn,
        "associatedAccessPolicy": associated.to_wire(),
    }


def list_associated_access_policies(
    store: EksBackend, caller: Caller, params: dict[str, Any]
) -> dict[str, Any]:
    cluster = require_cluster(store, caller, str(params.get("clusterName", "")))
    _require_api_mode(cluster)
    entry = _entry(cluster, str(params.get("principalArn", "")))
    page = paginate("policies", list(entry.policies), params)
    return {
        "clusterName": cluster.name,
        "principalArn": entry.principal_arn,
        "associatedAccessPolicies": [entry.policies[p].to_wire() for p in page["policies"]],
        **({"nextToken": page["nextToken"]} if "nextToken" in page else {}),
    }
