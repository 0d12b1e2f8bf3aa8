"""The report's pure core and its reader, without AWS: rows, gaps, totals, paging, pacing."""

from __future__ import annotations

from typing import Any

from eks_netpol_auditor.names import PRODUCT
from eks_netpol_auditor.report.aggregate import build_report
from eks_netpol_auditor.report.read import auditor_findings, filters
from eks_netpol_auditor.securityhub.asff import GENERATOR_ID, IN_CLUSTER_GENERATOR_ID, finding_id

FIRST = "CIS-EKS-5.4.4"
FILTERS = filters()


def finding(account: str, region: str, cluster: str, status: str, **extra: Any) -> dict[str, Any]:
    control = extra.pop("control", FIRST)
    return {
        "Id": finding_id("aws", account, region, cluster, control),
        "AwsAccountId": account,
        "Compliance": {"Status": status},
        "ProductFields": {f"{PRODUCT}/Reason": extra.pop("reason", "NETWORK_POLICY_DISABLED")},
        "Workflow": {"Status": extra.pop("workflow", "NEW")},
        "UpdatedAt": extra.pop("updated_at", "2026-11-27T06:00:00.000Z"),
        **extra,
    }


def test_rows_totals_and_silent_accounts() -> None:
    report = build_report(
        [
            finding("111111111111", "eu-west-1", "a", "FAILED"),
            finding("111111111111", "us-east-1", "b", "PASSED", reason="NETWORK_POLICY_ENABLED"),
            finding("222222222222", "us-east-1", "c", "WARNING", reason="EXEMPTED"),
            {"Id": "someone-else/finding", "AwsAccountId": "111111111111"},  # not ours
        ],
        ["111111111111", "222222222222", "333333333333"],
    )
    document = report.to_json()
    assert document["accounts"] == 3
    assert document["summary"][FIRST] == {
        "PASSED": 1,
        "FAILED": 1,
        "WARNING": 1,
        "NOT_AVAILABLE": 0,
    }
    assert document["no_auditor_findings"] == ["333333333333"]
    assert document["by_account"]["111111111111"]["clusters"] == 2
    assert document["by_account"]["333333333333"]["note"] == "no auditor findings"
    assert document["by_reason"][FIRST] == {
        "EXEMPTED": 1,
        "NETWORK_POLICY_DISABLED": 1,
        "NETWORK_POLICY_ENABLED": 1,
    }
    assert [r["cluster"] for r in document["results"]] == ["a", "b", "c"]
    assert report.exit_code() == 1


def test_a_finding_seen_twice_counts_once_newest_wins() -> None:
    older = finding("1", "us-east-1", "a", "FAILED", updated_at="2026-11-26T00:00:00Z")
    newer = finding(
        "1",
        "us-east-1",
        "a",
        "PASSED",
        reason="NETWORK_POLICY_ENABLED",
        updated_at="2026-11-27T00:00:00Z",
    )
    report = build_report([newer, older], ["1"])
    assert [(r.status, r.reason) for r in report.rows] == [("PASSED", "NETWORK_POLICY_ENABLED")]
    assert report.exit_code() == 0


def test_exit_code_3_for_an_unreadable_member_or_cluster_when_nothing_failed() -> None:
    # Issue 17, item 14: a member without findings (no EKS cluster) is listed, not an error;
    # one the administrator cannot read (MemberStatus not Enabled) is.
    quiet = build_report([], {"1": "Administrator", "2": "Enabled"})
    assert quiet.exit_code() == 0
    assert quiet.to_json()["no_auditor_findings"] == ["1", "2"]
    assert quiet.to_json()["by_account"]["2"]["note"] == "no auditor findings"
    invited = build_report([], {"1": "Administrator", "2": "Invited"})
    assert invited.exit_code() == 3
    assert invited.to_json()["not_readable"] == ["2"]
    assert invited.to_json()["by_account"]["2"]["note"] == "not readable (member status Invited)"
    unread = finding("1", "us-east-1", "a", "NOT_AVAILABLE", reason="EVALUATION_ERROR")
    assert build_report([unread], ["1"]).exit_code() == 3
    creating = finding("1", "us-east-1", "a", "NOT_AVAILABLE", reason="CLUSTER_NOT_READY")
    assert build_report([creating], ["1"]).exit_code() == 0


def test_status_filter_narrows_results_only() -> None:
    report = build_report(
        [finding("1", "r", "a", "FAILED"), finding("1", "r", "b", "PASSED")], ["1"], {"PASSED"}
    )
    document = report.to_json()
    assert [r["cluster"] for r in document["results"]] == ["b"]
    assert document["summary"][FIRST]["FAILED"] == 1
    assert report.exit_code() == 1


class FakeHub:
    def __init__(self, pages: int) -> None:
        self.pages = pages
        self.requests: list[dict[str, Any]] = []

    def get_findings(self, **kwargs: Any) -> dict[str, Any]:
        self.requests.append(kwargs)
        index = len(self.requests)
        page: dict[str, Any] = {"Findings": [{"Id": f"f{index}"}]}
        if index < self.pages:
            page["NextToken"] = f"t{index}"
        return page


class CountingBucket:
    def __init__(self) -> None:
        self.acquired = 0

    def acquire(self) -> float:
        self.acquired += 1
        return 0.0


def test_every_page_is_read_filtered_by_generator_and_product_and_paced() -> None:
    hub, bucket = FakeHub(pages=4), CountingBucket()
    findings = auditor_findings(hub, bucket)  # type: ignore[arg-type]
    assert [f["Id"] for f in findings] == ["f1", "f2", "f3", "f4"]
    assert bucket.acquired == 4  # one token per GetFindings call
    assert [r.get("NextToken") for r in hub.requests] == [None, "t1", "t2", "t3"]
    for request in hub.requests:
        assert request["MaxResults"] == 100
        assert request["Filters"] == FILTERS
    assert FILTERS["GeneratorId"] == [
        {"Value": GENERATOR_ID, "Comparison": "EQUALS"},
        {"Value": IN_CLUSTER_GENERATOR_ID, "Comparison": "EQUALS"},
    ]
    assert FILTERS["ProductName"] == [{"Value": PRODUCT, "Comparison": "EQUALS"}]
    assert FILTERS["RecordState"] == [{"Value": "ACTIVE", "Comparison": "EQUALS"}]
    assert "ProductArn" not in FILTERS  # would match only the caller's own account


def test_a_finding_without_compliance_is_not_available_never_passed() -> None:
    """Issue 16, point 8. Compliance is optional in the ASFF (AWS Security Finding Format
    syntax); a finding that does not carry it says nothing about the cluster, so the report
    counts it as NOT_AVAILABLE, never as a cluster that passed."""
    unknown = finding("1", "us-east-1", "a", "PASSED", reason="NETWORK_POLICY_ENABLED")
    del unknown["Compliance"]
    report = build_report([unknown], ["1"])
    assert [r.status for r in report.rows] == ["NOT_AVAILABLE"]
    assert report.to_json()["summary"][FIRST] == {
        "PASSED": 0,
        "FAILED": 0,
        "WARNING": 0,
        "NOT_AVAILABLE": 1,
    }
