"""Fidelity of the sandbox front end: EC2/STS wire shapes, regions, faults, latency, counts."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.exceptions import ClientError

from sandbox import start_sandbox_process
from sandbox.client import AddonSeed, SandboxClient, SandboxError
from sandbox.regions import DEFAULT_REGIONS
from tests.conftest import AwsClientFactory


def _code_status(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = exc.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_describe_regions_lists_enabled_regions(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    ec2 = aws_client("ec2")
    regions = ec2.describe_regions()["Regions"]
    assert sorted(r["RegionName"] for r in regions) == sorted(DEFAULT_REGIONS)
    assert len(regions) == 17
    assert {r["OptInStatus"] for r in regions} == {"opt-in-not-required"}
    assert regions[0]["Endpoint"] == f"ec2.{regions[0]['RegionName']}.amazonaws.com"
    every = ec2.describe_regions(AllRegions=True)["Regions"]
    assert {
        "RegionName": "af-south-1",
        "Endpoint": "ec2.af-south-1.amazonaws.com",
        "OptInStatus": "not-opted-in",
    } in every

    sandbox.set_enabled_regions(["us-east-1", "af-south-1"])
    regions = ec2.describe_regions()["Regions"]
    assert [(r["RegionName"], r["OptInStatus"]) for r in regions] == [
        ("af-south-1", "opted-in"),
        ("us-east-1", "opt-in-not-required"),
    ]
    filtered = ec2.describe_regions(Filters=[{"Name": "opt-in-status", "Values": ["opted-in"]}])
    assert [r["RegionName"] for r in filtered["Regions"]] == ["af-south-1"]


def test_calls_into_disabled_region_fail_authentication(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    with pytest.raises(ClientError) as exc:
        aws_client("eks", "me-south-1").list_clusters()
    assert _code_status(exc) == ("UnrecognizedClientException", 403)
    with pytest.raises(ClientError) as exc:
        aws_client("ec2", "me-south-1").describe_regions()
    assert _code_status(exc) == ("AuthFailure", 401)
    sandbox.set_enabled_regions([*DEFAULT_REGIONS, "me-south-1"])
    assert aws_client("eks", "me-south-1").list_clusters()["clusters"] == []


def test_sts_get_caller_identity(sandbox: SandboxClient, aws_client: AwsClientFactory) -> None:
    identity = aws_client("sts").get_caller_identity()
    assert identity["Account"] == "123456789012"
    assert identity["Arn"] == "arn:aws:iam::123456789012:user/sandbox"


def test_environment_alone_reaches_the_sandbox(sandbox: SandboxClient) -> None:
    """The fixture's env vars are enough: plain boto3.client() talks to loopback."""
    sandbox.add_cluster("us-east-1", "via-env")
    assert boto3.client("eks").list_clusters()["clusters"] == ["via-env"]
    assert sandbox.calls().count(service="eks", operation="ListClusters") == 1


@pytest.mark.parametrize(
    ("kind", "service", "region", "expected"),
    [
        ("throttle", "eks", "us-east-1", ("ThrottlingException", 429)),
        ("server_error", "eks", "us-east-1", ("ServerException", 500)),
        ("access_denied", "eks", "us-east-1", ("AccessDeniedException", 403)),
        ("unrecognized_client", "eks", "us-east-1", ("UnrecognizedClientException", 403)),
        ("throttle", "ec2", "us-east-1", ("RequestLimitExceeded", 503)),
        ("access_denied", "ec2", "us-east-1", ("UnauthorizedOperation", 403)),
        ("throttle", "securityhub", "us-east-1", ("LimitExceededException", 429)),
        ("server_error", "securityhub", "us-east-1", ("InternalException", 500)),
    ],
)
def test_fault_kinds_parse_as_service_errors(
    sandbox: SandboxClient,
    aws_client: AwsClientFactory,
    kind: str,
    service: str,
    region: str,
    expected: tuple[str, int],
) -> None:
    sandbox.add_fault(kind, service=service)  # type: ignore[arg-type]
    client = aws_client(service, region)
    operation = {"eks": "list_clusters", "ec2": "describe_regions", "securityhub": "get_findings"}
    with pytest.raises(ClientError) as exc:
        getattr(client, operation[service])()
    assert _code_status(exc) == expected
    assert sandbox.faults()[0]["fired"] == 1


def test_denials_target_a_region_or_one_clusters_describe_addon(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    sandbox.add_cluster("us-east-1", "open")
    sandbox.add_cluster("us-east-1", "locked")
    sandbox.add_cluster("eu-west-1", "scp")
    sandbox.deny_describe_addon("us-east-1", "locked")
    sandbox.deny_region("eu-west-1")
    eks = aws_client("eks")
    assert eks.describe_addon(clusterName="open", addonName="vpc-cni")["addon"]
    assert eks.describe_cluster(name="locked")["cluster"]
    with pytest.raises(ClientError) as exc:
        eks.describe_addon(clusterName="locked", addonName="vpc-cni")
    assert _code_status(exc) == ("AccessDeniedException", 403)
    assert "explicit deny" in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:
        aws_client("eks", "eu-west-1").list_clusters()
    assert _code_status(exc) == ("AccessDeniedException", 403)


def test_describe_addon_denied_only_where_the_addon_is_missing(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    # A policy granting eks:DescribeAddon on addon/*/vpc-cni/* only: EKS authorises
    # .../clusters/NAME/addons/vpc-cni for a missing add-on (issue 10 item 8).
    sandbox.add_cluster("us-east-1", "with")
    sandbox.add_cluster("us-east-1", "cilium", addon=None)
    sandbox.deny_describe_missing_addon()
    eks = aws_client("eks")
    assert eks.describe_addon(clusterName="with", addonName="vpc-cni")["addon"]
    with pytest.raises(ClientError) as exc:
        eks.describe_addon(clusterName="cilium", addonName="vpc-cni")
    assert _code_status(exc) == ("AccessDeniedException", 403)
    message = exc.value.response["Error"]["Message"]
    assert "eks:DescribeAddon on resource: arn:aws:eks:us-east-1:123456789012:" in message
    assert message.split("on resource: ")[1].startswith(
        "arn:aws:eks:us-east-1:123456789012:/clusters/cilium/addons/vpc-cni "
    )
    assert eks.list_addons(clusterName="cilium")["addons"] == []  # ListAddons still allowed
    # Installing the add-on lifts the denial; removing it brings it back.
    sandbox.set_addon("us-east-1", "cilium", AddonSeed())
    assert eks.describe_addon(clusterName="cilium", addonName="vpc-cni")["addon"]
    sandbox.set_addon("us-east-1", "with", None)
    with pytest.raises(ClientError) as exc:
        eks.describe_addon(clusterName="with", addonName="vpc-cni")
    assert _code_status(exc) == ("AccessDeniedException", 403)
    assert sandbox.faults()[0]["fired"] == 2


def test_counted_fault_is_retried_by_botocore_standard_mode(
    sandbox: SandboxClient, aws_client: AwsClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.retries import standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda *_a, **_k: 0.0)
    sandbox.add_cluster("us-east-1", "c1")
    sandbox.add_fault("throttle", service="eks", operation="DescribeCluster", count=2)
    result = aws_client("eks", attempts=3).describe_cluster(name="c1")
    assert result["ResponseMetadata"]["RetryAttempts"] == 2
    calls = sandbox.calls()
    assert calls.count(operation="DescribeCluster") == 3
    assert calls.count(operation="DescribeCluster", status=429) == 2
    assert calls.count(operation="DescribeCluster", cluster="c1", status=200) == 1


def test_probabilistic_faults_are_deterministic_per_seed(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    eks = aws_client("eks")

    def pattern() -> list[bool]:
        sandbox.clear_faults()
        sandbox.add_fault("throttle", service="eks", probability=0.5, seed=42)
        outcome = []
        for _ in range(20):
            try:
                eks.list_clusters()
                outcome.append(True)
            except ClientError:
                outcome.append(False)
        return outcome

    first, second = pattern(), pattern()
    assert first == second
    assert 0 < first.count(False) < 20


def test_latency_counts_and_peak_concurrency(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    sandbox.set_latency(base_ms=150, region_ms={"eu-west-1": 100})
    eks = aws_client("eks", "eu-west-1")
    start = time.perf_counter()
    eks.list_clusters()
    assert time.perf_counter() - start >= 0.25
    sandbox.reset_calls()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: eks.list_clusters(), range(8)))
    stats = sandbox.calls()
    assert stats.total == 8
    assert stats.count(service="eks", operation="ListClusters", region="eu-west-1") == 8
    assert stats.peak_concurrency >= 4
    assert stats.in_flight == 0
    sandbox.clear_latency()


def test_control_api_validates_input(sandbox: SandboxClient) -> None:
    with pytest.raises(SandboxError) as exc:
        sandbox.add_fault("meteor")  # type: ignore[arg-type]
    assert exc.value.status == 400
    with pytest.raises(SandboxError) as exc:
        sandbox.delete_cluster("us-east-1", "ghost")
    assert exc.value.status == 404
    with pytest.raises(SandboxError) as exc:
        sandbox.add_cluster("us-east-1", "bad", status="SLEEPING")
    assert exc.value.status == 400


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/clusters", b"{not json"),
        ("POST", "/clusters", b"\xff\xfe{}"),
        ("POST", "/clusters", b"[1, 2]"),
        ("POST", "/clusters", b'{"region": "us-east-1", "name": "x", "tags": ["a"]}'),
        ("POST", "/clusters", b'{"region": "us-east-1", "name": "x", "auto_mode": "false"}'),
        ("POST", "/clusters", b'{"region": "us-east-1", "name": "x", "addon": "vpc-cni"}'),
        ("POST", "/clusters", b'{"region": "us-east-1", "name": {"a": 1}}'),
        ("POST", "/clusters:batch", b'{"clusters": [{"region": "us-east-1"}]}'),
        ("PUT", "/latency", b'{"region_ms": ["us-east-1"]}'),
        ("PUT", "/latency", b'{"base_ms": "fast"}'),
        ("POST", "/faults", b'{"kind": "throttle", "count": "two"}'),
        ("POST", "/faults", b'{"kind": "throttle", "when": "full_moon"}'),
        ("PUT", "/settings", b'{"enforce_enabled_regions": "no"}'),
        ("PUT", "/regions", b'{"enabled": "us-east-1"}'),
    ],
)
def test_malformed_control_requests_answer_400(
    sandbox: SandboxClient, method: str, path: str, body: bytes
) -> None:
    request = urllib.request.Request(
        f"{sandbox.endpoint}/_sandbox{path}",
        data=body,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(request, timeout=5)
    assert exc.value.code == 400
    assert json.loads(exc.value.read())["error"]


def test_unsigned_and_unknown_requests(sandbox: SandboxClient) -> None:
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(f"{sandbox.endpoint}/clusters", timeout=5)
    assert exc.value.code == 403
    auth = "AWS4-HMAC-SHA256 Credential=AKID/20261126/us-east-1/eks/aws4_request, Signature=x"
    request = urllib.request.Request(
        f"{sandbox.endpoint}/no/such/path", headers={"Authorization": auth}
    )
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(request, timeout=5)
    assert exc.value.code == 404
    assert exc.value.headers["X-Amzn-ErrorType"] == "UnknownOperationException"


def test_securityhub_is_routed_and_controllable(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    if not sandbox.health()["securityhub"]:
        pytest.skip("Security Hub emulator not present")
    hub = aws_client("securityhub", "eu-west-1")
    assert hub.get_findings()["Findings"] == []
    assert sandbox.findings("eu-west-1") == []
    sandbox.set_securityhub_enabled("eu-west-1", False)
    with pytest.raises(ClientError) as exc:
        hub.get_findings()
    assert _code_status(exc)[1] in (401, 403)
    assert sandbox.calls().count(service="securityhub", region="eu-west-1") == 2


def test_process_mode_with_demo_seed() -> None:
    with start_sandbox_process(seed="demo") as proc:
        client = proc.client
        regions = {c["region"] for c in client.clusters()}
        assert regions == {"us-east-1", "eu-west-1", "ap-southeast-2"}
        assert len(client.clusters()) >= 10
        eks = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing"
        ).client("eks", region_name="eu-west-1", endpoint_url=proc.endpoint)
        assert "cilium-edge" in eks.list_clusters()["clusters"]
    assert proc.process.returncode is not None
