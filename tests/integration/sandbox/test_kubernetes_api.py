"""The sandbox clusters' Kubernetes API over real HTTPS (issue 18, section 3): endpoint and
CA from DescribeCluster, EKS token verification, access entries, the reads the auditor
makes with real paging, and the Status bodies."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import urlsplit

import pytest
import urllib3

from sandbox.client import AddonSeed, SandboxClient
from sandbox.server import SandboxServer
from tests.conftest import AwsClientFactory
from tests.integration.sandbox.kube_support import (
    DEFAULT_PRINCIPAL,
    PARTIAL,
    VIEW,
    KubeClient,
    client_for,
    describe,
    eks_token,
)

ENABLED = AddonSeed(configuration_values='{"enableNetworkPolicy": "true"}')


@pytest.fixture
def enrolled(sandbox: SandboxClient) -> KubeClient:
    """Cluster "prod" with network policy on, the caller enrolled with the view policy."""
    sandbox.add_cluster("us-east-1", "prod", addon=ENABLED)
    sandbox.put_access_entry("us-east-1", "prod", DEFAULT_PRINCIPAL)
    return client_for("prod")


# ---------------------------------------------------------------------- endpoint and TLS
def test_describe_cluster_gives_a_loopback_https_endpoint_without_path(
    sandbox: SandboxClient,
) -> None:
    sandbox.add_cluster("us-east-1", "prod")
    info = describe("prod")
    url = urlsplit(info["endpoint"])
    assert (url.scheme, url.hostname, url.path) == ("https", "127.0.0.1", "")
    pem = base64.b64decode(info["certificateAuthority"]["data"])
    assert pem.startswith(b"-----BEGIN CERTIFICATE-----")
    assert info["accessConfig"]["authenticationMode"] == "API_AND_CONFIG_MAP"
    assert info["resourcesVpcConfig"]["endpointPublicAccess"] is True


def test_each_cluster_has_its_own_ca(sandbox: SandboxClient) -> None:
    sandbox.add_cluster("us-east-1", "a")
    sandbox.add_cluster("us-east-1", "b")
    a, b = client_for("a"), client_for("b")
    assert a.endpoint != b.endpoint
    crossed = KubeClient(a.endpoint, b.ca_file, a.token)
    with pytest.raises(urllib3.exceptions.SSLError):
        crossed.get("/api/v1/namespaces")
    assert a.get("/api/v1/namespaces").status == 401  # TLS verified with its own CA


def test_listeners_start_only_when_a_cluster_is_described(
    sandbox: SandboxClient, sandbox_server: SandboxServer
) -> None:
    sandbox.add_cluster("us-east-1", "prod")
    sandbox.add_cluster("us-east-1", "creating", status="CREATING")
    server = sandbox_server.app.kubernetes_api
    assert server.listener_count == 0
    describe("prod")
    describe("prod")
    assert "endpoint" not in describe("creating")
    assert server.listener_count == 1


def test_endpoint_access_settings_are_described(sandbox: SandboxClient) -> None:
    sandbox.add_cluster(
        "us-east-1",
        "private",
        endpoint_public_access=False,
        public_access_cidrs=("10.0.0.0/8",),
        authentication_mode="CONFIG_MAP",
    )
    info = describe("private")
    assert info["resourcesVpcConfig"]["endpointPublicAccess"] is False
    assert info["resourcesVpcConfig"]["publicAccessCidrs"] == ["10.0.0.0/8"]
    assert info["accessConfig"]["authenticationMode"] == "CONFIG_MAP"


# ---------------------------------------------------------------------- authentication
def test_a_valid_token_of_an_enrolled_caller_reads(enrolled: KubeClient) -> None:
    status, body = enrolled.json("/api/v1/namespaces")
    assert status == 200
    assert body["kind"] == "NamespaceList"
    names = [n["metadata"]["name"] for n in body["items"]]
    assert names == ["default", "kube-node-lease", "kube-public", "kube-system"]


def _assert_unauthorized(client: KubeClient) -> None:
    status, body = client.json("/api/v1/namespaces")
    assert status == 401
    assert body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Unauthorized",
        "reason": "Unauthorized",
        "code": 401,
    }


def test_a_token_for_another_cluster_is_unauthorized(enrolled: KubeClient) -> None:
    enrolled.token = eks_token("staging")
    _assert_unauthorized(enrolled)


def test_a_token_signed_with_the_wrong_secret_is_unauthorized(
    sandbox: SandboxClient, enrolled: KubeClient
) -> None:
    sandbox.create_account("210987654321", "AKIDOTHER", "right-secret")
    sandbox.put_access_entry(
        "us-east-1", "prod", "arn:aws:iam::210987654321:user/sandbox", account=None
    )
    enrolled.token = eks_token("prod", access_key="AKIDOTHER", secret="wrong-secret")
    _assert_unauthorized(enrolled)
    enrolled.token = eks_token("prod", access_key="AKIDOTHER", secret="right-secret")
    assert enrolled.get("/api/v1/namespaces").status == 200


def test_a_token_without_the_signed_cluster_header_is_unauthorized(
    enrolled: KubeClient,
) -> None:
    enrolled.token = eks_token("prod", sign_cluster_header=False)
    _assert_unauthorized(enrolled)


def test_a_token_for_a_host_that_is_not_sts_is_unauthorized(enrolled: KubeClient) -> None:
    enrolled.token = eks_token("prod", sts_endpoint="https://sts.example.com")
    _assert_unauthorized(enrolled)
    enrolled.token = eks_token("prod", sts_endpoint="https://sts.amazonaws.com")
    assert enrolled.get("/api/v1/namespaces").status == 200  # the global endpoint is STS


def test_a_token_presigned_for_a_configured_endpoint_is_unauthorized(
    sandbox: SandboxClient, enrolled: KubeClient
) -> None:
    """EKS's authenticator sends the URL to STS itself and accepts only STS hosts, so a
    token that followed AWS_ENDPOINT_URL (here the sandbox's own) does not authenticate."""
    enrolled.token = eks_token("prod", sts_endpoint=sandbox.endpoint)
    _assert_unauthorized(enrolled)


@pytest.mark.parametrize("token", ["not-a-token", "k8s-aws-v1.!!!", "k8s-aws-v1."])
def test_malformed_tokens_are_unauthorized(enrolled: KubeClient, token: str) -> None:
    enrolled.token = token
    _assert_unauthorized(enrolled)


def test_a_token_older_than_15_minutes_is_unauthorized(
    enrolled: KubeClient, sandbox_server: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = sandbox_server.app.kubernetes_api.api
    monkeypatch.setattr(api, "clock", lambda: time.time() + 14 * 60)
    assert enrolled.get("/api/v1/namespaces").status == 200
    monkeypatch.setattr(api, "clock", lambda: time.time() + 16 * 60)
    _assert_unauthorized(enrolled)


def test_a_token_dated_in_the_future_or_valid_too_long_is_unauthorized(
    enrolled: KubeClient, sandbox_server: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = sandbox_server.app.kubernetes_api.api
    monkeypatch.setattr(api, "clock", lambda: time.time() - 16 * 60)  # signed "ahead"
    _assert_unauthorized(enrolled)
    monkeypatch.undo()
    enrolled.token = eks_token("prod", expires=901)  # X-Amz-Expires over 900
    _assert_unauthorized(enrolled)
    enrolled.token = eks_token("prod", expires=900)
    assert enrolled.get("/api/v1/namespaces").status == 200


def test_no_token_is_the_anonymous_user_and_forbidden(enrolled: KubeClient) -> None:
    enrolled.token = None
    status, body = enrolled.json("/api/v1/namespaces")
    assert (status, body["reason"]) == (403, "Forbidden")
    assert 'User "system:anonymous" cannot list resource "namespaces"' in body["message"]


# ---------------------------------------------------------------------- access entries
def test_a_caller_without_an_access_entry_is_unauthorized(sandbox: SandboxClient) -> None:
    sandbox.add_cluster("us-east-1", "prod")
    _assert_unauthorized(client_for("prod"))


def test_a_config_map_cluster_does_not_know_the_caller(sandbox: SandboxClient) -> None:
    sandbox.add_cluster("us-east-1", "legacy", authentication_mode="CONFIG_MAP")
    sandbox.put_access_entry("us-east-1", "legacy", DEFAULT_PRINCIPAL)
    _assert_unauthorized(client_for("legacy"))


def test_the_creator_of_a_config_map_cluster_is_its_admin(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    aws_client("eks").create_cluster(
        name="made",
        roleArn="arn:aws:iam::123456789012:role/eks",
        resourcesVpcConfig={"subnetIds": ["subnet-1"]},
    )  # accessConfig defaults: CONFIG_MAP, creator bootstrapped
    sandbox.settle()
    client = client_for("made")
    assert client.get("/apis/networking.k8s.aws/v1alpha1/clusternetworkpolicies").status == 200
    sandbox.create_account("210987654321", "AKIDOTHER", "other-secret")
    client.token = eks_token("made", access_key="AKIDOTHER", secret="other-secret")
    _assert_unauthorized(client)


def test_an_entry_without_a_policy_is_forbidden(sandbox: SandboxClient) -> None:
    sandbox.add_cluster("us-east-1", "prod")
    sandbox.put_access_entry("us-east-1", "prod", DEFAULT_PRINCIPAL, policies=[])
    status, body = client_for("prod").json("/api/v1/pods")
    assert status == 403
    assert body["reason"] == "Forbidden"
    assert body["details"] == {"kind": "pods"}
    assert body["message"] == (
        f'pods is forbidden: User "{DEFAULT_PRINCIPAL}" cannot list resource "pods" '
        'in API group "" at the cluster scope'
    )


def test_a_namespace_scoped_policy_does_not_allow_cluster_wide_lists(
    sandbox: SandboxClient,
) -> None:
    sandbox.add_cluster("us-east-1", "prod")
    policy = {"policy_arn": VIEW, "namespaces": ["default"]}
    sandbox.put_access_entry("us-east-1", "prod", DEFAULT_PRINCIPAL, policies=[policy])
    client = client_for("prod")
    assert client.get("/api/v1/namespaces/default/pods").status == 200
    assert client.get("/api/v1/pods").status == 403


def test_the_view_policy_does_not_cover_eks_cluster_network_policies(
    enrolled: KubeClient,
) -> None:
    status, body = enrolled.json("/apis/networking.k8s.aws/v1alpha1/clusternetworkpolicies")
    assert (status, body["reason"]) == (403, "Forbidden")
    assert 'in API group "networking.k8s.aws"' in body["message"]


def test_cluster_admin_reads_eks_cluster_network_policies_and_cannot_write(
    sandbox: SandboxClient,
) -> None:
    sandbox.add_cluster("us-east-1", "prod")
    admin = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    sandbox.put_access_entry(
        "us-east-1", "prod", DEFAULT_PRINCIPAL, policies=[{"policy_arn": admin}]
    )
    cnp = {
        "kind": "ClusterNetworkPolicy",
        "apiVersion": "networking.k8s.aws/v1alpha1",
        "metadata": {"name": "isolate"},
        "spec": {"tier": "Admin", "priority": 10, "subject": {"namespaces": {}}},
    }
    sandbox.put_kube_objects("us-east-1", "prod", [cnp])
    client = client_for("prod")
    status, body = client.json("/apis/networking.k8s.aws/v1alpha1/clusternetworkpolicies")
    assert (status, body["kind"]) == (200, "ClusterNetworkPolicyList")
    assert body["items"][0]["spec"]["tier"] == "Admin"
    http = urllib3.PoolManager(ca_certs=client.ca_file)
    response = http.request(
        "DELETE",
        client.endpoint + "/api/v1/namespaces/default",
        headers={"Authorization": f"Bearer {client.token}"},
    )
    assert response.status == 405  # the sandbox's API is read-only


def test_a_role_session_uses_its_roles_access_entry(sandbox: SandboxClient) -> None:
    session = "arn:aws:sts::210987654321:assumed-role/auditor/run-1"
    sandbox.create_account("210987654321", "AKIDROLE", "role-secret", principal_arn=session)
    sandbox.add_cluster("us-east-1", "prod")
    sandbox.put_access_entry(
        "us-east-1", "prod", "arn:aws:iam::210987654321:role/auditor", policies=[]
    )
    token = eks_token("prod", access_key="AKIDROLE", secret="role-secret")
    client = client_for("prod", token=token)
    status, body = client.json("/api/v1/pods")
    assert status == 403  # known (the role's entry), not allowed: the username shows it
    assert f'User "{session}"' in body["message"]


# ---------------------------------------------------------------------- the reads
def test_vpc_cni_objects_follow_the_addon(enrolled: KubeClient) -> None:
    status, cm = enrolled.json("/api/v1/namespaces/kube-system/configmaps/amazon-vpc-cni")
    assert status == 200
    assert cm["data"]["enable-network-policy-controller"] == "true"
    status, ds = enrolled.json("/apis/apps/v1/namespaces/kube-system/daemonsets/aws-node")
    assert status == 200
    agent = {c["name"]: c for c in ds["spec"]["template"]["spec"]["containers"]}
    assert "--enable-network-policy=true" in agent["aws-eks-nodeagent"]["args"]
    assert "aws-network-policy-agent" in agent["aws-eks-nodeagent"]["image"]
    assert ds["status"]["numberReady"] == ds["status"]["desiredNumberScheduled"] > 0


def test_a_missing_object_is_not_found(sandbox: SandboxClient) -> None:
    sandbox.add_cluster("us-east-1", "bare", addon=None)
    sandbox.put_access_entry("us-east-1", "bare", DEFAULT_PRINCIPAL)
    status, body = client_for("bare").json(
        "/api/v1/namespaces/kube-system/configmaps/amazon-vpc-cni"
    )
    assert status == 404
    assert body["reason"] == "NotFound"
    assert body["message"] == 'configmaps "amazon-vpc-cni" not found'
    assert body["details"] == {"name": "amazon-vpc-cni", "kind": "configmaps"}


def _seed_pods(sandbox: SandboxClient, count: int) -> None:
    sandbox.put_kube_objects(
        "us-east-1", "prod", [{"kind": "Namespace", "metadata": {"name": "shop"}}]
    )
    sandbox.add_pods("us-east-1", "prod", "shop", prefix="web", count=count, labels={"app": "web"})


def test_pods_are_paged_with_limit_and_continue(
    sandbox: SandboxClient, enrolled: KubeClient
) -> None:
    _seed_pods(sandbox, 7)
    names: list[str] = []
    path = "/api/v1/pods?limit=3"
    pages = []
    while True:
        status, body = enrolled.json(path, accept=PARTIAL)
        assert status == 200
        pages.append(body["metadata"])
        names += [item["metadata"]["name"] for item in body["items"]]
        token = body["metadata"].get("continue")
        if not token:
            break
        path = f"/api/v1/pods?limit=3&continue={token}"
    assert names == [f"web-{i:05d}" for i in range(7)]
    assert [p.get("remainingItemCount") for p in pages] == [4, 1, None]
    assert len({p["resourceVersion"] for p in pages}) == 1  # one consistent snapshot


def test_pods_as_partial_object_metadata(sandbox: SandboxClient, enrolled: KubeClient) -> None:
    _seed_pods(sandbox, 2)
    response = enrolled.get("/api/v1/pods", accept=PARTIAL)
    assert response.headers["Content-Type"] == PARTIAL
    body = json.loads(response.data)
    assert (body["kind"], body["apiVersion"]) == ("PartialObjectMetadataList", "meta.k8s.io/v1")
    item = body["items"][0]
    assert set(item) == {"kind", "apiVersion", "metadata"}
    assert item["kind"] == "PartialObjectMetadata"
    assert item["metadata"]["labels"] == {"app": "web"}
    _status, full = enrolled.json("/api/v1/pods")
    assert full["kind"] == "PodList" and "spec" in full["items"][0]


def test_a_list_after_a_change_shows_the_change(
    sandbox: SandboxClient, enrolled: KubeClient
) -> None:
    """The sandbox keeps rendered list answers (bench CPU); any change to the cluster's
    objects or to its vpc-cni add-on must show on the next list, as on a real API server."""

    def names(path: str, accept: str | None = None) -> list[str]:
        status, body = enrolled.json(path, accept=accept)
        assert status == 200
        return [item["metadata"]["name"] for item in body["items"]]

    _seed_pods(sandbox, 2)
    pods, policies = "/api/v1/pods?limit=500", "/apis/networking.k8s.io/v1/networkpolicies"
    assert names(pods, PARTIAL) == ["web-00000", "web-00001"]
    assert names(policies) == []
    sandbox.add_pods("us-east-1", "prod", "shop", names=["api-1"], labels={"app": "api"})
    assert names(pods, PARTIAL) == ["api-1", "web-00000", "web-00001"]
    policy = {
        "kind": "NetworkPolicy",
        "apiVersion": "networking.k8s.io/v1",
        "metadata": {"name": "default-deny", "namespace": "shop"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
    }
    sandbox.put_kube_objects("us-east-1", "prod", [policy])
    assert names(policies) == ["default-deny"]
    sandbox.delete_kube_object(
        "us-east-1", "prod", "NetworkPolicy", "default-deny", namespace="shop"
    )
    assert names(policies) == []

    configmaps = "/api/v1/namespaces/kube-system/configmaps"
    _status, before = enrolled.json(configmaps)
    assert before["items"][0]["data"]["enable-network-policy-controller"] == "true"
    sandbox.set_addon(
        "us-east-1", "prod", AddonSeed(configuration_values='{"enableNetworkPolicy": "false"}')
    )
    _status, after = enrolled.json(configmaps)
    assert after["items"][0]["data"]["enable-network-policy-controller"] == "false"
    sandbox.set_addon("us-east-1", "prod", None)
    assert names(configmaps) == []


def test_an_accept_the_server_cannot_give_is_406(enrolled: KubeClient) -> None:
    status, body = enrolled.json("/api/v1/pods", accept="application/vnd.kubernetes.protobuf")
    assert (status, body["reason"]) == (406, "NotAcceptable")


def test_a_continue_token_from_before_compaction_is_410_expired(
    sandbox: SandboxClient, enrolled: KubeClient
) -> None:
    _seed_pods(sandbox, 3)
    _status, first = enrolled.json("/api/v1/pods?limit=1")
    sandbox.compact_kube("us-east-1", "prod")
    status, body = enrolled.json(f"/api/v1/pods?limit=1&continue={first['metadata']['continue']}")
    assert (status, body["reason"], body["code"]) == (410, "Expired", 410)
    assert "continue parameter is too old" in body["message"]


def test_a_malformed_continue_token_is_a_bad_request(enrolled: KubeClient) -> None:
    status, body = enrolled.json("/api/v1/pods?limit=1&continue=bm9wZQ")
    assert (status, body["reason"]) == (400, "BadRequest")


def test_network_policies_of_all_namespaces(sandbox: SandboxClient, enrolled: KubeClient) -> None:
    _seed_pods(sandbox, 1)
    policy = {
        "kind": "NetworkPolicy",
        "apiVersion": "networking.k8s.io/v1",
        "metadata": {"name": "default-deny", "namespace": "shop"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
    }
    sandbox.put_kube_objects("us-east-1", "prod", [policy])
    status, body = enrolled.json("/apis/networking.k8s.io/v1/networkpolicies")
    assert status == 200 and body["kind"] == "NetworkPolicyList"
    [item] = body["items"]
    assert item["metadata"]["namespace"] == "shop"
    assert item["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}


def test_kubernetes_calls_are_counted(sandbox: SandboxClient, enrolled: KubeClient) -> None:
    sandbox.reset_calls()
    enrolled.get("/api/v1/namespaces")
    enrolled.get("/api/v1/pods")
    stats = sandbox.calls()
    assert stats.count(service="kubernetes", cluster="prod") == 2
    assert stats.count(service="kubernetes", operation="list:pods", status=200) == 1


def test_the_server_never_accepts_plain_http(enrolled: KubeClient) -> None:
    plain = enrolled.endpoint.replace("https://", "http://")
    with pytest.raises(urllib3.exceptions.ProtocolError):
        urllib3.PoolManager().request("GET", plain + "/api/v1/namespaces", retries=False)


# ---------------------------------------------------------------------- reachability
@pytest.mark.parametrize(
    "settings",
    [{"public_access_cidrs": ("203.0.113.0/24",)}, {"endpoint_public_access": False}],
)
def test_a_client_the_public_endpoint_does_not_admit_gets_no_answer(
    sandbox: SandboxClient, settings: dict[str, object]
) -> None:
    sandbox.add_cluster("us-east-1", "walled", **settings)  # type: ignore[arg-type]
    sandbox.put_access_entry("us-east-1", "walled", DEFAULT_PRINCIPAL)
    client = client_for("walled")
    started = time.monotonic()
    with pytest.raises(
        (urllib3.exceptions.ConnectTimeoutError, urllib3.exceptions.ReadTimeoutError)
    ):
        client.get("/api/v1/namespaces", timeout=1)
    assert time.monotonic() - started < 5
    sandbox.update_cluster(
        "us-east-1", "walled", public_access_cidrs=["0.0.0.0/0"], endpoint_public_access=True
    )
    assert client.get("/api/v1/namespaces").status == 200
