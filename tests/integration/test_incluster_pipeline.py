"""The in-cluster check wired into the one pipeline (issue 18), through the sandbox's
Kubernetes API with the token's signature really verified: off, nothing changes and no
Kubernetes request is made; on, every result carries the second control and the run counts
its Kubernetes requests; a private-only endpoint is never connected to; the CLI flag, the
JSON key, the table column and the exit code."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

import pytest

from eks_netpol_auditor import cli, handler
from eks_netpol_auditor.audit import KUBERNETES_CALLS, run_audit
from eks_netpol_auditor.aws import AwsClients
from eks_netpol_auditor.config import Settings
from eks_netpol_auditor.model import AuditResult
from sandbox.client import AddonSeed, SandboxClient
from tests.builders import ACCOUNT, ENABLED
from tests.integration.lambda_support import SCHEDULED_EVENT, FakeContext, lambda_environment

__all__ = ["lambda_environment"]  # the Lambda environment fixture, for the handler test

REGION = "us-east-1"
CALLER = f"arn:aws:iam::{ACCOUNT}:user/sandbox"  # the sandbox's default credentials
OFF = Settings(regions=(REGION,), home_region=REGION)
ON = replace(OFF, in_cluster_check=True)


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def deny_all(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny", "namespace": name},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }


def enrolled(sandbox: SandboxClient, name: str, *, covered: bool) -> None:
    """Network policy on, namespace "shop" with 2 pods (with a policy when `covered`), and
    the auditor enrolled with AmazonEKSViewPolicy at cluster scope."""
    sandbox.add_cluster(REGION, name, addon=ENABLED)
    sandbox.put_kube_objects(
        REGION, name, [namespace("shop"), *([deny_all("shop")] if covered else [])]
    )
    sandbox.add_pods(REGION, name, "shop", prefix="web", count=2, labels={"app": "web"})
    sandbox.put_access_entry(REGION, name, CALLER)


def in_cluster(result: AuditResult) -> dict[str, tuple[str, str] | None]:
    return {
        r.facts.name: None if r.in_cluster is None else (r.in_cluster.status, r.in_cluster.reason)
        for r in result.results
    }


def test_off_makes_no_kubernetes_request_and_leaves_every_result_null(
    sandbox: SandboxClient,
) -> None:
    enrolled(sandbox, "prod", covered=False)
    sandbox.reset_calls()
    result = run_audit(OFF, AwsClients())
    assert sandbox.calls().count(service="kubernetes") == 0
    assert KUBERNETES_CALLS not in result.api_calls
    assert set(result.api_calls) == {
        "sts:GetCallerIdentity",
        "eks:ListClusters",
        "eks:DescribeCluster",
        "eks:DescribeAddon",
    }
    assert [r.to_json()["in_cluster"] for r in result.results] == [None]
    assert result.exit_code() == 0  # the uncovered namespace is not looked at


def test_on_fills_the_second_control_and_counts_its_kubernetes_requests(
    sandbox: SandboxClient,
) -> None:
    enrolled(sandbox, "covered", covered=True)
    enrolled(sandbox, "open", covered=False)
    sandbox.reset_calls()
    result = run_audit(ON, AwsClients())
    assert in_cluster(result) == {
        "covered": ("PASSED", "NAMESPACES_COVERED"),
        "open": ("FAILED", "NAMESPACES_WITHOUT_POLICY"),
    }
    opened = next(r for r in result.results if r.facts.name == "open").to_json()["in_cluster"]
    assert opened["namespaces_without_policy"] == ["shop"]
    assert opened["pods_not_selected"] == 2
    made = sandbox.calls().count(service="kubernetes")
    assert made > 0
    assert result.api_calls[KUBERNETES_CALLS] == made
    # The first control is unchanged and PASSED for both: the exit code is the second's.
    assert {r.verdict.status for r in result.results} == {"PASSED"}
    assert result.exit_code() == 1


def test_a_private_endpoint_is_never_connected_to(sandbox: SandboxClient) -> None:
    sandbox.add_cluster(REGION, "private", addon=ENABLED, endpoint_public_access=False)
    sandbox.put_access_entry(REGION, "private", CALLER)
    sandbox.reset_calls()
    started = time.monotonic()
    result = run_audit(ON, AwsClients())
    assert time.monotonic() - started < 5  # the sandbox would hold a connection unanswered
    assert in_cluster(result) == {"private": ("NOT_AVAILABLE", "ENDPOINT_PRIVATE")}
    assert sandbox.calls().count(service="kubernetes") == 0
    assert KUBERNETES_CALLS not in result.api_calls
    assert result.exit_code() == 3  # the second control could not be verified


def test_clusters_the_table_decides_alone_are_not_read(sandbox: SandboxClient) -> None:
    """Exempt and not-ACTIVE clusters get their verdict without a Kubernetes request."""
    sandbox.add_cluster(REGION, "exempt", addon=ENABLED, tags={"eks-netpol-auditor:exempt": "x"})
    sandbox.add_cluster(REGION, "new", addon=ENABLED, status="CREATING")
    for name in ("exempt", "new"):
        sandbox.put_access_entry(REGION, name, CALLER)
    sandbox.reset_calls()
    result = run_audit(ON, AwsClients())
    assert in_cluster(result) == {
        "exempt": ("WARNING", "EXEMPTED"),
        "new": ("NOT_AVAILABLE", "CLUSTER_NOT_READY"),
    }
    assert sandbox.calls().count(service="kubernetes") == 0
    assert result.exit_code() == 0  # a cluster being created is no reason for exit 3


def test_not_enrolled_is_exit_3_when_nothing_failed(sandbox: SandboxClient) -> None:
    sandbox.add_cluster(REGION, "stranger", addon=ENABLED)  # no access entry for the auditor
    result = run_audit(ON, AwsClients())
    assert in_cluster(result) == {"stranger": ("NOT_AVAILABLE", "NOT_ENROLLED")}
    assert result.exit_code() == 3


def scan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = cli.main(["scan", "--regions", REGION, *args])
    return code, capsys.readouterr().out


def test_the_flag_overrides_the_variable_and_the_json_always_has_the_key(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    enrolled(sandbox, "open", covered=False)
    sandbox.add_cluster(REGION, "plain", addon=AddonSeed())  # first control FAILED
    code, out = scan(capsys, "--in-cluster", "--format", "json")
    results = {r["cluster"]: r["in_cluster"] for r in json.loads(out)["results"]}
    assert code == 1
    assert results["open"]["reason"] == "NAMESPACES_WITHOUT_POLICY"
    assert results["plain"]["status"] == "NOT_AVAILABLE"  # not enrolled there
    monkeypatch.setenv("IN_CLUSTER_CHECK", "true")
    sandbox.reset_calls()
    code, out = scan(capsys, "--no-in-cluster", "--format", "json")
    assert [r["in_cluster"] for r in json.loads(out)["results"]] == [None, None]
    assert sandbox.calls().count(service="kubernetes") == 0


def test_the_table_shows_the_second_control_and_what_to_do(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str]
) -> None:
    enrolled(sandbox, "open", covered=False)
    code, out = scan(capsys, "--in-cluster")
    lines = out.splitlines()
    assert code == 1
    assert lines[0].split() == ["CLUSTER", "REGION", "STATUS", "REASON", "IN-CLUSTER"]
    assert lines[1].split() == [
        "open",
        REGION,
        "PASSED",
        "NETWORK_POLICY_ENABLED",
        "FAILED",
        "(NAMESPACES_WITHOUT_POLICY)",
    ]
    assert "In-cluster check (CIS-EKS-4.3.2): 0 PASSED, 1 FAILED, 0 WARNING, 0 NOT_AVAILABLE" in out
    assert f"{REGION}/open (NAMESPACES_WITHOUT_POLICY)" in out
    assert "kubectl apply -n shop" in out
    code, out = scan(capsys)
    assert code == 0
    assert out.splitlines()[0].split() == ["CLUSTER", "REGION", "STATUS", "REASON"]


@pytest.mark.usefixtures("lambda_environment")
def test_the_scheduled_function_passes_the_check_through(
    sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    enrolled(sandbox, "open", covered=False)
    monkeypatch.setenv("AUDIT_REGIONS", REGION)
    off = handler.scheduled_handler(SCHEDULED_EVENT, FakeContext())
    assert "in_cluster_summary" not in off
    monkeypatch.setenv("IN_CLUSTER_CHECK", "true")
    on = handler.scheduled_handler(SCHEDULED_EVENT, FakeContext())
    assert (
        on["summary"]
        == off["summary"]
        == {
            "PASSED": 1,
            "FAILED": 0,
            "WARNING": 0,
            "NOT_AVAILABLE": 0,
        }
    )
    assert on["in_cluster_summary"] == {"PASSED": 0, "FAILED": 1, "WARNING": 0, "NOT_AVAILABLE": 0}


def test_self_enrolment_grants_the_role_and_reads_again(sandbox: SandboxClient) -> None:
    """IN_CLUSTER_ENROL: a refused read on a cluster that takes access entries enrols the
    auditor (CreateAccessEntry + AssociateAccessPolicy) and reads once more."""
    sandbox.add_cluster(REGION, "fresh", addon=ENABLED)  # no access entry yet
    sandbox.put_kube_objects(REGION, "fresh", [namespace("shop"), deny_all("shop")])
    sandbox.add_pods(REGION, "fresh", "shop", prefix="web", count=1)
    sandbox.reset_calls()
    result = run_audit(replace(ON, in_cluster_enrol=True), AwsClients())
    assert in_cluster(result) == {"fresh": ("PASSED", "NAMESPACES_COVERED")}
    assert result.api_calls["eks:CreateAccessEntry"] == 1
    assert result.api_calls["eks:AssociateAccessPolicy"] == 1
    # Both reads' requests are counted, the refused one included.
    assert result.api_calls[KUBERNETES_CALLS] == sandbox.calls().count(service="kubernetes")
    assert sandbox.calls().count(service="kubernetes", status=401) >= 1


def test_no_self_enrolment_without_the_setting_or_on_a_config_map_cluster(
    sandbox: SandboxClient,
) -> None:
    sandbox.add_cluster(REGION, "stranger", addon=ENABLED)
    sandbox.add_cluster(REGION, "legacy", addon=ENABLED, authentication_mode="CONFIG_MAP")
    off = run_audit(ON, AwsClients())
    assert in_cluster(off)["stranger"] == ("NOT_AVAILABLE", "NOT_ENROLLED")
    assert "eks:CreateAccessEntry" not in off.api_calls
    enrolling = run_audit(replace(ON, in_cluster_enrol=True), AwsClients())
    assert in_cluster(enrolling)["legacy"] == ("NOT_AVAILABLE", "ACCESS_ENTRIES_UNAVAILABLE")
    assert enrolling.api_calls["eks:CreateAccessEntry"] == 1  # "stranger" only


def test_a_refused_self_enrolment_is_said_in_the_not_enrolled_message(
    sandbox: SandboxClient,
) -> None:
    """No second read after a failed enrolment; the verdict says why it could not enrol."""
    sandbox.add_cluster(REGION, "locked", addon=ENABLED)
    sandbox.add_fault(
        "access_denied", service="eks", operation="CreateAccessEntry", cluster="locked"
    )
    sandbox.reset_calls()
    result = run_audit(replace(ON, in_cluster_enrol=True), AwsClients(max_attempts=1))
    (cluster,) = result.results
    assert cluster.in_cluster is not None
    assert cluster.in_cluster.reason == "NOT_ENROLLED"
    assert "self-enrolment in locked was denied: eks:CreateAccessEntry" in (
        cluster.in_cluster.message
    )
    assert "eks:AssociateAccessPolicy" not in result.api_calls
    assert sandbox.calls().count(service="kubernetes", status=200) == 0
