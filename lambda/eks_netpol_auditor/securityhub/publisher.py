"""Security Hub CSPM publishing, the imperative shell: reads, imports, updates and rate limits.

Every decision (where a finding goes, what is stale, what to resolve or annotate) is made
by the pure `plan` module; this module only talks to AWS. Per run, in four phases, regions
in parallel (bounded) and each region's calls paced by client-side token buckets:

1. Read: GetFindings filtered to this account's ProductArn and our GeneratorIds, paginated,
   in every region that can hold one of our findings. InvalidAccessException means
   Security Hub CSPM is not enabled there.
2. Route (`plan.route`): the cluster's own region, FINDINGS_REGION, or the home region.
3. Deliver, per target region: BatchImportFindings (<=100 findings, <=6 MB per call) of
   every finding `plan.import_needed` names (changed, or not imported for
   FINDINGS_REFRESH_HOURS), resending failed ids once; then BatchUpdateFindings to set
   Workflow RESOLVED on PASSED findings (BatchImportFindings cannot change Workflow) and to
   record the remediation outcome as a Note.
4. Archive (re-import with RecordState ARCHIVED) what `plan.stale_ids` names.

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
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from ..aws import describe_error, error_code
from ..model import CONTROL_ID, AuditError, AuditResult, ClusterResult, PublishReport
from . import plan, reader
from .asff import GENERATOR_IDS, archived, build_finding, product_arn, remediation_note
from .asff import NOTE_AUTHOR as NOTE_UPDATED_BY
from .in_cluster_finding import build_in_cluster_finding
from .plan import (
    MAX_IDENTIFIERS_PER_UPDATE,
    NOT_ENABLED,
    ReadStatus,
    RegionFindings,
    batches,
    chunked,
)
from .ratelimit import TokenBucket
from .reader import READ_TPS

if TYPE_CHECKING:
    from mypy_boto3_securityhub import SecurityHubClient

    from ..aws import AwsClients
    from ..config import Settings

logger = logging.getLogger(__name__)

# Quotas page: BatchImportFindings/BatchUpdateFindings 10 TPS (burst 30) per account and
# region (GetFindings' rate is reader.READ_TPS). We stay at the sustained rate, no burst.
WRITE_TPS = 10.0
MAX_REGION_WORKERS = 16  # one per commonly enabled region; bench showed 8 queued regions

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class Delivery:
    """Outcome of delivering findings to one region, merged by the main thread."""

    published: list[tuple[ClusterResult, str]] = field(default_factory=list)
    unchanged: list[tuple[ClusterResult, str]] = field(default_factory=list)  # not re-imported
    failed: list[tuple[ClusterResult, str]] = field(default_factory=list)
    warnings: list[tuple[ClusterResult, str]] = field(default_factory=list)
    # Finding Id -> the region it is now in, for each delivered finding of either control
    # (an older copy elsewhere is then archived as moved).
    placed: dict[str, str] = field(default_factory=dict)


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


def publish(settings: Settings, clients: AwsClients, result: AuditResult) -> PublishReport:
    """Deliver, resolve, annotate and archive this run's findings; report the counters,
    each cluster's finding region or publishing error, and the run errors found
    (`AuditResult.with_publishing` folds the report into the run's result)."""
    return Publisher(settings, clients, result).run()


class Publisher:
    """One publishing run. The I/O only; `plan` decides."""

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
        self.scope = plan.Scope.of(
            result, narrowed=result.narrowed, in_cluster=settings.in_cluster_check
        )
        self.id_groups: list[list[str]] | None = None  # narrowed runs read only these Ids

    def run(self) -> PublishReport:
        settings, result = self.settings, self.result
        planned = plan.reads_for(result, self.scope, settings.home_region, settings.findings_region)
        if planned is None:
            return PublishReport()  # a narrowed run that found nothing to report or retire
        regions, self.id_groups = planned
        reads = {read.region: read for read in self._parallel(regions, self._read)}
        routes, undeliverable = plan.route(
            result.results, settings.home_region, settings.findings_region, reads
        )
        deliveries = self._parallel(
            sorted(routes.items()), lambda item: self._deliver_region(item[0], item[1], reads)
        )
        tally = merge([Delivery(failed=undeliverable), *deliveries])
        readable = sorted(
            (r for r in reads.values() if r.status is ReadStatus.OK), key=lambda r: r.region
        )
        archives = self._parallel(
            readable, lambda read: self._archive_region(read, tally.delivered)
        )
        # A region we could not read may hold findings of deleted clusters we cannot retire.
        must_read = [*result.listed_regions, *(region for region, _ in result.confirmed_deleted)]
        report = PublishReport(
            published=tally.published,
            failed=tally.failed,
            archived=sum(archive.archived for archive in archives),
            unchanged_skipped=tally.unchanged_skipped,
            finding_regions=tally.finding_regions,
            publish_errors=tally.publish_errors,
            errors=[
                *tally.errors,
                *(error for archive in archives for error in archive.errors),
                *plan.unread_region_errors(reads.values(), must_read),
            ],
        )
        logger.info(
            "Security Hub CSPM: published %d findings, %d unchanged and not re-imported, "
            "%d failed, %d archived",
            report.published,
            report.unchanged_skipped,
            report.failed,
            report.archived,
        )
        return report

    def _parallel(self, items: Sequence[T], work: Callable[[T], R]) -> list[R]:
        """Regions are independent; a bounded pool keeps slow regions from serialising."""
        if not items:
            return []
        workers = min(MAX_REGION_WORKERS, self.settings.max_workers, len(items))
        with ThreadPoolExecutor(max(1, workers), thread_name_prefix="publish") as pool:
            return list(pool.map(work, items))

    # -- phase 3: deliver -------------------------------------------------------------------

    def _deliver_region(
        self, region: str, clusters: list[ClusterResult], reads: Mapping[str, RegionFindings]
    ) -> Delivery:
        delivery = Delivery()
        try:
            self._deliver(region, clusters, reads, delivery)
        except Exception as error:  # a bug in one region must not lose the others' results
            logger.exception("publishing to %s failed", region)
            done = {id(c) for c, _ in [*delivery.published, *delivery.unchanged, *delivery.failed]}
            for cluster in clusters:
                if id(cluster) not in done:
                    delivery.failed.append((cluster, f"Security Hub CSPM: {describe_error(error)}"))
        return delivery

    def _deliver(
        self,
        region: str,
        clusters: list[ClusterResult],
        reads: Mapping[str, RegionFindings],
        delivery: Delivery,
    ) -> None:
        stored_here = reads[region].findings
        by_id: dict[str, tuple[plan.Subject, dict[str, Any]]] = {}
        delivered: dict[str, plan.Subject] = {}
        for subject in (s for cluster in clusters for s in plan.subjects(cluster)):
            fid = subject.finding_id
            build = build_finding if subject.control == CONTROL_ID else build_in_cluster_finding
            finding = build(
                subject.cluster,
                delivery_region=region,
                now=self.now,
                existing=plan.active_copy(fid, region, reads),
                newest_updated_at=(stored_here.get(fid) or {}).get("UpdatedAt"),
            )
            refresh = self.settings.findings_refresh_hours
            if plan.import_needed(finding, stored_here.get(fid), self.now, refresh):
                by_id[fid] = (subject, finding)
            else:
                delivery.unchanged.append((subject.cluster, region))
                delivered[fid] = subject

        failures = self._import(region, [f for _, f in by_id.values()]) if by_id else {}
        if failures:
            retried = self._import(region, [by_id[fid][1] for fid in failures])
            failures = {fid: retried[fid] for fid in failures if fid in retried}
        for fid, (subject, _) in by_id.items():
            if fid in failures:
                message = f"Security Hub CSPM rejected the finding in {region}: {failures[fid]}"
                delivery.failed.append((subject.cluster, about(subject, message)))
            else:
                delivery.published.append((subject.cluster, region))
                delivered[fid] = subject
        delivery.placed.update((fid, region) for fid in delivered)

        # PASSED -> Workflow RESOLVED; the remediation outcome as the first control's Note.
        resolve = plan.to_resolve(delivered, stored_here)
        self._update(region, resolve, {"Workflow": {"Status": plan.RESOLVED}}, delivered, delivery)
        notes = {
            fid: remediation_note(subject.cluster.remediation)
            for fid, subject in delivered.items()
            if subject.control == CONTROL_ID
        }
        for text, ids in plan.notes_by_text(notes, stored_here).items():
            note = {"Note": {"Text": text, "UpdatedBy": NOTE_UPDATED_BY}}
            self._update(region, ids, note, delivered, delivery)

    def _read(self, region: str) -> RegionFindings:
        return read_findings(
            self.clients.securityhub(region),
            lambda: self.limits.read(region),
            region,
            product_arn(self.partition, region, self.account),
            self.account,
            id_groups=self.id_groups,
        )

    def _import(self, region: str, findings: list[dict[str, Any]]) -> dict[str, str]:
        return import_findings(
            self.clients.securityhub(region), lambda: self.limits.write(region), findings
        )

    def _update(
        self,
        region: str,
        ids: list[str],
        change: Mapping[str, Any],
        delivered: Mapping[str, plan.Subject],
        delivery: Delivery,
    ) -> None:
        problems = update_findings(
            self.clients.securityhub(region),
            lambda: self.limits.write(region),
            product_arn(self.partition, region, self.account),
            ids,
            change,
        )
        what = ", ".join(change)
        for fid, problem in problems.items():
            if fid in delivered:
                message = (
                    f"Security Hub CSPM: finding imported in {region} but {what} not "
                    f"updated: {problem}"
                )
                delivery.warnings.append((delivered[fid].cluster, about(delivered[fid], message)))

    # -- phase 4: archive -------------------------------------------------------------------

    def _archive_region(self, read: RegionFindings, delivered: Mapping[str, str]) -> Archive:
        outcome = Archive()
        stale = [
            archived(read.findings[fid], self.now, plan.archive_reason(fid, self.scope))
            for fid in plan.stale_ids(read, delivered, self.scope)
        ]
        if not stale:
            return outcome
        try:
            failures = self._import(read.region, stale)
        except Exception as error:  # keep the other regions' archives
            logger.exception("archiving in %s failed", read.region)
            failures = {f["Id"]: describe_error(error) for f in stale}
        outcome.archived = len(stale) - len(failures)
        outcome.errors.extend(
            plan.archive_error(fid, read.region, problem)
            for fid, problem in sorted(failures.items())
        )
        return outcome


@dataclass
class Tally:
    """The regions' deliveries added up, built by `merge` alone (the main thread)."""

    published: int = 0
    unchanged_skipped: int = 0
    failed: int = 0
    delivered: dict[str, str] = field(default_factory=dict)  # finding Id -> region it is in
    finding_regions: dict[tuple[str, str], str] = field(default_factory=dict)
    publish_errors: dict[tuple[str, str], str] = field(default_factory=dict)
    errors: list[AuditError] = field(default_factory=list)

    def place(self, cluster: ClusterResult, region: str) -> None:
        self.finding_regions[cluster.key] = region
        self.delivered[plan.cluster_finding_id(cluster)] = region

    def problem(self, cluster: ClusterResult, error: str) -> None:
        """A finding not delivered, or delivered but not updated: an error on the cluster,
        never silent."""
        self.publish_errors[cluster.key] = error
        self.errors.append(AuditError(cluster.facts.region, cluster.facts.name, error))


def about(subject: plan.Subject, message: str) -> str:
    """A cluster's publishing error, naming the control when it is the second one's (the
    first control's lines read as they did before there were two)."""
    if subject.control == CONTROL_ID:
        return message
    return f"{message} (in-cluster control {subject.control})"


def merge(deliveries: Iterable[Delivery]) -> Tally:
    """Add up the regions' outcomes: counters, where each finding is, and the errors."""
    tally = Tally()
    for delivery in deliveries:
        for cluster, region in delivery.published:
            tally.published += 1
            tally.place(cluster, region)
        for cluster, region in delivery.unchanged:
            tally.unchanged_skipped += 1
            tally.place(cluster, region)
        tally.delivered.update(delivery.placed)
        for cluster, error in delivery.failed:
            tally.failed += 1
            tally.problem(cluster, error)
        for cluster, warning in delivery.warnings:
            tally.problem(cluster, warning)
    return tally


# -- the calls themselves: one region's client, paced by `pace` before every request ------


def read_findings(
    client: SecurityHubClient,
    pace: Callable[[], None],
    region: str,
    arn: str,
    account: str,
    *,
    id_groups: Sequence[Sequence[str]] | None = None,
) -> RegionFindings:
    """Our findings stored in `region`, active and archived, by Id, all pages; with
    `id_groups`, only those Ids (one query per group of at most 20).

    Archived ones are read too: a re-import must still carry a newer UpdatedAt than theirs.
    The ProductArn filter also keeps out findings replicated from other regions by
    cross-region aggregation, whose ProductArn names their own region.
    """
    base: dict[str, Any] = {
        "ProductArn": [{"Value": arn, "Comparison": "EQUALS"}],
        # Both controls' findings, also with the in-cluster check off: a second-control
        # finding left from when it was on must be seen to be retired (plan.Scope.check_off).
        # One attribute's EQUALS values are ORed (API_GetFindings), so the calls are the same.
        "GeneratorId": [{"Value": g, "Comparison": "EQUALS"} for g in GENERATOR_IDS],
        "AwsAccountId": [{"Value": account, "Comparison": "EQUALS"}],
    }
    queries = (
        [base]
        if id_groups is None
        else [
            {**base, "Id": [{"Value": fid, "Comparison": "EQUALS"} for fid in group]}
            for group in id_groups
        ]
    )
    found: dict[str, dict[str, Any]] = {}
    try:
        for filters in queries:
            found.update(_read_pages(client, pace, filters, arn, account))
    except ClientError as error:
        if error_code(error) == NOT_ENABLED:
            return RegionFindings(region, ReadStatus.DISABLED, describe_error(error))
        logger.warning("cannot read Security Hub CSPM findings in %s: %s", region, error)
        return RegionFindings(region, ReadStatus.ERROR, describe_error(error))
    except BotoCoreError as error:
        return RegionFindings(region, ReadStatus.ERROR, describe_error(error))
    return RegionFindings(region, ReadStatus.OK, findings=found)


def _read_pages(
    client: SecurityHubClient,
    pace: Callable[[], None],
    filters: Mapping[str, Any],
    arn: str,
    account: str,
) -> dict[str, dict[str, Any]]:
    """Every page of one GetFindings query (MaxResults is at most 100), ours only."""
    found = reader.findings(client, filters, pace)
    return {item["Id"]: item for item in found if plan.is_ours(item, arn, account)}


def import_findings(
    client: SecurityHubClient, pace: Callable[[], None], findings: list[dict[str, Any]]
) -> dict[str, str]:
    """Import in size- and count-bounded batches; returns failed Id -> error text."""
    failed: dict[str, str] = {}
    for batch in batches(findings):
        pace()
        try:
            response = client.batch_import_findings(Findings=batch)  # type: ignore[arg-type]
        except (ClientError, BotoCoreError) as error:
            text = describe_error(error)
            failed.update((f["Id"], text) for f in batch)
            continue
        for item in response.get("FailedFindings", []):
            failed[item["Id"]] = f"{item.get('ErrorCode')}: {item.get('ErrorMessage', '')}"
    return failed


def update_findings(
    client: SecurityHubClient,
    pace: Callable[[], None],
    arn: str,
    ids: Sequence[str],
    change: Mapping[str, Any],
) -> dict[str, str]:
    """BatchUpdateFindings in chunks of 100; returns Id -> problem for those not updated."""
    problems: dict[str, str] = {}
    for chunk in chunked(ids, MAX_IDENTIFIERS_PER_UPDATE):
        identifiers: list[Any] = [{"Id": fid, "ProductArn": arn} for fid in chunk]
        pace()
        try:
            response = client.batch_update_findings(FindingIdentifiers=identifiers, **change)
        except (ClientError, BotoCoreError) as error:
            problems.update((fid, describe_error(error)) for fid in chunk)
            continue
        for item in response.get("UnprocessedFindings", []):
            problems[item["FindingIdentifier"]["Id"]] = (
                f"{item.get('ErrorCode')}: {item.get('ErrorMessage', '')}"
            )
    return problems
