"""Read what the second control needs from one cluster's Kubernetes API (read-only GETs).

Called by the discovery worker that described the cluster, so it runs inside the run's
bounded pool; its own time budget (`ReadLimits.budget_seconds`) bounds it. One token and
one connection pool per cluster read. Never raises: every failure is a `ReadFailure`.

The reads, in order (the first one that is denied stops the read as UNAUTHORIZED):
namespaces (metadata only), ConfigMap kube-system/amazon-vpc-cni, DaemonSet
kube-system/aws-node, NetworkPolicies in all namespaces, pods in all namespaces (metadata
only), and EKS's ClusterNetworkPolicy objects (optional: 403/404 means "not readable").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .client import METADATA_LIST, KubeClient, KubeReadError, ReadLimits
from .model import ClusterObjects, FailureKind, NamespaceMeta, PodMeta, ReadFailure
from .token import TokenError, bearer_token

if TYPE_CHECKING:
    from ..aws import AwsClients
    from ..model import ClusterFacts

# Kubernetes API Concepts, "Standard API terminology" (resource URIs): core group under
# /api/v1, named groups under /apis/GROUP/VERSION; an all-namespaces collection omits
# /namespaces/NAME.
NAMESPACES = "/api/v1/namespaces"
VPC_CNI_CONFIGMAP = "/api/v1/namespaces/kube-system/configmaps/amazon-vpc-cni"
AWS_NODE_DAEMONSET = "/apis/apps/v1/namespaces/kube-system/daemonsets/aws-node"
NETWORK_POLICIES = "/apis/networking.k8s.io/v1/networkpolicies"
PODS = "/api/v1/pods"
# EKS admin network policies: cluster-scoped CRD ClusterNetworkPolicy in
# networking.k8s.aws/v1alpha1, plural clusternetworkpolicies (EKS user guide, "Limit Pod
# traffic with Kubernetes network policies"; aws/amazon-network-policy-controller-k8s
# config/crd/bases/networking.k8s.aws_clusternetworkpolicies.yaml). AmazonEKSViewPolicy
# does not cover networking.k8s.aws, and a cluster without the CRD answers 404.
CLUSTER_NETWORK_POLICIES = "/apis/networking.k8s.aws/v1alpha1/clusternetworkpolicies"

_NOT_FOUND = frozenset({404})
_NOT_READABLE = frozenset({403, 404})


def read_cluster(
    clients: AwsClients, facts: ClusterFacts, limits: ReadLimits | None = None
) -> ClusterObjects | ReadFailure:
    """Everything the second control reads from `facts`' cluster, or why it could not.

    The caller decides whether to read at all (check on, ACTIVE, public endpoint); a
    private-only endpoint or a cluster without DescribeCluster's endpoint or CA is still
    answered as unreachable without a connection.
    """
    api = facts.api
    if api is None or not api.endpoint:
        return ReadFailure(FailureKind.UNREACHABLE, "DescribeCluster returned no endpoint")
    if not api.public_access:  # the function runs outside any VPC: never try
        return ReadFailure(
            FailureKind.UNREACHABLE, "the endpoint is private only; no connection was attempted"
        )
    try:
        token = bearer_token(clients, facts.region, facts.name)
    except TokenError as error:
        return ReadFailure(FailureKind.INCOMPLETE, f"the read could not start: {error}")
    try:
        with KubeClient(api, token, limits or ReadLimits()) as kube:
            try:
                return _read(kube)
            except KubeReadError as error:
                return replace(error.failure, requests=kube.requests)
    except KubeReadError as error:  # the client could not be set up (endpoint, CA)
        return error.failure


def _read(kube: KubeClient) -> ClusterObjects:
    namespaces = kube.list_items(NAMESPACES, accept=METADATA_LIST)
    configmap = kube.get_object(VPC_CNI_CONFIGMAP, absent=_NOT_FOUND)
    daemonset = kube.get_object(AWS_NODE_DAEMONSET, absent=_NOT_FOUND)
    policies = kube.list_items(NETWORK_POLICIES)
    pods = kube.list_items(PODS, accept=METADATA_LIST)
    cluster_policies = kube.list_unless(CLUSTER_NETWORK_POLICIES, absent=_NOT_READABLE)
    return ClusterObjects(
        vpc_cni_config=None if configmap is None else _configmap_data(configmap),
        aws_node=daemonset,
        namespaces=tuple(
            NamespaceMeta(_name(item, NAMESPACES), _labels(item, NAMESPACES)) for item in namespaces
        ),
        network_policies=tuple(policies),
        pods=tuple(
            PodMeta(_namespace(item, PODS), _name(item, PODS), _labels(item, PODS)) for item in pods
        ),
        cluster_policies=None if cluster_policies is None else tuple(cluster_policies),
        requests=kube.requests,
    )


def _configmap_data(configmap: Mapping[str, Any]) -> dict[str, str]:
    """ConfigMap `data` (API reference, ConfigMap v1: map of string to string)."""
    data = configmap.get("data") or {}
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise KubeReadError(
            ReadFailure(
                FailureKind.INCOMPLETE,
                f"GET {VPC_CNI_CONFIGMAP}: `data` is not a map of strings",
            )
        )
    return dict(data)


def _metadata(item: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    metadata = item.get("metadata")
    if not isinstance(metadata, dict):
        raise KubeReadError(
            ReadFailure(FailureKind.INCOMPLETE, f"GET {path}: an item has no metadata")
        )
    return metadata


def _name(item: Mapping[str, Any], path: str) -> str:
    name = _metadata(item, path).get("name")
    if not isinstance(name, str) or not name:
        raise KubeReadError(
            ReadFailure(FailureKind.INCOMPLETE, f"GET {path}: an item has no metadata.name")
        )
    return name


def _namespace(item: Mapping[str, Any], path: str) -> str:
    namespace = _metadata(item, path).get("namespace")
    if not isinstance(namespace, str) or not namespace:
        raise KubeReadError(
            ReadFailure(FailureKind.INCOMPLETE, f"GET {path}: an item has no metadata.namespace")
        )
    return namespace


def _labels(item: Mapping[str, Any], path: str) -> dict[str, str]:
    """metadata.labels (ObjectMeta: map of string to string; absent means none)."""
    labels = _metadata(item, path).get("labels") or {}
    if not isinstance(labels, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
    ):
        raise KubeReadError(
            ReadFailure(FailureKind.INCOMPLETE, f"GET {path}: labels are not a map of strings")
        )
    return dict(labels)
