"""Sandbox Security Hub: BatchImportFindings create/update semantics and ingestion events.

They pin down the behaviours the finding publisher depends on, so a change to the emulator
that would let a broken publisher pass shows up here first.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eks_netpol_auditor.evaluate import evaluate
from eks_netpol_auditor.model import ClusterResult
from eks_netpol_auditor.securityhub.asff import build_finding
from eks_netpol_auditor.securityhub.in_cluster_finding import build_in_cluster_finding
from sandbox.client import SandboxClient
from sandbox.services.securityhub import (
    SecurityHubResponses,
    default_product_arn,
)
from tests.builders import ACCOUNT, described_cluster, in_cluster_verdict
from tests.conftest import AwsClientFactory
from tests.integration.sandbox.securityhub_support import (
    PRODUCT_ARN,
    REGION,
    call,
    error_code,
    finding,
    get_findings,
    import_findings,
)

# -------------------------------------------------------------------------- BatchImportFindings


def test_import_creates_finding_with_service_defaults(hub: SecurityHubResponses) -> None:
    body = import_findings(hub, finding())
    assert body == {"FailedCount": 0, "SuccessCount": 1, "FailedFindings": []}
    [stored] = hub.backend.findings(REGION)
    assert stored["Workflow"] == {"Status": "NEW"}
    assert stored["WorkflowState"] == "NEW"
    assert stored["RecordState"] == "ACTIVE"
    assert stored["Region"] == REGION
    assert stored["Severity"] == {"Label": "HIGH", "Normalized": 70}
    assert stored["FindingProviderFields"]["Severity"]["Label"] == "HIGH"
    assert stored["ProductFields"]["aws/securityhub/FindingId"] == f"{PRODUCT_ARN}/cluster-a"
    assert hub.backend.findings("us-east-1") == []


def test_newer_update_replaces_and_older_or_equal_is_ignored(hub: SecurityHubResponses) -> None:
    import_findings(hub, finding(updated_at="2026-11-01T10:00:00Z"))
    newer = finding(updated_at="2026-11-01T11:00:00.5+01:00", Title="newer")  # 10:00:00.5Z
    assert import_findings(hub, newer)["SuccessCount"] == 1
    assert hub.backend.findings(REGION)[0]["Title"] == "newer"

    for stale in ("2026-11-01T10:00:00.500Z", "2026-11-01T09:59:59Z"):
        body = import_findings(hub, finding(updated_at=stale, Title="stale"))
        # AWS reports an ignored update as a success: the caller cannot tell.
        assert body == {"FailedCount": 0, "SuccessCount": 1, "FailedFindings": []}
        assert hub.backend.findings(REGION)[0]["Title"] == "newer"


def test_invalid_findings_fail_individually(hub: SecurityHubResponses) -> None:
    bad = {
        "long-title": finding("long-title", Title="x" * 257),
        "wrong-region": finding(
            "wrong-region", ProductArn=default_product_arn("us-east-1", ACCOUNT)
        ),
        "other-account": finding("other-account", AwsAccountId="999999999999"),
        "bad-type": finding("bad-type", Types=["Compliance/Whatever"]),
        "bad-time": finding("bad-time", updated_at="2026-11-01 10:00:00"),
        "no-resources": finding("no-resources", Resources=[]),
        "no-severity": finding("no-severity", Severity={"Original": "9"}),
        "long-field": finding("long-field", ProductFields={"a/b": "x" * 2049}),
        "reserved-key": finding("reserved-key", ProductFields={"aws/mine": "x"}),
        "resource-no-id": finding("resource-no-id", Resources=[{"Type": "AwsEksCluster"}]),
        "long-recommendation": finding(
            "long-recommendation", Remediation={"Recommendation": {"Text": "x" * 513}}
        ),
    }
    huge = finding("huge", Resources=[{"Type": "Other", "Id": "r" * 9000}] * 30)
    bad["huge"] = huge
    body = import_findings(hub, finding("good-1"), *bad.values(), finding("good-2"))
    assert body["SuccessCount"] == 2
    assert body["FailedCount"] == len(bad)
    assert {f["Id"] for f in body["FailedFindings"]} == set(bad)
    assert all(f["ErrorCode"] == "InvalidInput" for f in body["FailedFindings"])
    messages = {f["Id"]: f["ErrorMessage"] for f in body["FailedFindings"]}
    assert "ProductArn" in messages["wrong-region"]
    assert "240 KB" in messages["huge"]
    assert sorted(f["Id"] for f in hub.backend.findings(REGION)) == ["good-1", "good-2"]


def test_product_arn_region_must_match_request_region(hub: SecurityHubResponses) -> None:
    body = call(hub, "BatchImportFindings", {"Findings": [finding()]}, region="us-east-1").body
    assert body["FailedCount"] == 1
    assert import_findings(hub, finding(region="us-east-1"))["FailedCount"] == 1
    body = call(
        hub, "BatchImportFindings", {"Findings": [finding(region="us-east-1")]}, region="us-east-1"
    ).body
    assert body["SuccessCount"] == 1


@pytest.mark.parametrize("count", [0, 101])
def test_import_batch_size_limits(hub: SecurityHubResponses, count: int) -> None:
    response = call(
        hub, "BatchImportFindings", {"Findings": [finding(f"c{i}") for i in range(count)]}
    )
    assert response.status == 400
    assert error_code(response) == "InvalidInputException"
    assert hub.backend.findings(REGION) == []


def test_import_of_100_findings_is_allowed(hub: SecurityHubResponses) -> None:
    body = import_findings(hub, *(finding(f"c{i}") for i in range(100)))
    assert body["SuccessCount"] == 100


def test_import_ignores_workflow_fields_on_update(hub: SecurityHubResponses) -> None:
    import_findings(hub, finding())
    update = {"FindingIdentifiers": [{"Id": "cluster-a", "ProductArn": PRODUCT_ARN}]}
    call(hub, "BatchUpdateFindings", {**update, "Workflow": {"Status": "SUPPRESSED"}})
    call(hub, "BatchUpdateFindings", {**update, "Note": {"Text": "ack", "UpdatedBy": "me"}})
    import_findings(
        hub,
        finding(
            updated_at="2026-11-02T00:00:00Z",
            Workflow={"Status": "NEW"},
            WorkflowState="RESOLVED",
            Note={"Text": "from provider", "UpdatedBy": "x", "UpdatedAt": "2026-11-02T00:00:00Z"},
            VerificationState="FALSE_POSITIVE",
            UserDefinedFields={"k": "v"},
        ),
    )
    [stored] = hub.backend.findings(REGION)
    assert stored["Workflow"] == {"Status": "SUPPRESSED"}
    assert stored["WorkflowState"] == "NEW"
    assert stored["Note"]["Text"] == "ack"
    assert "VerificationState" not in stored
    assert "UserDefinedFields" not in stored
    assert stored["UpdatedAt"] == "2026-11-02T00:00:00Z"


# -------------------------------------------------------------------------- ingestion events


def test_every_accepted_finding_is_an_ingestion_event(hub: SecurityHubResponses) -> None:
    import_findings(hub, finding("a"), finding("b"), finding("bad", Title=""))
    import_findings(hub, finding("a", updated_at="2026-11-02T00:00:00Z"))  # update
    import_findings(hub, finding("a", updated_at="2026-11-02T00:00:00Z"))  # stale, still billed
    call(
        hub,
        "BatchImportFindings",
        {"Findings": [finding("c", region="us-east-1")]},
        region="us-east-1",
    )
    assert hub.backend.ingestion_events() == [
        {"account": ACCOUNT, "region": REGION, "count": 4},
        {"account": ACCOUNT, "region": "us-east-1", "count": 1},
    ]
    # Neither BatchUpdateFindings nor reads are ingestion events.
    update_fields_body = {"FindingIdentifiers": [{"Id": "a", "ProductArn": PRODUCT_ARN}]}
    call(hub, "BatchUpdateFindings", {**update_fields_body, "Confidence": 5})
    get_findings(hub)
    assert sum(row["count"] for row in hub.backend.ingestion_events()) == 5
    hub.backend.reset_ingestion_events()
    assert hub.backend.ingestion_events() == []
    assert len(hub.backend.findings(REGION)) == 2


# -------------------------------------------------------------------------- over HTTP


def test_ingestion_events_through_the_control_api(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    """What the engine's "skip unchanged re-imports" saving is measured with."""
    client = aws_client("securityhub", REGION)
    client.batch_import_findings(Findings=[finding("a"), finding("b")])
    client.batch_import_findings(Findings=[finding("a", updated_at="2026-11-02T00:00:00Z")])
    assert sandbox.ingestion_events() == 3
    assert sandbox.ingestion_events(account=ACCOUNT, region=REGION) == 3
    assert sandbox.ingestion_events(region="us-east-1") == 0
    assert sandbox.ingestion_events(account="999999999999") == 0
    sandbox.reset_ingestion_events()
    assert sandbox.ingestion_events() == 0
    assert len(sandbox.findings(REGION)) == 2


def test_both_controls_findings_are_accepted(hub: SecurityHubResponses) -> None:
    """Issue 18: the second control's finding (its own Id and GeneratorId, coverage fields, a
    Recommendation at the 512-character limit) is valid ASFF, beside the first control's."""
    facts = described_cluster(REGION, "shop")
    verdict = in_cluster_verdict(message="x" * 600 + "\napiVersion: networking.k8s.io/v1")
    cluster = ClusterResult(facts, evaluate(facts), in_cluster=verdict)
    now = datetime(2026, 11, 5, 10, 0, tzinfo=UTC)
    first = build_finding(cluster, delivery_region=REGION, now=now)
    second = build_in_cluster_finding(cluster, delivery_region=REGION, now=now)
    assert len(second["Remediation"]["Recommendation"]["Text"]) <= 512
    body = import_findings(hub, first, second)
    assert (body["SuccessCount"], body["FailedCount"]) == (2, 0)
    stored = {f["Id"]: f for f in hub.backend.findings(REGION)}
    assert stored[second["Id"]]["GeneratorId"] == "eks-netpol-auditor/CIS-EKS-4.3.2"
    assert stored[first["Id"]]["GeneratorId"] == "eks-netpol-auditor/CIS-EKS-5.4.4"
