"""The orchestrator: discover -> evaluate -> remediate -> publish, concurrently.

One bounded thread pool serves every region and cluster. The main thread only schedules:
when a region's ListClusters finishes it queues that region's clusters, so slow regions
never hold fast ones back and no worker ever waits on another (no nested-pool deadlock).
The Lambda handler and the CLI are thin front ends over `run_audit`.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from .aws import AwsClients, describe_error
from .config import ConfigError, Settings, known_regions
from .discovery import (
    RegionError,
    account_identity,
    describe_cluster,
    enabled_regions,
    list_clusters,
)
from .evaluate import evaluate
from .model import AuditError, AuditResult, ClusterFacts, ClusterResult
from .remediation import remediate
from .securityhub import publish

logger = logging.getLogger(__name__)

NOT_EVALUATED = "not evaluated: the run's time budget was exhausted"
Progress = Callable[[int, int], None]


class AuditAborted(RuntimeError):
    """Nothing could be audited (no identity, no region list); the message says why."""


def run_audit(
    settings: Settings,
    clients: AwsClients | None = None,
    *,
    should_stop: Callable[[], bool] = lambda: False,
    progress: Progress | None = None,
) -> AuditResult:
    """Audit every cluster the settings select and return the complete result.

    `should_stop` is polled before starting new work (the Lambda passes its time budget);
    clusters not started by then are reported as errors, never silently dropped.
    """
    started = time.monotonic()
    clients = clients or AwsClients(max_pool_connections=settings.max_workers)
    try:
        account, partition = account_identity(clients, settings.home_region)
    except NoCredentialsError:
        raise ConfigError("no AWS credentials found (standard credential chain)") from None
    except (ClientError, BotoCoreError) as error:
        raise AuditAborted(f"cannot identify the account: {describe_error(error)}") from error
    except ValueError as error:  # botocore refused to build a client, e.g. AWS_ENDPOINT_URL
        raise ConfigError(f"invalid AWS client configuration: {error}") from None
    if settings.regions is not None:
        regions = list(settings.regions)
    else:
        try:
            regions = enabled_regions(clients, settings.home_region, known_regions())
        except (ClientError, BotoCoreError) as error:
            raise AuditAborted(
                f"cannot list the account's enabled regions: {describe_error(error)}"
            ) from error

    result = AuditResult(account=account, partition=partition, regions=regions)
    facts = _discover(settings, clients, result, should_stop, progress)
    result.results = sorted(
        (ClusterResult(facts=f, verdict=evaluate(f)) for f in facts),
        key=lambda r: (r.facts.region, r.facts.name),
    )
    for cluster in result.results:
        if cluster.facts.error is not None:
            result.errors.append(
                AuditError(cluster.facts.region, cluster.facts.name, cluster.facts.error)
            )
    _run_stages(settings, clients, result, should_stop)
    result.errors.sort(key=lambda e: (e.region, e.cluster or ""))
    result.api_calls = clients.api_calls()
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
    backlog: dict[str, deque[str]] = {}
    total = done = 0
    with ThreadPoolExecutor(settings.max_workers, thread_name_prefix="audit") as pool:

        def start_next(region: str) -> None:
            nonlocal done
            queue = backlog[region]
            while queue:
                name = queue.popleft()
                if should_stop():
                    result.errors.append(AuditError(region, name, NOT_EVALUATED))
                    done += 1
                    continue
                task = pool.submit(
                    describe_cluster, clients, result.account, result.partition, region, name
                )
                pending[task] = (region, name)
                return

        for region in result.regions:
            pending[pool.submit(list_clusters, clients, region)] = (region, None)
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                region, cluster = pending.pop(future)
                if cluster is None:
                    backlog[region] = deque(_listed(future, region, settings, result))
                    total += len(backlog[region])
                    for _ in range(settings.per_region_concurrency):
                        start_next(region)
                else:
                    done += 1
                    found = _described(future, region, cluster, result)
                    if found is not None:
                        facts.append(found)
                    start_next(region)
                if progress is not None:
                    progress(done, total)
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
) -> ClusterFacts | None:
    try:
        found: ClusterFacts | None = future.result()
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
) -> None:
    """Remediation runs before publishing so each finding's Note can carry the update id."""
    if settings.auto_remediate:
        remediate(settings, clients, result, should_stop)
    if settings.publish:
        publish(settings, clients, result)
