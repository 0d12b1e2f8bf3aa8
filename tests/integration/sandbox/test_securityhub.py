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

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.client import SandboxAccount, SandboxClient, SandboxError
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


# -------------------------------------------------------------------------- retention
# User guide "Creating and updating findings in Security Hub CSPM": active findings go 90 days,
# archived ones 30 days after their most recent UpdatedAt.


def test_retention_follows_updated_at_and_record_state(hub: SecurityHubEmulator) -> None:
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

    assert hub.expire_findings("2026-01-30T23:59:59Z") == []
    assert hub.expire_findings("2026-01-31T00:00:00Z") == [
        {"account": ACCOUNT, "region": REGION, "id": "archived"}
    ]
    assert hub.expire_findings("2026-03-31T23:59:59Z") == []
    assert hub.expire_findings("2026-04-01T00:00:00Z") == [
        {"account": ACCOUNT, "region": REGION, "id": "active"}
    ]
    assert [f["Id"] for f in hub.findings(REGION)] == ["refreshed"]
    # An expired finding imported again is a new finding: its workflow starts over.
    import_findings(hub, finding("active", updated_at="2026-04-02T00:00:00Z"))
    assert hub.findings(REGION)[-1]["Workflow"] == {"Status": "NEW"}
    with pytest.raises(ValueError, match="as_of"):
        hub.expire_findings("April")


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


# -------------------------------------------------------------------------- organization
# User guide "Administrator and member accounts", "How cross-Region aggregation works";
# API_GetFindings, API_BatchUpdateFindings, API_BatchImportFindings.

ADMIN = "111111111111"
MEMBER_A = "222222222222"
MEMBER_B = "333333333333"
OUTSIDER = "444444444444"
HOME = "us-east-1"
LINKED = "eu-west-1"
UNLINKED = "ap-southeast-2"


def owned(account: str, finding_id: str, region: str = HOME, **overrides: Any) -> dict[str, Any]:
    """A finding of ``account`` in ``region``, as that account's auditor imports it."""
    result = finding(finding_id, region=region, **overrides)
    result["AwsAccountId"] = account
    result["ProductArn"] = default_product_arn(region, account)
    return result


def import_as(hub: SecurityHubEmulator, account: str, *findings: dict[str, Any]) -> None:
    region = findings[0]["ProductArn"].split(":")[3]
    response = call(
        hub, "BatchImportFindings", {"Findings": list(findings)}, region=region, account=account
    )
    assert response.body["FailedCount"] == 0, response.body


def ids_as(hub: SecurityHubEmulator, account: str, region: str = HOME, **body: Any) -> list[str]:
    return sorted(ids(call(hub, "GetFindings", body, region=region, account=account)))


@pytest.fixture
def org(hub: SecurityHubEmulator) -> SecurityHubEmulator:
    hub.set_organization(ADMIN, [MEMBER_A, MEMBER_B])
    import_as(hub, ADMIN, owned(ADMIN, "admin-1"))
    import_as(hub, MEMBER_A, owned(MEMBER_A, "a-1"), owned(MEMBER_A, "a-2", RecordState="ARCHIVED"))
    import_as(hub, MEMBER_B, owned(MEMBER_B, "b-1", Compliance={"Status": "PASSED"}))
    import_as(hub, OUTSIDER, owned(OUTSIDER, "x-1"))
    return hub


def test_administrator_sees_its_members_findings_in_the_region(org: SecurityHubEmulator) -> None:
    assert ids_as(org, ADMIN) == ["a-1", "a-2", "admin-1", "b-1"]
    assert ids_as(org, MEMBER_A) == ["a-1", "a-2"]
    assert ids_as(org, OUTSIDER) == ["x-1"]
    # Security Hub "does not copy member account findings into the administrator account".
    assert [f["Id"] for f in org.findings(HOME, account=ADMIN)] == ["admin-1"]
    # Other Regions are not part of the view without aggregation.
    import_as(org, MEMBER_A, owned(MEMBER_A, "a-eu", region=LINKED))
    assert "a-eu" not in ids_as(org, ADMIN)
    assert ids_as(org, ADMIN, LINKED) == ["a-eu"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"AwsAccountId": eq(MEMBER_A)}, ["a-1", "a-2"]),
        ({"AwsAccountId": [{"Value": MEMBER_A, "Comparison": "NOT_EQUALS"}]}, ["admin-1", "b-1"]),
        ({"ProductArn": eq(default_product_arn(HOME, MEMBER_B))}, ["b-1"]),
        (
            {"GeneratorId": eq("eks-netpol-auditor"), "RecordState": eq("ACTIVE")},
            ["a-1", "admin-1", "b-1"],
        ),
        ({"ProductName": eq("Default"), "ComplianceStatus": eq("PASSED")}, ["b-1"]),
        (
            {"WorkflowStatus": eq("NEW"), "Id": [{"Value": "a-", "Comparison": "PREFIX"}]},
            ["a-1", "a-2"],
        ),
        ({"AwsAccountId": eq(OUTSIDER)}, []),
    ],
)
def test_filters_work_across_member_accounts(
    org: SecurityHubEmulator, filters: dict[str, Any], expected: list[str]
) -> None:
    assert ids_as(org, ADMIN, Filters=filters) == expected


def test_administrator_cannot_import_for_a_member(org: SecurityHubEmulator) -> None:
    """API_BatchImportFindings: with the default product ARN the caller "needs to be the same
    as the AwsAccountId attribute for the finding"."""
    with_admin_product = dict(
        owned(MEMBER_A, "forged-2"), ProductArn=default_product_arn(HOME, ADMIN)
    )
    response = call(
        org,
        "BatchImportFindings",
        {"Findings": [owned(MEMBER_A, "forged-1"), with_admin_product]},
        region=HOME,
        account=ADMIN,
    )
    assert response.body["FailedCount"] == 2
    messages = [f["ErrorMessage"] for f in response.body["FailedFindings"]]
    assert "ProductArn must be" in messages[0]
    assert "AwsAccountId must be the caller's account" in messages[1]
    assert ids_as(org, MEMBER_A) == ["a-1", "a-2"]
    assert org.ingestion_events() == [
        {"account": account, "region": HOME, "count": count}
        for account, count in ((ADMIN, 1), (MEMBER_A, 2), (MEMBER_B, 1), (OUTSIDER, 1))
    ]


def test_administrator_updates_member_findings_members_only_their_own(
    org: SecurityHubEmulator,
) -> None:
    target = {"Id": "a-1", "ProductArn": default_product_arn(HOME, MEMBER_A)}
    body = {"FindingIdentifiers": [target], "Workflow": {"Status": "NOTIFIED"}}
    response = call(org, "BatchUpdateFindings", body, region=HOME, account=ADMIN)
    assert response.body["ProcessedFindings"] == [target]
    [stored] = [f for f in org.findings(HOME, account=MEMBER_A) if f["Id"] == "a-1"]
    assert stored["Workflow"]["Status"] == "NOTIFIED"

    for caller in (MEMBER_B, OUTSIDER):
        response = call(org, "BatchUpdateFindings", body, region=HOME, account=caller)
        assert response.body["ProcessedFindings"] == []
        assert response.body["UnprocessedFindings"][0]["ErrorCode"] == "FindingNotFound"
    admin_own = {"Id": "admin-1", "ProductArn": default_product_arn(HOME, ADMIN)}
    response = call(
        org,
        "BatchUpdateFindings",
        {**body, "FindingIdentifiers": [admin_own]},
        region=HOME,
        account=MEMBER_A,
    )
    assert response.body["ProcessedFindings"] == []


def test_aggregation_region_shows_linked_regions_new_and_updated_findings(
    hub: SecurityHubEmulator,
) -> None:
    hub.set_organization(ADMIN, [MEMBER_A])
    import_as(hub, MEMBER_A, owned(MEMBER_A, "before-link", region=LINKED))
    import_as(hub, MEMBER_A, owned(MEMBER_A, "touched-later", region=LINKED))
    hub.set_organization(ADMIN, [MEMBER_A], HOME, [LINKED])
    import_as(hub, MEMBER_A, owned(MEMBER_A, "after-link", region=LINKED))
    import_as(hub, MEMBER_A, owned(MEMBER_A, "unlinked", region=UNLINKED))
    import_as(hub, MEMBER_A, owned(MEMBER_A, "home", region=HOME))
    # Findings that existed before the link are not replicated until they are updated.
    assert ids_as(hub, ADMIN) == ["after-link", "home"]

    import_as(
        hub,
        MEMBER_A,
        owned(MEMBER_A, "touched-later", region=LINKED, UpdatedAt="2026-11-05T00:00:00Z"),
    )
    assert ids_as(hub, ADMIN) == ["after-link", "home", "touched-later"]
    # Members inherit the aggregation for their own findings; a linked Region's own view is
    # unchanged.
    assert ids_as(hub, MEMBER_A) == ["after-link", "home", "touched-later"]
    assert ids_as(hub, ADMIN, LINKED) == ["after-link", "before-link", "touched-later"]
    # Replication "does not add to the cost": only the imports count.
    assert sum(row["count"] for row in hub.ingestion_events()) == 6


def test_batch_update_replicates_a_pre_existing_finding(hub: SecurityHubEmulator) -> None:
    hub.set_organization(ADMIN, [MEMBER_A])
    import_as(hub, MEMBER_A, owned(MEMBER_A, "old", region=LINKED))
    hub.set_organization(ADMIN, [MEMBER_A], HOME, [LINKED])
    target = {"Id": "old", "ProductArn": default_product_arn(LINKED, MEMBER_A)}
    body = {"FindingIdentifiers": [target], "Workflow": {"Status": "RESOLVED"}}
    # Not in the aggregation Region yet, so it cannot be updated there...
    response = call(hub, "BatchUpdateFindings", body, region=HOME, account=ADMIN)
    assert response.body["UnprocessedFindings"][0]["ErrorCode"] == "FindingNotFound"
    # ...but an update in its own Region replicates it, and later updates work from home.
    response = call(hub, "BatchUpdateFindings", body, region=LINKED, account=ADMIN)
    assert response.body["ProcessedFindings"] == [target]
    assert ids_as(hub, ADMIN) == ["old"]
    body["Workflow"] = {"Status": "NOTIFIED"}
    assert call(hub, "BatchUpdateFindings", body, region=HOME, account=ADMIN).body[
        "ProcessedFindings"
    ] == [target]
    assert hub.findings(LINKED)[0]["Workflow"]["Status"] == "NOTIFIED"


def test_relinking_keeps_the_link_time_of_regions_already_linked(hub: SecurityHubEmulator) -> None:
    hub.set_organization(ADMIN, [MEMBER_A], HOME, [LINKED])
    import_as(hub, MEMBER_A, owned(MEMBER_A, "eu", region=LINKED))
    hub.set_organization(ADMIN, [MEMBER_A, MEMBER_B], HOME, [LINKED, UNLINKED])
    assert ids_as(hub, ADMIN) == ["eu"]
    assert hub.organization() == {
        "administrator": ADMIN,
        "members": [MEMBER_A, MEMBER_B],
        "aggregation_region": HOME,
        "linked_regions": [UNLINKED, LINKED],
    }


def test_enablement_is_per_account_and_region(org: SecurityHubEmulator) -> None:
    org.set_enabled(HOME, False, account=MEMBER_B)
    response = call(org, "GetFindings", region=HOME, account=MEMBER_B)
    assert response.status == 401
    assert error_code(response) == "InvalidAccessException"
    assert MEMBER_B in response.body["message"]
    # A member with Security Hub off contributes nothing to the administrator's view.
    assert ids_as(org, ADMIN) == ["a-1", "a-2", "admin-1"]
    assert ids_as(org, MEMBER_A) == ["a-1", "a-2"]
    assert call(org, "GetFindings", region=LINKED, account=MEMBER_B).status == 200
    org.set_enabled(HOME, True, account=MEMBER_B)
    assert "b-1" in ids_as(org, ADMIN)
    # Without an account, the setting covers every account in the Region.
    org.set_enabled(HOME, False)
    assert call(org, "GetFindings", region=HOME, account=ADMIN).status == 401
    org.set_enabled(HOME, True)
    assert call(org, "GetFindings", region=HOME, account=MEMBER_B).status == 200


def test_pagination_across_accounts(org: SecurityHubEmulator) -> None:
    seen: list[str] = []
    token = None
    while True:
        body: dict[str, Any] = {"MaxResults": 1, **({"NextToken": token} if token else {})}
        response = call(org, "GetFindings", body, region=HOME, account=ADMIN)
        seen += ids(response)
        token = response.body.get("NextToken")
        if token is None:
            break
        # A token issued to the administrator does not continue a member's query.
        stolen = call(
            org, "GetFindings", {"MaxResults": 1, "NextToken": token}, region=HOME, account=MEMBER_A
        )
        assert stolen.status == 400
    assert sorted(seen) == ["a-1", "a-2", "admin-1", "b-1"]


def test_list_members_and_get_administrator_account(org: SecurityHubEmulator) -> None:
    first = call(org, "ListMembers", {"MaxResults": 1}, region=HOME, account=ADMIN).body
    assert [m["AccountId"] for m in first["Members"]] == [MEMBER_A]
    assert first["Members"][0]["AdministratorId"] == ADMIN
    assert first["Members"][0]["MemberStatus"] == "Enabled"
    second = call(
        org, "ListMembers", {"NextToken": first["NextToken"]}, region=HOME, account=ADMIN
    ).body
    assert [m["AccountId"] for m in second["Members"]] == [MEMBER_B]
    assert "NextToken" not in second
    assert call(org, "ListMembers", region=HOME, account=MEMBER_A).body == {"Members": []}
    assert call(org, "ListMembers", {"MaxResults": 51}, region=HOME, account=ADMIN).status == 400

    administrator = call(org, "GetAdministratorAccount", region=HOME, account=MEMBER_A).body
    assert administrator["Administrator"]["AccountId"] == ADMIN
    assert call(org, "GetAdministratorAccount", region=HOME, account=OUTSIDER).body == {}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((None, [MEMBER_A]), "need an administrator"),
        ((ADMIN, [ADMIN]), "its own member"),
        ((ADMIN, [MEMBER_A], None, [LINKED]), "need an aggregation_region"),
    ],
)
def test_invalid_organizations_are_refused(
    hub: SecurityHubEmulator, args: tuple[Any, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        hub.set_organization(*args)


def test_reset_forgets_the_organization(org: SecurityHubEmulator) -> None:
    org.reset()
    assert org.organization()["administrator"] is None
    import_as(org, MEMBER_A, owned(MEMBER_A, "a-1"))
    assert ids_as(org, ADMIN) == []


def test_organization_through_the_control_api(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    """The default account as administrator, driven over HTTP with boto3 (ListMembers is a
    GET with query-string parameters, so this also checks they reach the emulator)."""
    with pytest.raises(SandboxError) as refused:
        sandbox.set_securityhub_organization(ACCOUNT, [ACCOUNT])
    assert refused.value.status == 400
    organization = sandbox.set_securityhub_organization(
        ACCOUNT, [MEMBER_B, MEMBER_A], aggregation_region=HOME, linked_regions=[LINKED]
    )
    assert organization == sandbox.securityhub_organization()
    assert organization["members"] == [MEMBER_A, MEMBER_B]
    client = aws_client("securityhub", HOME)
    page = client.list_members(OnlyAssociated=True, MaxResults=1)
    assert [m["AccountId"] for m in page["Members"]] == [MEMBER_A]
    rest = client.list_members(NextToken=page["NextToken"])
    assert [m["AccountId"] for m in rest["Members"]] == [MEMBER_B]

    eu = aws_client("securityhub", LINKED)
    eu.batch_import_findings(Findings=[finding("eu-1")])
    found = client.get_findings(Filters={"Region": eq(LINKED)})["Findings"]
    assert [f["Id"] for f in found] == ["eu-1"]
    assert sandbox.findings(LINKED, account=ACCOUNT)[0]["Id"] == "eu-1"
    assert sandbox.findings(LINKED, account=MEMBER_A) == []
    assert sandbox.findings(HOME) == []

    sandbox.set_securityhub_enabled(LINKED, False, account=MEMBER_A)
    eu.describe_hub()  # still on for the caller
    sandbox.set_securityhub_enabled(LINKED, False, account=ACCOUNT)
    with pytest.raises(ClientError) as denied:
        eu.describe_hub()
    assert denied.value.response["Error"]["Code"] == "InvalidAccessException"

    sandbox.clear_securityhub_organization()
    assert sandbox.securityhub_organization()["administrator"] is None
    assert client.list_members()["Members"] == []


def _securityhub_as(sandbox: SandboxClient, account: SandboxAccount, region: str) -> Any:
    session: Any = boto3.session.Session(
        aws_access_key_id=account.access_key_id,
        aws_secret_access_key=account.secret_access_key,
    )
    return session.client(
        "securityhub",
        region_name=region,
        endpoint_url=sandbox.endpoint,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def test_organization_across_accounts_over_http(sandbox: SandboxClient) -> None:
    """Each account signs with its own keys: members import their own findings, the
    administrator reads them in the Region and, from linked Regions, in the aggregation
    Region, updates them, and cannot import for them. Faults can target one account."""
    accounts = {
        account: sandbox.create_account(account, f"AKIA{account}", f"secret-{account}")
        for account in (ADMIN, MEMBER_A, MEMBER_B)
    }
    sandbox.set_securityhub_organization(
        ADMIN, [MEMBER_A, MEMBER_B], aggregation_region=HOME, linked_regions=[LINKED]
    )
    for member in (MEMBER_A, MEMBER_B):
        hub = _securityhub_as(sandbox, accounts[member], LINKED)
        result = hub.batch_import_findings(Findings=[owned(member, f"{member}-eu", LINKED)])
        assert result["SuccessCount"] == 1
    admin_home = _securityhub_as(sandbox, accounts[ADMIN], HOME)
    paginator = admin_home.get_paginator("get_findings")
    seen = [
        f["Id"]
        for page in paginator.paginate(
            Filters={"GeneratorId": eq("eks-netpol-auditor")}, PaginationConfig={"PageSize": 1}
        )
        for f in page["Findings"]
    ]
    assert sorted(seen) == [f"{MEMBER_A}-eu", f"{MEMBER_B}-eu"]
    assert [m["AccountId"] for m in admin_home.list_members()["Members"]] == [MEMBER_A, MEMBER_B]

    target = {"Id": f"{MEMBER_A}-eu", "ProductArn": default_product_arn(LINKED, MEMBER_A)}
    updated = admin_home.batch_update_findings(
        FindingIdentifiers=[target], Workflow={"Status": "RESOLVED"}
    )
    assert updated["ProcessedFindings"] == [target]
    stored = sandbox.findings(LINKED, account=MEMBER_A)
    assert stored[0]["Workflow"]["Status"] == "RESOLVED"

    forged = admin_home.batch_import_findings(Findings=[owned(MEMBER_A, "forged", HOME)])
    assert forged["FailedCount"] == 1
    assert sandbox.ingestion_events(account=ADMIN) == 0
    assert sandbox.ingestion_events(account=MEMBER_A, region=LINKED) == 1

    member_b = _securityhub_as(sandbox, accounts[MEMBER_B], HOME)
    assert [f["Id"] for f in member_b.get_findings()["Findings"]] == [f"{MEMBER_B}-eu"]
    sandbox.add_fault("throttle", service="securityhub", operation="GetFindings", account=ADMIN)
    with pytest.raises(ClientError) as throttled:
        admin_home.get_findings()
    assert throttled.value.response["Error"]["Code"] == "LimitExceededException"
    assert member_b.get_findings()["Findings"]


def test_finding_aggregator_reads(sandbox: SandboxClient, aws_client: AwsClientFactory) -> None:
    """ListFindingAggregators (from any Region) and GetFindingAggregator by ARN: how a report
    checks it runs in the aggregation Region."""
    client = aws_client("securityhub", LINKED)
    assert client.list_finding_aggregators()["FindingAggregators"] == []
    sandbox.set_securityhub_organization(
        ACCOUNT, [MEMBER_A], aggregation_region=HOME, linked_regions=[UNLINKED, LINKED]
    )
    [listed] = client.list_finding_aggregators()["FindingAggregators"]
    arn = listed["FindingAggregatorArn"]
    assert arn.startswith(f"arn:aws:securityhub:{HOME}:{ACCOUNT}:finding-aggregator/")
    described = client.get_finding_aggregator(FindingAggregatorArn=arn)
    assert described["FindingAggregationRegion"] == HOME
    assert described["RegionLinkingMode"] == "SPECIFIED_REGIONS"
    assert described["Regions"] == sorted([UNLINKED, LINKED])
    with pytest.raises(ClientError) as missing:
        client.get_finding_aggregator(FindingAggregatorArn=arn + "-other")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    sandbox.set_securityhub_organization(ACCOUNT, [MEMBER_A])
    assert client.list_finding_aggregators()["FindingAggregators"] == []


def test_list_members_honours_only_associated(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    """API_ListMembers: OnlyAssociated "The default value is TRUE" (Enabled members only);
    FALSE: "all existing member accounts", each with its MemberStatus (botocore model)."""
    admin = sandbox.create_account("900000000000", "AKIA900000000000", "s")
    statuses = {"900000000001": "Enabled", "900000000002": "Invited", "900000000003": "Resigned"}
    sandbox.set_securityhub_organization(admin.account, list(statuses), member_statuses=statuses)
    hub = boto3.session.Session(
        aws_access_key_id=admin.access_key_id, aws_secret_access_key=admin.secret_access_key
    ).client("securityhub", region_name="us-east-1", endpoint_url=sandbox.endpoint)
    default = hub.list_members()["Members"]
    assert [(m["AccountId"], m["MemberStatus"]) for m in default] == [("900000000001", "Enabled")]
    every = hub.list_members(OnlyAssociated=False)["Members"]
    assert {m["AccountId"]: m["MemberStatus"] for m in every} == statuses
    paged = hub.get_paginator("list_members").paginate(
        OnlyAssociated=False, PaginationConfig={"PageSize": 1}
    )
    assert [m["AccountId"] for page in paged for m in page["Members"]] == sorted(statuses)
