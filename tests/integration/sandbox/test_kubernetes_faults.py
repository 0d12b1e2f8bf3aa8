"""Faults of the sandbox clusters' Kubernetes API (faults.py, service "kubernetes"): each
one as a client sees it over real HTTPS, and none of them reaching AWS calls."""

from __future__ import annotations

import json
import time

import pytest
import urllib3

from sandbox.client import AddonSeed, SandboxClient
from sandbox.faults import OVERSIZED_BYTES
from tests.conftest import AwsClientFactory
from tests.integration.sandbox.kube_support import (
    DEFAULT_PRINCIPAL,
    PARTIAL,
    KubeClient,
    client_for,
)

K8S = "kubernetes"


@pytest.fixture
def client(sandbox: SandboxClient) -> KubeClient:
    sandbox.add_cluster(
        "us-east-1", "prod", addon=AddonSeed(configuration_values='{"enableNetworkPolicy": "true"}')
    )
    sandbox.put_access_entry("us-east-1", "prod", DEFAULT_PRINCIPAL)
    sandbox.put_kube_objects(
        "us-east-1", "prod", [{"kind": "Namespace", "metadata": {"name": "shop"}}]
    )
    sandbox.add_pods("us-east-1", "prod", "shop", prefix="web", count=4)
    return client_for("prod")


def test_wrong_ca_fails_tls_verification(sandbox: SandboxClient, client: KubeClient) -> None:
    sandbox.add_fault("wrong_ca", service=K8S, cluster="prod")
    with pytest.raises(urllib3.exceptions.SSLError):
        client.get("/api/v1/namespaces")


def test_reset_drops_the_connection(sandbox: SandboxClient, client: KubeClient) -> None:
    sandbox.add_fault("reset", service=K8S, operation="list:pods")
    assert client.get("/api/v1/namespaces").status == 200
    with pytest.raises(urllib3.exceptions.ProtocolError):
        client.get("/api/v1/pods")


def test_slow_answers_after_the_delay(sandbox: SandboxClient, client: KubeClient) -> None:
    sandbox.add_fault("slow", service=K8S, seconds=3)
    started = time.monotonic()
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        client.get("/api/v1/namespaces", timeout=0.5)
    assert time.monotonic() - started < 2


def test_throttle_is_429_with_retry_after(sandbox: SandboxClient, client: KubeClient) -> None:
    sandbox.add_fault("throttle", service=K8S, seconds=2, count=1)
    response = client.get("/api/v1/namespaces")
    assert response.status == 429
    assert response.headers["Retry-After"] == "2"
    body = json.loads(response.data)
    assert (body["kind"], body["reason"], body["code"]) == ("Status", "TooManyRequests", 429)
    assert body["details"] == {"retryAfterSeconds": 2}
    assert client.get("/api/v1/namespaces").status == 200  # count=1: once only


def test_expired_token_is_unauthorized(sandbox: SandboxClient, client: KubeClient) -> None:
    sandbox.add_fault("expired_token", service=K8S)
    status, body = client.json("/api/v1/namespaces")
    assert (status, body["reason"]) == (401, "Unauthorized")


def test_oversized_list_is_over_ten_megabytes(sandbox: SandboxClient, client: KubeClient) -> None:
    sandbox.add_fault("oversized", service=K8S, operation="list:pods")
    response = client.get("/api/v1/pods", accept=PARTIAL)
    assert response.status == 200
    assert len(response.data) >= OVERSIZED_BYTES == 10 * 1024 * 1024
    assert json.loads(response.data)["kind"] == "PartialObjectMetadataList"


def test_stale_continue_is_410_expired(sandbox: SandboxClient, client: KubeClient) -> None:
    sandbox.add_fault("stale_continue", service=K8S)
    _status, first = client.json("/api/v1/pods?limit=2")  # no token: not affected
    status, body = client.json(f"/api/v1/pods?limit=2&continue={first['metadata']['continue']}")
    assert (status, body["reason"], body["code"]) == (410, "Expired", 410)


def test_server_error_and_access_denied(sandbox: SandboxClient, client: KubeClient) -> None:
    sandbox.add_fault("server_error", service=K8S, operation="list:namespaces")
    sandbox.add_fault("access_denied", service=K8S, operation="list:pods")
    assert client.json("/api/v1/namespaces")[1]["reason"] == "InternalError"
    status, body = client.json("/api/v1/pods")
    assert (status, body["reason"]) == (403, "Forbidden")


def test_rules_without_a_service_do_not_reach_the_kubernetes_api(
    sandbox: SandboxClient, client: KubeClient
) -> None:
    sandbox.add_fault("throttle")
    assert client.get("/api/v1/namespaces").status == 200


def test_kubernetes_faults_do_not_reach_aws(
    sandbox: SandboxClient, client: KubeClient, aws_client: AwsClientFactory
) -> None:
    sandbox.add_fault("throttle", service=K8S)
    assert aws_client("eks").describe_cluster(name="prod")["cluster"]["name"] == "prod"


def test_kubernetes_only_kinds_need_the_service(sandbox: SandboxClient) -> None:
    with pytest.raises(Exception, match="needs service 'kubernetes'"):
        sandbox.add_fault("wrong_ca")
    with pytest.raises(Exception, match="no unrecognized_client"):
        sandbox.add_fault("unrecognized_client", service=K8S)
