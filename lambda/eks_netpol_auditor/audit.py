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

With the in-cluster check on (IN_CLUSTER_CHECK, `scan --in-cluster`), the discovery task
that described a cluster also reads its Kubernetes API when the second control's table
needs the objects (ACTIVE, not exempt, public endpoint: incluster/verdict.py decides), so
the reads run inside the same bounded pool, each within its own time budget; then both
controls are evaluated. Remediation acts on the first control only (docs/in-cluster.md).
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
from typing import Any, TypeVar

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
from .incluster.model import FailureKind, InClusterReason, InClusterVerdict, ReadFailure
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

    facts: list[ClusterFacts] = field(default_factory=list)
    errors: list[AuditError] = field(default_factory=list)
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
            enrol_as=access_entry_principal(caller) if settings.in_cluster_enrol else None,
            should_stop=stop,
            progress=progress,
        )
    results = _evaluate(found.facts, settings, caller)
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
    kubernetes = sum(f.kube.requests for f in found.facts if f.kube is not None)
    if kubernetes:
        api_calls[KUBERNETES_CALLS] = kubernetes
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


def _evaluate(facts: list[ClusterFacts], settings: Settings, caller: str) -> list[ClusterResult]:
    """Both controls for every cluster described; the second only with the check on."""

    def in_cluster(f: ClusterFacts) -> InClusterVerdict | None:
        if not settings.in_cluster_check:
            return None
        return evaluate_in_cluster(f, settings.in_cluster_exclude_namespaces, principal_arn=caller)

    return sorted(
        (ClusterResult(facts=f, verdict=evaluate(f), in_cluster=in_cluster(f)) for f in facts),
        key=lambda r: (r.facts.region, r.facts.name),
    )


def _gather(
    clients: AwsClients,
    account: str,
    partition: str,
    region: str,
    name: str,
    *,
    read: bool,
    enrol_as: str | None,
) -> ClusterFacts | Deleted:
    """One discovery task: DescribeCluster (and DescribeAddon), then with `read` (the
    in-cluster check on) the cluster's Kubernetes objects, when the second control needs
    them. Private-only, exempt and not-ACTIVE clusters are decided without them, so no
    connection is ever attempted to those (incluster/verdict.py, the rows before reading).

    With `enrol_as` (IN_CLUSTER_ENROL, the auditor's role ARN), a read refused with 401/403
    on a cluster that takes access entries enrols the role and reads once more; a failed
    enrolment is added to the refusal's message, so the finding says why."""
    found = describe_cluster(clients, account, partition, region, name)
    if not (read and isinstance(found, ClusterFacts) and _needs_objects(found)):
        return found
    kube = read_cluster(clients, found)
    if enrol_as is not None and _may_enrol(found, kube):
        failed = enrol(clients, region, name, enrol_as)
        if failed is None:
            again = read_cluster(clients, found)  # count both reads' requests
            kube = replace(again, requests=again.requests + kube.requests)
        elif isinstance(kube, ReadFailure):
            kube = replace(kube, message=f"{kube.message}; {failed}")
    return replace(found, kube=kube)


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
    enrol_as: str | None,
    should_stop: Callable[[], bool],
    progress: Progress | None,
) -> Discovery:
    """List each region (unless the scope names its clusters), then describe clusters with
    at most `per_region` calls in flight per region, so one large region cannot take every
    worker (or every request AWS allows there) while the others wait. `should_stop` is
    checked as each cluster is started."""
    report = Discovery()
    gather = functools.partial(_gather, read=settings.in_cluster_check, enrol_as=enrol_as)
    pending: dict[Future[Any], tuple[str, str | None]] = {}
    # Each future reports itself here when done, so a completion costs O(1); waiting on
    # the whole pending set (`concurrent.futures.wait`) would cost O(pending) per wake-up.
    completed: SimpleQueue[Future[Any]] = SimpleQueue()
    backlog: dict[str, deque[str]] = {}
    total = done = 0
    pool = ThreadPoolExecutor(settings.max_workers, thread_name_prefix="audit")
    # Not a `with` block: on Ctrl-C its exit would wait for every queued call. Cancelling
    # what has not started lets an interrupted CLI leave at once; reads only, so harmless.
    try:

        def submit(key: tuple[str, str | None], call: Callable[..., Any], *args: Any) -> None:
            future = pool.submit(call, clients, *args)
            pending[future] = key
            future.add_done_callback(completed.put)

        def start_next(region: str) -> None:
            nonlocal done
            queue = backlog[region]
            while queue:
                name = queue.popleft()
                if should_stop():
                    report.errors.append(AuditError(region, name, NOT_EVALUATED))
                    done += 1
                    continue
                submit((region, name), gather, *identity, region, name)
                return

        def queue_region(region: str, names: list[str]) -> None:
            nonlocal total
            backlog[region] = deque(names)
            total += len(names)
            for _ in range(settings.per_region_concurrency):
                start_next(region)

        for region in regions:
            if scope.clusters is None:
                submit((region, None), list_clusters, region)
            else:  # the clusters are named with their regions: nothing to list
                queue_region(region, sorted(n for r, n in scope.clusters if r == region))
        while pending:
            future = completed.get()
            region, cluster = pending.pop(future)
            if cluster is None:
                queue_region(region, _listed(future, region, scope, report))
            else:
                done += 1
                found = _described(future, region, cluster, report.errors)
                if isinstance(found, ClusterFacts):
                    report.facts.append(found)
                elif isinstance(found, Deleted) and found.confirmed:
                    report.confirmed_deleted.append((found.region, found.name))
                start_next(region)
            if progress is not None:
                progress(done, total, len(backlog), len(regions))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return report


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
) -> ClusterFacts | Deleted | None:
    """The future's facts or `Deleted`; None (and an error recorded) when it failed.

    A cluster still DELETING is not reported and its finding is left alone; one that
    DescribeCluster no longer finds is `confirmed_deleted` (its finding may be archived)."""
    try:
        found: ClusterFacts | Deleted = future.result()
    except Exception as error:  # a bug must not lose the other clusters' results
        logger.exception("unexpected failure describing %s in %s", cluster, region)
        errors.append(AuditError(region, cluster, describe_error(error)))
        return None
    return found
