"""read_cluster through the sandbox's Kubernetes API (issue 18): DescribeCluster's endpoint
and CA as discovery reads them, a token whose signature the sandbox really verifies, EKS
access entries, real paging, and the faults a user must see as a reason, never a
traceback and never objects."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from eks_netpol_auditor.aws import AwsClients
from eks_netpol_auditor.discovery import describe_cluster
from eks_netpol_auditor.incluster.client import ReadLimits
from eks_netpol_auditor.incluster.model import ClusterObjects, FailureKind, ReadFailure
from eks_netpol_auditor.incluster.reader import read_cluster
from eks_netpol_auditor.model import ClusterFacts
from sandbox.client import AddonSeed, SandboxClient

REGION = "us-east-1"
ACCOUNT = "123456789012"
CALLER = f"arn:aws:iam::{ACCOUNT}:user/sandbox"  # the sandbox's default credentials
ENABLED = AddonSeed(configuration_values='{"enableNetworkPolicy": "true"}')
LIMITS = ReadLimits(read_timeout=2.0, budget_seconds=20.0)
CLUSTER_ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


def deny_all(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny", "namespace": namespace},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }


def facts_of(name: str) -> ClusterFacts:
    facts = describe_cluster(AwsClients(), ACCOUNT, "aws", REGION, name)
    assert isinstance(facts, ClusterFacts)
    assert facts.api is not None and facts.api.endpoint
    return facts


def read(name: str, limits: ReadLimits = LIMITS) -> ClusterObjects | ReadFailure:
    return read_cluster(AwsClients(), facts_of(name), limits)


@pytest.fixture
def prod(sandbox: SandboxClient) -> SandboxClient:
    """Cluster "prod": network policy on, namespace "shop" with 3 pods and a policy, the
    caller enrolled with AmazonEKSViewPolicy at cluster scope."""
    sandbox.add_cluster(REGION, "prod", addon=ENABLED)
    sandbox.put_kube_objects(
        REGION,
        "prod",
        [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
            deny_all("shop"),
        ],
    )
    sandbox.add_pods(REGION, "prod", "shop", prefix="web", count=3, labels={"app": "web"})
    sandbox.put_access_entry(REGION, "prod", CALLER)
    return sandbox


def objects(result: ClusterObjects | ReadFailure) -> ClusterObjects:
    assert isinstance(result, ClusterObjects), result
    return result


def failure(result: ClusterObjects | ReadFailure) -> ReadFailure:
    assert isinstance(result, ReadFailure), result
    return result


def test_an_enrolled_read_sees_the_clusters_objects(prod: SandboxClient) -> None:
    result = objects(read("prod"))
    assert {n.name for n in result.namespaces} >= {"default", "kube-system", "shop"}
    assert result.vpc_cni_config is not None
    assert result.vpc_cni_config["enable-network-policy-controller"] == "true"
    assert result.aws_node is not None
    containers = result.aws_node["spec"]["template"]["spec"]["containers"]
    assert "aws-eks-nodeagent" in {c["name"] for c in containers}
    assert [
        (p["metadata"]["namespace"], p["metadata"]["name"]) for p in result.network_policies
    ] == [("shop", "default-deny")]
    shop = sorted(p.name for p in result.pods if p.namespace == "shop")
    assert shop == ["web-00000", "web-00001", "web-00002"]
    assert all(p.labels == {"app": "web"} for p in result.pods if p.namespace == "shop")
    # AmazonEKSViewPolicy does not cover networking.k8s.aws: not readable, never an error
    assert result.cluster_policies is None
    assert result.requests == 6


def test_cluster_network_policies_are_read_where_the_access_policy_allows(
    prod: SandboxClient,
) -> None:
    prod.put_access_entry(REGION, "prod", CALLER, policies=[{"policy_arn": CLUSTER_ADMIN}])
    prod.put_kube_objects(
        REGION,
        "prod",
        [
            {
                "apiVersion": "networking.k8s.aws/v1alpha1",
                "kind": "ClusterNetworkPolicy",
                "metadata": {"name": "isolate"},
                "spec": {
                    "tier": "Admin",
                    "priority": 10,
                    "subject": {"namespaces": {}},
                    "ingress": [{"name": "deny", "action": "Deny", "from": [{"namespaces": {}}]}],
                },
            }
        ],
    )
    result = objects(read("prod"))
    assert result.cluster_policies is not None
    assert [p["metadata"]["name"] for p in result.cluster_policies] == ["isolate"]


def test_pods_are_paged_with_limit_and_continue(prod: SandboxClient) -> None:
    prod.add_pods(REGION, "prod", "shop", prefix="batch", count=1200)
    result = objects(read("prod", replace(LIMITS, page_size=500)))
    assert sum(1 for p in result.pods if p.namespace == "shop") == 1203
    assert len({(p.namespace, p.name) for p in result.pods}) == len(result.pods)
    assert result.requests == 6 + 2  # pods took three pages


def test_a_stale_continue_token_restarts_the_list(prod: SandboxClient) -> None:
    prod.add_pods(REGION, "prod", "shop", prefix="batch", count=30)
    prod.add_fault("stale_continue", service="kubernetes", operation="list:pods", count=1)
    result = objects(read("prod", replace(LIMITS, page_size=10)))
    assert sum(1 for p in result.pods if p.namespace == "shop") == 33
    assert len({(p.namespace, p.name) for p in result.pods}) == len(result.pods)


def test_a_continue_token_stale_again_after_the_restart_is_incomplete(prod: SandboxClient) -> None:
    prod.add_pods(REGION, "prod", "shop", prefix="batch", count=30)
    prod.add_fault("stale_continue", service="kubernetes", operation="list:pods")
    result = failure(read("prod", replace(LIMITS, page_size=10)))
    assert result.kind is FailureKind.INCOMPLETE
    assert "410 Gone twice" in result.message


def test_a_caller_without_an_access_entry_is_unauthorized(sandbox: SandboxClient) -> None:
    sandbox.add_cluster(REGION, "prod", addon=ENABLED)
    result = failure(read("prod"))
    assert result.kind is FailureKind.UNAUTHORIZED
    assert result.http_status == 401
    assert result.requests == 1


def test_a_token_for_another_cluster_is_unauthorized(prod: SandboxClient) -> None:
    """The token signs x-k8s-aws-id "staging"; prod's authenticator verifies "prod"."""
    prod.add_cluster(REGION, "staging", addon=ENABLED)
    prod.put_access_entry(REGION, "staging", CALLER)
    crossed = replace(facts_of("staging"), api=facts_of("prod").api)
    result = failure(read_cluster(AwsClients(), crossed, LIMITS))
    assert (result.kind, result.http_status) == (FailureKind.UNAUTHORIZED, 401)


@pytest.mark.parametrize(
    ("fault", "operation", "kind", "expected"),
    [
        ("wrong_ca", None, FailureKind.UNREACHABLE, "TLS verification failed"),
        ("reset", "list:pods", FailureKind.UNREACHABLE, "connection broken"),
        ("oversized", "list:pods", FailureKind.INCOMPLETE, "cap per response"),
        ("expired_token", None, FailureKind.UNAUTHORIZED, "not authenticated (HTTP 401"),
        ("access_denied", "list:pods", FailureKind.UNAUTHORIZED, "GET /api/v1/pods: access denied"),
        ("server_error", "list:networkpolicies", FailureKind.INCOMPLETE, "HTTP 500 InternalError"),
    ],
)
def test_faults_give_their_failure_never_objects(
    prod: SandboxClient, fault: Any, operation: str | None, kind: FailureKind, expected: str
) -> None:
    prod.add_fault(fault, service="kubernetes", operation=operation)
    # The production read timeout (10 s): the sandbox spells the 10 MiB answer first, which
    # on a loaded machine can take longer than the short timeout the other tests use.
    result = failure(read("prod", replace(LIMITS, read_timeout=ReadLimits().read_timeout)))
    assert result.kind is kind
    assert expected in result.message


def test_a_hanging_endpoint_is_unreachable_after_the_read_timeout(prod: SandboxClient) -> None:
    prod.add_fault("slow", service="kubernetes", operation="list:namespaces", seconds=3)
    result = failure(read("prod", replace(LIMITS, read_timeout=0.3)))
    assert result.kind is FailureKind.UNREACHABLE
    assert result.message == "no answer within 0.3 s (read timeout)"


def test_429_is_waited_out_as_retry_after_says(prod: SandboxClient) -> None:
    prod.add_fault("throttle", service="kubernetes", operation="list:pods", seconds=0, count=1)
    result = objects(read("prod"))
    assert result.requests == 7  # one more: the throttled pods list, then its retry


def test_429_beyond_the_budget_is_incomplete(prod: SandboxClient) -> None:
    prod.add_fault("throttle", service="kubernetes", operation="list:pods", seconds=3600)
    result = failure(read("prod"))
    assert result.kind is FailureKind.INCOMPLETE
    assert result.http_status == 429
