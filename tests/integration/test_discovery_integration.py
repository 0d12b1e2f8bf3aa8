"""Discovery of a cluster's add-on through the sandbox, when IAM answers DescribeAddon with
AccessDeniedException (issue 10 item 8).

Which resource IAM authorises for DescribeAddon of an add-on that does not exist is not
documented; public reports (terraform-aws-modules/terraform-aws-eks#1725,
aws/containers-roadmap#1172) show an AccessDeniedException instead of the documented
ResourceNotFoundException. A cluster without vpc-cni must then still be ADDON_NOT_INSTALLED,
never an evaluation error; a real denial must stay one.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from eks_netpol_auditor import audit as audit_module
from eks_netpol_auditor.audit import run_audit
from eks_netpol_auditor.aws import AwsClients
from eks_netpol_auditor.config import Settings
from eks_netpol_auditor.model import AuditResult, ComplianceStatus, Reason
from sandbox.client import AddonSeed, SandboxClient
from tests.builders import ENABLED

REGION = "eu-west-1"


def audit() -> AuditResult:
    return run_audit(replace(Settings(), regions=(REGION,), home_region=REGION), AwsClients())


def verdicts(result: AuditResult) -> dict[str, tuple[ComplianceStatus, Reason]]:
    return {r.facts.name: (r.verdict.status, r.verdict.reason) for r in result.results}


def test_denied_describe_of_a_missing_addon_is_addon_not_installed(
    sandbox: SandboxClient,
) -> None:
    sandbox.add_cluster(REGION, "cilium", addon=None)
    sandbox.add_cluster(REGION, "enabled", addon=ENABLED)
    sandbox.deny_describe_missing_addon(REGION)
    result = audit()
    assert verdicts(result) == {
        "cilium": (ComplianceStatus.FAILED, Reason.ADDON_NOT_INSTALLED),
        "enabled": (ComplianceStatus.PASSED, Reason.NETWORK_POLICY_ENABLED),
    }
    assert result.errors == []
    assert result.exit_code() == 1, "FAILED, not 'could not be evaluated' (3)"
    # ListAddons only for the denied cluster: the confirmation costs one call, once.
    assert result.api_calls["eks:ListAddons"] == 1
    assert result.api_calls["eks:DescribeAddon"] == 2


def test_a_denied_describe_of_an_installed_addon_stays_an_evaluation_error(
    sandbox: SandboxClient,
) -> None:
    sandbox.add_cluster(REGION, "locked", addon=ENABLED)
    sandbox.add_fault("access_denied", service="eks", operation="DescribeAddon", cluster="locked")
    result = audit()
    assert verdicts(result) == {
        "locked": (ComplianceStatus.NOT_AVAILABLE, Reason.EVALUATION_ERROR),
    }
    assert "AccessDenied" in result.results[0].verdict.message
    assert result.api_calls["eks:ListAddons"] == 1


def test_when_listaddons_fails_too_the_cluster_is_not_guessed(sandbox: SandboxClient) -> None:
    sandbox.add_cluster(REGION, "cilium", addon=None)
    sandbox.deny_describe_missing_addon(REGION)
    sandbox.add_fault("access_denied", service="eks", operation="ListAddons")
    result = audit()
    assert verdicts(result) == {
        "cilium": (ComplianceStatus.NOT_AVAILABLE, Reason.EVALUATION_ERROR),
    }
    assert "ListAddons could not tell" in result.results[0].verdict.message


def test_the_normal_path_stays_at_two_eks_calls_per_cluster(sandbox: SandboxClient) -> None:
    sandbox.add_cluster(REGION, "enabled", addon=ENABLED)
    sandbox.add_cluster(REGION, "off", addon=AddonSeed())
    sandbox.add_cluster(REGION, "calico", addon=None)  # ResourceNotFoundException, as documented
    result = audit()
    assert verdicts(result)["calico"] == (ComplianceStatus.FAILED, Reason.ADDON_NOT_INSTALLED)
    per_cluster = {
        op: n
        for op, n in result.api_calls.items()
        if op.startswith("eks:") and op != "eks:ListClusters"
    }
    assert per_cluster == {"eks:DescribeCluster": 3, "eks:DescribeAddon": 3}


def test_an_enabled_region_without_eks_is_never_listed(
    sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 16, point 8: the regions audited are DescribeRegions' enabled regions
    intersected with the regions botocore's endpoint data has EKS in. A region EC2 lists
    but EKS has no endpoint for (one newer than the SDK's data) is not called at all."""
    sandbox.set_enabled_regions(["us-east-1", "eu-west-1"])
    sandbox.add_cluster("us-east-1", "here", addon=ENABLED)
    sandbox.add_cluster("eu-west-1", "elsewhere", addon=ENABLED)
    monkeypatch.setattr(audit_module, "known_regions", lambda: frozenset({"us-east-1"}))
    sandbox.reset_calls()
    result = run_audit(replace(Settings(), home_region="us-east-1"), AwsClients())
    assert result.regions == ["us-east-1"]
    assert [r.facts.name for r in result.results] == ["here"]
    assert sandbox.calls().count("eks", region="eu-west-1") == 0


def test_a_run_narrowed_to_some_clusters_never_counts_its_region_as_listed(
    sandbox: SandboxClient,
) -> None:
    """Issue 16, point 8: only a complete listing may later archive the findings of clusters
    that are gone; a run that looked at some clusters did not look for the others."""
    sandbox.add_cluster(REGION, "named", addon=ENABLED)
    sandbox.add_cluster(REGION, "other", addon=ENABLED)
    settings = replace(Settings(), regions=(REGION,), home_region=REGION)
    narrowed = run_audit(replace(settings, cluster_names=frozenset({"named"})), AwsClients())
    assert [r.facts.name for r in narrowed.results] == ["named"]
    assert narrowed.listed_regions == []
    assert run_audit(settings, AwsClients()).listed_regions == [REGION]
