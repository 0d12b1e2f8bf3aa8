"""The orchestrator: discover -> evaluate -> remediate -> publish, concurrently.

One pipeline for every run; a `RunScope` narrows it (all regions, some regions, some
clusters). One bounded thread pool serves every region and cluster. The main thread only
schedules: when a region's ListClusters finishes it queues that region's clusters, so slow
regions never hold fast ones back and no worker ever waits on another (no nested-pool
deadlock). An event run is "some clusters" named with their regions: nothing is listed,
publishing is narrowed to their findings, and its `EventContext` adds remediation's
own-update and cooldown guards (docs/events.md). Each stage returns a report; the frozen
`AuditResult` is built from them. The Lambda handlers and the CLI are thin front ends over
`run_audit`.

Each cluster is judged (both controls) by the worker that gathered its facts. With the
in-cluster check on (IN_CLUSTER_CHECK, `scan --in-cluster`), a described cluster whose
second control needs its objects (ACTIVE, not exempt, public endpoint: incluster/verdict.py
decides) is read by a task of its own in the same bounded pool, each read within its own
time budget, so the region's EKS slot is free for its next DescribeCluster; a read's
objects are dropped once judged, so memory grows with the reads in flight, not with
clusters x pods. Remediation acts on the first control only (docs/in-cluster.md).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from queue import SimpleQueue
from typing import Any, NamedTuple, TypeVar

from botocore.exceptions import NoCredentialsError

from .aws import AWS_ERRORS, AwsClients, describe_error
from .config import ConfigError, Settings, known_regions
from .discovery import (
    Deleted,
    RegionError,
    caller_identity,
    describe_cluster,
    enabled_regions,
    list_clusters,
)
from .evaluate import evaluate
from .event_targets import EventContext, Target
from .incluster.access import access_entry_principal
from .incluster.enrol import enrol
from .incluster.model import (
    ClusterObjects,
    FailureKind,
    InClusterReason,
    InClusterVerdict,
    ReadFailure,
)
from .incluster.reader import read_cluster
from .incluster.verdict import evaluate_in_cluster
from .model import (
    AuditError,
    AuditResult,
    ClusterFacts,
    ClusterResult,
    StageSeconds,
)
from .remediation import remediate
from .securityhub import publish

logger = logging.getLogger(__name__)

NOT_EVALUATED = "not evaluated: the run's time budget was exhausted"
# accessConfig.authenticationMode values that take access entries (EKS API reference,
# CreateAccessEntry: a CONFIG_MAP cluster has to be switched first).
ACCESS_ENTRY_MODES = frozenset({"API", "API_AND_CONFIG_MAP"})
# The key of `AuditResult.api_calls` that counts Kubernetes API requests (pages included).
KUBERNETES_CALLS = "kubernetes"
# (clusters done, clusters found so far, regions listed, regions to list)
Progress = Callable[[int, int, int, int], None]


T = TypeVar("T")


class AuditAborted(RuntimeError):
    """Nothing could be audited (no identity, no region list); the message says why."""


class AuditInterrupted(RuntimeError):
    """Interrupted while the account or its regions were still being looked up: nothing
    was audited, written or changed."""


@dataclass(frozen=True)
class RunScope:
    """What one run looks at: every enabled region (`regions` None), some regions, and in
    them every cluster or some clusters. Some clusters are named either by name alone
    (`names`, a manual run: each region is listed to find them) or with their region
    (`clusters`, an event run: nothing is listed). Only a run that lists its regions in
    full may archive findings because their cluster was not seen (`narrowed` is False).
    """

    regions: tuple[str, ...] | None = None
    names: frozenset[str] | None = None
    clusters: frozenset[tuple[str, str]] | None = None

    @property
    def narrowed(self) -> bool:
        return self.names is not None or self.clusters is not None

    @classmethod
    def of(cls, settings: Settings) -> RunScope:
        """A scheduled or manual run: AUDIT_REGIONS (or every region) and the named clusters."""
        return cls(regions=settings.regions, names=settings.cluster_names)

    @classmethod
    def for_targets(
        cls, targets: Sequence[Target], account: str, settings: Settings
    ) -> tuple[RunScope, list[AuditError]]:
        """An event run: exactly the targets this deployment may audit, and an error for
        each one it refuses (another account's cluster, a region outside AUDIT_REGIONS)."""
        allowed: set[tuple[str, str]] = set()
        refused: list[AuditError] = []
        for target in targets:
            region, cluster = target.key
            if target.account != account:
                refused.append(
                    AuditError(
                        region,
                        cluster,
                        f"event from account {target.account}; this auditor audits account "
                        f"{account}",
                    )
                )
            elif settings.regions is not None and region not in settings.regions:
                refused.append(AuditError(region, cluster, f"{region} is not in AUDIT_REGIONS"))
            else:
                allowed.add(target.key)
        regions = tuple(sorted({region for region, _ in allowed}))
        return cls(regions=regions, clusters=frozenset(allowed)), refused

    def listed(self, region: str, names: list[str]) -> list[str]:
        """The clusters of a region's listing this run audits."""
        if self.names is None:
            return names
        return [name for name in names if name in self.names]


@dataclass
class Discovery:
    """The discovery stage's report, filled by its scheduling loop (main thread only)."""

    results: list[ClusterResult] = field(default_factory=list)
    errors: list[AuditError] = field(default_factory=list)
    kubernetes_requests: int = 0
    listed_regions: list[str] = field(default_factory=list)
    confirmed_deleted: list[tuple[str, str]] = field(default_factory=list)


def _interruptible(interrupted: Callable[[], bool], call: Callable[..., T], *args: Any) -> T:
    """`call(*args)` on a daemon thread, abandoned as soon as `interrupted()` says so.

    The CLI's first Ctrl-C only sets a flag, and Python runs signal handlers in the main
    thread and then resumes the blocked socket read (PEP 475), so a setup call made on the
    main thread would sit out every retry of an endpoint that never answers. Only reads are
    made this way, so abandoning one is harmless.
    """
    outcome: Future[T] = Future()

    def work() -> None:
        try:
            outcome.set_result(call(*args))
        except BaseException as error:  # handed to the caller, which re-raises it
            outcome.set_exception(error)

    threading.Thread(target=work, name="audit-setup", daemon=True).start()
    while True:
        try:
            return outcome.result(timeout=0.1)
        except TimeoutError:
            if interrupted():
                raise AuditInterrupted(
                    "interrupted while looking up the account; nothing was audited, "
                    "published or changed"
                ) from None


def run_audit(
    settings: Settings,
    clients: AwsClients | None = None,
    *,
    should_stop: Callable[[], bool] = lambda: False,
    progress: Progress | None = None,
    targets: Sequence[Target] | None = None,
    interrupted: Callable[[], bool] = lambda: False,
) -> AuditResult:
    """Audit every cluster the settings select, or exactly `targets` (an event run), and
    return the complete result.

    `should_stop` is polled before starting new work (the Lambda passes its time budget);
    clusters not started by then are reported as errors, never silently dropped.
    `interrupted` (the CLI's Ctrl-C) stops new work like `should_stop` and also skips the
    stages that write (remediation, publishing) if they have not started; a stage that has
    started finishes, so Security Hub never holds a half-applied batch.
    """
    started = time.monotonic()
    clients = clients or AwsClients(max_pool_connections=settings.max_workers)
    counted_before = clients.api_calls()  # a reused client set counts across runs
    # An event run asks STS in its cluster's region, so it calls nothing outside it.
    sts_region = targets[0].region if targets else settings.home_region
    try:
        account, partition, caller = _interruptible(
            interrupted, caller_identity, clients, sts_region
        )
    except NoCredentialsError:
        raise ConfigError("no AWS credentials found (standard credential chain)") from None
    except AWS_ERRORS as error:
        raise AuditAborted(f"cannot identify the account: {describe_error(error)}") from error
    except ValueError as error:  # botocore refused to build a client, e.g. AWS_ENDPOINT_URL
        raise ConfigError(f"invalid AWS client configuration: {error}") from None
    refused: list[AuditError] = []
    events: EventContext | None = None
    if targets is None:
        scope = RunScope.of(settings)
    else:
        scope, refused = RunScope.for_targets(targets, account, settings)
        now = datetime.now(UTC)
        events = EventContext.of(targets, caller, settings.remediation_cooldown_minutes, now)
    regions = _regions(scope, settings, clients, interrupted)

    def stop() -> bool:
        return should_stop() or interrupted()

    stages: dict[str, StageSeconds] = {}
    with _stage(stages, "discover"):
        found = _discover(
            settings,
            clients,
            scope,
            regions,
            identity=(account, partition),
            judge=functools.partial(_judge, settings=settings, caller=caller),
            enrol_as=access_entry_principal(caller) if settings.in_cluster_enrol else None,
            should_stop=stop,
            progress=progress,
        )
    results = sorted(found.results, key=lambda r: (r.facts.region, r.facts.name))
    result = AuditResult(
        account=account,
        partition=partition,
        regions=regions,
        results=results,
        errors=[*refused, *found.errors, *_fact_errors(results)],
        listed_regions=found.listed_regions,
        confirmed_deleted=sorted(found.confirmed_deleted),
        narrowed=scope.narrowed,
    )
    # Remediation runs before publishing so each finding's Note can carry the update id.
    if settings.auto_remediate and not interrupted():
        with _stage(stages, "remediate"):
            result = result.with_remediation(remediate(settings, clients, result, stop, events))
    if settings.publish and not interrupted():
        with _stage(stages, "publish"):
            result = result.with_publishing(publish(settings, clients, result))
    after = clients.api_calls()
    api_calls = {
        name: count - counted_before.get(name, 0)
        for name, count in after.items()
        if count > counted_before.get(name, 0)
    }
    if found.kubernetes_requests:
        api_calls[KUBERNETES_CALLS] = found.kubernetes_requests
    return replace(
        result,
        errors=sorted(result.errors, key=lambda e: (e.region, e.cluster or "")),
        api_calls=api_calls,
        duration_seconds=round(time.monotonic() - started, 3),
        stage_seconds=stages,
    )


def _regions(
    scope: RunScope, settings: Settings, clients: AwsClients, interrupted: Callable[[], bool]
) -> list[str]:
    """The scope's regions, or every enabled region that has EKS."""
    if scope.regions is not None:
        return list(scope.regions)
    try:
        return _interruptible(
            interrupted, enabled_regions, clients, settings.home_region, known_regions()
        )
    except AWS_ERRORS as error:
        raise AuditAborted(
            f"cannot list the account's enabled regions: {describe_error(error)}"
        ) from error


@contextlib.contextmanager
def _stage(stages: dict[str, StageSeconds], name: str) -> Iterator[None]:
    """Record the stage's wall and CPU time in `stages`, even when it fails."""
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        stages[name] = StageSeconds(wall=time.perf_counter() - wall, cpu=time.process_time() - cpu)


class Judged(NamedTuple):
    """One cluster's verdicts, and the Kubernetes requests its read made."""

    result: ClusterResult
    kubernetes_requests: int


def _judge(facts: ClusterFacts, *, settings: Settings, caller: str) -> Judged:
    """Both controls for one cluster (the second only with the check on), in the worker that
    gathered its facts. A successful read's objects are dropped once judged (`facts.kube`
    keeps only a ReadFailure), so a run holds the objects of the reads in flight, never every
    cluster's pods at once: memory is bounded by the workers, not by clusters x pods."""
    in_cluster: InClusterVerdict | None = None
    if settings.in_cluster_check:
        excluded = settings.in_cluster_exclude_namespaces
        in_cluster = evaluate_in_cluster(facts, excluded, principal_arn=caller)
    verdict = evaluate(facts)
    requests = 0 if facts.kube is None else facts.kube.requests
    if isinstance(facts.kube, ClusterObjects):
        facts = replace(facts, kube=None)
    return Judged(ClusterResult(facts=facts, verdict=verdict, in_cluster=in_cluster), requests)


def _describe(
    clients: AwsClients,
    account: str,
    partition: str,
    region: str,
    name: str,
    *,
    read: bool,
    judge: Callable[[ClusterFacts], Judged],
) -> ClusterFacts | Judged | Deleted:
    """One discovery task: DescribeCluster (and DescribeAddon), judged at once unless the
    in-cluster check (`read`) needs the cluster's objects: then the facts go back to the
    scheduler, which frees the region's EKS slot and starts `_read` as a task of its own
    (the Kubernetes API is the cluster's, not EKS's, so its reads never hold EKS
    concurrency). Private-only, exempt and not-ACTIVE clusters are decided without objects,
    so no connection is ever attempted to those (incluster/verdict.py, the rows before
    reading)."""
    found = describe_cluster(clients, account, partition, region, name)
    if isinstance(found, Deleted):
        return found
    if read and _needs_objects(found):
        return found
    return judge(found)


def _read(
    clients: AwsClients,
    facts: ClusterFacts,
    *,
    enrol_as: str | None,
    judge: Callable[[ClusterFacts], Judged],
) -> Judged:
    """Read the cluster's Kubernetes objects (each read within its own time budget), then
    judge it. With `enrol_as` (IN_CLUSTER_ENROL, the auditor's role ARN), a read refused
    with 401/403 on a cluster that takes access entries enrols the role and reads once
    more; a failed enrolment is added to the refusal's message, so the finding says why."""
    kube = read_cluster(clients, facts)
    if enrol_as is not None and _may_enrol(facts, kube):
        failed = enrol(clients, facts.region, facts.name, enrol_as)
        if failed is None:
            again = read_cluster(clients, facts)  # count both reads' requests
            kube = replace(again, requests=again.requests + kube.requests)
        elif isinstance(kube, ReadFailure):
            kube = replace(kube, message=f"{kube.message}; {failed}")
    return judge(replace(facts, kube=kube))


def _may_enrol(facts: ClusterFacts, kube: object) -> bool:
    """Refused (HTTP 401/403) where an access entry can be created (not CONFIG_MAP)."""
    mode = facts.api.authentication_mode if facts.api is not None else None
    return (
        isinstance(kube, ReadFailure)
        and kube.kind is FailureKind.UNAUTHORIZED
        and mode in ACCESS_ENTRY_MODES
    )


def _needs_objects(facts: ClusterFacts) -> bool:
    """True when the second control's table cannot decide without the cluster's objects.

    Asked of the table itself rather than restated here (one home for the rule): with no
    objects read, every row that needs them ends in "not read" (READ_INCOMPLETE); the rows
    before reading (not ACTIVE, exempt, private endpoint, unreadable facts) decide alone.
    """
    if facts.kube is not None:
        return False
    unread = evaluate_in_cluster(facts, frozenset())
    return unread.reason is InClusterReason.READ_INCOMPLETE


def _fact_errors(results: list[ClusterResult]) -> list[AuditError]:
    """A cluster whose facts could not be read is also a run error."""
    return [
        AuditError(r.facts.region, r.facts.name, r.facts.error)
        for r in results
        if r.facts.error is not None
    ]


def _discover(
    settings: Settings,
    clients: AwsClients,
    scope: RunScope,
    regions: list[str],
    *,
    identity: tuple[str, str],
    judge: Callable[[ClusterFacts], Judged],
    enrol_as: str | None,
    should_stop: Callable[[], bool],
    progress: Progress | None,
) -> Discovery:
    """List each region (unless the scope names its clusters), then describe clusters with
    at most `per_region` calls in flight per region, so one large region cannot take every
    worker (or every request AWS allows there) while the others wait. A cluster whose
    second control needs its objects is read by a task of its own once described, so its
    region's next DescribeCluster starts at once. `should_stop` is checked as each cluster
    is started (a described cluster not yet read is judged unread)."""
    pool = ThreadPoolExecutor(settings.max_workers, thread_name_prefix="audit")
    scheduler = _Scheduler(
        pool,
        clients,
        identity=identity,
        describe=functools.partial(_describe, read=settings.in_cluster_check, judge=judge),
        read=functools.partial(_read, enrol_as=enrol_as, judge=judge),
        judge=judge,
        per_region=settings.per_region_concurrency,
        should_stop=should_stop,
    )
    # Not a `with` block: on Ctrl-C its exit would wait for every queued call. Cancelling
    # what has not started lets an interrupted CLI leave at once; reads only, so harmless.
    try:
        for region in regions:
            if scope.clusters is None:
                scheduler.submit((region, None, False), list_clusters, region)
            else:  # the clusters are named with their regions: nothing to list
                scheduler.queue(region, sorted(n for r, n in scope.clusters if r == region))
        while scheduler.pending:
            future = scheduler.completed.get()
            region, cluster, reading = scheduler.pending.pop(future)
            if cluster is None:
                scheduler.queue(region, _listed(future, region, scope, scheduler.report))
            else:
                scheduler.settle(_described(future, region, cluster, scheduler.report.errors))
                if not reading:
                    scheduler.start_next(region)
            if progress is not None:
                progress(scheduler.done, scheduler.total, len(scheduler.backlog), len(regions))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return scheduler.report


# future -> (region, cluster or None for ListClusters, True for a cluster's read)
TaskKey = tuple[str, str | None, bool]


class _Scheduler:
    """Discovery's bookkeeping, touched by the main thread only: what is in flight, each
    region's backlog, and the report. Workers only run the tasks it submits."""

    def __init__(
        self,
        pool: ThreadPoolExecutor,
        clients: AwsClients,
        *,
        identity: tuple[str, str],
        describe: Callable[..., ClusterFacts | Judged | Deleted],
        read: Callable[..., Judged],
        judge: Callable[[ClusterFacts], Judged],
        per_region: int,
        should_stop: Callable[[], bool],
    ) -> None:
        self._pool, self._clients, self._identity = pool, clients, identity
        self._describe, self._read, self._judge = describe, read, judge
        self._per_region, self._should_stop = per_region, should_stop
        self.report = Discovery()
        self.pending: dict[Future[Any], TaskKey] = {}
        # Each future reports itself here when done, so a completion costs O(1); waiting on
        # the whole pending set (`concurrent.futures.wait`) would cost O(pending) per wake.
        self.completed: SimpleQueue[Future[Any]] = SimpleQueue()
        self.backlog: dict[str, deque[str]] = {}
        self.total = self.done = 0

    def submit(self, key: TaskKey, call: Callable[..., Any], *args: Any) -> None:
        future = self._pool.submit(call, self._clients, *args)
        self.pending[future] = key
        future.add_done_callback(self.completed.put)

    def queue(self, region: str, names: list[str]) -> None:
        self.backlog[region] = deque(names)
        self.total += len(names)
        for _ in range(self._per_region):
            self.start_next(region)

    def start_next(self, region: str) -> None:
        """Describe the region's next cluster, unless the run must stop."""
        queue = self.backlog[region]
        while queue:
            name = queue.popleft()
            if self._should_stop():
                self.report.errors.append(AuditError(region, name, NOT_EVALUATED))
                self.done += 1
                continue
            self.submit((region, name, False), self._describe, *self._identity, region, name)
            return

    def settle(self, found: Judged | ClusterFacts | Deleted | None) -> None:
        """Record a finished task; facts still to be read go to a read task of their own."""
        if isinstance(found, ClusterFacts):
            if not self._should_stop():
                self.submit((found.region, found.name, True), self._read, found)
                return
            found = self._judge(found)  # judged unread: READ_INCOMPLETE, never PASSED
        self.done += 1
        if isinstance(found, Judged):
            self.report.results.append(found.result)
            self.report.kubernetes_requests += found.kubernetes_requests
        elif isinstance(found, Deleted) and found.confirmed:
            self.report.confirmed_deleted.append((found.region, found.name))


def _listed(future: Future[Any], region: str, scope: RunScope, report: Discovery) -> list[str]:
    try:
        names: list[str] = future.result()
    except RegionError as error:
        logger.warning("region %s could not be listed: %s", region, error)
        report.errors.append(AuditError(region, None, str(error)))
        return []
    if not scope.narrowed:
        # Only a complete listing may later archive findings of clusters that are gone.
        report.listed_regions.append(region)
    return scope.listed(region, names)


def _described(
    future: Future[Any], region: str, cluster: str, errors: list[AuditError]
) -> Judged | ClusterFacts | Deleted | None:
    """The future's facts or `Deleted`; None (and an error recorded) when it failed.

    A cluster still DELETING is not reported and its finding is left alone; one that
    DescribeCluster no longer finds is `confirmed_deleted` (its finding may be archived)."""
    try:
        found: Judged | ClusterFacts | Deleted = future.result()
    except Exception as error:  # a bug must not lose the other clusters' results
        logger.exception("unexpected failure describing %s in %s", cluster, region)
        errors.append(AuditError(region, cluster, describe_error(error)))
        return None
    return found
