"""The publish planner's riskiest rules, by table: a wrong answer here loses, duplicates or
wrongly archives a finding in a customer's Security Hub CSPM."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from eks_netpol_auditor.model import (
    AuditError,
    AuditResult,
    ClusterFacts,
    ClusterResult,
    ComplianceStatus,
    Reason,
    Verdict,
)
from eks_netpol_auditor.securityhub.asff import (
    DIGEST_FIELD,
    GENERATOR_ID,
    finding_id,
    product_arn,
    timestamp,
)
from eks_netpol_auditor.securityhub.plan import (
    ReadStatus,
    RegionFindings,
    Scope,
    Subject,
    active_copy,
    archive_error,
    id_filter_groups,
    import_needed,
    is_ours,
    notes_by_text,
    reads_for,
    regions_to_read,
    route,
    stale_ids,
    target_region,
    to_resolve,
    unread_region_errors,
    workflow_settled,
)
from tests.builders import ACCOUNT

OTHER = "210987654321"
HOME = "us-east-1"


def fid(region: str, name: str, account: str = ACCOUNT) -> str:
    return finding_id("aws", account, region, name)


def stored(
    region: str,
    name: str,
    *,
    state: str = "ACTIVE",
    created: str = "2026-01-01T00:00:00.000Z",
    workflow: str = "NEW",
    where: str | None = None,
    account: str = ACCOUNT,
) -> dict[str, Any]:
    return {
        "Id": fid(region, name, account),
        "ProductArn": product_arn("aws", where or region, account),
        "GeneratorId": GENERATOR_ID,
        "AwsAccountId": account,
        "RecordState": state,
        "CreatedAt": created,
        "Workflow": {"Status": workflow},
    }


def read(region: str, status: ReadStatus = ReadStatus.OK, *found: dict[str, Any]) -> RegionFindings:
    return RegionFindings(
        region, status, None if status is ReadStatus.OK else "X: boom", {f["Id"]: f for f in found}
    )


def cluster(
    region: str, name: str, status: ComplianceStatus = ComplianceStatus.FAILED
) -> ClusterResult:
    facts = ClusterFacts(
        ACCOUNT, "aws", region, name, f"arn:aws:eks:{region}:{ACCOUNT}:cluster/{name}"
    )
    return ClusterResult(facts, Verdict(status, Reason.NETWORK_POLICY_DISABLED, "m"))


OK, OFF, ERR = ReadStatus.OK, ReadStatus.DISABLED, ReadStatus.ERROR


@pytest.mark.parametrize(
    ("own", "fixed", "statuses", "target", "error_part"),
    [
        # own region enabled: the finding lives next to its cluster
        ("eu-west-1", None, {"eu-west-1": OK, HOME: OK}, "eu-west-1", None),
        # not enabled there: home-region fallback
        ("eu-west-1", None, {"eu-west-1": OFF, HOME: OK}, HOME, None),
        # a read error is not "not enabled": never reroute next to a copy we cannot see
        (
            "eu-west-1",
            None,
            {"eu-west-1": ERR, HOME: OK},
            None,
            "cannot read findings in eu-west-1",
        ),
        # nowhere at all
        ("eu-west-1", None, {"eu-west-1": OFF, HOME: OFF}, None, "not enabled in eu-west-1"),
        ("eu-west-1", None, {"eu-west-1": OFF, HOME: ERR}, None, "home region us-east-1"),
        # FINDINGS_REGION wins over the own region, and has no fallback
        (
            "eu-west-1",
            "eu-central-1",
            {"eu-west-1": OK, HOME: OK, "eu-central-1": OK},
            "eu-central-1",
            None,
        ),
        (
            "eu-west-1",
            "eu-central-1",
            {"eu-west-1": OK, HOME: OK, "eu-central-1": OFF},
            None,
            "FINDINGS_REGION eu-central-1",
        ),
        (
            "eu-west-1",
            "eu-central-1",
            {"eu-west-1": OK, HOME: OK, "eu-central-1": ERR},
            None,
            "FINDINGS_REGION eu-central-1",
        ),
    ],
)
def test_target_region(
    own: str,
    fixed: str | None,
    statuses: dict[str, ReadStatus],
    target: str | None,
    error_part: str | None,
) -> None:
    reads = {region: read(region, status) for region, status in statuses.items()}
    got, error = target_region(own, HOME, fixed, reads)
    assert got == target
    if error_part is None:
        assert error is None
    else:
        assert error is not None and error_part in error and "X: boom" in error


def test_route_groups_by_target_and_reports_the_undeliverable() -> None:
    reads = {
        "eu-west-1": read("eu-west-1", OFF),
        "us-west-2": read("us-west-2", ERR),
        HOME: read(HOME),
    }
    a, b, c = cluster("eu-west-1", "a"), cluster(HOME, "b"), cluster("us-west-2", "c")
    routes, undeliverable = route([a, b, c], HOME, None, reads)
    assert routes == {HOME: [a, b]}
    assert [(u[0].facts.name, "cannot read" in u[1]) for u in undeliverable] == [("c", True)]


def test_regions_to_read_cover_every_possible_home_of_a_finding() -> None:
    assert regions_to_read(["eu-west-1"], ["eu-west-1", "ap-south-1"], HOME, "eu-central-1") == [
        "ap-south-1",
        "eu-central-1",
        "eu-west-1",
        HOME,
    ]
    assert regions_to_read([], [], HOME, None) == [HOME]


def scope(listed: set[str], seen: set[tuple[str, str]], *, narrowed: bool = False) -> Scope:
    return Scope(ACCOUNT, frozenset(listed), frozenset(seen), narrowed)


@pytest.mark.parametrize(
    ("finding", "listed", "seen", "narrowed", "gone"),
    [
        # listed in full and absent: gone
        (fid("eu-west-1", "x"), {"eu-west-1"}, set(), False, True),
        # listed and present (also when it could not be described): not gone
        (fid("eu-west-1", "x"), {"eu-west-1"}, {("eu-west-1", "x")}, False, False),
        # its own region was not listed (denied, failed): never gone, even when the region
        # the finding is stored in (FINDINGS_REGION, home) was listed in full
        (fid("eu-west-1", "x"), {HOME, "eu-central-1"}, set(), False, False),
        # a narrowed run looked for nothing else
        (fid("eu-west-1", "x"), {"eu-west-1"}, set(), True, False),
        # another account's finding, or an Id that is not ours
        (fid("eu-west-1", "x", OTHER), {"eu-west-1"}, set(), False, False),
        (
            "someone-else/aws/123456789012/eu-west-1/x/CIS-EKS-5.4.4",
            {"eu-west-1"},
            set(),
            False,
            False,
        ),
    ],
)
def test_cluster_gone(
    finding: str, listed: set[str], seen: set[tuple[str, str]], narrowed: bool, gone: bool
) -> None:
    assert scope(listed, seen, narrowed=narrowed).cluster_gone(finding) is gone


def test_scope_counts_clusters_seen_only_in_errors_as_present() -> None:
    result = AuditResult(
        ACCOUNT,
        "aws",
        ["eu-west-1"],
        listed_regions=["eu-west-1"],
        results=[cluster("eu-west-1", "ok")],
        errors=[
            AuditError("eu-west-1", "flaky", "AccessDenied"),
            AuditError("eu-west-1", None, "region"),
        ],
    )
    made = Scope.of(result, narrowed=False)
    assert made.seen == {("eu-west-1", "ok"), ("eu-west-1", "flaky")}
    assert not made.cluster_gone(fid("eu-west-1", "flaky"))
    assert made.cluster_gone(fid("eu-west-1", "deleted"))


def test_stale_ids_archive_moved_copies_and_gone_clusters_only() -> None:
    here = read(
        HOME,
        OK,
        stored("eu-west-1", "moved", where=HOME),  # delivered to eu-west-1 this run
        stored(HOME, "stays"),  # delivered here this run
        stored(HOME, "deleted"),  # listed in full, absent
        stored("ap-south-1", "unlisted", where=HOME),  # its region was not listed
        stored(HOME, "old", state="ARCHIVED"),  # already archived
    )
    delivered = {fid("eu-west-1", "moved"): "eu-west-1", fid(HOME, "stays"): HOME}
    seen = {("eu-west-1", "moved"), (HOME, "stays")}
    assert stale_ids(here, delivered, scope({HOME, "eu-west-1"}, seen)) == sorted(
        [fid("eu-west-1", "moved"), fid(HOME, "deleted")]
    )
    # A narrowed run still retires a copy it just moved, never anything it did not see.
    assert stale_ids(here, delivered, scope({HOME}, seen, narrowed=True)) == [
        fid("eu-west-1", "moved")
    ]


@pytest.mark.parametrize(
    ("copies", "expected"),
    [
        # this region's active copy first
        ({"eu-west-1": "2026-03-01", HOME: "2026-01-01"}, "2026-03-01"),
        # else the oldest active copy elsewhere (the finding moved)
        ({HOME: "2026-02-01", "eu-central-1": "2026-01-15"}, "2026-01-15"),
        ({}, None),
    ],
)
def test_active_copy_keeps_the_right_created_at(
    copies: dict[str, str], expected: str | None
) -> None:
    key = fid("eu-west-1", "c")
    regions = {"eu-west-1", HOME, "eu-central-1"}
    reads = {
        region: read(
            region,
            OK,
            *(
                [stored("eu-west-1", "c", created=copies[region], where=region)]
                if region in copies
                else []
            ),
        )
        for region in regions
    }
    copy = active_copy(key, "eu-west-1", reads)
    assert (copy or {}).get("CreatedAt") == expected


def test_active_copy_ignores_archived_copies() -> None:
    key = fid("eu-west-1", "c")
    reads = {"eu-west-1": read("eu-west-1", OK, stored("eu-west-1", "c", state="ARCHIVED"))}
    assert active_copy(key, "eu-west-1", reads) is None


@pytest.mark.parametrize(
    ("state", "workflow", "settled"),
    [
        ("ACTIVE", "RESOLVED", True),
        ("ACTIVE", "SUPPRESSED", True),
        ("ACTIVE", "NEW", False),
        ("ACTIVE", "NOTIFIED", False),
        # re-activating an archived RESOLVED finding resets it to NEW: resolve again
        ("ARCHIVED", "RESOLVED", False),
        ("ARCHIVED", "NOTIFIED", False),
        # SUPPRESSED survives re-activation ("Setting the workflow status"): never touch it
        ("ARCHIVED", "SUPPRESSED", True),
    ],
)
def test_workflow_settled(state: str, workflow: str, settled: bool) -> None:
    assert workflow_settled(stored("eu-west-1", "c", state=state, workflow=workflow)) is settled


def test_workflow_of_a_new_finding_is_not_settled() -> None:
    assert workflow_settled(None) is False


def test_only_passed_unsettled_findings_are_resolved() -> None:
    passed, failed = cluster("eu-west-1", "p", ComplianceStatus.PASSED), cluster("eu-west-1", "f")
    done = cluster("eu-west-1", "d", ComplianceStatus.PASSED)
    delivered = {
        fid("eu-west-1", "p"): Subject(passed),
        fid("eu-west-1", "f"): Subject(failed),
        fid("eu-west-1", "d"): Subject(done),
    }
    stored_here = {fid("eu-west-1", "d"): stored("eu-west-1", "d", workflow="RESOLVED")}
    assert to_resolve(delivered, stored_here) == [fid("eu-west-1", "p")]


def test_notes_are_grouped_by_text_and_unchanged_ones_skipped() -> None:
    a, b, c, d = (fid("eu-west-1", n) for n in "abcd")
    same = {**stored("eu-west-1", "c"), "Note": {"Text": "t1"}}
    archived_same = {**stored("eu-west-1", "d", state="ARCHIVED"), "Note": {"Text": "t2"}}
    notes = {a: "t1", b: "t1", c: "t1", d: "t2", fid("eu-west-1", "e"): None}
    assert notes_by_text(notes, {c: same, d: archived_same}) == {"t1": [a, b], "t2": [d]}


@pytest.mark.parametrize(
    ("change", "ours"),
    [
        ({}, True),
        ({"AwsAccountId": OTHER}, False),
        ({"Id": fid("eu-west-1", "c", OTHER)}, False),
        ({"ProductArn": product_arn("aws", "eu-west-1", OTHER)}, False),
        ({"ProductArn": product_arn("aws", HOME, ACCOUNT)}, False),  # aggregated replica
        ({"GeneratorId": "someone-else"}, False),
        ({"Id": "not-ours"}, False),
    ],
)
def test_is_ours(change: dict[str, Any], ours: bool) -> None:
    finding = {**stored("eu-west-1", "c"), **change}
    assert is_ours(finding, product_arn("aws", "eu-west-1", ACCOUNT), ACCOUNT) is ours


def test_errors_name_the_cluster_and_unreadable_listed_regions() -> None:
    error = archive_error(fid("eu-west-1", "c"), HOME, "X: boom")
    assert (error.region, error.cluster) == ("eu-west-1", "c")
    assert "in us-east-1" in error.error
    reads = [read("eu-west-1", ERR), read("us-west-2", ERR), read(HOME, OFF)]
    assert [e.region for e in unread_region_errors(reads, ["eu-west-1", HOME])] == ["eu-west-1"]


@pytest.mark.parametrize(
    ("finding", "seen", "deleted", "narrowed", "gone"),
    [
        # a narrowed run archives what DescribeCluster confirmed deleted...
        (fid("eu-west-1", "x"), set(), {("eu-west-1", "x")}, True, True),
        # ...and nothing else, even in a region it happens to know
        (fid("eu-west-1", "y"), set(), {("eu-west-1", "x")}, True, False),
        # same name in another region is another cluster
        (fid(HOME, "x"), set(), {("eu-west-1", "x")}, True, False),
        # contradictory evidence (seen this run): keep it
        (fid("eu-west-1", "x"), {("eu-west-1", "x")}, {("eu-west-1", "x")}, True, False),
        # a full run honours the confirmation too
        (fid("eu-west-1", "x"), set(), {("eu-west-1", "x")}, False, True),
        # another account's cluster of the same name
        (fid("eu-west-1", "x", OTHER), set(), {("eu-west-1", "x")}, True, False),
    ],
)
def test_confirmed_deletions(
    finding: str,
    seen: set[tuple[str, str]],
    deleted: set[tuple[str, str]],
    narrowed: bool,
    gone: bool,
) -> None:
    made = Scope(ACCOUNT, frozenset(), frozenset(seen), narrowed, frozenset(deleted))
    assert made.cluster_gone(finding) is gone


def test_a_narrowed_run_reads_only_its_own_ids_in_groups_of_20() -> None:
    result = AuditResult(
        ACCOUNT,
        "aws",
        ["eu-west-1"],
        results=[cluster("eu-west-1", f"c{i:02d}") for i in range(20)],
        confirmed_deleted=[("eu-west-1", "gone")],
    )
    ids = Scope.of(result, narrowed=True).finding_ids(result)
    assert ids is not None and len(ids) == 21 and fid("eu-west-1", "gone") in ids
    groups = id_filter_groups(ids)
    assert groups is not None and [len(g) for g in groups] == [20, 1]
    assert sorted(i for g in groups for i in g) == sorted(ids)
    # a full run reads everything
    assert Scope.of(result, narrowed=False).finding_ids(result) is None
    assert id_filter_groups(None) is None


NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("stored_copy", "refresh", "needed"),
    [
        # unchanged and imported 6 hours ago: skip (the ingestion event is billed)
        ({"digest": "d1", "age": timedelta(hours=6)}, 24, False),
        ({"digest": "d1", "age": timedelta(hours=23, minutes=59)}, 24, False),
        # due for its refresh: import
        ({"digest": "d1", "age": timedelta(hours=24)}, 24, True),
        ({"digest": "d1", "age": timedelta(days=40)}, 24, True),
        # any change of content (status, reason, message, remediation, tags...): import now
        ({"digest": "d0", "age": timedelta(minutes=1)}, 24, True),
        ({"digest": None, "age": timedelta(minutes=1)}, 24, True),
        # archived (re-activation) or missing here (new, or moved region): import now
        ({"digest": "d1", "age": timedelta(hours=1), "state": "ARCHIVED"}, 24, True),
        (None, 24, True),
        # refresh 0: every run, as before
        ({"digest": "d1", "age": timedelta(hours=1)}, 0, True),
        # a stored UpdatedAt we cannot read: import rather than guess
        ({"digest": "d1", "age": None}, 24, True),
    ],
)
def test_import_needed(stored_copy: dict[str, Any] | None, refresh: int, needed: bool) -> None:
    new = {"ProductFields": {DIGEST_FIELD: "d1"}}
    copy: dict[str, Any] | None = None
    if stored_copy is not None:
        age = stored_copy["age"]
        copy = {
            "RecordState": stored_copy.get("state", "ACTIVE"),
            "UpdatedAt": "garbage" if age is None else timestamp(NOW - age),
            "ProductFields": {"aws/securityhub/FindingId": "x"}
            | ({DIGEST_FIELD: stored_copy["digest"]} if stored_copy["digest"] else {}),
        }
    assert import_needed(new, copy, NOW, refresh) is needed


def test_reads_for_a_full_and_a_narrowed_run() -> None:
    result = AuditResult(
        ACCOUNT,
        "aws",
        ["eu-west-1", "ap-south-1"],
        listed_regions=["eu-west-1"],
        results=[cluster("eu-west-1", "a")],
    )
    full = reads_for(result, Scope.of(result, narrowed=False), HOME, None)
    assert full == (["eu-west-1", HOME], None)  # every finding of the listed regions

    narrow = AuditResult(
        ACCOUNT,
        "aws",
        ["eu-west-1"],
        results=[cluster("eu-west-1", "a")],
        confirmed_deleted=[("ap-south-1", "gone")],
    )
    planned = reads_for(narrow, Scope.of(narrow, narrowed=True), HOME, "eu-central-1")
    assert planned == (
        ["ap-south-1", "eu-central-1", "eu-west-1", HOME],
        [sorted([fid("eu-west-1", "a"), fid("ap-south-1", "gone")])],
    )
    # a narrowed run that found nothing and confirmed nothing reads nothing
    empty = AuditResult(ACCOUNT, "aws", ["eu-west-1"])
    assert reads_for(empty, Scope.of(empty, narrowed=True), HOME, None) is None
