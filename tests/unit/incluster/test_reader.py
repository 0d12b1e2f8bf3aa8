"""read_cluster: the six reads the second control needs, what is optional, what stops the
read, and that the cluster sees a token signed for it. Against the local HTTPS double;
the sandbox's Kubernetes API pins the same through the real wire shapes."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
import trustme

from eks_netpol_auditor.aws import AwsClients
from eks_netpol_auditor.incluster.client import METADATA_LIST, ReadLimits
from eks_netpol_auditor.incluster.model import (
    ClusterObjects,
    FailureKind,
    NamespaceMeta,
    PodMeta,
    ReadFailure,
)
from eks_netpol_auditor.incluster.reader import (
    AWS_NODE_DAEMONSET,
    CLUSTER_NETWORK_POLICIES,
    NAMESPACES,
    NETWORK_POLICIES,
    PODS,
    VPC_CNI_CONFIGMAP,
    read_cluster,
)
from eks_netpol_auditor.incluster.token import TOKEN_PREFIX
from eks_netpol_auditor.model import ClusterFacts

from .https_double import HttpsDouble, Reply, json_reply, k8s_list, serve, status_reply

CLUSTER = "prod"
LIMITS = ReadLimits(read_timeout=2.0, budget_seconds=10.0)

NETPOL = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "default-deny", "namespace": "shop"},
    "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
}
CNP = {
    "apiVersion": "networking.k8s.aws/v1alpha1",
    "kind": "ClusterNetworkPolicy",
    "metadata": {"name": "isolate"},
    "spec": {"tier": "Admin", "priority": 10, "subject": {"namespaces": {}}},
}
AWS_NODE = {"kind": "DaemonSet", "metadata": {"name": "aws-node", "namespace": "kube-system"}}


def meta(name: str, namespace: str | None = None, **labels: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    if labels:
        metadata["labels"] = labels
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": metadata}


def cluster_api(overrides: dict[str, Reply] | None = None) -> Any:
    """A handler serving one healthy cluster, with `overrides` by path."""
    answers = {
        NAMESPACES: k8s_list([meta("shop", team="a"), meta("kube-system")]),
        VPC_CNI_CONFIGMAP: json_reply(
            {"kind": "ConfigMap", "data": {"enable-network-policy-controller": "true"}}
        ),
        AWS_NODE_DAEMONSET: json_reply(AWS_NODE),
        NETWORK_POLICIES: k8s_list([NETPOL]),
        PODS: k8s_list([meta("web-1", "shop", app="web"), meta("coredns-x", "kube-system")]),
        CLUSTER_NETWORK_POLICIES: k8s_list([CNP]),
        **(overrides or {}),
    }
    return lambda seen: answers[seen.path]


@pytest.fixture
def double() -> Iterator[HttpsDouble]:
    yield from serve()


@pytest.fixture(scope="module")
def clients() -> AwsClients:
    """One client set for the module, as one run shares it."""
    return AwsClients(
        boto3.session.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
    )


def facts(double: HttpsDouble, **api: Any) -> ClusterFacts:
    return ClusterFacts(
        account="111122223333",
        partition="aws",
        region="eu-west-1",
        name=CLUSTER,
        arn=f"arn:aws:eks:eu-west-1:111122223333:cluster/{CLUSTER}",
        api=double.api(**api),
    )


def test_reads_everything_the_second_control_needs(
    double: HttpsDouble, clients: AwsClients
) -> None:
    double.handler = cluster_api()
    result = read_cluster(clients, facts(double), LIMITS)
    assert result == ClusterObjects(
        vpc_cni_config={"enable-network-policy-controller": "true"},
        aws_node=AWS_NODE,
        namespaces=(NamespaceMeta("shop", {"team": "a"}), NamespaceMeta("kube-system", {})),
        network_policies=(NETPOL,),
        pods=(PodMeta("shop", "web-1", {"app": "web"}), PodMeta("kube-system", "coredns-x", {})),
        cluster_policies=(CNP,),
        requests=6,
    )
    accept = {seen.path: seen.headers["accept"] for seen in double.requests}
    assert accept[PODS] == METADATA_LIST
    assert accept[NAMESPACES] == METADATA_LIST
    assert accept[NETWORK_POLICIES] == "application/json"


def test_every_request_carries_one_token_signed_for_this_cluster(
    double: HttpsDouble, clients: AwsClients
) -> None:
    double.handler = cluster_api()
    read_cluster(clients, facts(double), LIMITS)
    tokens = {seen.headers["authorization"] for seen in double.requests}
    assert len(tokens) == 1  # one token per cluster read
    token = tokens.pop().removeprefix("Bearer ")
    body = token.removeprefix(TOKEN_PREFIX)
    url = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    query = dict(parse_qsl(urlsplit(url).query))
    assert urlsplit(url).netloc == "sts.eu-west-1.amazonaws.com"
    assert query["Action"] == "GetCallerIdentity"
    assert "x-k8s-aws-id" in query["X-Amz-SignedHeaders"].split(";")


@pytest.mark.parametrize("code", [403, 404])
def test_cluster_network_policies_not_readable_is_none_never_an_error(
    double: HttpsDouble, clients: AwsClients, code: int
) -> None:
    double.handler = cluster_api(
        {CLUSTER_NETWORK_POLICIES: status_reply(code, "Forbidden", "cannot list")}
    )
    result = read_cluster(clients, facts(double), LIMITS)
    assert isinstance(result, ClusterObjects)
    assert result.cluster_policies is None
    assert result.network_policies == (NETPOL,)


def test_missing_configmap_and_daemonset_are_none(double: HttpsDouble, clients: AwsClients) -> None:
    double.handler = cluster_api(
        {
            VPC_CNI_CONFIGMAP: status_reply(
                404, "NotFound", 'configmaps "amazon-vpc-cni" not found'
            ),
            AWS_NODE_DAEMONSET: status_reply(404, "NotFound", 'daemonsets "aws-node" not found'),
        }
    )
    result = read_cluster(clients, facts(double), LIMITS)
    assert isinstance(result, ClusterObjects)
    assert (result.vpc_cni_config, result.aws_node) == (None, None)


def test_a_configmap_without_data_is_empty(double: HttpsDouble, clients: AwsClients) -> None:
    double.handler = cluster_api({VPC_CNI_CONFIGMAP: json_reply({"kind": "ConfigMap"})})
    result = read_cluster(clients, facts(double), LIMITS)
    assert isinstance(result, ClusterObjects)
    assert result.vpc_cni_config == {}


@pytest.mark.parametrize(
    "path", [NAMESPACES, VPC_CNI_CONFIGMAP, AWS_NODE_DAEMONSET, NETWORK_POLICIES, PODS]
)
def test_403_on_a_required_read_is_unauthorized(
    double: HttpsDouble, clients: AwsClients, path: str
) -> None:
    double.handler = cluster_api({path: status_reply(403, "Forbidden", "forbidden")})
    result = read_cluster(clients, facts(double), LIMITS)
    assert isinstance(result, ReadFailure)
    assert result.kind is FailureKind.UNAUTHORIZED
    assert result.http_status == 403
    assert result.message.startswith(f"GET {path}: access denied")
    assert result.requests == len(double.requests)


def test_401_is_unauthorized_on_the_first_read(double: HttpsDouble, clients: AwsClients) -> None:
    double.handler = lambda seen: status_reply(401, "Unauthorized", "Unauthorized")
    result = read_cluster(clients, facts(double), LIMITS)
    assert isinstance(result, ReadFailure)
    assert (result.kind, result.http_status, result.requests) == (
        FailureKind.UNAUTHORIZED,
        401,
        1,
    )


@pytest.mark.parametrize(
    ("path", "reply", "expected"),
    [
        (PODS, k8s_list([meta("nameless-ns-pod")]), "no metadata.namespace"),
        (NAMESPACES, k8s_list([{"metadata": {}}]), "no metadata.name"),
        (
            PODS,
            k8s_list([{"metadata": {"name": "p", "namespace": "shop", "labels": ["x"]}}]),
            "labels are not a map",
        ),
        (VPC_CNI_CONFIGMAP, json_reply({"data": {"k": 1}}), "`data` is not a map of strings"),
    ],
)
def test_objects_not_in_their_kubernetes_shape_are_incomplete(
    double: HttpsDouble, clients: AwsClients, path: str, reply: Reply, expected: str
) -> None:
    double.handler = cluster_api({path: reply})
    result = read_cluster(clients, facts(double), LIMITS)
    assert isinstance(result, ReadFailure)
    assert result.kind is FailureKind.INCOMPLETE
    assert expected in result.message
    assert result.requests == len(double.requests)


def test_no_endpoint_is_unreachable_without_a_connection(clients: AwsClients) -> None:
    no_api = ClusterFacts(account="1", partition="aws", region="eu-west-1", name="x", arn="a")
    result = read_cluster(clients, no_api, LIMITS)
    assert result == ReadFailure(FailureKind.UNREACHABLE, "DescribeCluster returned no endpoint")


def test_wrong_ca_through_the_reader_is_unreachable(
    double: HttpsDouble, clients: AwsClients
) -> None:
    double.handler = cluster_api()
    result = read_cluster(clients, facts(double, ca=double.ca_data(trustme.CA())), LIMITS)
    assert isinstance(result, ReadFailure)
    assert result.kind is FailureKind.UNREACHABLE
    assert result.message.startswith("TLS verification failed")
    assert double.requests == []


def test_a_private_only_endpoint_is_never_connected_to(
    double: HttpsDouble, clients: AwsClients
) -> None:
    double.handler = cluster_api()
    private = replace(facts(double), api=replace(double.api(), public_access=False))
    result = read_cluster(clients, private, LIMITS)
    assert isinstance(result, ReadFailure)
    assert result.kind is FailureKind.UNREACHABLE
    assert "private only" in result.message
    assert double.requests == []
