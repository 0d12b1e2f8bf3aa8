"""`eks-netpol-audit report` over a sandbox organization (issue 11, items 4 and 5).

Each member account runs its own auditor (its own credentials, its own clusters, its own
Security Hub CSPM); the administrator reads every member's findings in its aggregation
region. Loopback only: the accounts are the sandbox's, chosen by access key id.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import boto3
import pytest

from eks_netpol_auditor import cli
from eks_netpol_auditor.audit import run_audit
from eks_netpol_auditor.aws import AwsClients
from eks_netpol_auditor.config import Settings
from eks_netpol_auditor.model import AuditResult, ComplianceStatus
from eks_netpol_auditor.securityhub import publish
from sandbox.client import AddonSeed, SandboxAccount, SandboxClient
from tests.builders import ENABLED, in_cluster_verdict

FIRST, SECOND = "CIS-EKS-5.4.4", "CIS-EKS-4.3.2"
AGGREGATION = "us-east-1"
LINKED = "eu-west-1"
REGIONS = (AGGREGATION, LINKED)
ADMIN = "900000000000"

# Per member, by index: which clusters it has (name -> seed); a mix of every status.
KINDS: dict[str, dict[str, Any]] = {
    "ok": {"addon": ENABLED},
    "off": {"addon": AddonSeed()},
    "none": {"addon": None},
    "new": {"status": "CREATING"},
    "cilium": {"addon": None, "tags": {"eks-netpol-auditor:exempt": "cilium"}},
}


@dataclass
class Org:
    admin: SandboxAccount
    members: list[SandboxAccount]
    scans: dict[str, AuditResult]


def make_account(sandbox: SandboxClient, account: str) -> SandboxAccount:
    return sandbox.create_account(account, f"AKIA{account}", f"secret-{account}")


def clients_of(account: SandboxAccount) -> AwsClients:
    session = boto3.session.Session(
        aws_access_key_id=account.access_key_id,
        aws_secret_access_key=account.secret_access_key,
        region_name=AGGREGATION,
    )
    return AwsClients(session, max_pool_connections=8)


def audit_as(account: SandboxAccount, *, publish: bool = True) -> AuditResult:
    settings = Settings(regions=REGIONS, publish=publish, home_region=AGGREGATION, max_workers=8)
    return run_audit(settings, clients_of(account))


def build_org(sandbox: SandboxClient, members: int, *, never_ran: int = 0, hub_off: int = 0) -> Org:
    """`members` member accounts with a varied set of clusters each; the last `never_ran`
    members never run the auditor, the `hub_off` before them have Security Hub off."""
    admin = make_account(sandbox, ADMIN)
    accounts = [make_account(sandbox, f"9000000{index:05d}") for index in range(1, members + 1)]
    sandbox.set_securityhub_organization(
        ADMIN,
        [a.account for a in accounts],
        aggregation_region=AGGREGATION,
        linked_regions=[LINKED],
    )
    scans: dict[str, AuditResult] = {}
    running = members - never_ran
    for index, account in enumerate(accounts):
        kinds = list(KINDS)[: 1 + index % len(KINDS)]
        for kind in kinds:
            region = REGIONS[index % 2 if kind != "ok" else 0]
            sandbox.add_cluster(region, f"{kind}-{index}", account=account.account, **KINDS[kind])
        if running - hub_off <= index < running:
            for region in REGIONS:
                sandbox.set_securityhub_enabled(region, False, account=account.account)
        if index < running:
            scans[account.account] = audit_as(account)
    return Org(admin, accounts, scans)


def report(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    account: SandboxAccount,
    *args: str,
) -> tuple[int, str, str]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", account.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", account.secret_access_key)
    code = cli.main(["report", "--region", AGGREGATION, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_twenty_members_each_scan_lands_in_its_own_account_and_the_report_adds_up(
    sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    org = build_org(sandbox, 22, never_ran=1, hub_off=1)
    ran = [m for m in org.members if m.account in org.scans]
    # Each account's run lands findings in that account only.
    for member in ran:
        stored = [f for region in REGIONS for f in sandbox.findings(region, account=member.account)]
        assert {f["AwsAccountId"] for f in stored} <= {member.account}
        published = org.scans[member.account].findings_published
        assert len(stored) == published
    assert sandbox.findings(AGGREGATION, account=ADMIN) == []  # nothing copied to the admin

    sandbox.reset_calls()
    code, out, err = report(monkeypatch, capsys, org.admin, "--format", "json")
    document = json.loads(out)
    assert err == ""
    assert code == 1  # some member has a FAILED cluster
    # The report's totals equal the sum of the per-account scans that could publish.
    hub_off, never_ran = org.members[-2].account, org.members[-1].account
    expected: Counter[str] = Counter()
    for account, scan in org.scans.items():
        if account != hub_off:
            expected.update(scan.summary())
    # The scans ran with the in-cluster check off: the first control only.
    assert document["controls"] == [FIRST, SECOND]
    assert document["summary"][FIRST] == {s: expected[s] for s in document["summary"][FIRST]}
    assert sum(document["summary"][SECOND].values()) == 0
    for account, scan in org.scans.items():
        if account == hub_off:
            continue
        counts = document["by_account"][account]
        assert {s: counts[FIRST][s] for s in scan.summary()} == scan.summary()
        assert counts["clusters"] == len(scan.results)
    # Neither the member with Security Hub off nor the one that never ran vanishes.
    assert document["no_auditor_findings"] == sorted([ADMIN, hub_off, never_ran])
    assert document["by_account"][never_ran]["note"] == "no auditor findings"
    assert document["accounts"] == 23  # the administrator and its 22 members
    rows = document["results"]
    assert len(rows) == sum(expected.values())
    assert set(rows[0]) == {
        "account",
        "region",
        "cluster",
        "control",
        "status",
        "reason",
        "workflow",
        "updated_at",
    }
    assert {row["region"] for row in rows} == set(REGIONS)  # linked region aggregated too
    # Read-only, and only the reads it documents.
    operations = {(c["service"], c["operation"]) for c in sandbox.calls().calls}
    assert operations == {
        ("sts", "GetCallerIdentity"),
        ("securityhub", "ListMembers"),
        ("securityhub", "GetFindings"),
        ("securityhub", "ListFindingAggregators"),  # which regions it covers (item 27)
        ("securityhub", "GetFindingAggregator"),
    }


def test_table_csv_and_status_filter(
    sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    org = build_org(sandbox, 3, never_ran=1)
    code, table, _ = report(monkeypatch, capsys, org.admin)
    assert code == 1
    lines = table.splitlines()
    assert lines[0].split() == [
        "ACCOUNT", "REGION", "CLUSTER",
        "5.4.4", "STATUS", "5.4.4", "REASON", "5.4.4", "WORKFLOW",
        "4.3.2", "STATUS", "4.3.2", "REASON", "4.3.2", "WORKFLOW",
        "LAST", "OBSERVED",
    ]  # fmt: skip
    never_ran = org.members[-1].account
    assert any(line.split()[:5] == [never_ran, "-", "-", "no", "auditor"] for line in lines)
    split = [line.split() for line in lines]
    assert ["5.4.4", "NETWORK_POLICY_ENABLED", "2"] in split  # totals per control and reason
    assert ["5.4.4", "NETWORK_POLICY_DISABLED", "1"] in split
    # totals per account and control
    assert [org.members[1].account, "5.4.4", "1", "1", "0", "0", "2"] in split
    assert [org.members[1].account, "4.3.2", "0", "0", "0", "0", "0"] in split
    assert "in 4 accounts (2 with no auditor findings, 0 not readable)" in table

    code, text, _ = report(monkeypatch, capsys, org.admin, "--format", "csv", "--status", "FAILED")
    rows = list(csv.DictReader(io.StringIO(text)))
    statuses = {row["status"] for row in rows}
    assert statuses == {"FAILED", "no auditor findings"}
    assert {r["account"] for r in rows if r["status"] == "FAILED"} == {
        org.members[1].account  # member 1 has ok + off (FAILED); member 0 only ok
    }
    assert code == 1


def test_a_member_with_only_passed_clusters_and_no_gaps_exits_0(
    sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    admin = make_account(sandbox, ADMIN)
    member = make_account(sandbox, "900000000001")
    sandbox.set_securityhub_organization(ADMIN, [member.account], aggregation_region=AGGREGATION)
    for account in (admin, member):
        sandbox.add_cluster(
            AGGREGATION, f"ok-{account.account}", account=account.account, addon=ENABLED
        )
        audit_as(account)
    code, out, _ = report(monkeypatch, capsys, admin, "--format", "json")
    assert code == 0
    assert json.loads(out)["summary"][FIRST]["PASSED"] == 2


def test_security_hub_off_in_the_report_region_is_one_line_exit_3(
    sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    admin = make_account(sandbox, ADMIN)
    sandbox.set_securityhub_enabled(AGGREGATION, False, account=ADMIN)
    code, out, err = report(monkeypatch, capsys, admin)
    assert code == 3
    assert out == ""
    assert err.startswith(
        f"eks-netpol-audit: error: Security Hub CSPM is not enabled for account {ADMIN} in "
        f"{AGGREGATION}"
    )
    assert err.count("\n") == 1


def test_ctrl_c_during_the_report_is_one_line_exit_130(
    sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    admin = make_account(sandbox, ADMIN)

    def interrupted(*_: Any, **__: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run_report", interrupted)
    code, out, err = report(monkeypatch, capsys, admin)
    assert code == 130
    assert out == ""
    assert err == "eks-netpol-audit: interrupted; the report is read-only, nothing was changed\n"


# ---------------------------------------------------------------------------------------
# Issue 17, items 14, 15 and 27: who is listed, what is an error, which regions are covered.


def small_org(
    sandbox: SandboxClient, statuses: dict[str, str], *, aggregation: bool = True
) -> tuple[SandboxAccount, list[SandboxAccount]]:
    """An administrator with a PASSED cluster in each region, and members with none."""
    admin = make_account(sandbox, ADMIN)
    members = [make_account(sandbox, account) for account in statuses]
    sandbox.set_securityhub_organization(
        ADMIN,
        list(statuses),
        aggregation_region=AGGREGATION if aggregation else None,
        linked_regions=[LINKED] if aggregation else None,
        member_statuses=statuses,
    )
    for region in REGIONS:
        sandbox.add_cluster(region, f"ok-{region}", account=ADMIN, addon=ENABLED)
    audit_as(admin)
    return admin, members


def test_a_member_without_clusters_is_listed_and_is_not_an_error(
    sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """It exited 3 for every account without an EKS cluster."""
    admin, (member,) = small_org(sandbox, {"900000000001": "Enabled"})
    audit_as(member)  # it runs the auditor, and has nothing to audit
    code, out, err = report(monkeypatch, capsys, admin, "--format", "json")
    document = json.loads(out)
    assert (code, err) == (0, "")
    assert document["no_auditor_findings"] == [member.account]
    assert document["by_account"][member.account]["note"] == "no auditor findings"
    assert document["not_readable"] == []


def test_every_member_is_listed_with_its_status_and_unreadable_ones_exit_3(
    sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """ListMembers lists only Enabled members unless OnlyAssociated=false: an invited or
    removed member vanished from the report."""
    statuses = {"900000000001": "Enabled", "900000000002": "Invited", "900000000003": "Removed"}
    admin, _ = small_org(sandbox, statuses)
    code, out, _ = report(monkeypatch, capsys, admin, "--format", "json")
    document = json.loads(out)
    assert code == 3  # nothing FAILED, but two members cannot be read
    assert document["not_readable"] == ["900000000002", "900000000003"]
    assert {a: document["by_account"][a]["member_status"] for a in statuses} == statuses
    assert document["by_account"]["900000000002"]["note"] == (
        "not readable (member status Invited)"
    )
    assert document["accounts"] == 4
    code, table, _ = report(monkeypatch, capsys, admin)
    assert "not readable (member status Removed)" in table
    assert "(1 with no auditor findings, 2 not readable)" in table


def test_the_report_says_which_regions_it_covers(
    sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    admin, _ = small_org(sandbox, {"900000000001": "Enabled"})
    code, table, err = report(monkeypatch, capsys, admin)
    assert (code, err) == (0, "")
    assert "\nRegions: us-east-1 and its linked regions eu-west-1 (aggregation: SPECIFIED_" in table
    assert "ok-eu-west-1" in table


def test_without_a_finding_aggregator_the_report_warns_it_shows_one_region(
    sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """It showed 5 of 12 clusters with no warning."""
    admin, _ = small_org(sandbox, {"900000000001": "Enabled"}, aggregation=False)
    code, out, err = report(monkeypatch, capsys, admin, "--format", "json")
    document = json.loads(out)
    assert code == 0
    assert err == (
        "eks-netpol-audit: warning: the report covers us-east-1 only: there is no Security Hub "
        "CSPM finding aggregator (cross-Region aggregation is off), so clusters of other "
        "regions are not shown\n"
    )
    assert document["coverage"]["this_region_only"] is True
    assert [r["cluster"] for r in document["results"]] == ["ok-us-east-1"]


def test_outside_the_aggregation_region_the_report_names_it(
    sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    admin, _ = small_org(sandbox, {"900000000001": "Enabled"})
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", admin.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", admin.secret_access_key)
    code = cli.main(["report", "--region", LINKED])
    err = capsys.readouterr().err
    assert code == 0
    assert err == (
        "eks-netpol-audit: warning: the report covers eu-west-1 only: the aggregation region "
        "is us-east-1; run the report there (--region us-east-1) to see every linked region\n"
    )


def test_no_region_configured_is_an_error_not_us_east_1(
    sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    admin, _ = small_org(sandbox, {"900000000001": "Enabled"})
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")  # AWS_CONFIG_FILE is /dev/null: no profile region
    sandbox.reset_calls()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", admin.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", admin.secret_access_key)
    code = cli.main(["report"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err == (
        "eks-netpol-audit: error: no AWS region configured: give the Security Hub CSPM "
        "aggregation region with --region (or set AWS_REGION)\n"
    )
    assert sandbox.calls().total == 0


def test_both_controls_per_cluster_and_control_chooses(
    sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 18: one member runs the in-cluster check (its clusters have a CIS 4.3.2
    finding), the other does not; the administrator sees both controls side by side, and
    `--control` narrows rows, totals and the exit code."""
    admin = make_account(sandbox, ADMIN)
    checked, plain = (make_account(sandbox, f"90000000000{i}") for i in (1, 2))
    sandbox.set_securityhub_organization(
        ADMIN, [checked.account, plain.account], aggregation_region=AGGREGATION
    )
    for account in (checked, plain):
        sandbox.add_cluster(AGGREGATION, "shop", account=account.account, addon=ENABLED)
    audit_as(plain)
    scan = audit_as(checked, publish=False)
    gap = in_cluster_verdict(ComplianceStatus.FAILED, namespaces=("web",))
    results = [replace(r, in_cluster=gap) for r in scan.results]
    settings = Settings(
        regions=REGIONS, publish=True, home_region=AGGREGATION, in_cluster_check=True
    )
    publish(settings, clients_of(checked), replace(scan, results=results))

    code, out, _ = report(monkeypatch, capsys, admin, "--format", "json")
    document = json.loads(out)
    assert code == 1  # 4.3.2 FAILED in the checked member
    assert sorted((r["account"], r["control"], r["status"]) for r in document["results"]) == [
        (checked.account, SECOND, "FAILED"),
        (checked.account, FIRST, "PASSED"),
        (plain.account, FIRST, "PASSED"),
    ]
    assert document["by_account"][checked.account]["clusters"] == 1

    code, table, _ = report(monkeypatch, capsys, admin)
    lines = {line.split()[0]: line.split() for line in table.splitlines()[1:4]}
    assert lines[checked.account][:4] == [checked.account, AGGREGATION, "shop", "PASSED"]
    assert lines[checked.account][6:8] == ["FAILED", "NAMESPACES_WITHOUT_POLICY"]  # side by side
    assert lines[plain.account][:4] == [plain.account, AGGREGATION, "shop", "PASSED"]
    assert lines[plain.account][6] == "-"  # no check in that account

    code, out, _ = report(monkeypatch, capsys, admin, "--format", "json", "--control", "5.4.4")
    assert code == 0
    assert {r["control"] for r in json.loads(out)["results"]} == {FIRST}
    code, out, _ = report(monkeypatch, capsys, admin, "--format", "csv", "--control", "4.3.2")
    assert code == 1
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["account"], r["control"]) for r in rows if r["control"]] == [
        (checked.account, SECOND)
    ]
