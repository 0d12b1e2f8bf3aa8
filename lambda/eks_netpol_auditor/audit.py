"""The orchestrator: discover -> evaluate -> remediate -> publish, concurrently.

One bounded thread pool serves every region and cluster. The main thread only schedules:
when a region's ListClusters finishes it queues that region's clusters, so slow regions
never hold fast ones back and no worker ever waits on another (no nested-pool deadlock).
The Lambda handler and the CLI are thin front ends over `run_audit`.

Event runs (`targets`) take the narrow path: no DescribeRegions, no ListClusters, only the
named clusters (DescribeCluster + DescribeAddon each) in their own regions, publishing
narrowed to their findings, and remediation held back for the auditor's own changes and
within the cooldown (docs/events.md).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
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
from .event_targets import Target, in_cooldown, is_own_call, principal_of
from .model import (
    TOKEN_PREFIX,
    AuditError,
    AuditResult,
    ClusterFacts,
    ClusterResult,
    ComplianceStatus,
    Guard,
    Outcome,
    StageSeconds,
)
from .remediation import remediate
from .remediation.plan import skip
from .securityhub import publish

logger = logging.getLogger(__name__)

NOT_EVALUATED = "not evaluated: the run's time budget was exhausted"
# (clusters done, clusters found so far, regions listed, regions to list)
Progress = Callable[[int, int, int, int], None]


T = TypeVar("T")


class AuditAborted(RuntimeError):
    """Nothing could be audited (no identity, no region list); the message says why."""


class AuditInterrupted(RuntimeError):
    """Interrupted while the account or its regions were still being looked up: nothing
    was audited, written or changed."""


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
    if targets is not None:
        result = _audit_targets(
            settings, clients, targets, (account, partition, caller), should_stop
        )
        return _finished(result, clients, started, counted_before)
    if settings.regions is not None:
        regions = list(settings.regions)
    else:
        try:
            regions = _interruptible(
                interrupted, enabled_regions, clients, settings.home_region, known_regions()
            )
        except AWS_ERRORS as error:
            raise AuditAborted(
                f"cannot list the account's enabled regions: {describe_error(error)}"
            ) from error

    result = AuditResult(account=account, partition=partition, regions=regions)

    def stop() -> bool:
        return should_stop() or interrupted()

    with _stage(result, "discover"):
        facts = _discover(settings, clients, result, stop, progress)
    _evaluate(result, facts)
    _run_stages(settings, clients, result, stop, interrupted)
    return _finished(result, clients, started, counted_before)


@contextlib.contextmanager
def _stage(result: AuditResult, name: str) -> Iterator[None]:
    """Record the stage's wall and CPU time in `result.stage_seconds`, even when it fails."""
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        result.stage_seconds[name] = StageSeconds(
            wall=time.perf_counter() - wall, cpu=time.process_time() - cpu
        )


def _evaluate(result: AuditResult, facts: list[ClusterFacts]) -> None:
    result.results = sorted(
        (ClusterResult(facts=f, verdict=evaluate(f)) for f in facts),
        key=lambda r: (r.facts.region, r.facts.name),
    )
    for cluster in result.results:
        if cluster.facts.error is not None:
            result.errors.append(
                AuditError(cluster.facts.region, cluster.facts.name, cluster.facts.error)
            )


def _finished(
    result: AuditResult, clients: AwsClients, started: float, before: dict[str, int]
) -> AuditResult:
    result.errors.sort(key=lambda e: (e.region, e.cluster or ""))
    result.api_calls = {
        name: count - before.get(name, 0)
        for name, count in clients.api_calls().items()
        if count > before.get(name, 0)
    }
    result.duration_seconds = round(time.monotonic() - started, 3)
    return result


def _discover(
    settings: Settings,
    clients: AwsClients,
    result: AuditResult,
    should_stop: Callable[[], bool],
    progress: Progress | None,
) -> list[ClusterFacts]:
    """List every region, then describe clusters with at most `per_region` calls in flight
    per region, so one large region cannot take every worker (or every request AWS allows
    there) while the others wait. `should_stop` is checked as each cluster is started."""
    facts: list[ClusterFacts] = []
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
                    result.errors.append(AuditError(region, name, NOT_EVALUATED))
                    done += 1
                    continue
                submit(
                    (region, name), describe_cluster, result.account, result.partition, region, name
                )
                return

        for region in result.regions:
            submit((region, None), list_clusters, region)
        while pending:
            future = completed.get()
            region, cluster = pending.pop(future)
            if cluster is None:
                backlog[region] = deque(_listed(future, region, settings, result))
                total += len(backlog[region])
                for _ in range(settings.per_region_concurrency):
                    start_next(region)
            else:
                done += 1
                found = _described(future, region, cluster, result)
                if isinstance(found, ClusterFacts):
                    facts.append(found)
                start_next(region)
            if progress is not None:
                progress(done, total, len(backlog), len(result.regions))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return facts


def _listed(future: Future[Any], region: str, settings: Settings, result: AuditResult) -> list[str]:
    try:
        names: list[str] = future.result()
    except RegionError as error:
        logger.warning("region %s could not be listed: %s", region, error)
        result.errors.append(AuditError(region, None, str(error)))
        return []
    if settings.cluster_names is None:
        # Only a complete listing may later archive findings of clusters that are gone.
        result.listed_regions.append(region)
        return names
    return [name for name in names if name in settings.cluster_names]


def _described(
    future: Future[Any], region: str, cluster: str, result: AuditResult
) -> ClusterFacts | Deleted | None:
    """The future's facts or `Deleted`; None (and an error recorded) when it failed."""
    try:
        found: ClusterFacts | Deleted = future.result()
    except Exception as error:  # a bug must not lose the other clusters' results
        logger.exception("unexpected failure describing %s in %s", cluster, region)
        result.errors.append(AuditError(region, cluster, describe_error(error)))
        return None
    return found


def _run_stages(
    settings: Settings,
    clients: AwsClients,
    result: AuditResult,
    should_stop: Callable[[], bool],
    interrupted: Callable[[], bool],
) -> None:
    """Remediation runs before publishing so each finding's Note can carry the update id."""
    if settings.auto_remediate and not interrupted():
        with _stage(result, "remediate"):
            remediate(settings, clients, result, should_stop)
    if settings.publish and not interrupted():
        with _stage(result, "publish"):
            publish(settings, clients, result)


# ------------------------------------------------------------------------- event runs


def _audit_targets(
    settings: Settings,
    clients: AwsClients,
    targets: Sequence[Target],
    identity: tuple[str, str, str],
    should_stop: Callable[[], bool],
) -> AuditResult:
    """Exactly the clusters the events named, each in its own region, nothing listed.

    A cluster DescribeCluster no longer finds is `confirmed_deleted` (its finding may be
    archived); one still DELETING is not reported, and its finding is left alone until a
    later run sees it gone. Publishing is narrowed to these clusters, so no other finding
    is ever archived by an event run.
    """
    account, partition, caller = identity
    allowed, refused = [], []
    for target in targets:
        if target.account != account:
            refused.append(
                (
                    target,
                    f"event from account {target.account}; this auditor audits account {account}",
                )
            )
        elif settings.regions is not None and target.region not in settings.regions:
            refused.append((target, f"{target.region} is not in AUDIT_REGIONS"))
        else:
            allowed.append(target)
    regions = sorted({t.region for t in allowed})
    result = AuditResult(account=account, partition=partition, regions=regions)
    result.errors.extend(AuditError(t.region, t.cluster, why) for t, why in refused)
    gone: list[tuple[str, str]] = []
    facts: list[ClusterFacts] = []
    workers = max(1, min(settings.per_region_concurrency, len(allowed)))
    with (
        _stage(result, "discover"),
        ThreadPoolExecutor(workers, thread_name_prefix="event") as pool,
    ):
        pending: dict[Future[Any], Target] = {}
        for target in allowed:
            if should_stop():
                result.errors.append(AuditError(target.region, target.cluster, NOT_EVALUATED))
                continue
            task = pool.submit(
                describe_cluster,
                clients,
                account,
                partition,
                target.region,
                target.cluster,
            )
            pending[task] = target
        for task, target in pending.items():
            found = _described(task, target.region, target.cluster, result)
            if isinstance(found, ClusterFacts):
                facts.append(found)
            elif isinstance(found, Deleted) and found.confirmed:
                gone.append((found.region, found.name))
    result.confirmed_deleted = sorted(gone)
    _evaluate(result, facts)
    narrowed = dataclasses.replace(
        settings,
        regions=tuple(regions),
        cluster_names=frozenset(t.cluster for t in allowed),
    )
    if narrowed.auto_remediate:
        with _stage(result, "remediate"):
            _remediate_events(
                narrowed, clients, result, should_stop, targets=targets, caller=caller
            )
    if narrowed.publish:
        with _stage(result, "publish"):
            publish(narrowed, clients, result)
    return result


def _remediate_events(
    settings: Settings,
    clients: AwsClients,
    result: AuditResult,
    should_stop: Callable[[], bool],
    *,
    targets: Sequence[Target],
    caller: str,
) -> None:
    """The scheduled run's guards, tags and cap, applied only to clusters whose events are
    not all the auditor's own echo and whose add-on is out of its cooldown."""
    by_key = {t.key: t for t in targets}
    now = datetime.now(UTC)
    eligible: list[ClusterResult] = []
    for cluster in result.results:
        target = by_key[(cluster.facts.region, cluster.facts.name)]
        held = _held(target, cluster, caller, now, settings.remediation_cooldown_minutes)
        if held is None:
            eligible.append(cluster)
        elif cluster.verdict.status is not ComplianceStatus.PASSED:
            cluster.remediation = held
            logger.info(
                "remediation skipped %s/%s: %s",
                cluster.facts.region,
                cluster.facts.name,
                held.reason,
                extra={
                    "event": "remediation",
                    "cluster": cluster.facts.name,
                    "region": cluster.facts.region,
                    "remediation": held.to_json(),
                },
            )
    partial = dataclasses.replace(result, results=eligible, errors=[])
    remediate(settings, clients, partial, should_stop)
    result.errors.extend(partial.errors)


def _held(
    target: Target, cluster: ClusterResult, caller: str, now: datetime, cooldown: int
) -> Outcome | None:
    """Why an event must not remediate this cluster, or None when it may."""
    own = principal_of(caller)
    if all(is_own_call(event, own, TOKEN_PREFIX) for event in target.events):
        return skip(
            Guard.OWN_UPDATE,
            "the event is the auditor's own change coming back (its role or its "
            "idempotency token): re-audited only, never updated again",
        )
    addon = cluster.facts.addon
    if addon is not None and in_cooldown(addon.modified_at, now, cooldown):
        return skip(
            Guard.COOLDOWN,
            f"the add-on changed less than {cooldown} minutes ago "
            "(REMEDIATION_COOLDOWN_MINUTES): re-audited only; a later run remediates",
        )
    return None
