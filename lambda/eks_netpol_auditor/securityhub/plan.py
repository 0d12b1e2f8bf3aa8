"""Security Hub CSPM publishing, the pure half: where each finding goes and what to change.

Every rule that can lose or misplace a finding lives here, boto3-free, so it can be tested
by table without an emulator: which regions to read, which region a cluster's finding goes
to, whose CreatedAt is kept, which stored findings are stale and may be archived, when the
workflow needs no update, and how Notes and requests are grouped. `publisher.py` is the
shell that reads, imports, updates and paces the calls.

AWS references: API_BatchImportFindings, API_BatchUpdateFindings, API_GetFindings
(https://docs.aws.amazon.com/securityhub/1.0/APIReference/), the user guide pages
"BatchImportFindings for finding providers" and "Security Hub CSPM quotas".
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from ..incluster.model import IN_CLUSTER_CONTROL_ID
from ..model import CONTROL_ID, AuditError, AuditResult, ClusterResult, ComplianceStatus
from .asff import (
    DIGEST_FIELD,
    finding_control,
    finding_id,
    finding_size,
    generator_id,
    parse_finding_id,
    parse_timestamp,
)

# API_BatchImportFindings: "Findings": 1-100 items; quotas page: 6 MB per request. The
# margin covers the request's JSON envelope around the findings.
MAX_FINDINGS_PER_CALL = 100
MAX_REQUEST_BYTES = 6 * 1024 * 1024 - 64 * 1024
MAX_IDENTIFIERS_PER_UPDATE = 100  # API_BatchUpdateFindings: up to 100 findings per request
# API_GetFindings "Filters": up to 20 values per attribute (EQUALS values of one attribute
# are ORed, attributes ANDed).
MAX_FILTER_VALUES = 20
RESOLVED = "RESOLVED"
SUPPRESSED = "SUPPRESSED"
ACTIVE = "ACTIVE"
# The error every Security Hub CSPM operation answers where the hub is not enabled for the
# account and Region (API reference, "Common errors" of each operation, e.g.
# API_DescribeHub: "InvalidAccessException: The account doesn't have permission to perform
# this action"; the message reads "Account ... is not subscribed to AWS Security Hub").
# The one home of that reading: the publisher, the report and `doctor` all ask it here.
NOT_ENABLED = "InvalidAccessException"

T = TypeVar("T")
StoredFinding = Mapping[str, Any]


class ReadStatus(StrEnum):
    """How GetFindings answered in one region."""

    OK = "ok"
    DISABLED = "disabled"  # NOT_ENABLED: Security Hub CSPM is not enabled there
    ERROR = "error"  # anything else: we do not know what is stored there


@dataclass(frozen=True)
class RegionFindings:
    """What GetFindings told us about one region: our findings (active and archived) by Id."""

    region: str
    status: ReadStatus
    error: str | None = None
    findings: Mapping[str, StoredFinding] = field(default_factory=dict)


def cluster_finding_id(cluster: ClusterResult, control: str = CONTROL_ID) -> str:
    facts = cluster.facts
    return finding_id(facts.partition, facts.account, facts.region, facts.name, control)


# ProductFields value of a second-control finding archived because the in-cluster check is
# off (`archive_reason`): the cluster is still there, the control is no longer evaluated.
CHECK_OFF = "IN_CLUSTER_CHECK_OFF"


@dataclass(frozen=True)
class Subject:
    """One finding a run delivers: a cluster and one of its controls. Both of a cluster's
    findings go to the same region (routing is per cluster) and share every rule below."""

    cluster: ClusterResult
    control: str = CONTROL_ID

    @property
    def finding_id(self) -> str:
        return cluster_finding_id(self.cluster, self.control)

    @property
    def status(self) -> ComplianceStatus:
        if self.control == IN_CLUSTER_CONTROL_ID and self.cluster.in_cluster is not None:
            return self.cluster.in_cluster.status
        return self.cluster.verdict.status


def subjects(cluster: ClusterResult) -> list[Subject]:
    """The cluster's findings this run: the first control's always, the second control's
    when its in-cluster check ran (`ClusterResult.in_cluster`; None = the check is off)."""
    found = [Subject(cluster)]
    if cluster.in_cluster is not None:
        found.append(Subject(cluster, IN_CLUSTER_CONTROL_ID))
    return found


def is_ours(finding: StoredFinding, arn: str, account: str) -> bool:
    """Belt and braces on top of the GetFindings filters: a finding is ours only when its
    Id parses as ours for this account and its ProductArn, GeneratorId and AwsAccountId all
    agree. A delegated administrator's GetFindings also returns member accounts' findings;
    those are never updated, moved or archived by us."""
    fid = str(finding.get("Id", ""))
    parsed = parse_finding_id(fid)
    control = finding_control(fid)
    return (
        parsed is not None
        and control is not None
        and finding.get("ProductArn") == arn
        and finding.get("GeneratorId") == generator_id(control)
        and finding.get("AwsAccountId") == account
        and parsed[1] == account
    )


def regions_to_read(
    cluster_regions: Iterable[str],
    listed_regions: Iterable[str],
    home: str,
    findings_region: str | None,
    also: Iterable[str] = (),
) -> list[str]:
    """Every region that can hold one of our findings this run: the clusters' own regions,
    every region listed in full (stale findings of deleted clusters), the home region
    (fallback target), FINDINGS_REGION, and `also` (a narrowed run's audited regions and
    confirmed deletions, where an earlier run may have left a copy)."""
    regions = set(cluster_regions) | set(listed_regions) | {home} | set(also)
    if findings_region is not None:
        regions.add(findings_region)
    return sorted(regions)


def reads_for(
    result: AuditResult, scope: Scope, home: str, findings_region: str | None
) -> tuple[list[str], list[list[str]] | None] | None:
    """(regions to read, `Id` filter groups or None for everything), or None when a
    narrowed run has nothing to read. A narrowed run reads its own findings wherever an
    earlier run may have left a copy: every audited region and each confirmed deletion's."""
    ids = scope.finding_ids(result)
    if ids == []:
        return None
    also = [*result.regions, *(r for r, _ in result.confirmed_deleted)] if scope.narrowed else []
    regions = regions_to_read(
        (r.facts.region for r in result.results),
        result.listed_regions,
        home,
        findings_region,
        also=also,
    )
    return regions, id_filter_groups(ids)


def target_region(
    own: str, home: str, findings_region: str | None, reads: Mapping[str, RegionFindings]
) -> tuple[str | None, str | None]:
    """(region to import into, None) or (None, error) for a cluster in region `own`.

    BatchImportFindings must be called in the ProductArn's region, so the finding goes to
    FINDINGS_REGION when set, else to the cluster's own region, else (only when Security Hub
    CSPM is *not enabled* there) to the home region. A region we could not read is not
    "not enabled": rerouting would create a second copy next to one we cannot see, so the
    cluster gets an error instead.
    """
    if findings_region is not None:
        fixed = reads[findings_region]
        if fixed.status is ReadStatus.OK:
            return findings_region, None
        return None, (
            f"Security Hub CSPM: cannot deliver to FINDINGS_REGION {findings_region}: {fixed.error}"
        )
    read = reads[own]
    if read.status is ReadStatus.OK:
        return own, None
    if read.status is ReadStatus.ERROR:
        return None, f"Security Hub CSPM: cannot read findings in {own}: {read.error}"
    fallback = reads[home]
    if fallback.status is ReadStatus.OK:
        return home, None
    return None, (
        f"Security Hub CSPM is not enabled in {own} and cannot deliver to the home region "
        f"{home}: {fallback.error}"
    )


def route(
    clusters: Sequence[ClusterResult],
    home: str,
    findings_region: str | None,
    reads: Mapping[str, RegionFindings],
) -> tuple[dict[str, list[ClusterResult]], list[tuple[ClusterResult, str]]]:
    """Clusters grouped by target region, and the clusters with nowhere to go (and why)."""
    routes: dict[str, list[ClusterResult]] = {}
    undeliverable: list[tuple[ClusterResult, str]] = []
    for cluster in clusters:
        target, error = target_region(cluster.facts.region, home, findings_region, reads)
        if target is None:
            undeliverable.append((cluster, error or "Security Hub CSPM: no region to deliver to"))
        else:
            routes.setdefault(target, []).append(cluster)
    return routes, undeliverable


def active_copy(fid: str, region: str, reads: Mapping[str, RegionFindings]) -> StoredFinding | None:
    """The stored active copy whose CreatedAt to keep: this region's first, then any other
    region's (the finding moved), the oldest if there are several."""
    here = reads[region].findings.get(fid)
    if here is not None and here.get("RecordState") == ACTIVE:
        return here
    others = [
        read.findings[fid]
        for read in reads.values()
        if fid in read.findings and read.findings[fid].get("RecordState") == ACTIVE
    ]
    return min(others, key=lambda f: str(f.get("CreatedAt", ""))) if others else None


@dataclass(frozen=True)
class Scope:
    """What this run saw, which decides whose findings belong to clusters that are gone."""

    account: str
    listed_regions: frozenset[str]
    # Clusters this run listed, whether or not they could be described: never "gone".
    seen: frozenset[tuple[str, str]]
    narrowed: bool  # a run limited to some clusters looked for nothing else
    # Clusters DescribeCluster confirmed gone (a narrowed run's evidence instead of a listing).
    confirmed_deleted: frozenset[tuple[str, str]] = frozenset()
    # The in-cluster check (the second control) is on for this run.
    in_cluster: bool = False

    @classmethod
    def of(cls, result: AuditResult, *, narrowed: bool, in_cluster: bool = False) -> Scope:
        return cls(
            account=result.account,
            listed_regions=frozenset(result.listed_regions),
            seen=frozenset(
                [(r.facts.region, r.facts.name) for r in result.results]
                + [(e.region, e.cluster) for e in result.errors if e.cluster is not None]
            ),
            narrowed=narrowed,
            confirmed_deleted=frozenset(result.confirmed_deleted),
            in_cluster=in_cluster,
        )

    @property
    def controls(self) -> tuple[str, ...]:
        return (CONTROL_ID, IN_CLUSTER_CONTROL_ID) if self.in_cluster else (CONTROL_ID,)

    def finding_ids(self, result: AuditResult) -> list[str] | None:
        """The only Ids a narrowed run may read and touch: its clusters' findings and the
        confirmed deletions'. None for a full run, which reads every finding of ours.

        With the in-cluster check off, only the first control's: the Ids, and so the
        GetFindings calls, are those of a run before the second control existed; a second
        finding left from when the check was on is retired by the next full run."""
        if not self.narrowed:
            return None
        ids = {s.finding_id for r in result.results for s in subjects(r)}
        ids.update(
            finding_id(result.partition, self.account, region, name, control)
            for region, name in self.confirmed_deleted
            for control in self.controls
        )
        return sorted(ids)

    def cluster_gone(self, fid: str) -> bool:
        """True only when this run has evidence the cluster no longer exists: DescribeCluster
        confirmed it deleted, or a complete listing of the cluster's own region lacked it.

        The cluster's region comes from the Id, never from the region the finding is stored
        in (FINDINGS_REGION or the home region hold other regions' findings). A region that
        was not listed (denied, failed, or a narrowed run) and a cluster we saw, even one we
        could not describe, are never treated as gone.
        """
        parsed = parse_finding_id(fid)
        if parsed is None:
            return False
        _, account, region, name = parsed
        if account != self.account or (region, name) in self.seen:
            return False
        if (region, name) in self.confirmed_deleted:
            return True
        return not self.narrowed and region in self.listed_regions

    def check_off(self, fid: str) -> bool:
        """True for a second-control finding of a cluster this run accounts for while the
        in-cluster check is off: the control is no longer evaluated, so its last verdict
        must not stay active as if it were current.

        Security Hub CSPM does the same with its own controls: "Existing findings for the
        disabled controls are archived automatically after approximately 3-5 days" (user
        guide, "Disabling a security standard"). Only where this run has evidence (the
        cluster's region listed in full, or the cluster seen); a region it could not list
        keeps its findings, as for deletions.
        """
        parsed = parse_finding_id(fid)
        if self.in_cluster or parsed is None or finding_control(fid) != IN_CLUSTER_CONTROL_ID:
            return False
        _, account, region, name = parsed
        if account != self.account:
            return False
        return (region, name) in self.seen or (not self.narrowed and region in self.listed_regions)


def id_filter_groups(ids: Sequence[str] | None) -> list[list[str]] | None:
    """GetFindings `Id` EQUALS filter values, at most 20 per query; None reads everything."""
    if ids is None:
        return None
    return list(chunked(sorted(ids), MAX_FILTER_VALUES))


def stale_ids(read: RegionFindings, delivered: Mapping[str, str], scope: Scope) -> list[str]:
    """Active findings in `read.region` to archive: the cluster is gone, or its finding was
    just delivered to another region (one active copy per cluster and control), or it is a
    second-control finding and the in-cluster check is off (`Scope.check_off`)."""
    stale = []
    for fid, finding in sorted(read.findings.items()):
        if finding.get("RecordState") != ACTIVE:
            continue
        moved = fid in delivered and delivered[fid] != read.region
        if moved or scope.cluster_gone(fid) or scope.check_off(fid):
            stale.append(fid)
    return stale


def archive_reason(fid: str, scope: Scope) -> str | None:
    """What the archived copy says about why, in ProductFields `ArchivedReason`: CHECK_OFF
    for a cluster that is still there; None (nothing added, as before the second control)
    for a deletion or a move, which the finding's own state already explains."""
    return CHECK_OFF if scope.check_off(fid) and not scope.cluster_gone(fid) else None


def archive_error(fid: str, stored_region: str, problem: str) -> AuditError:
    """An archive failure, reported against the cluster the finding is about."""
    parsed = parse_finding_id(fid)
    region, cluster = (parsed[2], parsed[3]) if parsed else (stored_region, fid)
    return AuditError(
        region,
        cluster,
        f"Security Hub CSPM: could not archive the stale finding in {stored_region}: {problem}",
    )


def unread_region_errors(
    reads: Iterable[RegionFindings], listed_regions: Iterable[str]
) -> list[AuditError]:
    """A listed region whose findings could not be read may hide findings of deleted
    clusters: say so rather than report a clean run."""
    listed = set(listed_regions)
    return [
        AuditError(
            read.region,
            None,
            f"Security Hub CSPM: could not check for findings of deleted clusters: {read.error}",
        )
        for read in sorted(reads, key=lambda r: r.region)
        if read.status is ReadStatus.ERROR and read.region in listed
    ]


def workflow_settled(stored: StoredFinding | None) -> bool:
    """True when the stored copy's workflow must not be set to RESOLVED.

    SUPPRESSED is a person's decision and is never overwritten, also not after the finding
    is re-activated: Security Hub CSPM keeps SUPPRESSED when RecordState goes from ARCHIVED
    to ACTIVE; only NOTIFIED and RESOLVED are reset to NEW (user guide, "Setting the
    workflow status"). RESOLVED on an active copy needs nothing; an archived
    RESOLVED copy is reset to NEW by its re-activation, so it must be resolved again.
    """
    if stored is None:
        return False
    status = (stored.get("Workflow") or {}).get("Status")
    if status == SUPPRESSED:
        return True
    return status == RESOLVED and stored.get("RecordState") == ACTIVE


def import_needed(
    finding: StoredFinding, stored: StoredFinding | None, now: datetime, refresh_hours: int
) -> bool:
    """False only for a finding whose import would change nothing and whose last import is
    recent: Security Hub CSPM bills every ingestion event (a re-import of an unchanged
    finding counts) beyond a monthly free tier per account and region.

    An import is needed when the copy in the target region is missing or archived (a new
    region or a re-activation), when the content digest differs (status, reason, message,
    remediation outcome, severity, tags... see `asff.content_digest`), when the stored
    UpdatedAt is unreadable, or when it is `refresh_hours` old or older, which keeps every
    active finding well inside the 90-day deletion of findings not updated ("Security Hub
    CSPM data retention"). `refresh_hours` 0 re-imports every run.
    """
    if refresh_hours <= 0 or stored is None or stored.get("RecordState") != ACTIVE:
        return True
    fields = stored.get("ProductFields") or {}
    if fields.get(DIGEST_FIELD) != (finding.get("ProductFields") or {}).get(DIGEST_FIELD):
        return True
    updated = parse_timestamp(stored.get("UpdatedAt"))
    return updated is None or now - updated >= timedelta(hours=refresh_hours)


def to_resolve(delivered: Mapping[str, Subject], stored: Mapping[str, StoredFinding]) -> list[str]:
    """Ids of delivered PASSED findings whose Workflow must be set to RESOLVED (Security Hub
    resolves only its own control findings, and reopens ours itself on regression). Each
    control by its own status: a cluster can pass one control and fail the other."""
    return [
        fid
        for fid, subject in delivered.items()
        if subject.status is ComplianceStatus.PASSED and not workflow_settled(stored.get(fid))
    ]


def notes_by_text(
    notes: Mapping[str, str | None], stored: Mapping[str, StoredFinding]
) -> dict[str, list[str]]:
    """Ids grouped by the Note text to write (one BatchUpdateFindings per distinct text),
    leaving out ids without a note and active copies that already say the same."""
    by_text: dict[str, list[str]] = {}
    for fid, text in notes.items():
        if text is None:
            continue
        old = stored.get(fid) or {}
        same_note = (old.get("Note") or {}).get("Text") == text
        if same_note and old.get("RecordState") == ACTIVE:
            continue
        by_text.setdefault(text, []).append(fid)
    return dict(sorted(by_text.items()))


def batches(findings: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Consecutive batches of at most 100 findings and MAX_REQUEST_BYTES serialised."""
    batch: list[dict[str, Any]] = []
    size = 0
    for finding in findings:
        item_size = finding_size(finding) + 1
        if batch and (len(batch) >= MAX_FINDINGS_PER_CALL or size + item_size > MAX_REQUEST_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(finding)
        size += item_size
    if batch:
        yield batch


def chunked(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
