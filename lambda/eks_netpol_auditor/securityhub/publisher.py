"""Security Hub publishing: one current finding per audited cluster, over its whole life.

The imperative shell around `findings.py`. Per run, in four phases, regions in parallel
(bounded) and each region's calls paced by client-side token buckets:

1. Read: GetFindings filtered to this account's ProductArn and our GeneratorId, paginated,
   in every region that can hold one of our findings (the clusters' regions, the home
   region, FINDINGS_REGION, and every region listed this run). InvalidAccessException
   means Security Hub is not enabled there.
2. Route: each cluster's finding goes to its own region (the call region must equal the
   ProductArn region), to FINDINGS_REGION when set, or to the home region when its own
   region has no Security Hub. Nowhere to go is an error on the cluster, never silent.
3. Deliver, per target region: BatchImportFindings (<=100 findings, <=6 MB per call),
   resending failed ids once; then BatchUpdateFindings to set Workflow RESOLVED on PASSED
   findings (BatchImportFindings cannot change Workflow) and to record the remediation
   outcome as a Note.
4. Archive (re-import with RecordState ARCHIVED): findings of clusters that disappeared from
   a region listed in full this run, and stale copies in another region of a finding that
   was just delivered elsewhere, so each cluster has exactly one active finding.

AWS references: API_BatchImportFindings, API_BatchUpdateFindings, API_GetFindings
(https://docs.aws.amazon.com/securityhub/1.0/APIReference/), the user guide page
"BatchImportFindings for finding providers", and "Security Hub CSPM quotas".
Throttling: LimitExceededException (429) is in botocore's throttling list
(botocore.retries.standard, _THROTTLED_ERROR_CODES), so the clients' `standard` retry mode
(aws.py) backs off and retries it; the token buckets keep us from provoking it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from ..aws import describe_error, error_code
from ..model import AuditError, AuditResult, ClusterResult, ComplianceStatus
from .asff import (
    GENERATOR_ID,
    archived,
    build_finding,
    finding_id,
    finding_size,
    parse_finding_id,
    product_arn,
    remediation_note,
)
from .asff import NOTE_AUTHOR as NOTE_UPDATED_BY
from .ratelimit import TokenBucket

if TYPE_CHECKING:
    from ..aws import AwsClients
    from ..config import Settings

logger = logging.getLogger(__name__)

# API_BatchImportFindings: "Findings": 1-100 items; quotas page: 6 MB per request. The
# margin covers the request's JSON envelope around the findings.
MAX_FINDINGS_PER_CALL = 100
MAX_REQUEST_BYTES = 6 * 1024 * 1024 - 64 * 1024
MAX_IDENTIFIERS_PER_UPDATE = 100  # API_BatchUpdateFindings: up to 100 findings per request
GET_FINDINGS_PAGE = 100  # API_GetFindings MaxResults maximum
# Quotas page: BatchImportFindings/BatchUpdateFindings 10 TPS (burst 30) and GetFindings
# 3 TPS (burst 6) per account and region. We stay at the sustained rate with no burst.
WRITE_TPS = 10.0
READ_TPS = 3.0
MAX_REGION_WORKERS = 16  # one per commonly enabled region; bench showed 8 queued regions
NOT_ENABLED = "InvalidAccessException"
RESOLVED = "RESOLVED"
# Workflow statuses we never override: RESOLVED needs nothing; SUPPRESSED is a human decision.
WORKFLOW_KEEP = frozenset({"RESOLVED", "SUPPRESSED"})

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class RegionFindings:
    """What GetFindings told us about one region. `status`: ok | disabled | error."""

    region: str
    status: str
    error: str | None = None
    findings: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Delivery:
    """Outcome of delivering findings to one region, merged by the main thread."""

    published: list[tuple[ClusterResult, str]] = field(default_factory=list)
    failed: list[tuple[ClusterResult, str]] = field(default_factory=list)
    warnings: list[tuple[ClusterResult, str]] = field(default_factory=list)


@dataclass
class Archive:
    archived: int = 0
    errors: list[AuditError] = field(default_factory=list)


class RateLimits:
    """One write bucket (import + update) and one read bucket per region, shared by threads."""

    def __init__(self, write_tps: float = WRITE_TPS, read_tps: float = READ_TPS) -> None:
        self._write_tps = write_tps
        self._read_tps = read_tps
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def _bucket(self, region: str, kind: str, rate: float) -> TokenBucket:
        with self._lock:
            bucket = self._buckets.get((region, kind))
            if bucket is None:
                bucket = self._buckets[(region, kind)] = TokenBucket(rate, max(1.0, rate))
            return bucket

    def write(self, region: str) -> None:
        self._bucket(region, "write", self._write_tps).acquire()

    def read(self, region: str) -> None:
        self._bucket(region, "read", self._read_tps).acquire()


def publish(settings: Settings, clients: AwsClients, result: AuditResult) -> None:
    """Deliver, resolve, annotate and archive this run's findings; fill in the counters,
    each cluster's `finding_region`/`publish_error`, and `result.errors`."""
    Publisher(settings, clients, result).run()


class Publisher:
    def __init__(
        self,
        settings: Settings,
        clients: AwsClients,
        result: AuditResult,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        limits: RateLimits | None = None,
    ) -> None:
        self.settings = settings
        self.clients = clients
        self.result = result
        self.now = now()
        self.limits = limits or RateLimits()
        self.account = result.account
        self.partition = result.partition
        # Clusters this run listed, whether or not they could be described: never "gone".
        self.seen = frozenset(
            [(r.facts.region, r.facts.name) for r in result.results]
            + [(e.region, e.cluster) for e in result.errors if e.cluster is not None]
        )

    # -- orchestration ---------------------------------------------------------------------

    def run(self) -> None:
        reads = self._read_all(self._regions_to_read())
        routes = self._route(reads)
        deliveries = self._parallel(
            sorted(routes.items()),
            lambda item: self._deliver_region(item[0], item[1], reads),
        )
        delivered: dict[str, str] = {}  # finding Id -> region it now lives in
        for delivery in deliveries:
            for cluster, region in delivery.published:
                cluster.finding_region = region
                self.result.findings_published += 1
                delivered[self._id_of(cluster)] = region
            for cluster, error in delivery.failed:
                self._fail(cluster, error)
            for cluster, warning in delivery.warnings:
                cluster.publish_error = warning
                self.result.errors.append(
                    AuditError(cluster.facts.region, cluster.facts.name, warning)
                )
        archives = self._parallel(
            sorted((r for r in reads.values() if r.status == "ok"), key=lambda r: r.region),
            lambda read: self._archive_region(read, delivered),
        )
        for archive in archives:
            self.result.findings_archived += archive.archived
            self.result.errors.extend(archive.errors)
        for read in reads.values():
            if read.status == "error" and read.region in self.result.listed_regions:
                self.result.errors.append(
                    AuditError(
                        read.region,
                        None,
                        "Security Hub: could not check for findings of deleted clusters: "
                        f"{read.error}",
                    )
                )
        logger.info(
            "published %d findings, %d failed, %d archived",
            self.result.findings_published,
            self.result.findings_failed,
            self.result.findings_archived,
        )

    def _regions_to_read(self) -> list[str]:
        regions = {r.facts.region for r in self.result.results}
        regions.update(self.result.listed_regions)
        regions.add(self.settings.home_region)
        if self.settings.findings_region is not None:
            regions.add(self.settings.findings_region)
        return sorted(regions)

    def _parallel(self, items: Sequence[T], work: Callable[[T], R]) -> list[R]:
        """Regions are independent; a bounded pool keeps slow regions from serialising."""
        if not items:
            return []
        workers = min(MAX_REGION_WORKERS, self.settings.max_workers, len(items))
        with ThreadPoolExecutor(max(1, workers), thread_name_prefix="publish") as pool:
            return list(pool.map(work, items))

    def _fail(self, cluster: ClusterResult, error: str) -> None:
        cluster.publish_error = error
        self.result.findings_failed += 1
        self.result.errors.append(AuditError(cluster.facts.region, cluster.facts.name, error))

    @staticmethod
    def _id_of(cluster: ClusterResult) -> str:
        facts = cluster.facts
        return finding_id(facts.partition, facts.account, facts.region, facts.name)

    # -- phase 1: read ----------------------------------------------------------------------

    def _read_all(self, regions: list[str]) -> dict[str, RegionFindings]:
        return {read.region: read for read in self._parallel(regions, self._read_region)}

    def _read_region(self, region: str) -> RegionFindings:
        """Every finding of ours stored in `region`, active and archived, by Id.

        Archived ones are read too: a re-import must still carry a newer UpdatedAt than
        theirs. The ProductArn filter also keeps out findings replicated from other regions
        by cross-region aggregation, whose ProductArn names their own region.
        """
        arn = product_arn(self.partition, region, self.account)
        filters = {
            "ProductArn": [{"Value": arn, "Comparison": "EQUALS"}],
            "GeneratorId": [{"Value": GENERATOR_ID, "Comparison": "EQUALS"}],
            "AwsAccountId": [{"Value": self.account, "Comparison": "EQUALS"}],
        }
        client = self.clients.securityhub(region)
        found: dict[str, dict[str, Any]] = {}
        token: str | None = None
        try:
            while True:
                self.limits.read(region)
                kwargs: dict[str, Any] = {"Filters": filters, "MaxResults": GET_FINDINGS_PAGE}
                if token:
                    kwargs["NextToken"] = token
                page = client.get_findings(**kwargs)
                for finding in page.get("Findings", []):
                    item: dict[str, Any] = dict(finding)
                    if self._ours(item, arn):
                        found[item["Id"]] = item
                token = page.get("NextToken")
                if not token:
                    break
        except ClientError as error:
            if error_code(error) == NOT_ENABLED:
                return RegionFindings(region, "disabled", describe_error(error))
            logger.warning("cannot read Security Hub findings in %s: %s", region, error)
            return RegionFindings(region, "error", describe_error(error))
        except BotoCoreError as error:
            return RegionFindings(region, "error", describe_error(error))
        return RegionFindings(region, "ok", findings=found)

    def _ours(self, finding: Mapping[str, Any], arn: str) -> bool:
        """Belt and braces on top of the filters: never touch a finding that is not ours."""
        parsed = parse_finding_id(str(finding.get("Id", "")))
        return (
            parsed is not None
            and finding.get("ProductArn") == arn
            and finding.get("GeneratorId") == GENERATOR_ID
            and finding.get("AwsAccountId") == self.account
            and parsed[1] == self.account
        )

    # -- phase 2: route ---------------------------------------------------------------------

    def _route(self, reads: Mapping[str, RegionFindings]) -> dict[str, list[ClusterResult]]:
        routes: dict[str, list[ClusterResult]] = {}
        home = self.settings.home_region
        for cluster in self.result.results:
            own = cluster.facts.region
            target, error = self._target(own, home, reads)
            if target is None:
                self._fail(cluster, error or "Security Hub: no region to deliver to")
            else:
                routes.setdefault(target, []).append(cluster)
        return routes

    def _target(
        self, own: str, home: str, reads: Mapping[str, RegionFindings]
    ) -> tuple[str | None, str | None]:
        fixed = self.settings.findings_region
        if fixed is not None:
            read = reads[fixed]
            if read.status == "ok":
                return fixed, None
            return None, f"Security Hub: cannot deliver to FINDINGS_REGION {fixed}: {read.error}"
        read = reads[own]
        if read.status == "ok":
            return own, None
        if read.status == "error":
            return None, f"Security Hub: cannot read findings in {own}: {read.error}"
        fallback = reads[home]
        if fallback.status == "ok":
            return home, None
        return None, (
            f"Security Hub is not enabled in {own} and cannot deliver to the home region "
            f"{home}: {fallback.error}"
        )

    # -- phase 3: deliver -------------------------------------------------------------------

    def _deliver_region(
        self, region: str, clusters: list[ClusterResult], reads: Mapping[str, RegionFindings]
    ) -> Delivery:
        delivery = Delivery()
        try:
            self._deliver(region, clusters, reads, delivery)
        except Exception as error:  # a bug in one region must not lose the others' results
            logger.exception("publishing to %s failed", region)
            done = {id(c) for c, _ in delivery.published} | {id(c) for c, _ in delivery.failed}
            for cluster in clusters:
                if id(cluster) not in done:
                    delivery.failed.append((cluster, f"Security Hub: {describe_error(error)}"))
        return delivery

    def _deliver(
        self,
        region: str,
        clusters: list[ClusterResult],
        reads: Mapping[str, RegionFindings],
        delivery: Delivery,
    ) -> None:
        stored_here = reads[region].findings
        by_id: dict[str, tuple[ClusterResult, dict[str, Any]]] = {}
        for cluster in clusters:
            fid = self._id_of(cluster)
            finding = build_finding(
                cluster,
                delivery_region=region,
                now=self.now,
                existing=self._active_copy(fid, region, reads),
                newest_updated_at=(stored_here.get(fid) or {}).get("UpdatedAt"),
            )
            by_id[fid] = (cluster, finding)

        failures = self._import(region, [f for _, f in by_id.values()])
        if failures:
            retried = self._import(region, [by_id[fid][1] for fid in failures])
            failures = {fid: retried[fid] for fid in failures if fid in retried}
        for fid, (cluster, _) in by_id.items():
            if fid in failures:
                delivery.failed.append(
                    (cluster, f"Security Hub rejected the finding in {region}: {failures[fid]}")
                )
            else:
                delivery.published.append((cluster, region))

        delivered = {fid: by_id[fid] for fid in by_id if fid not in failures}
        self._resolve(region, delivered, stored_here, delivery)
        self._annotate(region, delivered, stored_here, delivery)

    def _active_copy(
        self, fid: str, region: str, reads: Mapping[str, RegionFindings]
    ) -> dict[str, Any] | None:
        """The stored active copy whose CreatedAt to keep: this region's first, then any
        other region's (the finding moved), the oldest if there are several."""
        here = reads[region].findings.get(fid)
        if here is not None and here.get("RecordState") == "ACTIVE":
            return here
        others = [
            read.findings[fid]
            for read in reads.values()
            if fid in read.findings and read.findings[fid].get("RecordState") == "ACTIVE"
        ]
        return min(others, key=lambda f: str(f.get("CreatedAt", ""))) if others else None

    def _import(self, region: str, findings: list[dict[str, Any]]) -> dict[str, str]:
        """Import in size- and count-bounded batches; returns failed Id -> error text."""
        client = self.clients.securityhub(region)
        failed: dict[str, str] = {}
        for batch in batches(findings):
            self.limits.write(region)
            try:
                response = client.batch_import_findings(Findings=batch)  # type: ignore[arg-type]
            except (ClientError, BotoCoreError) as error:
                text = describe_error(error)
                failed.update((f["Id"], text) for f in batch)
                continue
            for item in response.get("FailedFindings", []):
                failed[item["Id"]] = f"{item.get('ErrorCode')}: {item.get('ErrorMessage', '')}"
        return failed

    def _resolve(
        self,
        region: str,
        delivered: Mapping[str, tuple[ClusterResult, dict[str, Any]]],
        stored: Mapping[str, Mapping[str, Any]],
        delivery: Delivery,
    ) -> None:
        """PASSED -> Workflow RESOLVED. Security Hub resolves only its own control findings
        and reopens ours by itself when compliance regresses (ASFF "Workflow")."""
        wanted = [
            fid
            for fid, (cluster, _) in delivered.items()
            if cluster.verdict.status is ComplianceStatus.PASSED
            and not _workflow_settled(stored.get(fid))
        ]
        self._update(region, wanted, {"Workflow": {"Status": RESOLVED}}, delivered, delivery)

    def _annotate(
        self,
        region: str,
        delivered: Mapping[str, tuple[ClusterResult, dict[str, Any]]],
        stored: Mapping[str, Mapping[str, Any]],
        delivery: Delivery,
    ) -> None:
        """The remediation outcome as the finding's Note, one call per distinct text,
        skipped when the stored Note already says the same."""
        by_text: dict[str, list[str]] = {}
        for fid, (cluster, _) in delivered.items():
            text = remediation_note(cluster.remediation)
            if text is None:
                continue
            old = stored.get(fid) or {}
            same_note = (old.get("Note") or {}).get("Text") == text
            if same_note and old.get("RecordState") == "ACTIVE":
                continue
            by_text.setdefault(text, []).append(fid)
        for text, ids in sorted(by_text.items()):
            note = {"Note": {"Text": text, "UpdatedBy": NOTE_UPDATED_BY}}
            self._update(region, ids, note, delivered, delivery)

    def _update(
        self,
        region: str,
        ids: list[str],
        change: Mapping[str, Any],
        delivered: Mapping[str, tuple[ClusterResult, dict[str, Any]]],
        delivery: Delivery,
    ) -> None:
        client = self.clients.securityhub(region)
        arn = product_arn(self.partition, region, self.account)
        what = ", ".join(change)
        for chunk in chunked(ids, MAX_IDENTIFIERS_PER_UPDATE):
            identifiers: list[Any] = [{"Id": fid, "ProductArn": arn} for fid in chunk]
            self.limits.write(region)
            try:
                response = client.batch_update_findings(
                    FindingIdentifiers=identifiers,
                    **change,
                )
            except (ClientError, BotoCoreError) as error:
                problems = {fid: describe_error(error) for fid in chunk}
            else:
                problems = {
                    item["FindingIdentifier"]["Id"]: f"{item.get('ErrorCode')}: "
                    f"{item.get('ErrorMessage', '')}"
                    for item in response.get("UnprocessedFindings", [])
                }
            for fid, problem in problems.items():
                if fid in delivered:
                    delivery.warnings.append(
                        (
                            delivered[fid][0],
                            f"Security Hub: finding imported in {region} but {what} not "
                            f"updated: {problem}",
                        )
                    )

    # -- phase 4: archive -------------------------------------------------------------------

    def _archive_region(self, read: RegionFindings, delivered: Mapping[str, str]) -> Archive:
        outcome = Archive()
        stale: list[dict[str, Any]] = []
        for fid, finding in sorted(read.findings.items()):
            if finding.get("RecordState") != "ACTIVE":
                continue
            moved = fid in delivered and delivered[fid] != read.region
            if moved or self._cluster_gone(fid):
                stale.append(archived(finding, self.now))
        if not stale:
            return outcome
        try:
            failures = self._import(read.region, stale)
        except Exception as error:  # keep the other regions' archives
            logger.exception("archiving in %s failed", read.region)
            failures = {f["Id"]: describe_error(error) for f in stale}
        outcome.archived = len(stale) - len(failures)
        for fid, problem in sorted(failures.items()):
            parsed = parse_finding_id(fid)
            cluster_region, cluster = (parsed[2], parsed[3]) if parsed else (read.region, fid)
            outcome.errors.append(
                AuditError(
                    cluster_region,
                    cluster,
                    f"Security Hub: could not archive the stale finding in {read.region}: "
                    f"{problem}",
                )
            )
        return outcome

    def _cluster_gone(self, fid: str) -> bool:
        """True only when a complete listing of the cluster's region this run lacked it.

        A region that was not listed (denied, failed, or a cluster-filtered manual run) and a
        cluster we saw but could not describe are never treated as gone.
        """
        parsed = parse_finding_id(fid)
        if parsed is None or self.settings.cluster_names is not None:
            return False
        _, account, region, name = parsed
        if account != self.account or region not in self.result.listed_regions:
            return False
        return (region, name) not in self.seen


def _workflow_settled(stored: Mapping[str, Any] | None) -> bool:
    """Already RESOLVED (or SUPPRESSED by a person) and staying active, so no update needed.

    An archived copy does not count: re-activating it makes Security Hub reset the workflow
    to NEW (ASFF "Workflow"), so it must be resolved again.
    """
    if stored is None or stored.get("RecordState") != "ACTIVE":
        return False
    return (stored.get("Workflow") or {}).get("Status") in WORKFLOW_KEEP


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
