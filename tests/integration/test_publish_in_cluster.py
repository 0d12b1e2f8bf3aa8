"""The second control's finding (CIS 4.3.2, issue 18) end to end: the real publisher, real
boto3, the sandbox's Security Hub CSPM. What a security team sees after each run.

The in-cluster verdicts are built directly (tests/builders.py): this pins publishing, not
the Kubernetes reader, so each run audits the sandbox's clusters with the check off and then
publishes them with the verdicts the rules would have given.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from eks_netpol_auditor.audit import run_audit
from eks_netpol_auditor.aws import AwsClients
from eks_netpol_auditor.config import Settings
from eks_netpol_auditor.incluster.model import (
    IN_CLUSTER_CONTROL_ID,
    InClusterReason,
    InClusterVerdict,
)
from eks_netpol_auditor.model import ComplianceStatus
from eks_netpol_auditor.securityhub import publish
from eks_netpol_auditor.securityhub.asff import finding_id
from sandbox.client import SandboxClient
from tests.builders import ACCOUNT, ENABLED, in_cluster_verdict
from tests.conftest import AwsClientFactory

EU, HOME = "eu-west-1", "us-east-1"
FAILED = in_cluster_verdict(ComplianceStatus.FAILED)
PASSED = in_cluster_verdict(ComplianceStatus.PASSED, InClusterReason.NAMESPACES_COVERED)


def run(verdicts: dict[str, InClusterVerdict] | None, **changes: Any) -> None:
    """One scheduled run: audit EU, then publish with these in-cluster verdicts (None: the
    in-cluster check is off)."""
    base = Settings(regions=(EU,), home_region=HOME, max_workers=8)
    audited = run_audit(base)
    assert audited.errors == []
    results = [
        replace(r, in_cluster=None if verdicts is None else verdicts[r.facts.name])
        for r in audited.results
    ]
    settings = replace(base, publish=True, in_cluster_check=verdicts is not None, **changes)
    publish(settings, AwsClients(), replace(audited, results=results))


def second(name: str) -> str:
    return finding_id("aws", ACCOUNT, EU, name, IN_CLUSTER_CONTROL_ID)


def first(name: str) -> str:
    return finding_id("aws", ACCOUNT, EU, name)


def stored(sandbox: SandboxClient) -> dict[str, dict[str, Any]]:
    findings = sandbox.findings(EU)
    by_id = {f["Id"]: f for f in findings}
    assert len(by_id) == len(findings), "duplicate finding ids"
    return by_id


def state(finding: dict[str, Any]) -> tuple[str, str, str]:
    return (
        finding["RecordState"],
        finding["Compliance"]["Status"],
        finding["Workflow"]["Status"],
    )


def test_a_fixed_namespace_gap_is_resolved_and_a_new_one_reopens_it(
    sandbox: SandboxClient,
) -> None:
    sandbox.add_cluster(EU, "shop", addon=ENABLED)
    run({"shop": FAILED})
    found = stored(sandbox)
    assert state(found[second("shop")]) == ("ACTIVE", "FAILED", "NEW")
    # The first control passes on its own and is resolved on its own.
    assert state(found[first("shop")]) == ("ACTIVE", "PASSED", "RESOLVED")
    assert found[second("shop")]["GeneratorId"] == "eks-netpol-auditor/CIS-EKS-4.3.2"
    assert found[second("shop")]["Severity"]["Label"] == "MEDIUM"

    run({"shop": PASSED})
    assert state(stored(sandbox)[second("shop")]) == ("ACTIVE", "PASSED", "RESOLVED")

    run({"shop": FAILED})  # a namespace without a policy again
    assert state(stored(sandbox)[second("shop")]) == ("ACTIVE", "FAILED", "NEW")
    assert len(stored(sandbox)) == 2  # one finding per control, updated in place


def test_a_deleted_cluster_archives_both_findings(sandbox: SandboxClient) -> None:
    sandbox.add_cluster(EU, "keep", addon=ENABLED)
    sandbox.add_cluster(EU, "gone", addon=ENABLED)
    run({"keep": PASSED, "gone": FAILED})
    sandbox.delete_cluster(EU, "gone")
    run({"keep": PASSED})
    found = stored(sandbox)
    assert found[first("gone")]["RecordState"] == "ARCHIVED"
    assert found[second("gone")]["RecordState"] == "ARCHIVED"
    assert "eks-netpol-auditor/ArchivedReason" not in found[second("gone")]["ProductFields"]
    assert found[second("keep")]["RecordState"] == "ACTIVE"


def test_suppressed_second_finding_is_never_overwritten(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    sandbox.add_cluster(EU, "legacy", addon=ENABLED)
    run({"legacy": FAILED})
    aws_client("securityhub", EU).batch_update_findings(
        FindingIdentifiers=[
            {"Id": second("legacy"), "ProductArn": stored(sandbox)[second("legacy")]["ProductArn"]}
        ],
        Workflow={"Status": "SUPPRESSED"},
    )
    run({"legacy": PASSED})  # PASSED would be RESOLVED, but a person decided
    assert state(stored(sandbox)[second("legacy")]) == ("ACTIVE", "PASSED", "SUPPRESSED")
    sandbox.delete_cluster(EU, "legacy")
    run({})
    sandbox.add_cluster(EU, "legacy", addon=ENABLED)
    run({"legacy": PASSED})  # re-created: re-activated, still SUPPRESSED
    assert state(stored(sandbox)[second("legacy")]) == ("ACTIVE", "PASSED", "SUPPRESSED")


def test_turning_the_check_off_archives_its_findings_and_nothing_else(
    sandbox: SandboxClient,
) -> None:
    sandbox.add_cluster(EU, "shop", addon=ENABLED)
    run({"shop": FAILED})
    before = stored(sandbox)[first("shop")]

    run(None)
    found = stored(sandbox)
    retired = found[second("shop")]
    assert retired["RecordState"] == "ARCHIVED"
    assert retired["ProductFields"]["eks-netpol-auditor/ArchivedReason"] == "IN_CLUSTER_CHECK_OFF"
    assert found[first("shop")] == before  # unchanged, not even re-imported

    sandbox.reset_calls()
    run(None)  # nothing of the second control left to do
    assert sandbox.calls().count(service="securityhub", operation="BatchImportFindings") == 0

    run({"shop": PASSED})  # on again: the same Id comes back
    assert state(stored(sandbox)[second("shop")]) == ("ACTIVE", "PASSED", "RESOLVED")


def test_an_unchanged_second_finding_is_not_reimported(sandbox: SandboxClient) -> None:
    sandbox.add_cluster(EU, "shop", addon=ENABLED)
    run({"shop": FAILED})
    sandbox.reset_calls()
    run({"shop": FAILED})
    assert sandbox.calls().count(service="securityhub", operation="BatchImportFindings") == 0
    changed = in_cluster_verdict(ComplianceStatus.FAILED, namespaces=("shop", "web", "api"))
    run({"shop": changed})
    assert sandbox.calls().count(service="securityhub", operation="BatchImportFindings") == 1
    fields = stored(sandbox)[second("shop")]["ProductFields"]
    assert fields["eks-netpol-auditor/NamespacesWithoutPolicy"] == "shop, web, api"
