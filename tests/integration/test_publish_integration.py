"""Security Hub publishing end to end: the real engine, real boto3, the sandbox's emulator.

Each test runs the audit several times in a row, as the scheduled Lambda would, and checks
what a security team sees in Security Hub afterwards.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from eks_netpol_auditor import cli
from eks_netpol_auditor.audit import run_audit
from eks_netpol_auditor.aws import AwsClients
from eks_netpol_auditor.config import Settings
from eks_netpol_auditor.handler import summarize
from eks_netpol_auditor.model import AuditResult
from eks_netpol_auditor.securityhub import publish
from eks_netpol_auditor.securityhub.asff import (
    FINDING_TYPE,
    GENERATOR_ID,
    build_finding,
    finding_id,
    parse_timestamp,
    product_arn,
)
from sandbox.client import AddonSeed, ClusterSeed, SandboxClient
from tests.builders import ACCOUNT, ENABLED
from tests.conftest import AwsClientFactory

OTHER_ACCOUNT = "210987654321"
HOME = "us-east-1"
DISABLED = AddonSeed(configuration_values='{"env":{"WARM_IP_TARGET":"5"}}')


def audit(*regions: str, clients: AwsClients | None = None, **changes: Any) -> AuditResult:
    settings = Settings(regions=regions, publish=True, home_region=HOME, max_workers=16)
    return run_audit(replace(settings, **changes), clients)


def fid(region: str, cluster: str) -> str:
    return finding_id("aws", ACCOUNT, region, cluster)


def stored(sandbox: SandboxClient, region: str) -> dict[str, dict[str, Any]]:
    """Findings in `region` by Id; fails on a duplicate Id (there must never be one)."""
    findings = sandbox.findings(region)
    by_id = {f["Id"]: f for f in findings}
    assert len(by_id) == len(findings), "duplicate finding ids"
    return by_id


def active(sandbox: SandboxClient, *regions: str) -> list[tuple[str, str]]:
    return sorted(
        (region, f["Id"])
        for region in regions
        for f in sandbox.findings(region)
        if f["RecordState"] == "ACTIVE"
    )


def calls(sandbox: SandboxClient, operation: str, **match: Any) -> int:
    return sandbox.calls().count(service="securityhub", operation=operation, **match)


def test_consecutive_runs_update_one_finding_per_cluster_in_place(
    sandbox: SandboxClient,
) -> None:
    sandbox.add_cluster("eu-west-1", "payments", addon=DISABLED, tags={"team": "pay"})
    sandbox.add_cluster("eu-west-1", "search", addon=ENABLED)
    sandbox.add_cluster("eu-west-1", "edge", addon=None)

    history = []
    for _ in range(3):
        # Every run re-imports (no refresh interval), so each updates the finding in place.
        result = audit("eu-west-1", findings_refresh_hours=0)
        assert result.errors == []
        assert (result.findings_published, result.findings_failed) == (3, 0)
        assert {r.finding_region for r in result.results} == {"eu-west-1"}
        history.append(stored(sandbox, "eu-west-1"))

    ids = {fid("eu-west-1", name) for name in ("payments", "search", "edge")}
    for snapshot in history:
        assert set(snapshot) == ids
        assert all(f["RecordState"] == "ACTIVE" for f in snapshot.values())
    for finding_key in ids:
        first, second, third = (snapshot[finding_key] for snapshot in history)
        assert first["CreatedAt"] == second["CreatedAt"] == third["CreatedAt"]
        assert first["FirstObservedAt"] == third["FirstObservedAt"]
        updated = [parse_timestamp(s["UpdatedAt"]) for s in (first, second, third)]
        assert updated[0] < updated[1] < updated[2]  # type: ignore[operator]
        assert third["LastObservedAt"] == third["UpdatedAt"]

    latest = history[-1]
    payments = latest[fid("eu-west-1", "payments")]
    assert payments["Compliance"]["Status"] == "FAILED"
    assert payments["Severity"]["Label"] == "MEDIUM"
    assert payments["Workflow"]["Status"] == "NEW"
    assert payments["Resources"][0]["Tags"] == {"team": "pay"}
    assert "--configuration-values" in payments["Remediation"]["Recommendation"]["Text"]
    search = latest[fid("eu-west-1", "search")]
    assert search["Compliance"]["Status"] == "PASSED"
    assert search["Workflow"]["Status"] == "RESOLVED"
    # Resolved once, not rewritten on every run.
    assert calls(sandbox, "BatchUpdateFindings") == 1
    assert calls(sandbox, "BatchImportFindings") == 3


def test_fixed_cluster_is_resolved_and_a_regression_reopens_it(sandbox: SandboxClient) -> None:
    sandbox.add_cluster("eu-west-1", "orders", addon=DISABLED)
    key = fid("eu-west-1", "orders")

    audit("eu-west-1")
    finding = stored(sandbox, "eu-west-1")[key]
    assert (finding["Compliance"]["Status"], finding["Workflow"]["Status"]) == ("FAILED", "NEW")

    sandbox.set_addon("eu-west-1", "orders", ENABLED)
    audit("eu-west-1")
    finding = stored(sandbox, "eu-west-1")[key]
    assert (finding["Compliance"]["Status"], finding["Workflow"]["Status"]) == (
        "PASSED",
        "RESOLVED",
    )
    assert finding["Severity"]["Label"] == "INFORMATIONAL"

    sandbox.set_addon("eu-west-1", "orders", DISABLED)
    audit("eu-west-1")
    finding = stored(sandbox, "eu-west-1")[key]
    assert (finding["Compliance"]["Status"], finding["Workflow"]["Status"]) == ("FAILED", "NEW")
    assert len(sandbox.findings("eu-west-1")) == 1


def test_deleted_cluster_is_archived_only_after_a_complete_listing(
    sandbox: SandboxClient,
) -> None:
    sandbox.add_cluster("eu-west-1", "keep", addon=ENABLED)
    sandbox.add_cluster("eu-west-1", "gone", addon=DISABLED)
    audit("eu-west-1")
    sandbox.delete_cluster("eu-west-1", "gone")
    gone = fid("eu-west-1", "gone")

    # A manual run narrowed to one cluster did not look for the others.
    narrowed = audit("eu-west-1", cluster_names=frozenset({"keep"}))
    assert narrowed.findings_archived == 0
    assert stored(sandbox, "eu-west-1")[gone]["RecordState"] == "ACTIVE"

    # A run whose listing failed in the region never archives there.
    rule = sandbox.add_fault("access_denied", service="eks", operation="ListClusters")
    failed_listing = audit("eu-west-1")
    sandbox.remove_fault(rule)
    assert failed_listing.findings_archived == 0
    assert stored(sandbox, "eu-west-1")[gone]["RecordState"] == "ACTIVE"

    before = stored(sandbox, "eu-west-1")[gone]
    complete = audit("eu-west-1")
    assert complete.findings_archived == 1
    after = stored(sandbox, "eu-west-1")[gone]
    assert after["RecordState"] == "ARCHIVED"
    assert after["CreatedAt"] == before["CreatedAt"]
    assert parse_timestamp(after["UpdatedAt"]) > parse_timestamp(before["UpdatedAt"])  # type: ignore[operator]
    assert stored(sandbox, "eu-west-1")[fid("eu-west-1", "keep")]["RecordState"] == "ACTIVE"
    # Archived once; the next run leaves it alone.
    assert audit("eu-west-1").findings_archived == 0


def test_cluster_that_could_not_be_described_is_never_archived(sandbox: SandboxClient) -> None:
    sandbox.add_cluster("eu-west-1", "flaky", addon=DISABLED)
    audit("eu-west-1")
    sandbox.add_fault("access_denied", service="eks", operation="DescribeCluster")
    result = audit("eu-west-1")
    assert result.findings_archived == 0
    finding = stored(sandbox, "eu-west-1")[fid("eu-west-1", "flaky")]
    assert finding["RecordState"] == "ACTIVE"
    # The run says honestly that it could not evaluate the cluster.
    assert finding["Compliance"]["Status"] == "NOT_AVAILABLE"
    assert finding["Severity"]["Label"] == "LOW"


def test_denied_region_findings_stay_untouched(sandbox: SandboxClient) -> None:
    sandbox.add_cluster("eu-west-1", "dublin", addon=DISABLED)
    sandbox.add_cluster("us-west-2", "oregon", addon=DISABLED)
    audit("eu-west-1", "us-west-2")
    before = stored(sandbox, "eu-west-1")

    sandbox.deny_region("eu-west-1", service="eks")  # an SCP denying EKS there
    result = audit("eu-west-1", "us-west-2")
    assert [(e.region, e.cluster) for e in result.errors] == [("eu-west-1", None)]
    assert result.findings_archived == 0
    assert stored(sandbox, "eu-west-1") == before
    oregon = stored(sandbox, "us-west-2")[fid("us-west-2", "oregon")]
    assert oregon["RecordState"] == "ACTIVE"


def test_region_without_security_hub_delivers_home_then_moves_back(
    sandbox: SandboxClient,
) -> None:
    sandbox.add_cluster("eu-west-1", "dublin", addon=DISABLED)
    sandbox.set_securityhub_enabled("eu-west-1", False)
    key = fid("eu-west-1", "dublin")

    first = audit("eu-west-1")
    assert first.errors == []
    assert first.results[0].finding_region == HOME
    home_copy = stored(sandbox, HOME)[key]
    assert home_copy["ProductArn"].split(":")[3] == HOME
    assert home_copy["Resources"][0]["Region"] == "eu-west-1"

    audit("eu-west-1")  # still fallback: updated in place at home
    assert active(sandbox, HOME) == [(HOME, key)]

    sandbox.set_securityhub_enabled("eu-west-1", True)
    moved = audit("eu-west-1")
    assert moved.results[0].finding_region == "eu-west-1"
    assert moved.findings_archived == 1
    own = stored(sandbox, "eu-west-1")[key]
    assert own["CreatedAt"] == home_copy["CreatedAt"]  # same finding, new home
    assert stored(sandbox, HOME)[key]["RecordState"] == "ARCHIVED"
    assert active(sandbox, HOME, "eu-west-1") == [("eu-west-1", key)]


def test_findings_region_collects_everything_and_retires_old_copies(
    sandbox: SandboxClient,
) -> None:
    sandbox.add_cluster("eu-west-1", "dublin", addon=DISABLED)
    sandbox.add_cluster("us-west-2", "oregon", addon=ENABLED)
    audit("eu-west-1", "us-west-2")
    result = audit("eu-west-1", "us-west-2", findings_region="eu-central-1")
    assert {r.finding_region for r in result.results} == {"eu-central-1"}
    assert result.findings_archived == 2
    regions = ("eu-west-1", "us-west-2", "eu-central-1")
    assert active(sandbox, *regions) == [
        ("eu-central-1", fid("eu-west-1", "dublin")),
        ("eu-central-1", fid("us-west-2", "oregon")),
    ]
    oregon = stored(sandbox, "eu-central-1")[fid("us-west-2", "oregon")]
    assert oregon["Workflow"]["Status"] == "RESOLVED"


def test_nowhere_to_deliver_is_reported_never_silent(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox.add_cluster("eu-west-1", "dublin", addon=ENABLED)
    sandbox.set_securityhub_enabled("eu-west-1", False)
    sandbox.set_securityhub_enabled(HOME, False)
    monkeypatch.setenv("AWS_REGION", HOME)
    code = cli.main(["scan", "--publish", "--regions", "eu-west-1", "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 3  # nothing FAILED, but the run is incomplete
    cluster = document["results"][0]
    assert cluster["finding_region"] is None
    assert "not enabled in eu-west-1" in cluster["publish_error"]
    assert "InvalidAccessException" in cluster["publish_error"]
    assert document["errors"][0]["cluster"] == "dublin"


def test_rejected_finding_is_resent_once_and_reported_with_its_error_code(
    sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox.add_cluster("eu-west-1", "good", addon=DISABLED)
    sandbox.add_cluster("eu-west-1", "bad", addon=DISABLED)

    def broken_for_bad(*args: Any, **kwargs: Any) -> dict[str, Any]:
        finding = build_finding(*args, **kwargs)
        if finding["Resources"][0]["Id"].endswith("/bad"):
            finding["Title"] = "x" * 300  # over the ASFF limit: InvalidInput
        return finding

    monkeypatch.setattr("eks_netpol_auditor.securityhub.publisher.build_finding", broken_for_bad)
    result = audit("eu-west-1")
    assert calls(sandbox, "BatchImportFindings") == 2  # the batch, then only the failed one
    assert (result.findings_published, result.findings_failed) == (1, 1)
    bad = next(r for r in result.results if r.facts.name == "bad")
    assert bad.publish_error is not None and "InvalidInput" in bad.publish_error
    assert [(e.cluster, "InvalidInput" in e.error) for e in result.errors] == [("bad", True)]
    assert set(stored(sandbox, "eu-west-1")) == {fid("eu-west-1", "good")}


def test_throttling_is_absorbed_by_retries(sandbox: SandboxClient) -> None:
    sandbox.add_cluster("eu-west-1", "a", addon=DISABLED)
    sandbox.add_fault("throttle", service="securityhub", operation="BatchImportFindings", count=2)
    sandbox.add_fault("throttle", service="securityhub", operation="GetFindings", count=2)
    result = audit("eu-west-1")
    assert result.errors == []
    assert result.findings_published == 1
    assert calls(sandbox, "BatchImportFindings", status=429) == 2


def test_remediation_outcome_is_noted_once(sandbox: SandboxClient) -> None:
    sandbox.add_cluster("eu-west-1", "pay", addon=DISABLED)
    key = fid("eu-west-1", "pay")
    result = audit("eu-west-1", auto_remediate=True, dry_run=True)
    assert result.results[0].remediation is not None
    assert result.results[0].remediation.action == "dry_run"
    note = stored(sandbox, "eu-west-1")[key]["Note"]
    assert note["Text"].startswith("eks-netpol-auditor remediation: dry_run")
    assert "UpdateAddon" in note["Text"]
    assert note["UpdatedBy"] == "eks-netpol-auditor"
    updates = calls(sandbox, "BatchUpdateFindings")
    audit("eu-west-1", auto_remediate=True, dry_run=True)
    assert calls(sandbox, "BatchUpdateFindings") == updates  # same note: not rewritten

    applied = audit("eu-west-1", auto_remediate=True)
    outcome = applied.results[0].remediation
    assert outcome is not None and outcome.action == "applied"
    note = stored(sandbox, "eu-west-1")[key]["Note"]
    assert f"EKS update id {outcome.update_id}" in note["Text"]


@pytest.mark.slow
def test_250_clusters_go_out_in_three_batches_without_throttling_errors(
    sandbox: SandboxClient,
) -> None:
    for index in range(250):
        sandbox.add_cluster("eu-west-1", f"c{index:03d}", addon=DISABLED)
    for run in range(2):
        sandbox.reset_calls()
        result = audit("eu-west-1", findings_refresh_hours=0)
        assert result.errors == [], run
        assert result.findings_published == 250
        assert calls(sandbox, "BatchImportFindings") == 3
        assert calls(sandbox, "BatchImportFindings", status=200) == 3
        assert sandbox.calls().count(service="securityhub", status=429) == 0
    assert len(stored(sandbox, "eu-west-1")) == 250


def test_table_says_where_findings_went(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox.add_cluster("eu-west-1", "dublin", addon=ENABLED)
    sandbox.add_cluster("us-east-1", "virginia", addon=ENABLED)
    sandbox.set_securityhub_enabled("eu-west-1", False)
    monkeypatch.setenv("AWS_REGION", HOME)
    code = cli.main(["scan", "--publish", "--regions", "eu-west-1,us-east-1"])
    table = capsys.readouterr().out
    assert code == 0
    assert (
        "Security Hub CSPM: 2 findings published (us-east-1 2), 0 unchanged (not re-imported), "
        "0 failed, 0 archived" in table
    )


# -- pins (issue 9 item 7): each fails when the rule it names is broken -----------------------


@pytest.mark.parametrize("where", ["findings_region", "home_fallback"])
def test_denied_listing_never_archives_in_the_region_holding_the_findings(
    sandbox: SandboxClient, where: str
) -> None:
    """The findings of eu-west-1's clusters live in another region that *was* listed in
    full; a denied eu-west-1 listing must still not make them look deleted."""
    holder = "eu-central-1" if where == "findings_region" else HOME
    changes: dict[str, Any] = {"findings_region": holder} if where == "findings_region" else {}
    if where == "home_fallback":
        sandbox.set_securityhub_enabled("eu-west-1", False)
    sandbox.add_cluster("eu-west-1", "dublin", addon=DISABLED)
    sandbox.add_cluster(holder, "local", addon=ENABLED)  # so the holder is listed in full
    first = audit("eu-west-1", holder, **changes)
    assert {r.finding_region for r in first.results} == {holder}
    key = fid("eu-west-1", "dublin")
    assert stored(sandbox, holder)[key]["RecordState"] == "ACTIVE"

    sandbox.deny_region("eu-west-1", service="eks")
    result = audit("eu-west-1", holder, **changes)
    assert [(e.region, e.cluster) for e in result.errors] == [("eu-west-1", None)]
    assert result.findings_archived == 0
    assert stored(sandbox, holder)[key]["RecordState"] == "ACTIVE"
    assert active(sandbox, holder, "eu-west-1") == sorted(
        [(holder, key), (holder, fid(holder, "local"))]
    )


def test_security_hub_read_error_in_own_region_is_reported_not_rerouted(
    sandbox: SandboxClient,
) -> None:
    sandbox.add_cluster("eu-west-1", "dublin", addon=DISABLED)
    audit("eu-west-1")
    key = fid("eu-west-1", "dublin")
    before = stored(sandbox, "eu-west-1")[key]

    sandbox.add_fault(
        "access_denied", service="securityhub", operation="GetFindings", region="eu-west-1"
    )
    result = audit("eu-west-1")
    cluster = result.results[0]
    assert cluster.finding_region is None
    assert cluster.publish_error is not None
    assert "cannot read findings in eu-west-1" in cluster.publish_error
    assert (result.findings_published, result.findings_failed) == (0, 1)
    assert ("eu-west-1", "dublin") in [(e.region, e.cluster) for e in result.errors]
    assert result.exit_code() == 1  # FAILED wins; the error is still listed
    # No second copy at home next to the one we could not see; the original is untouched.
    assert stored(sandbox, HOME) == {}
    assert stored(sandbox, "eu-west-1")[key] == before


def test_get_findings_is_paginated_beyond_100_findings(sandbox: SandboxClient) -> None:
    """GetFindings returns at most 100 per page: findings on later pages must still be
    archived when their cluster is deleted, and keep their CreatedAt when updated."""
    names = [f"c{i:03d}" for i in range(100)] + ["zz-gone", "zz-keep"]
    sandbox.add_clusters([ClusterSeed("eu-west-1", name, addon=DISABLED) for name in names])
    audit("eu-west-1")
    first = stored(sandbox, "eu-west-1")
    assert len(first) == 102
    sandbox.delete_cluster("eu-west-1", "zz-gone")
    sandbox.reset_calls()

    result = audit("eu-west-1", findings_refresh_hours=0)  # re-import the page-2 findings too
    assert result.errors == []
    assert result.findings_archived == 1
    after = stored(sandbox, "eu-west-1")
    assert len(after) == 102  # updated in place, no duplicates
    assert after[fid("eu-west-1", "zz-gone")]["RecordState"] == "ARCHIVED"
    keep = fid("eu-west-1", "zz-keep")
    assert after[keep]["CreatedAt"] == first[keep]["CreatedAt"]
    assert parse_timestamp(after[keep]["UpdatedAt"]) > parse_timestamp(first[keep]["UpdatedAt"])  # type: ignore[operator]
    assert calls(sandbox, "GetFindings", region="eu-west-1") == 2  # 100 + 2


def _foreign(region: str, cluster: str, **change: str) -> dict[str, Any]:
    """A finding shaped like ours but belonging to another account, as a delegated
    administrator's GetFindings would return for a member account."""
    finding: dict[str, Any] = {
        "SchemaVersion": "2018-10-08",
        "Id": finding_id("aws", OTHER_ACCOUNT, region, cluster),
        "ProductArn": product_arn("aws", region, OTHER_ACCOUNT),
        "GeneratorId": GENERATOR_ID,
        "AwsAccountId": OTHER_ACCOUNT,
        "CreatedAt": "2020-01-01T00:00:00.000Z",
        "FirstObservedAt": "2020-01-01T00:00:00.000Z",
        "UpdatedAt": "2030-01-01T00:00:00.000Z",
        "Title": "t",
        "Description": "d",
        "Severity": {"Label": "MEDIUM"},
        "Resources": [{"Type": "AwsEksCluster", "Id": "x"}],
        "RecordState": "ACTIVE",
        "Workflow": {"Status": "NEW"},
    }
    finding.update(change)
    return finding


def test_another_accounts_finding_from_get_findings_is_never_ours(
    sandbox: SandboxClient,
) -> None:
    sandbox.add_cluster("eu-west-1", "dublin", addon=DISABLED)
    audit("eu-west-1")
    key = fid("eu-west-1", "dublin")
    before = stored(sandbox, "eu-west-1")[key]
    ours_arn = product_arn("aws", "eu-west-1", ACCOUNT)
    injected = [
        # a member account's finding for a cluster we do not have: would be "deleted"
        _foreign("eu-west-1", "member-cluster"),
        # a member's finding with our cluster's Id: its old CreatedAt must not be taken
        _foreign("eu-west-1", "dublin", Id=key),
        # an Id naming another account behind our own ProductArn and account
        _foreign("eu-west-1", "spoof", ProductArn=ours_arn, AwsAccountId=ACCOUNT),
    ]

    def add_foreign(parsed: dict[str, Any], **_: Any) -> None:
        parsed.setdefault("Findings", []).extend(injected)

    clients = AwsClients()
    clients.securityhub("eu-west-1").meta.events.register(
        "after-call.securityhub.GetFindings", add_foreign
    )
    result = audit("eu-west-1", clients=clients, findings_refresh_hours=0)
    assert result.errors == []
    assert result.findings_archived == 0
    assert result.results[0].finding_region == "eu-west-1"
    after = stored(sandbox, "eu-west-1")
    assert set(after) == {key}  # nothing written for the foreign Ids
    assert after[key]["CreatedAt"] == before["CreatedAt"]
    assert after[key]["AwsAccountId"] == ACCOUNT
    assert calls(sandbox, "BatchUpdateFindings") == 0


# -- narrowed runs (events): read and touch only the named clusters' findings ---------------


def _capture_get_findings(clients: AwsClients, region: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def capture(params: dict[str, Any], **_: Any) -> None:
        seen.append(params["Filters"])

    clients.securityhub(region).meta.events.register(
        "provide-client-params.securityhub.GetFindings", capture
    )
    return seen


def test_narrowed_run_reads_only_the_named_findings(sandbox: SandboxClient) -> None:
    for name in ("a", "b", "c"):
        sandbox.add_cluster("eu-west-1", name, addon=DISABLED)
    audit("eu-west-1")
    before = stored(sandbox, "eu-west-1")
    sandbox.delete_cluster("eu-west-1", "c")  # gone, but this run was not told so

    clients = AwsClients()
    queries = _capture_get_findings(clients, "eu-west-1")
    result = audit("eu-west-1", clients=clients, cluster_names=frozenset({"a"}))
    assert result.errors == []
    assert queries, "GetFindings was not called"
    for filters in queries:
        assert filters["Id"] == [{"Value": fid("eu-west-1", "a"), "Comparison": "EQUALS"}]
    assert result.findings_archived == 0
    after = stored(sandbox, "eu-west-1")
    assert after[fid("eu-west-1", "c")] == before[fid("eu-west-1", "c")]
    assert after[fid("eu-west-1", "b")] == before[fid("eu-west-1", "b")]
    assert after[fid("eu-west-1", "a")]["CreatedAt"] == before[fid("eu-west-1", "a")]["CreatedAt"]


def test_narrowed_run_archives_only_a_confirmed_deletion(sandbox: SandboxClient) -> None:
    for name in ("keep", "gone", "also-gone"):
        sandbox.add_cluster("eu-west-1", name, addon=DISABLED)
    audit("eu-west-1")
    before = stored(sandbox, "eu-west-1")
    sandbox.delete_cluster("eu-west-1", "gone")
    sandbox.delete_cluster("eu-west-1", "also-gone")

    settings = Settings(regions=("eu-west-1",), home_region=HOME, cluster_names=frozenset({"gone"}))
    clients = AwsClients()
    result = run_audit(settings, clients)  # discovery only: the cluster is not found
    assert result.results == []
    # What the events path's narrow discovery records when DescribeCluster says it is gone.
    result = replace(result, confirmed_deleted=[("eu-west-1", "gone")])
    result = result.with_publishing(publish(replace(settings, publish=True), clients, result))
    assert result.errors == []
    assert result.findings_archived == 1
    after = stored(sandbox, "eu-west-1")
    assert after[fid("eu-west-1", "gone")]["RecordState"] == "ARCHIVED"
    assert (
        after[fid("eu-west-1", "gone")]["CreatedAt"]
        == before[fid("eu-west-1", "gone")]["CreatedAt"]
    )
    assert after[fid("eu-west-1", "also-gone")] == before[fid("eu-west-1", "also-gone")]
    assert after[fid("eu-west-1", "keep")] == before[fid("eu-west-1", "keep")]


def test_narrowed_run_of_more_than_20_clusters_splits_the_id_filter(
    sandbox: SandboxClient,
) -> None:
    """GetFindings takes at most 20 values per filter attribute (API_GetFindings)."""
    names = [f"n{i:02d}" for i in range(23)]
    sandbox.add_clusters([ClusterSeed("eu-west-1", name, addon=DISABLED) for name in names])
    audit("eu-west-1")
    first = stored(sandbox, "eu-west-1")

    clients = AwsClients()
    queries = _capture_get_findings(clients, "eu-west-1")
    result = audit(
        "eu-west-1", clients=clients, cluster_names=frozenset(names), findings_refresh_hours=0
    )
    assert result.errors == []
    assert result.findings_published == 23
    assert sorted(len(q["Id"]) for q in queries) == [3, 20]
    after = stored(sandbox, "eu-west-1")
    for key, finding in after.items():
        assert finding["CreatedAt"] == first[key]["CreatedAt"]
        assert parse_timestamp(finding["UpdatedAt"]) > parse_timestamp(first[key]["UpdatedAt"])  # type: ignore[operator]


# -- the documented contract (issue 10): FindingProviderFields, SUPPRESSED, ingestion ---------


def _batch_update(aws_client: AwsClientFactory, region: str, key: str, **change: Any) -> None:
    """What a person (console) or an automation rule does: BatchUpdateFindings."""
    client = aws_client("securityhub", region)
    response = client.batch_update_findings(
        FindingIdentifiers=[{"Id": key, "ProductArn": product_arn("aws", region, ACCOUNT)}],
        **change,
    )
    assert response["UnprocessedFindings"] == []


def test_severity_and_types_travel_in_finding_provider_fields(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    sandbox.add_cluster("eu-west-1", "orders", addon=DISABLED)
    key = fid("eu-west-1", "orders")
    audit("eu-west-1")
    finding = stored(sandbox, "eu-west-1")[key]
    assert finding["FindingProviderFields"]["Severity"]["Label"] == "MEDIUM"
    assert finding["FindingProviderFields"]["Types"] == [FINDING_TYPE]
    assert finding["Severity"]["Label"] == "MEDIUM"  # Security Hub fills the top level

    # An automation rule raises the severity; later our assessment changes.
    _batch_update(aws_client, "eu-west-1", key, Severity={"Label": "CRITICAL"})
    sandbox.set_addon("eu-west-1", "orders", ENABLED)
    audit("eu-west-1")
    finding = stored(sandbox, "eu-west-1")[key]
    assert finding["Compliance"]["Status"] == "PASSED"
    assert finding["FindingProviderFields"]["Severity"]["Label"] == "INFORMATIONAL"  # ours
    assert finding["Severity"]["Label"] == "CRITICAL"  # the customer's choice stands

    sandbox.delete_cluster("eu-west-1", "orders")
    assert audit("eu-west-1").findings_archived == 1
    retired = stored(sandbox, "eu-west-1")[key]
    assert retired["RecordState"] == "ARCHIVED"
    assert retired["FindingProviderFields"]["Severity"]["Label"] == "INFORMATIONAL"
    assert retired["FindingProviderFields"]["Types"] == [FINDING_TYPE]
    assert retired["Severity"]["Label"] == "CRITICAL"


def test_suppressed_is_never_overwritten_also_after_reactivation(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    sandbox.add_cluster("eu-west-1", "legacy", addon=DISABLED)
    key = fid("eu-west-1", "legacy")
    audit("eu-west-1")
    _batch_update(aws_client, "eu-west-1", key, Workflow={"Status": "SUPPRESSED"})

    sandbox.set_addon("eu-west-1", "legacy", ENABLED)  # fixed: PASSED
    audit("eu-west-1")
    assert stored(sandbox, "eu-west-1")[key]["Workflow"]["Status"] == "SUPPRESSED"

    sandbox.delete_cluster("eu-west-1", "legacy")
    audit("eu-west-1")
    assert stored(sandbox, "eu-west-1")[key]["RecordState"] == "ARCHIVED"

    # Re-created under the same name and PASSED: the finding is re-activated, and Security Hub
    # CSPM keeps SUPPRESSED ("Setting the workflow status"); so must we.
    sandbox.add_cluster("eu-west-1", "legacy", addon=ENABLED)
    sandbox.reset_calls()
    result = audit("eu-west-1")
    assert result.errors == []
    finding = stored(sandbox, "eu-west-1")[key]
    assert (finding["RecordState"], finding["Compliance"]["Status"]) == ("ACTIVE", "PASSED")
    assert finding["Workflow"]["Status"] == "SUPPRESSED"
    assert calls(sandbox, "BatchUpdateFindings") == 0


def test_unchanged_findings_are_reimported_only_when_due(
    sandbox: SandboxClient,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("a", "b", "c"):
        sandbox.add_cluster("eu-west-1", name, addon=DISABLED)
    first = audit("eu-west-1")
    assert (first.findings_published, first.findings_unchanged_skipped) == (3, 0)
    assert sandbox.ingestion_events(region="eu-west-1") == 3
    before = stored(sandbox, "eu-west-1")

    # Nothing changed: no ingestion event, the findings stay where and as they are.
    sandbox.reset_ingestion_events()
    second = audit("eu-west-1")
    assert (second.findings_published, second.findings_unchanged_skipped) == (0, 3)
    assert {r.finding_region for r in second.results} == {"eu-west-1"}
    assert second.errors == []
    assert sandbox.ingestion_events() == 0
    assert stored(sandbox, "eu-west-1") == before

    # Reported in the JSON output and the Lambda summary.
    monkeypatch.setenv("AWS_REGION", HOME)
    cli.main(["scan", "--publish", "--regions", "eu-west-1", "--format", "json"])
    assert json.loads(capsys.readouterr().out)["findings"] == {
        "published": 0,
        "failed": 0,
        "archived": 0,
        "unchanged_skipped": 3,
    }
    assert summarize(second)["findings"]["unchanged_skipped"] == 3

    # One cluster changes status, another's remediation outcome changes: imported at once.
    sandbox.set_addon("eu-west-1", "a", ENABLED)
    third = audit("eu-west-1", auto_remediate=True, dry_run=True)
    assert sandbox.ingestion_events() == 3  # a (status), b and c (dry-run outcome)
    assert third.findings_unchanged_skipped == 0
    sandbox.reset_ingestion_events()
    fourth = audit("eu-west-1", auto_remediate=True, dry_run=True)
    assert (fourth.findings_published, fourth.findings_unchanged_skipped) == (0, 3)
    assert sandbox.ingestion_events() == 0

    # A day later every finding is refreshed once, changed or not.
    class Tomorrow(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return datetime.now(tz) + timedelta(hours=24, minutes=1)

    monkeypatch.setattr("eks_netpol_auditor.securityhub.publisher.datetime", Tomorrow)
    due = audit("eu-west-1", auto_remediate=True, dry_run=True)
    assert (due.findings_published, due.findings_unchanged_skipped) == (3, 0)
    assert sandbox.ingestion_events() == 3


def test_a_move_and_a_deletion_are_imported_in_the_same_run(sandbox: SandboxClient) -> None:
    sandbox.add_cluster("eu-west-1", "dublin", addon=DISABLED)
    sandbox.add_cluster("eu-west-1", "gone", addon=DISABLED)
    audit("eu-west-1")
    sandbox.delete_cluster("eu-west-1", "gone")
    sandbox.reset_ingestion_events()
    moved = audit("eu-west-1", findings_region="eu-central-1")
    assert moved.findings_published == 1 and moved.findings_archived == 2
    assert sandbox.ingestion_events(region="eu-central-1") == 1  # the new home
    assert sandbox.ingestion_events(region="eu-west-1") == 2  # two archived copies
    assert active(sandbox, "eu-west-1", "eu-central-1") == [
        ("eu-central-1", fid("eu-west-1", "dublin"))
    ]


# -- failures of the follow-up calls are never silent (issue 16, point 8) -------------------


def test_a_failed_workflow_update_is_reported_in_errors(sandbox: SandboxClient) -> None:
    sandbox.add_cluster("eu-west-1", "orders", addon=DISABLED)
    audit("eu-west-1")
    sandbox.set_addon("eu-west-1", "orders", ENABLED)  # fixed: its finding should be RESOLVED
    sandbox.add_fault("access_denied", service="securityhub", operation="BatchUpdateFindings")
    result = audit("eu-west-1")
    assert result.findings_published == 1  # the import itself went through
    errors = [(e.region, e.cluster, e.error) for e in result.errors]
    assert len(errors) == 1
    region, cluster, error = errors[0]
    assert (region, cluster) == ("eu-west-1", "orders")
    assert "finding imported in eu-west-1 but Workflow not updated" in error
    assert result.results[0].publish_error == error
    finding = stored(sandbox, "eu-west-1")[fid("eu-west-1", "orders")]
    assert (finding["Compliance"]["Status"], finding["Workflow"]["Status"]) == ("PASSED", "NEW")


def test_the_archived_count_leaves_out_archives_that_failed(sandbox: SandboxClient) -> None:
    sandbox.add_cluster("eu-west-1", "keep", addon=ENABLED)
    sandbox.add_cluster("eu-west-1", "gone", addon=DISABLED)
    audit("eu-west-1")
    sandbox.delete_cluster("eu-west-1", "gone")
    # "keep" is unchanged and not due, so the only import of this run is the archive.
    sandbox.add_fault("access_denied", service="securityhub", operation="BatchImportFindings")
    result = audit("eu-west-1")
    assert result.findings_unchanged_skipped == 1
    assert result.findings_archived == 0
    assert [(e.region, e.cluster) for e in result.errors] == [("eu-west-1", "gone")]
    assert "could not archive the stale finding" in result.errors[0].error
    assert stored(sandbox, "eu-west-1")[fid("eu-west-1", "gone")]["RecordState"] == "ACTIVE"


def test_a_warning_finding_is_never_resolved_as_a_passed_one_is(sandbox: SandboxClient) -> None:
    """docs/findings.md, "Lifecycle": only a fixed (PASSED) cluster's finding is set to
    RESOLVED; a WARNING (exempted, Auto Mode, unhealthy add-on) asks a person to confirm."""
    sandbox.add_cluster("eu-west-1", "orders", addon=DISABLED)
    audit("eu-west-1")
    sandbox.update_cluster("eu-west-1", "orders", tags={"eks-netpol-auditor:exempt": "cilium"})
    sandbox.reset_calls()
    result = audit("eu-west-1")
    assert [r.verdict.status.value for r in result.results] == ["WARNING"]
    finding = stored(sandbox, "eu-west-1")[fid("eu-west-1", "orders")]
    assert (finding["Compliance"]["Status"], finding["Workflow"]["Status"]) == ("WARNING", "NEW")
    assert calls(sandbox, "BatchUpdateFindings") == 0
