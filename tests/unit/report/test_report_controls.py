"""The report with both controls (issue 18, "the organization report shows both controls"):
`--control` chooses, the table puts both side by side per cluster, the totals and the exit
code count each control on its own."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from eks_netpol_auditor.report.aggregate import CONTROL_CHOICES, Coverage, build_report
from eks_netpol_auditor.report.read import filters
from eks_netpol_auditor.report.render import STATUSES, render_csv, render_table
from eks_netpol_auditor.securityhub.asff import GENERATOR_ID, IN_CLUSTER_GENERATOR_ID
from tests.unit.report.test_report import finding

FIRST, SECOND = "CIS-EKS-5.4.4", "CIS-EKS-4.3.2"
A = "111111111111"


def findings() -> list[dict[str, object]]:
    return [
        finding(A, "eu-west-1", "shop", "PASSED", reason="NETWORK_POLICY_ENABLED"),
        finding(
            A, "eu-west-1", "shop", "FAILED", reason="NAMESPACES_WITHOUT_POLICY", control=SECOND
        ),
        finding(A, "us-east-1", "old", "FAILED"),  # the check is off there: no 4.3.2 finding
    ]


def test_the_control_names_map_to_the_cis_controls() -> None:
    assert CONTROL_CHOICES == {
        "all": (FIRST, SECOND),
        "5.4.4": (FIRST,),
        "4.3.2": (SECOND,),
    }
    assert [v["Value"] for v in filters(CONTROL_CHOICES["4.3.2"])["GeneratorId"]] == [
        IN_CLUSTER_GENERATOR_ID
    ]
    assert [v["Value"] for v in filters()["GeneratorId"]] == [GENERATOR_ID, IN_CLUSTER_GENERATOR_ID]


def test_both_controls_are_counted_each_on_its_own() -> None:
    document = build_report(findings(), [A]).to_json()
    assert document["controls"] == [FIRST, SECOND]
    assert [(r["cluster"], r["control"], r["status"]) for r in document["results"]] == [
        ("shop", FIRST, "PASSED"),
        ("shop", SECOND, "FAILED"),
        ("old", FIRST, "FAILED"),
    ]
    assert document["summary"][FIRST] == {
        "PASSED": 1,
        "FAILED": 1,
        "WARNING": 0,
        "NOT_AVAILABLE": 0,
    }
    assert document["summary"][SECOND] == {
        "PASSED": 0,
        "FAILED": 1,
        "WARNING": 0,
        "NOT_AVAILABLE": 0,
    }
    account = document["by_account"][A]
    assert account["clusters"] == 2  # clusters, not findings
    assert account[SECOND]["FAILED"] == 1
    assert document["by_reason"][SECOND] == {"NAMESPACES_WITHOUT_POLICY": 1}


@pytest.mark.parametrize(
    ("choice", "controls", "code"),
    [("all", [FIRST, SECOND], 1), ("5.4.4", [FIRST], 1), ("4.3.2", [SECOND], 1)],
)
def test_control_narrows_rows_totals_and_exit_code(
    choice: str, controls: list[str], code: int
) -> None:
    report = build_report(findings(), [A], controls=CONTROL_CHOICES[choice])
    document = report.to_json()
    assert document["controls"] == controls
    assert {r["control"] for r in document["results"]} == set(controls)
    assert list(document["summary"]) == controls
    assert report.exit_code() == code


def test_the_exit_code_follows_the_chosen_control() -> None:
    """A FAILED 4.3.2 is exit 1 only when 4.3.2 is reported; 5.4.4 alone passes here."""
    passed_first = [
        finding(A, "r", "c", "PASSED", reason="NETWORK_POLICY_ENABLED"),
        finding(A, "r", "c", "FAILED", reason="NAMESPACES_WITHOUT_POLICY", control=SECOND),
    ]
    assert build_report(passed_first, [A], controls=CONTROL_CHOICES["5.4.4"]).exit_code() == 0
    assert build_report(passed_first, [A]).exit_code() == 1


@pytest.mark.parametrize(
    ("reason", "code"),
    [("NOT_ENROLLED", 3), ("ENDPOINT_PRIVATE", 3), ("CLUSTER_NOT_READY", 0)],
)
def test_a_cluster_the_check_could_not_read_is_incomplete(reason: str, code: int) -> None:
    """As for scan: NOT_AVAILABLE means something could not be read (exit 3), except a
    cluster still being created."""
    rows = [
        finding(A, "r", "c", "PASSED", reason="NETWORK_POLICY_ENABLED"),
        finding(A, "r", "c", "NOT_AVAILABLE", reason=reason, control=SECOND),
    ]
    assert build_report(rows, [A]).exit_code() == code


def test_the_table_shows_both_controls_side_by_side_per_cluster() -> None:
    out = io.StringIO()
    render_table(build_report(findings(), [A, "222222222222"]), out)
    lines = [line.split() for line in out.getvalue().splitlines()]
    assert lines[0] == [
        "ACCOUNT", "REGION", "CLUSTER",
        "5.4.4", "STATUS", "5.4.4", "REASON", "5.4.4", "WORKFLOW",
        "4.3.2", "STATUS", "4.3.2", "REASON", "4.3.2", "WORKFLOW",
        "LAST", "OBSERVED",
    ]  # fmt: skip
    assert (lines[1][:7]) == [
        A,
        "eu-west-1",
        "shop",
        "PASSED",
        "NETWORK_POLICY_ENABLED",
        "NEW",
        "FAILED",
    ]
    assert lines[2][:6] == [A, "us-east-1", "old", "FAILED", "NETWORK_POLICY_DISABLED", "NEW"]
    assert lines[2][6] == "-"  # no 4.3.2 finding: the check is off in that account
    assert ["222222222222", "-", "-", "no", "auditor", "findings"] in lines
    assert [A, "4.3.2", "0", "1", "0", "0", "1"] in lines  # totals per account and control
    assert ["4.3.2", "NAMESPACES_WITHOUT_POLICY", "1"] in lines
    assert "2 clusters in 2 accounts" in out.getvalue()
    assert "5.4.4: 1 PASSED, 1 FAILED" in out.getvalue()


def test_the_csv_has_one_line_per_finding_with_its_control() -> None:
    out = io.StringIO()
    render_csv(build_report(findings(), [A]), out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [(r["cluster"], r["control"], r["status"]) for r in rows] == [
        ("shop", FIRST, "PASSED"),
        ("shop", SECOND, "FAILED"),
        ("old", FIRST, "FAILED"),
    ]


REPORT_PAGE = Path(__file__).resolve().parents[3] / "docs" / "report.md"


def test_every_key_of_the_report_json_is_documented() -> None:
    """Every fixed key of `report --format json` (both controls, an account without
    findings, the coverage) is named in docs/report.md's JSON description, where the CLI
    page sends readers for it."""
    report = build_report(
        findings(), {A: "Administrator", "222222222222": "Invited"}, coverage=Coverage("r")
    )
    document = report.to_json()
    dynamic = {A, "222222222222", FIRST, SECOND, *STATUSES, *document["by_reason"][FIRST]}
    dynamic |= set(document["by_reason"][SECOND])
    keys: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, dict):
            keys.update(k for k in value if k not in dynamic)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(document)
    assert {"control", "controls", "member_status", "note", "linked_regions"} <= keys
    described = REPORT_PAGE.read_text().split("- JSON:")[1].split("\n- ")[0]
    undocumented = sorted(key for key in keys if f'"{key}"' not in described)
    assert not undocumented, f"docs/report.md does not describe the JSON keys {undocumented}"
