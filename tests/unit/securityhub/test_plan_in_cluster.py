"""The publish planner with the second control (CIS 4.3.2, issue 18): each cluster has a
finding per control, each with its own status, and the same lifecycle rules; with the
in-cluster check off, its findings are retired where the run has evidence, never elsewhere."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from eks_netpol_auditor.incluster.model import IN_CLUSTER_CONTROL_ID
from eks_netpol_auditor.model import (
    CONTROL_ID,
    AuditResult,
    ClusterFacts,
    ClusterResult,
    ComplianceStatus,
    Reason,
    Verdict,
)
from eks_netpol_auditor.securityhub.asff import (
    GENERATOR_ID,
    IN_CLUSTER_GENERATOR_ID,
    finding_id,
    product_arn,
)
from eks_netpol_auditor.securityhub.plan import (
    CHECK_OFF,
    ReadStatus,
    RegionFindings,
    Scope,
    Subject,
    archive_reason,
    is_ours,
    stale_ids,
    subjects,
    to_resolve,
)
from tests.builders import ACCOUNT, in_cluster_verdict

EU, HOME = "eu-west-1", "us-east-1"
PASSED, FAILED = ComplianceStatus.PASSED, ComplianceStatus.FAILED


def second(region: str, name: str) -> str:
    return finding_id("aws", ACCOUNT, region, name, IN_CLUSTER_CONTROL_ID)


def first(region: str, name: str) -> str:
    return finding_id("aws", ACCOUNT, region, name)


def cluster(
    name: str, status: ComplianceStatus = PASSED, second_status: ComplianceStatus | None = None
) -> ClusterResult:
    facts = ClusterFacts(ACCOUNT, "aws", EU, name, f"arn:aws:eks:{EU}:{ACCOUNT}:cluster/{name}")
    result = ClusterResult(facts, Verdict(status, Reason.NETWORK_POLICY_ENABLED, "m"))
    if second_status is not None:
        result = replace(result, in_cluster=in_cluster_verdict(second_status))
    return result


def stored(fid: str, state: str = "ACTIVE") -> dict[str, Any]:
    control = fid.rsplit("/", 1)[1]
    return {
        "Id": fid,
        "ProductArn": product_arn("aws", EU, ACCOUNT),
        "GeneratorId": f"eks-netpol-auditor/{control}",
        "AwsAccountId": ACCOUNT,
        "RecordState": state,
    }


def test_a_cluster_has_the_second_finding_only_when_its_check_ran() -> None:
    assert [s.control for s in subjects(cluster("off"))] == [CONTROL_ID]
    both = subjects(cluster("on", PASSED, FAILED))
    assert [s.control for s in both] == [CONTROL_ID, IN_CLUSTER_CONTROL_ID]
    assert [s.finding_id for s in both] == [first(EU, "on"), second(EU, "on")]
    assert [s.status for s in both] == [PASSED, FAILED]


def test_each_control_is_resolved_by_its_own_status() -> None:
    """A cluster can enforce policies (5.4.4 PASSED) and leave namespaces open (4.3.2
    FAILED): only the passing finding is RESOLVED, the failing one stays open."""
    one, two = cluster("a", PASSED, FAILED), cluster("b", FAILED, PASSED)
    delivered = {s.finding_id: s for c in (one, two) for s in subjects(c)}
    assert to_resolve(delivered, {}) == [first(EU, "a"), second(EU, "b")]
    # SUPPRESSED is a person's decision, for the second control too.
    suppressed = {second(EU, "b"): {"Workflow": {"Status": "SUPPRESSED"}, "RecordState": "ACTIVE"}}
    assert to_resolve(delivered, suppressed) == [first(EU, "a")]


@pytest.mark.parametrize(
    ("fid", "generator", "ours"),
    [
        (second(EU, "x"), IN_CLUSTER_GENERATOR_ID, True),
        (first(EU, "x"), GENERATOR_ID, True),
        # an Id and a generator of different controls: not a finding we wrote
        (second(EU, "x"), GENERATOR_ID, False),
        (first(EU, "x"), IN_CLUSTER_GENERATOR_ID, False),
        (f"eks-netpol-auditor/aws/{ACCOUNT}/{EU}/x/CIS-EKS-9.9.9", GENERATOR_ID, False),
    ],
)
def test_is_ours_pairs_the_id_with_its_controls_generator(
    fid: str, generator: str, ours: bool
) -> None:
    finding = {**stored(fid), "GeneratorId": generator}
    assert is_ours(finding, product_arn("aws", EU, ACCOUNT), ACCOUNT) is ours


def scope(*, in_cluster: bool, listed: set[str], seen: set[str], narrowed: bool = False) -> Scope:
    return Scope(
        ACCOUNT,
        frozenset(listed),
        frozenset((EU, name) for name in seen),
        narrowed,
        in_cluster=in_cluster,
    )


def region(*fids: str) -> RegionFindings:
    return RegionFindings(EU, ReadStatus.OK, findings={f: stored(f) for f in fids})


def test_with_the_check_off_second_findings_are_archived_with_the_reason() -> None:
    here = region(first(EU, "a"), second(EU, "a"), second(EU, "gone"))
    off = scope(in_cluster=False, listed={EU}, seen={"a"})
    assert stale_ids(here, {}, off) == sorted([second(EU, "a"), second(EU, "gone")])
    # The cluster is still there: say why; a deleted cluster's needs no reason.
    assert archive_reason(second(EU, "a"), off) == CHECK_OFF
    assert archive_reason(second(EU, "gone"), off) is None
    assert archive_reason(first(EU, "gone"), off) is None


def test_with_the_check_on_only_deletions_and_moves_are_archived() -> None:
    here = region(first(EU, "a"), second(EU, "a"), second(EU, "gone"))
    on = scope(in_cluster=True, listed={EU}, seen={"a"})
    assert stale_ids(here, {}, on) == [second(EU, "gone")]
    assert stale_ids(here, {second(EU, "a"): HOME}, on) == sorted(
        [second(EU, "a"), second(EU, "gone")]
    )
    assert archive_reason(second(EU, "a"), on) is None


def test_with_the_check_off_nothing_is_retired_without_evidence() -> None:
    """A region that was not listed (denied, failed) keeps its findings, as for deletions;
    a narrowed run retires only the clusters it saw."""
    here = region(second(EU, "a"))
    assert stale_ids(here, {}, scope(in_cluster=False, listed={HOME}, seen=set())) == []
    narrowed = scope(in_cluster=False, listed=set(), seen=set(), narrowed=True)
    assert stale_ids(here, {}, narrowed) == []


def test_a_narrowed_run_reads_second_findings_only_with_the_check_on() -> None:
    """Check off: exactly the Ids (and so the GetFindings calls) of a run before the second
    control; check on: both controls of its clusters and of its confirmed deletions."""
    off = AuditResult(ACCOUNT, "aws", [EU], results=[cluster("a")], confirmed_deleted=[(EU, "x")])
    assert Scope.of(off, narrowed=True).finding_ids(off) == sorted([first(EU, "a"), first(EU, "x")])
    on = AuditResult(
        ACCOUNT, "aws", [EU], results=[cluster("a", PASSED, PASSED)], confirmed_deleted=[(EU, "x")]
    )
    assert Scope.of(on, narrowed=True, in_cluster=True).finding_ids(on) == sorted(
        [first(EU, "a"), second(EU, "a"), first(EU, "x"), second(EU, "x")]
    )


def test_subject_of_the_first_control_is_the_default() -> None:
    plain = cluster("a")
    assert Subject(plain).finding_id == first(EU, "a")
    assert Subject(plain).status is PASSED
