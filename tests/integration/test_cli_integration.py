"""The CLI end to end against the sandbox: real boto3, real wire protocol, loopback only."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from eks_netpol_auditor import audit, cli
from eks_netpol_auditor.discovery import list_clusters as real_list_clusters
from sandbox.client import AddonSeed, SandboxClient
from sandbox.seeds import seed_demo

ENABLED = '{"enableNetworkPolicy":"true"}'

EXPECTED_DEMO = {
    ("us-east-1", "payments-prod"): ("PASSED", "NETWORK_POLICY_ENABLED"),
    ("us-east-1", "checkout-staging"): ("PASSED", "NETWORK_POLICY_ENABLED"),
    ("us-east-1", "analytics-dev"): ("FAILED", "NETWORK_POLICY_DISABLED"),
    ("us-east-1", "legacy-batch"): ("FAILED", "KUBERNETES_VERSION_UNSUPPORTED"),
    ("us-east-1", "automode-web"): ("WARNING", "AUTO_MODE_NOT_VERIFIABLE"),
    ("eu-west-1", "ml-training"): ("FAILED", "NETWORK_POLICY_DISABLED"),
    ("eu-west-1", "cilium-edge"): ("FAILED", "ADDON_NOT_INSTALLED"),
    ("eu-west-1", "k8s124-legacy"): ("FAILED", "KUBERNETES_VERSION_UNSUPPORTED"),
    ("eu-west-1", "research-sandbox"): ("WARNING", "EXEMPTED"),
    ("ap-southeast-2", "mobile-api"): ("WARNING", "ADDON_UNHEALTHY"),
    ("ap-southeast-2", "new-cluster"): ("NOT_AVAILABLE", "CLUSTER_NOT_READY"),
    ("ap-southeast-2", "sydney-prod"): ("FAILED", "NETWORK_POLICY_DISABLED"),
}

Run = Callable[..., tuple[int, Any, str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """Run the CLI in-process; JSON output is decoded."""

    def invoke(*args: str) -> tuple[int, Any, str]:
        code = cli.main(["scan", *args])
        captured = capsys.readouterr()
        output = json.loads(captured.out) if "json" in args else captured.out
        return code, output, captured.err

    return invoke


def verdicts(document: dict[str, Any]) -> dict[tuple[str, str], tuple[str, str]]:
    return {(r["region"], r["cluster"]): (r["status"], r["reason"]) for r in document["results"]}


def test_demo_account_every_verdict_and_the_json_contract(sandbox: SandboxClient, run: Run) -> None:
    seed_demo(sandbox)
    code, document, _ = run("--format", "json")
    assert code == 1  # at least one FAILED
    assert verdicts(document) == EXPECTED_DEMO
    assert document["account"] == "123456789012"
    assert document["errors"] == []
    assert document["summary"] == {"PASSED": 2, "FAILED": 6, "WARNING": 3, "NOT_AVAILABLE": 1}
    first = next(r for r in document["results"] if r["cluster"] == "payments-prod")
    assert first["arn"] == "arn:aws:eks:us-east-1:123456789012:cluster/payments-prod"
    assert first["addon_version"] == "v1.19.0-eksbuild.1"
    assert first["kubernetes_version"] == "1.31"
    assert first["remediation"] is None
    sydney = next(r for r in document["results"] if r["cluster"] == "sydney-prod")
    assert '{"env":{"WARM_IP_TARGET":"5"},"enableNetworkPolicy":"true"}' in sydney["message"]


def test_table_lists_every_cluster_with_status_and_reason(sandbox: SandboxClient, run: Run) -> None:
    seed_demo(sandbox)
    code, table, _ = run("--regions", "eu-west-1")
    assert code == 1
    lines = table.splitlines()
    assert lines[0].split() == ["CLUSTER", "REGION", "STATUS", "REASON"]
    rows = {tuple(line.split()) for line in lines[1:5]}
    assert rows == {
        (name, region, *verdict)
        for (region, name), verdict in EXPECTED_DEMO.items()
        if region == "eu-west-1"
    }


def test_at_most_two_eks_calls_per_cluster_plus_list_pages(
    sandbox: SandboxClient, run: Run
) -> None:
    for index in range(150):
        sandbox.add_cluster(
            "us-east-2", f"c{index:03}", addon=AddonSeed(configuration_values=ENABLED)
        )
    sandbox.reset_calls()
    code, document, _ = run("--regions", "us-east-2", "--format", "json")
    assert code == 0
    assert document["summary"]["PASSED"] == 150
    calls = sandbox.calls()
    assert calls.count("eks", "ListClusters") == 2  # pages of 100
    assert calls.count("eks", "DescribeCluster") == 150
    assert calls.count("eks", "DescribeAddon") == 150
    assert calls.count("eks") == 302


def test_only_requested_regions_are_called(sandbox: SandboxClient, run: Run) -> None:
    seed_demo(sandbox)
    sandbox.reset_calls()
    run("--regions", "us-east-1", "--format", "json")
    calls = sandbox.calls()
    assert calls.count("eks", region="eu-west-1") == 0
    assert calls.count("eks", region="ap-southeast-2") == 0
    assert calls.count("ec2", "DescribeRegions") == 0


def test_denied_region_is_reported_and_the_others_still_audited(
    sandbox: SandboxClient, run: Run
) -> None:
    sandbox.add_cluster("us-east-1", "ok", addon=AddonSeed(configuration_values=ENABLED))
    sandbox.add_cluster("eu-west-1", "hidden", addon=AddonSeed(configuration_values=ENABLED))
    sandbox.deny_region("eu-west-1", service="eks")
    code, document, _ = run("--format", "json")
    assert code == 3  # something not evaluated, nothing FAILED
    assert verdicts(document) == {("us-east-1", "ok"): ("PASSED", "NETWORK_POLICY_ENABLED")}
    assert [(e["region"], e["cluster"]) for e in document["errors"]] == [("eu-west-1", None)]
    assert document["errors"][0]["error"].startswith("AccessDeniedException")


def test_region_not_enabled_is_reported_not_fatal(sandbox: SandboxClient, run: Run) -> None:
    sandbox.add_cluster("us-east-1", "ok", addon=AddonSeed(configuration_values=ENABLED))
    sandbox.add_fault("unrecognized_client", region="me-south-1")
    code, document, _ = run("--regions", "us-east-1,me-south-1", "--format", "json")
    assert code == 3
    assert document["summary"]["PASSED"] == 1
    assert document["errors"][0]["region"] == "me-south-1"
    assert "UnrecognizedClientException" in document["errors"][0]["error"]


def test_throttled_run_still_accounts_for_every_cluster(sandbox: SandboxClient, run: Run) -> None:
    for index in range(20):
        sandbox.add_cluster("us-west-2", f"c{index}", addon=AddonSeed(configuration_values=ENABLED))
    sandbox.add_fault("throttle", service="eks", probability=0.3, seed=7)
    code, document, _ = run("--regions", "us-west-2", "--format", "json")
    assert code == 0
    assert document["errors"] == []
    assert document["summary"]["PASSED"] == 20
    assert sandbox.calls().count("eks", status=429) > 0  # throttling really happened


def test_cluster_deleted_between_list_and_describe_is_not_reported(
    sandbox: SandboxClient, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox.add_cluster("us-east-1", "stays", addon=AddonSeed(configuration_values=ENABLED))
    sandbox.add_cluster("us-east-1", "vanishes", addon=AddonSeed(configuration_values=ENABLED))

    def list_then_delete(clients: Any, region: str) -> list[str]:
        names = real_list_clusters(clients, region)
        sandbox.delete_cluster("us-east-1", "vanishes")
        return names

    monkeypatch.setattr(audit, "list_clusters", list_then_delete)
    code, document, _ = run("--regions", "us-east-1", "--format", "json")
    assert code == 0
    assert [r["cluster"] for r in document["results"]] == ["stays"]
    assert document["errors"] == []


def test_denied_describe_addon_marks_only_that_cluster(sandbox: SandboxClient, run: Run) -> None:
    sandbox.add_cluster("us-east-1", "fine", addon=AddonSeed(configuration_values=ENABLED))
    sandbox.add_cluster("us-east-1", "secret", addon=AddonSeed(configuration_values=ENABLED))
    sandbox.deny_describe_addon("us-east-1", "secret")
    code, document, _ = run("--regions", "us-east-1", "--format", "json")
    assert code == 3
    assert verdicts(document) == {
        ("us-east-1", "fine"): ("PASSED", "NETWORK_POLICY_ENABLED"),
        ("us-east-1", "secret"): ("NOT_AVAILABLE", "EVALUATION_ERROR"),
    }
    assert [(e["region"], e["cluster"]) for e in document["errors"]] == [("us-east-1", "secret")]


def test_deleting_clusters_are_not_reported(sandbox: SandboxClient, run: Run) -> None:
    sandbox.add_cluster("us-east-1", "going", status="DELETING")
    code, document, _ = run("--regions", "us-east-1", "--format", "json")
    assert code == 0
    assert document["results"] == []


@pytest.mark.parametrize(
    ("env", "args", "message"),
    [
        (
            {"AUDIT_REGIONS": "us-east-1,atlantis-1"},
            [],
            "AUDIT_REGIONS: unknown region 'atlantis-1'",
        ),
        ({}, ["--regions", "nowhere"], "--regions: unknown region 'nowhere'"),
        ({"PUBLISH_FINDINGS": "maybe"}, [], "PUBLISH_FINDINGS must be true or false"),
        ({}, ["--max-remediations", "-2"], "--max-remediations must not be negative"),
        ({"MAX_REMEDIATIONS_PER_RUN": "lots"}, [], "MAX_REMEDIATIONS_PER_RUN must be a whole"),
        ({}, ["--format", "xml"], "invalid choice: 'xml'"),
    ],
)
def test_bad_configuration_exits_2_with_one_line(
    sandbox: SandboxClient,
    run: Run,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    args: list[str],
    message: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    sandbox.reset_calls()
    code, _, err = run(*args)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert sandbox.calls().total == 0  # nothing was called, nothing half-done


def test_one_large_region_gets_a_bounded_share_of_concurrent_calls(
    sandbox: SandboxClient, run: Run
) -> None:
    for index in range(60):
        sandbox.add_cluster(
            "eu-west-1", f"c{index:02}", addon=AddonSeed(configuration_values=ENABLED)
        )
    sandbox.set_latency(base_ms=20)
    sandbox.reset_calls()
    code, document, _ = run("--regions", "eu-west-1", "--format", "json")
    assert code == 0
    assert document["summary"]["PASSED"] == 60
    peak = sandbox.calls().peak_concurrency
    assert 8 <= peak <= 16  # concurrent, but never more than the per-region share
