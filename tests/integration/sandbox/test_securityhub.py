"""Unit tests for the sandbox Security Hub emulator, calling handle() directly (no HTTP).

They pin down the behaviours the finding publisher depends on, so a change to the emulator
that would let a broken publisher pass shows up here first.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

from sandbox.client import SandboxClient
from sandbox.securityhub import SecurityHubEmulator, default_product_arn, parse_timestamp
from sandbox.wire import SandboxRequest, SandboxResponse
from tests.conftest import AwsClientFactory

ACCOUNT = "123456789012"
REGION = "eu-west-1"
PRODUCT_ARN = default_product_arn(REGION, ACCOUNT)
NETPOL_TYPE = "Software and Configuration Checks/Industry and Regulatory Standards/CIS EKS"


class FakeClock:
    """Manually advanced monotonic clock for the token buckets."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def call(
    hub: SecurityHubEmulator,
    operation: str,
    body: dict[str, Any] | None = None,
    *,
    region: str = REGION,
    account: str = ACCOUNT,
) -> SandboxResponse:
    return hub.handle(
        SandboxRequest(
            operation=operation,
            method="POST",
            path="/",
            query={},
            account=account,
            region=region,
            body=body or {},
        )
    )


def finding(
    finding_id: str = "cluster-a",
    updated_at: str = "2026-11-01T10:00:00Z",
    *,
    region: str = REGION,
    **overrides: Any,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "SchemaVersion": "2018-10-08",
        "Id": finding_id,
        "ProductArn": default_product_arn(region, ACCOUNT),
        "GeneratorId": "eks-netpol-auditor",
        "AwsAccountId": ACCOUNT,
        "Types": [NETPOL_TYPE],
        "CreatedAt": "2026-11-01T09:00:00Z",
        "UpdatedAt": updated_at,
        "Severity": {"Label": "HIGH"},
        "Title": f"NetworkPolicy not enforced on {finding_id}",
        "Description": "The VPC CNI network policy agent is disabled.",
        "Resources": [
            {
                "Type": "AwsEksCluster",
                "Id": f"arn:aws:eks:{region}:{ACCOUNT}:cluster/{finding_id}",
                "Tags": {"team": "platform"},
            }
        ],
        "Compliance": {"Status": "FAILED"},
        "ProductFields": {"acme/netpol/Reason": "disabled"},
    }
    result.update(overrides)
    return result


def import_findings(hub: SecurityHubEmulator, *findings: dict[str, Any]) -> dict[str, Any]:
    response = call(hub, "BatchImportFindings", {"Findings": list(findings)})
    assert response.status == 200, response.body
    return response.body


def get_findings(hub: SecurityHubEmulator, **body: Any) -> SandboxResponse:
    return call(hub, "GetFindings", body)


def ids(response: SandboxResponse) -> list[str]:
    assert response.status == 200, response.body
    return [f["Id"] for f in response.body["Findings"]]


def error_code(response: SandboxResponse) -> str:
    return response.headers["X-Amzn-ErrorType"]


@pytest.fixture
def hub() -> SecurityHubEmulator:
    return SecurityHubEmulator(rate_limits=False)


# -------------------------------------------------------------------------- BatchImportFindings


def test_import_creates_finding_with_service_defaults(hub: SecurityHubEmulator) -> None:
    body = import_findings(hub, finding())
    assert body == {"FailedCount": 0, "SuccessCount": 1, "FailedFindings": []}
    [stored] = hub.findings(REGION)
    assert stored["Workflow"] == {"Status": "NEW"}
    assert stored["WorkflowState"] == "NEW"
    assert stored["RecordState"] == "ACTIVE"
    assert stored["Region"] == REGION
    assert stored["Severity"] == {"Label": "HIGH", "Normalized": 70}
    assert stored["FindingProviderFields"]["Severity"]["Label"] == "HIGH"
    assert stored["ProductFields"]["aws/securityhub/FindingId"] == f"{PRODUCT_ARN}/cluster-a"
    assert hub.findings("us-east-1") == []


def test_newer_update_replaces_and_older_or_equal_is_ignored(hub: SecurityHubEmulator) -> None:
    import_findings(hub, finding(updated_at="2026-11-01T10:00:00Z"))
    newer = finding(updated_at="2026-11-01T11:00:00.5+01:00", Title="newer")  # 10:00:00.5Z
    assert import_findings(hub, newer)["SuccessCount"] == 1
    assert hub.findings(REGION)[0]["Title"] == "newer"

    for stale in ("2026-11-01T10:00:00.500Z", "2026-11-01T09:59:59Z"):
        body = import_findings(hub, finding(updated_at=stale, Title="stale"))
        # AWS reports an ignored update as a success: the caller cannot tell.
        assert body == {"FailedCount": 0, "SuccessCount": 1, "FailedFindings": []}
        assert hub.findings(REGION)[0]["Title"] == "newer"


def test_invalid_findings_fail_individually(hub: SecurityHubEmulator) -> None:
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
    assert sorted(f["Id"] for f in hub.findings(REGION)) == ["good-1", "good-2"]


def test_product_arn_region_must_match_request_region(hub: SecurityHubEmulator) -> None:
    body = call(hub, "BatchImportFindings", {"Findings": [finding()]}, region="us-east-1").body
    assert body["FailedCount"] == 1
    assert import_findings(hub, finding(region="us-east-1"))["FailedCount"] == 1
    body = call(
        hub, "BatchImportFindings", {"Findings": [finding(region="us-east-1")]}, region="us-east-1"
    ).body
    assert body["SuccessCount"] == 1


@pytest.mark.parametrize("count", [0, 101])
def test_import_batch_size_limits(hub: SecurityHubEmulator, count: int) -> None:
    response = call(
        hub, "BatchImportFindings", {"Findings": [finding(f"c{i}") for i in range(count)]}
    )
    assert response.status == 400
    assert error_code(response) == "InvalidInputException"
    assert hub.findings(REGION) == []


def test_import_of_100_findings_is_allowed(hub: SecurityHubEmulator) -> None:
    body = import_findings(hub, *(finding(f"c{i}") for i in range(100)))
    assert body["SuccessCount"] == 100


def test_import_ignores_workflow_fields_on_update(hub: SecurityHubEmulator) -> None:
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
    [stored] = hub.findings(REGION)
    assert stored["Workflow"] == {"Status": "SUPPRESSED"}
    assert stored["WorkflowState"] == "NEW"
    assert stored["Note"]["Text"] == "ack"
    assert "VerificationState" not in stored
    assert "UserDefinedFields" not in stored
    assert stored["UpdatedAt"] == "2026-11-02T00:00:00Z"


def _set_workflow(hub: SecurityHubEmulator, status: str) -> None:
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
    hub: SecurityHubEmulator, status: str, new_compliance: str
) -> None:
    import_findings(hub, finding(Compliance={"Status": "PASSED"}))
    _set_workflow(hub, status)
    import_findings(
        hub, finding(updated_at="2026-11-02T00:00:00Z", Compliance={"Status": new_compliance})
    )
    assert hub.findings(REGION)[0]["Workflow"]["Status"] == "NEW"


def test_unarchiving_reopens_but_suppressed_stays(hub: SecurityHubEmulator) -> None:
    import_findings(hub, finding(RecordState="ARCHIVED"))
    _set_workflow(hub, "RESOLVED")
    import_findings(hub, finding(updated_at="2026-11-02T00:00:00Z", RecordState="ACTIVE"))
    assert hub.findings(REGION)[0]["Workflow"]["Status"] == "NEW"

    import_findings(hub, finding(updated_at="2026-11-03T00:00:00Z", RecordState="ARCHIVED"))
    _set_workflow(hub, "SUPPRESSED")
    import_findings(hub, finding(updated_at="2026-11-04T00:00:00Z", RecordState="ACTIVE"))
    assert hub.findings(REGION)[0]["Workflow"]["Status"] == "SUPPRESSED"


def test_passed_does_not_auto_resolve_custom_findings(hub: SecurityHubEmulator) -> None:
    import_findings(hub, finding(Compliance={"Status": "FAILED"}))
    import_findings(
        hub, finding(updated_at="2026-11-02T00:00:00Z", Compliance={"Status": "PASSED"})
    )
    assert hub.findings(REGION)[0]["Workflow"]["Status"] == "NEW"
    _set_workflow(hub, "RESOLVED")
    # Still FAILED -> FAILED is not a PASSED -> FAILED transition: no reopen.
    import_findings(
        hub, finding(updated_at="2026-11-03T00:00:00Z", Compliance={"Status": "PASSED"})
    )
    assert hub.findings(REGION)[0]["Workflow"]["Status"] == "RESOLVED"


def test_suppressed_survives_compliance_regression(hub: SecurityHubEmulator) -> None:
    import_findings(hub, finding(Compliance={"Status": "PASSED"}))
    _set_workflow(hub, "SUPPRESSED")
    import_findings(
        hub, finding(updated_at="2026-11-02T00:00:00Z", Compliance={"Status": "FAILED"})
    )
    assert hub.findings(REGION)[0]["Workflow"]["Status"] == "SUPPRESSED"


def test_unarchiving_reopens_notified(hub: SecurityHubEmulator) -> None:
    import_findings(hub, finding(RecordState="ARCHIVED"))
    _set_workflow(hub, "NOTIFIED")
    import_findings(hub, finding(updated_at="2026-11-02T00:00:00Z", RecordState="ACTIVE"))
    assert hub.findings(REGION)[0]["Workflow"]["Status"] == "NEW"


# -------------------------------------------------------------------------- FindingProviderFields
# User guide "BatchImportFindings for finding providers", section "Using FindingProviderFields".

OTHER_TYPE = "Software and Configuration Checks/Vulnerabilities/CVE"


def provider_fields(label: str, types: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"Severity": {"Label": label}, "Types": types or [NETPOL_TYPE], **extra}


def without(name: str, **overrides: Any) -> dict[str, Any]:
    result = finding(**overrides)
    result.pop(name)
    return result


def update_fields(hub: SecurityHubEmulator, **fields: Any) -> None:
    identifiers = [{"Id": "cluster-a", "ProductArn": PRODUCT_ARN}]
    response = call(hub, "BatchUpdateFindings", {"FindingIdentifiers": identifiers, **fields})
    assert response.body["ProcessedFindings"], response.body


def test_new_finding_takes_provider_fields_over_top_level(hub: SecurityHubEmulator) -> None:
    import_findings(
        hub,
        finding(
            Severity={"Label": "LOW"},
            Confidence=10,
            FindingProviderFields=provider_fields("HIGH", [OTHER_TYPE], Confidence=90),
        ),
    )
    [stored] = hub.findings(REGION)
    assert stored["Severity"] == {"Label": "HIGH", "Normalized": 70}
    assert stored["Types"] == [OTHER_TYPE]
    assert stored["Confidence"] == 90
    assert stored["FindingProviderFields"]["Severity"] == {"Label": "HIGH"}


def test_top_level_only_populates_provider_fields(hub: SecurityHubEmulator) -> None:
    import_findings(hub, finding(Severity={"Normalized": 95, "Original": "9.5"}))
    [stored] = hub.findings(REGION)
    assert stored["Severity"] == {"Label": "CRITICAL", "Normalized": 95, "Original": "9.5"}
    # FindingProviderSeverity has only Label and Original (botocore model).
    assert stored["FindingProviderFields"]["Severity"] == {"Label": "CRITICAL", "Original": "9.5"}
    assert stored["FindingProviderFields"]["Types"] == [NETPOL_TYPE]


def test_provider_fields_update_follows_to_top_level(hub: SecurityHubEmulator) -> None:
    import_findings(hub, without("Severity", FindingProviderFields=provider_fields("HIGH")))
    sent = without(
        "Severity",
        updated_at="2026-11-02T00:00:00Z",
        FindingProviderFields=provider_fields("LOW", [OTHER_TYPE]),
    )
    sent.pop("Types")
    import_findings(hub, sent)
    [stored] = hub.findings(REGION)
    assert stored["Severity"] == {"Label": "LOW", "Normalized": 1}
    assert stored["Types"] == [OTHER_TYPE]


def test_customer_severity_survives_provider_updates(hub: SecurityHubEmulator) -> None:
    import_findings(hub, without("Severity", FindingProviderFields=provider_fields("HIGH")))
    update_fields(hub, Severity={"Label": "INFORMATIONAL"})
    sent = without(
        "Severity",
        updated_at="2026-11-02T00:00:00Z",
        FindingProviderFields=provider_fields("CRITICAL", [OTHER_TYPE]),
    )
    sent.pop("Types")
    import_findings(hub, sent)
    [stored] = hub.findings(REGION)
    # Severity is the customer's; Types, which the customer never touched, follows the provider.
    assert stored["Severity"] == {"Label": "INFORMATIONAL", "Normalized": 0}
    assert stored["FindingProviderFields"]["Severity"] == {"Label": "CRITICAL"}
    assert stored["Types"] == [OTHER_TYPE]

    update_fields(hub, Types=[NETPOL_TYPE])
    sent = dict(sent, UpdatedAt="2026-11-03T00:00:00Z")
    import_findings(hub, sent)
    [stored] = hub.findings(REGION)
    assert stored["Types"] == [NETPOL_TYPE]
    assert stored["FindingProviderFields"]["Types"] == [OTHER_TYPE]


def test_existing_finding_uses_both_values(hub: SecurityHubEmulator) -> None:
    import_findings(hub, finding(FindingProviderFields=provider_fields("HIGH")))
    import_findings(
        hub,
        finding(
            updated_at="2026-11-02T00:00:00Z",
            Severity={"Label": "MEDIUM"},
            FindingProviderFields=provider_fields("LOW"),
        ),
    )
    [stored] = hub.findings(REGION)
    assert stored["Severity"]["Label"] == "MEDIUM"
    assert stored["FindingProviderFields"]["Severity"] == {"Label": "LOW"}


def test_update_without_an_attribute_keeps_it(hub: SecurityHubEmulator) -> None:
    import_findings(hub, finding(FindingProviderFields=provider_fields("HIGH", Criticality=70)))
    import_findings(hub, finding(updated_at="2026-11-02T00:00:00Z"))
    [stored] = hub.findings(REGION)
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
    hub: SecurityHubEmulator, fields: dict[str, Any], message: str
) -> None:
    body = import_findings(hub, finding(FindingProviderFields=fields))
    assert body["FailedCount"] == 1
    assert message in body["FailedFindings"][0]["ErrorMessage"]
    assert hub.findings(REGION) == []


# -------------------------------------------------------------------------- ingestion events


def test_every_accepted_finding_is_an_ingestion_event(hub: SecurityHubEmulator) -> None:
    import_findings(hub, finding("a"), finding("b"), finding("bad", Title=""))
    import_findings(hub, finding("a", updated_at="2026-11-02T00:00:00Z"))  # update
    import_findings(hub, finding("a", updated_at="2026-11-02T00:00:00Z"))  # stale, still billed
    call(
        hub,
        "BatchImportFindings",
        {"Findings": [finding("c", region="us-east-1")]},
        region="us-east-1",
    )
    assert hub.ingestion_events() == [
        {"account": ACCOUNT, "region": REGION, "count": 4},
        {"account": ACCOUNT, "region": "us-east-1", "count": 1},
    ]
    # Neither BatchUpdateFindings nor reads are ingestion events.
    update_fields_body = {"FindingIdentifiers": [{"Id": "a", "ProductArn": PRODUCT_ARN}]}
    call(hub, "BatchUpdateFindings", {**update_fields_body, "Confidence": 5})
    get_findings(hub)
    assert sum(row["count"] for row in hub.ingestion_events()) == 5
    hub.reset_ingestion_events()
    assert hub.ingestion_events() == []
    assert len(hub.findings(REGION)) == 2


# -------------------------------------------------------------------------- BatchUpdateFindings


def test_batch_update_findings(hub: SecurityHubEmulator) -> None:
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
    [stored] = hub.findings(REGION)
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
    [stored] = hub.findings(REGION)
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
    hub: SecurityHubEmulator, body: dict[str, Any]
) -> None:
    import_findings(hub, finding("a"))
    response = call(hub, "BatchUpdateFindings", body)
    assert response.status == 400
    assert error_code(response) == "InvalidInputException"
    assert hub.findings(REGION)[0]["Workflow"] == {"Status": "NEW"}


# -------------------------------------------------------------------------- GetFindings


@pytest.fixture
def populated(hub: SecurityHubEmulator) -> SecurityHubEmulator:
    import_findings(
        hub,
        finding("prod-a", Compliance={"Status": "FAILED"}),
        finding("prod-b", Compliance={"Status": "PASSED"}, RecordState="ARCHIVED"),
        finding(
            "dev-a",
            Compliance={"Status": "WARNING"},
            ProductFields={"acme/netpol/Reason": "addon-missing"},
        ),
        finding("dev-b", Compliance={"Status": "PASSED"}),
    )
    return hub


def eq(*values: str) -> list[dict[str, str]]:
    return [{"Value": v, "Comparison": "EQUALS"} for v in values]


def test_positive_values_of_one_attribute_are_ored(populated: SecurityHubEmulator) -> None:
    response = get_findings(populated, Filters={"Id": eq("prod-a", "dev-b")})
    assert sorted(ids(response)) == ["dev-b", "prod-a"]


def test_different_attributes_are_anded(populated: SecurityHubEmulator) -> None:
    filters = {"ComplianceStatus": eq("PASSED"), "RecordState": eq("ACTIVE")}
    assert ids(get_findings(populated, Filters=filters)) == ["dev-b"]


def test_negative_values_are_anded(populated: SecurityHubEmulator) -> None:
    filters = {
        "Id": [
            {"Value": "prod-a", "Comparison": "NOT_EQUALS"},
            {"Value": "dev", "Comparison": "PREFIX_NOT_EQUALS"},
        ]
    }
    assert ids(get_findings(populated, Filters=filters)) == ["prod-b"]


def test_prefix_then_not_equals(populated: SecurityHubEmulator) -> None:
    filters = {
        "Id": [
            {"Value": "prod", "Comparison": "PREFIX"},
            {"Value": "dev-b", "Comparison": "PREFIX"},
            {"Value": "prod-b", "Comparison": "NOT_EQUALS"},
        ]
    }
    # The PREFIXes are ORed first, then NOT_EQUALS removes from that set.
    assert sorted(ids(get_findings(populated, Filters=filters))) == ["dev-b", "prod-a"]


def test_contains_and_not_contains(populated: SecurityHubEmulator) -> None:
    contains = {"Title": [{"Value": "on prod", "Comparison": "CONTAINS"}]}
    assert sorted(ids(get_findings(populated, Filters=contains))) == ["prod-a", "prod-b"]
    not_contains = {
        "Title": [
            {"Value": "prod-a", "Comparison": "NOT_CONTAINS"},
            {"Value": "dev", "Comparison": "NOT_CONTAINS"},
        ]
    }
    assert ids(get_findings(populated, Filters=not_contains)) == ["prod-b"]


@pytest.mark.parametrize(
    "comparisons",
    [
        ["CONTAINS", "EQUALS"],
        ["NOT_CONTAINS", "NOT_EQUALS"],
        ["EQUALS", "NOT_EQUALS"],
        ["EQUALS", "PREFIX_NOT_EQUALS"],
        ["CONTAINS_WORD"],
    ],
)
def test_forbidden_comparison_mixes(populated: SecurityHubEmulator, comparisons: list[str]) -> None:
    filters = {"Title": [{"Value": "x", "Comparison": c} for c in comparisons]}
    response = get_findings(populated, Filters=filters)
    assert response.status == 400
    assert error_code(response) == "InvalidInputException"


def test_resource_and_region_filters(populated: SecurityHubEmulator) -> None:
    arn = f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/dev-a"
    filters = {
        "ResourceId": eq(arn),
        "ResourceType": eq("AwsEksCluster"),
        "Region": eq(REGION),
        "ProductArn": eq(PRODUCT_ARN),
        "AwsAccountId": eq(ACCOUNT),
        "GeneratorId": eq("eks-netpol-auditor"),
        "WorkflowStatus": eq("NEW"),
    }
    assert ids(get_findings(populated, Filters=filters)) == ["dev-a"]
    assert ids(get_findings(populated, Filters={"Region": eq("us-east-1")})) == []


def test_map_filters(populated: SecurityHubEmulator) -> None:
    reason = [{"Key": "acme/netpol/Reason", "Value": "addon-missing", "Comparison": "EQUALS"}]
    assert ids(get_findings(populated, Filters={"ProductFields": reason})) == ["dev-a"]
    not_reason = [{"Key": "acme/netpol/Reason", "Value": "disabled", "Comparison": "NOT_EQUALS"}]
    assert ids(get_findings(populated, Filters={"ProductFields": not_reason})) == ["dev-a"]
    tags = [{"Key": "team", "Value": "platform", "Comparison": "EQUALS"}]
    assert len(ids(get_findings(populated, Filters={"ResourceTags": tags}))) == 4
    contains = [{"Key": "team", "Value": "plat", "Comparison": "CONTAINS"}]
    assert get_findings(populated, Filters={"ResourceTags": contains}).status == 400


def test_date_filter(populated: SecurityHubEmulator) -> None:
    import_findings(populated, finding("later", updated_at="2026-12-01T00:00:00Z"))
    window = [{"Start": "2026-11-15T00:00:00Z", "End": "2027-01-01T00:00:00+00:00"}]
    assert ids(get_findings(populated, Filters={"UpdatedAt": window})) == ["later"]


def test_filter_limits(populated: SecurityHubEmulator) -> None:
    names = [
        "Id", "ProductArn", "GeneratorId", "AwsAccountId", "RecordState", "ComplianceStatus",
        "WorkflowStatus", "ResourceId", "ResourceType", "Region", "Title",
    ]  # fmt: skip
    eleven = {name: [{"Value": "x", "Comparison": "PREFIX"}] for name in names}
    response = get_findings(populated, Filters=eleven)
    assert response.status == 400
    assert error_code(response) == "InvalidInputException"
    ten = dict(list(eleven.items())[:10])
    assert get_findings(populated, Filters=ten).status == 200

    assert get_findings(populated, Filters={"Id": eq(*(f"v{i}" for i in range(21)))}).status == 400
    assert get_findings(populated, Filters={"Id": eq(*(f"v{i}" for i in range(20)))}).status == 200
    for bad in (0, 101):
        assert get_findings(populated, MaxResults=bad).status == 400
    assert get_findings(populated, Filters={"NoSuchAttribute": eq("x")}).status == 400
    unsupported = get_findings(populated, Filters={"MalwareName": eq("x")})
    assert unsupported.status == 400
    assert "not implemented" in unsupported.body["message"]


def test_pagination_is_stable_and_complete(hub: SecurityHubEmulator) -> None:
    import_findings(hub, *(finding(f"c{i:03d}") for i in range(25)))
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        body: dict[str, Any] = {
            "MaxResults": 10,
            "Filters": {"Id": [{"Value": "c", "Comparison": "PREFIX"}]},
        }
        if token:
            body["NextToken"] = token
        response = call(hub, "GetFindings", body)
        seen += ids(response)
        pages += 1
        if pages == 1:
            # A finding imported mid-listing must not shift the pages (keyset pagination).
            import_findings(hub, finding("c000-late"))
        token = response.body.get("NextToken")
        if not token:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 25
    assert seen == sorted(seen)


def test_invalid_next_token(populated: SecurityHubEmulator) -> None:
    first = get_findings(populated, MaxResults=1)
    token = first.body["NextToken"]
    for bad in ("garbage!!", base64.urlsafe_b64encode(b'{"v":1}').decode()):
        response = get_findings(populated, MaxResults=1, NextToken=bad)
        assert response.status == 400
        assert error_code(response) == "InvalidInputException"
    # A token only continues the query that issued it.
    other = get_findings(populated, MaxResults=1, NextToken=token, Filters={"Id": eq("dev-a")})
    assert other.status == 400
    assert get_findings(populated, MaxResults=1, NextToken=token).status == 200


def test_sort_criteria(populated: SecurityHubEmulator) -> None:
    import_findings(populated, finding("zzz", updated_at="2026-10-01T00:00:00Z"))
    response = get_findings(populated, SortCriteria=[{"Field": "UpdatedAt", "SortOrder": "asc"}])
    assert ids(response)[0] == "zzz"
    response = get_findings(populated, SortCriteria=[{"Field": "Id", "SortOrder": "desc"}])
    assert ids(response) == ["zzz", "prod-b", "prod-a", "dev-b", "dev-a"]


# -------------------------------------------------------------------------- enablement, misc


def test_disabled_region_rejects_every_operation(hub: SecurityHubEmulator) -> None:
    hub.set_enabled(REGION, False)
    for operation, body in (
        ("BatchImportFindings", {"Findings": [finding()]}),
        ("BatchUpdateFindings", {"FindingIdentifiers": [{"Id": "a", "ProductArn": PRODUCT_ARN}]}),
        ("GetFindings", {}),
        ("DescribeHub", {}),
    ):
        response = call(hub, operation, body)
        assert response.status == 401
        assert error_code(response) == "InvalidAccessException"
        assert response.body["message"] == (
            "Account 123456789012 is not subscribed to AWS Security Hub"
        )
    assert call(hub, "DescribeHub", region="us-east-1").status == 200
    hub.set_enabled(REGION, True)
    described = call(hub, "DescribeHub")
    assert described.body["HubArn"] == f"arn:aws:securityhub:{REGION}:{ACCOUNT}:hub/default"


def test_unknown_operation(hub: SecurityHubEmulator) -> None:
    response = call(hub, "EnableSecurityHub")
    assert response.status == 400
    assert "not implemented" in response.body["message"]


def test_reset_and_copies(hub: SecurityHubEmulator) -> None:
    import_findings(hub, finding())
    hub.findings(REGION)[0]["Title"] = "mutated"
    assert hub.findings(REGION)[0]["Title"] != "mutated"
    hub.set_enabled(REGION, False)
    hub.reset()
    assert hub.findings(REGION) == []
    assert call(hub, "DescribeHub").status == 200


def test_responses_are_json_serialisable(populated: SecurityHubEmulator) -> None:
    json.loads(get_findings(populated).encode())


# -------------------------------------------------------------------------- rate limits


def _burst(hub: SecurityHubEmulator, operation: str, body: dict[str, Any], n: int) -> list[int]:
    return [call(hub, operation, body).status for _ in range(n)]


def test_get_findings_rate_limit() -> None:
    clock = FakeClock()
    hub = SecurityHubEmulator(clock=clock)
    statuses = _burst(hub, "GetFindings", {}, 7)
    assert statuses == [200] * 6 + [429]
    throttled = call(hub, "GetFindings")
    assert error_code(throttled) == "LimitExceededException"
    clock.advance(1.0)  # 3 TPS refill
    assert _burst(hub, "GetFindings", {}, 4) == [200, 200, 200, 429]
    # Buckets are per Region (and per account).
    assert call(hub, "GetFindings", region="us-east-1").status == 200
    assert call(hub, "GetFindings", account="210987654321").status == 200


def test_import_and_update_rate_limits() -> None:
    clock = FakeClock()
    hub = SecurityHubEmulator(clock=clock)
    body = {"Findings": [finding()]}
    assert _burst(hub, "BatchImportFindings", body, 31) == [200] * 30 + [429]
    clock.advance(0.5)  # 10 TPS -> 5 tokens
    assert _burst(hub, "BatchImportFindings", body, 6) == [200] * 5 + [429]
    update = {"FindingIdentifiers": [{"Id": "x", "ProductArn": PRODUCT_ARN}], "Confidence": 1}
    assert _burst(hub, "BatchUpdateFindings", update, 31) == [200] * 30 + [429]


def test_rate_limits_can_be_disabled() -> None:
    hub = SecurityHubEmulator(clock=FakeClock(), rate_limits=False)
    assert set(_burst(hub, "GetFindings", {}, 50)) == {200}


def test_concurrent_imports_are_consistent(hub: SecurityHubEmulator) -> None:
    errors: list[BaseException] = []

    def worker(n: int) -> Callable[[], None]:
        def run() -> None:
            try:
                for i in range(20):
                    import_findings(hub, finding(f"t{n}-{i}"))
            except BaseException as exc:  # pragma: no cover - surfaced below
                errors.append(exc)

        return run

    threads = [threading.Thread(target=worker(n)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(hub.findings(REGION)) == 160


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
