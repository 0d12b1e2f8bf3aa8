"""Sandbox Security Hub: workflow lifecycle on import; BatchUpdateFindings (workflow, notes).

They pin down the behaviours the finding publisher depends on, so a change to the emulator
that would let a broken publisher pass shows up here first.
"""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.services.securityhub import SecurityHubResponses, parse_timestamp
from tests.integration.sandbox.securityhub_support import (
    PRODUCT_ARN,
    REGION,
    call,
    error_code,
    finding,
    import_findings,
)


def _set_workflow(hub: SecurityHubResponses, status: str) -> None:
    response = call(
        hub,
        "BatchUpdateFindings",
        {
            "FindingIdentifiers": [{"Id": "cluster-a", "ProductArn": PRODUCT_ARN}],
            "Workflow": {"Status": status},
        },
    )
    assert response.body["ProcessedFindings"], response.body


@pytest.mark.parametrize("status", ["NOTIFIED", "RESOLVED"])
@pytest.mark.parametrize("new_compliance", ["FAILED", "WARNING", "NOT_AVAILABLE"])
def test_compliance_regression_reopens(
    hub: SecurityHubResponses, status: str, new_compliance: str
) -> None:
    import_findings(hub, finding(Compliance={"Status": "PASSED"}))
    _set_workflow(hub, status)
    import_findings(
        hub, finding(updated_at="2026-11-02T00:00:00Z", Compliance={"Status": new_compliance})
    )
    assert hub.backend.findings(REGION)[0]["Workflow"]["Status"] == "NEW"


def test_unarchiving_reopens_but_suppressed_stays(hub: SecurityHubResponses) -> None:
    import_findings(hub, finding(RecordState="ARCHIVED"))
    _set_workflow(hub, "RESOLVED")
    import_findings(hub, finding(updated_at="2026-11-02T00:00:00Z", RecordState="ACTIVE"))
    assert hub.backend.findings(REGION)[0]["Workflow"]["Status"] == "NEW"

    import_findings(hub, finding(updated_at="2026-11-03T00:00:00Z", RecordState="ARCHIVED"))
    _set_workflow(hub, "SUPPRESSED")
    import_findings(hub, finding(updated_at="2026-11-04T00:00:00Z", RecordState="ACTIVE"))
    assert hub.backend.findings(REGION)[0]["Workflow"]["Status"] == "SUPPRESSED"


def test_passed_does_not_auto_resolve_custom_findings(hub: SecurityHubResponses) -> None:
    import_findings(hub, finding(Compliance={"Status": "FAILED"}))
    import_findings(
        hub, finding(updated_at="2026-11-02T00:00:00Z", Compliance={"Status": "PASSED"})
    )
    assert hub.backend.findings(REGION)[0]["Workflow"]["Status"] == "NEW"
    _set_workflow(hub, "RESOLVED")
    # Still FAILED -> FAILED is not a PASSED -> FAILED transition: no reopen.
    import_findings(
        hub, finding(updated_at="2026-11-03T00:00:00Z", Compliance={"Status": "PASSED"})
    )
    assert hub.backend.findings(REGION)[0]["Workflow"]["Status"] == "RESOLVED"


def test_suppressed_survives_compliance_regression(hub: SecurityHubResponses) -> None:
    import_findings(hub, finding(Compliance={"Status": "PASSED"}))
    _set_workflow(hub, "SUPPRESSED")
    import_findings(
        hub, finding(updated_at="2026-11-02T00:00:00Z", Compliance={"Status": "FAILED"})
    )
    assert hub.backend.findings(REGION)[0]["Workflow"]["Status"] == "SUPPRESSED"


def test_unarchiving_reopens_notified(hub: SecurityHubResponses) -> None:
    import_findings(hub, finding(RecordState="ARCHIVED"))
    _set_workflow(hub, "NOTIFIED")
    import_findings(hub, finding(updated_at="2026-11-02T00:00:00Z", RecordState="ACTIVE"))
    assert hub.backend.findings(REGION)[0]["Workflow"]["Status"] == "NEW"


# -------------------------------------------------------------------------- BatchUpdateFindings


def test_batch_update_findings(hub: SecurityHubResponses) -> None:
    import_findings(hub, finding())
    known = {"Id": "cluster-a", "ProductArn": PRODUCT_ARN}
    unknown = {"Id": "nope", "ProductArn": PRODUCT_ARN}
    response = call(
        hub,
        "BatchUpdateFindings",
        {
            "FindingIdentifiers": [known, unknown],
            "Note": {"Text": "Ticket NET-1", "UpdatedBy": "secops"},
            "Severity": {"Normalized": 10},
            "Workflow": {"Status": "NOTIFIED"},
            "VerificationState": "TRUE_POSITIVE",
            "UserDefinedFields": {"ticket": "NET-1"},
            "Confidence": 80,
        },
    )
    assert response.status == 200
    assert response.body["ProcessedFindings"] == [known]
    assert response.body["UnprocessedFindings"] == [
        {
            "FindingIdentifier": unknown,
            "ErrorCode": "FindingNotFound",
            "ErrorMessage": "Finding Not Found",
        }
    ]
    [stored] = hub.backend.findings(REGION)
    assert stored["Note"]["Text"] == "Ticket NET-1"
    assert parse_timestamp(stored["Note"]["UpdatedAt"]) is not None
    assert stored["Severity"] == {"Label": "LOW", "Normalized": 10}
    assert stored["Workflow"] == {"Status": "NOTIFIED"}
    assert stored["VerificationState"] == "TRUE_POSITIVE"
    assert stored["UserDefinedFields"] == {"ticket": "NET-1"}
    # API_BatchUpdateFindings: updates don't affect UpdatedAt.
    assert stored["UpdatedAt"] == "2026-11-01T10:00:00Z"

    # The customer's Severity survives later provider imports; the provider's copy is kept.
    import_findings(hub, finding(updated_at="2026-11-02T00:00:00Z", Severity={"Label": "CRITICAL"}))
    [stored] = hub.backend.findings(REGION)
    assert stored["Severity"]["Label"] == "LOW"
    assert stored["FindingProviderFields"]["Severity"]["Label"] == "CRITICAL"


@pytest.mark.parametrize(
    "body",
    [
        {"FindingIdentifiers": [], "Workflow": {"Status": "NEW"}},
        {"FindingIdentifiers": [{"Id": "a", "ProductArn": PRODUCT_ARN}] * 101, "Confidence": 1},
        {"FindingIdentifiers": [{"Id": "a", "ProductArn": PRODUCT_ARN}]},
        {"FindingIdentifiers": [{"Id": "a"}], "Confidence": 1},
        {
            "FindingIdentifiers": [{"Id": "a", "ProductArn": PRODUCT_ARN}],
            "Note": {"Text": "", "UpdatedBy": "me"},
        },
        {
            "FindingIdentifiers": [{"Id": "a", "ProductArn": PRODUCT_ARN}],
            "Note": {"Text": "x" * 513, "UpdatedBy": "me"},
        },
        {
            "FindingIdentifiers": [{"Id": "a", "ProductArn": PRODUCT_ARN}],
            "Workflow": {"Status": "DONE"},
        },
        {"FindingIdentifiers": [{"Id": "a", "ProductArn": PRODUCT_ARN}], "Confidence": 101},
        {
            "FindingIdentifiers": [{"Id": "a", "ProductArn": PRODUCT_ARN}],
            "Types": ["Bad/Namespace"],
        },
    ],
)
def test_batch_update_findings_rejects_invalid_input(
    hub: SecurityHubResponses, body: dict[str, Any]
) -> None:
    import_findings(hub, finding("a"))
    response = call(hub, "BatchUpdateFindings", body)
    assert response.status == 400
    assert error_code(response) == "InvalidInputException"
    assert hub.backend.findings(REGION)[0]["Workflow"] == {"Status": "NEW"}
