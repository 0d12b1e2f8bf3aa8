"""Shared helpers for the sandbox Security Hub emulator tests (calling handle() directly)."""

from __future__ import annotations

from typing import Any

from sandbox.services.securityhub import (
    SecurityHubResponses,
    default_product_arn,
)
from sandbox.wire import SandboxRequest, SandboxResponse
from tests.builders import ACCOUNT

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
    hub: SecurityHubResponses,
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


def import_findings(hub: SecurityHubResponses, *findings: dict[str, Any]) -> dict[str, Any]:
    response = call(hub, "BatchImportFindings", {"Findings": list(findings)})
    assert response.status == 200, response.body
    return response.body


def get_findings(hub: SecurityHubResponses, **body: Any) -> SandboxResponse:
    return call(hub, "GetFindings", body)


def ids(response: SandboxResponse) -> list[str]:
    assert response.status == 200, response.body
    return [f["Id"] for f in response.body["Findings"]]


def error_code(response: SandboxResponse) -> str:
    return response.headers["X-Amzn-ErrorType"]


def eq(*values: str) -> list[dict[str, str]]:
    return [{"Value": v, "Comparison": "EQUALS"} for v in values]


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


def import_as(hub: SecurityHubResponses, account: str, *findings: dict[str, Any]) -> None:
    region = findings[0]["ProductArn"].split(":")[3]
    response = call(
        hub, "BatchImportFindings", {"Findings": list(findings)}, region=region, account=account
    )
    assert response.body["FailedCount"] == 0, response.body


def ids_as(hub: SecurityHubResponses, account: str, region: str = HOME, **body: Any) -> list[str]:
    return sorted(ids(call(hub, "GetFindings", body, region=region, account=account)))
