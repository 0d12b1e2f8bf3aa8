"""Sandbox Security Hub: FindingProviderFields and finding retention.

They pin down the behaviours the finding publisher depends on, so a change to the emulator
that would let a broken publisher pass shows up here first.
"""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.client import SandboxClient, SandboxError
from sandbox.services.securityhub import SecurityHubResponses
from tests.builders import ACCOUNT
from tests.conftest import AwsClientFactory
from tests.integration.sandbox.securityhub_support import (
    NETPOL_TYPE,
    PRODUCT_ARN,
    REGION,
    call,
    finding,
    import_findings,
)

# -------------------------------------------------------------------------- FindingProviderFields
# User guide "BatchImportFindings for finding providers", section "Using FindingProviderFields".

OTHER_TYPE = "Software and Configuration Checks/Vulnerabilities/CVE"


def provider_fields(label: str, types: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"Severity": {"Label": label}, "Types": types or [NETPOL_TYPE], **extra}


def without(name: str, **overrides: Any) -> dict[str, Any]:
    result = finding(**overrides)
    result.pop(name)
    return result


def update_fields(hub: SecurityHubResponses, **fields: Any) -> None:
    identifiers = [{"Id": "cluster-a", "ProductArn": PRODUCT_ARN}]
    response = call(hub, "BatchUpdateFindings", {"FindingIdentifiers": identifiers, **fields})
    assert response.body["ProcessedFindings"], response.body


def test_new_finding_takes_provider_fields_over_top_level(hub: SecurityHubResponses) -> None:
    import_findings(
        hub,
        finding(
            Severity={"Label": "LOW"},
            Confidence=10,
            FindingProviderFields=provider_fields("HIGH", [OTHER_TYPE], Confidence=90),
        ),
    )
    [stored] = hub.backend.findings(REGION)
    assert stored["Severity"] == {"Label": "HIGH", "Normalized": 70}
    assert stored["Types"] == [OTHER_TYPE]
    assert stored["Confidence"] == 90
    assert stored["FindingProviderFields"]["Severity"] == {"Label": "HIGH"}


def test_top_level_only_populates_provider_fields(hub: SecurityHubResponses) -> None:
    import_findings(hub, finding(Severity={"Normalized": 95, "Original": "9.5"}))
    [stored] = hub.backend.findings(REGION)
    assert stored["Severity"] == {"Label": "CRITICAL", "Normalized": 95, "Original": "9.5"}
    # FindingProviderSeverity has only Label and Original (botocore model).
    assert stored["FindingProviderFields"]["Severity"] == {"Label": "CRITICAL", "Original": "9.5"}
    assert stored["FindingProviderFields"]["Types"] == [NETPOL_TYPE]


def test_provider_fields_update_follows_to_top_level(hub: SecurityHubResponses) -> None:
    import_findings(hub, without("Severity", FindingProviderFields=provider_fields("HIGH")))
    sent = without(
        "Severity",
        updated_at="2026-11-02T00:00:00Z",
        FindingProviderFields=provider_fields("LOW", [OTHER_TYPE]),
    )
    sent.pop("Types")
    import_findings(hub, sent)
    [stored] = hub.backend.findings(REGION)
    assert stored["Severity"] == {"Label": "LOW", "Normalized": 1}
    assert stored["Types"] == [OTHER_TYPE]


def test_customer_severity_survives_provider_updates(hub: SecurityHubResponses) -> None:
    import_findings(hub, without("Severity", FindingProviderFields=provider_fields("HIGH")))
    update_fields(hub, Severity={"Label": "INFORMATIONAL"})
    sent = without(
        "Severity",
        updated_at="2026-11-02T00:00:00Z",
        FindingProviderFields=provider_fields("CRITICAL", [OTHER_TYPE]),
    )
    sent.pop("Types")
    import_findings(hub, sent)
    [stored] = hub.backend.findings(REGION)
    # Severity is the customer's; Types, which the customer never touched, follows the provider.
    assert stored["Severity"] == {"Label": "INFORMATIONAL", "Normalized": 0}
    assert stored["FindingProviderFields"]["Severity"] == {"Label": "CRITICAL"}
    assert stored["Types"] == [OTHER_TYPE]

    update_fields(hub, Types=[NETPOL_TYPE])
    sent = dict(sent, UpdatedAt="2026-11-03T00:00:00Z")
    import_findings(hub, sent)
    [stored] = hub.backend.findings(REGION)
    assert stored["Types"] == [NETPOL_TYPE]
    assert stored["FindingProviderFields"]["Types"] == [OTHER_TYPE]


def test_existing_finding_uses_both_values(hub: SecurityHubResponses) -> None:
    import_findings(hub, finding(FindingProviderFields=provider_fields("HIGH")))
    import_findings(
        hub,
        finding(
            updated_at="2026-11-02T00:00:00Z",
            Severity={"Label": "MEDIUM"},
            FindingProviderFields=provider_fields("LOW"),
        ),
    )
    [stored] = hub.backend.findings(REGION)
    assert stored["Severity"]["Label"] == "MEDIUM"
    assert stored["FindingProviderFields"]["Severity"] == {"Label": "LOW"}


def test_update_without_an_attribute_keeps_it(hub: SecurityHubResponses) -> None:
    import_findings(hub, finding(FindingProviderFields=provider_fields("HIGH", Criticality=70)))
    import_findings(hub, finding(updated_at="2026-11-02T00:00:00Z"))
    [stored] = hub.backend.findings(REGION)
    assert stored["Criticality"] == 70
    assert stored["FindingProviderFields"]["Criticality"] == 70


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"Severity": {"Label": "HIGH"}}, "FindingProviderFields needs Types"),
        ({"Types": [NETPOL_TYPE]}, "FindingProviderFields needs Severity"),
        (provider_fields("SEVERE"), "FindingProviderFields.Severity.Label is invalid"),
        (
            {"Severity": {"Original": "x"}, "Types": [NETPOL_TYPE]},
            "FindingProviderFields.Severity needs Label",
        ),
        (provider_fields("HIGH", ["Compliance/X"]), "FindingProviderFields.Types"),
        (provider_fields("HIGH", Confidence=101), "FindingProviderFields.Confidence"),
    ],
)
def test_invalid_provider_fields_fail_the_finding(
    hub: SecurityHubResponses, fields: dict[str, Any], message: str
) -> None:
    body = import_findings(hub, finding(FindingProviderFields=fields))
    assert body["FailedCount"] == 1
    assert message in body["FailedFindings"][0]["ErrorMessage"]
    assert hub.backend.findings(REGION) == []


# -------------------------------------------------------------------------- retention
# User guide "Creating and updating findings in Security Hub CSPM": active findings go 90 days,
# archived ones 30 days after their most recent UpdatedAt.


def test_retention_follows_updated_at_and_record_state(hub: SecurityHubResponses) -> None:
    import_findings(
        hub,
        finding("active", updated_at="2026-01-01T00:00:00Z"),
        finding("archived", updated_at="2026-01-01T00:00:00Z", RecordState="ARCHIVED"),
        finding("refreshed", updated_at="2026-01-01T00:00:00Z"),
    )
    import_findings(hub, finding("refreshed", updated_at="2026-03-01T00:00:00Z"))
    # A customer's BatchUpdateFindings does not move UpdatedAt, so it does not extend retention.
    update = {"FindingIdentifiers": [{"Id": "active", "ProductArn": PRODUCT_ARN}]}
    call(hub, "BatchUpdateFindings", {**update, "Workflow": {"Status": "NOTIFIED"}})

    assert hub.backend.expire_findings("2026-01-30T23:59:59Z") == []
    assert hub.backend.expire_findings("2026-01-31T00:00:00Z") == [
        {"account": ACCOUNT, "region": REGION, "id": "archived"}
    ]
    assert hub.backend.expire_findings("2026-03-31T23:59:59Z") == []
    assert hub.backend.expire_findings("2026-04-01T00:00:00Z") == [
        {"account": ACCOUNT, "region": REGION, "id": "active"}
    ]
    assert [f["Id"] for f in hub.backend.findings(REGION)] == ["refreshed"]
    # An expired finding imported again is a new finding: its workflow starts over.
    import_findings(hub, finding("active", updated_at="2026-04-02T00:00:00Z"))
    assert hub.backend.findings(REGION)[-1]["Workflow"] == {"Status": "NEW"}
    with pytest.raises(ValueError, match="as_of"):
        hub.backend.expire_findings("April")


def test_retention_through_the_control_api(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    client = aws_client("securityhub", REGION)
    client.batch_import_findings(Findings=[finding("old", updated_at="2026-01-01T00:00:00Z")])
    assert sandbox.expire_securityhub_findings("2026-04-01T00:00:00Z") == [
        {"account": ACCOUNT, "region": REGION, "id": "old"}
    ]
    assert client.get_findings()["Findings"] == []
    with pytest.raises(SandboxError) as refused:
        sandbox.expire_securityhub_findings("yesterday")
    assert refused.value.status == 400
