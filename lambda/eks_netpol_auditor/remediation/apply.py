"""Guarded remediation, the I/O shell: schema look-ups, UpdateAddon calls, the audit trail.

Every decision is made by the pure `plan` module; this module only performs the
calls it allows, in its order, and reports what happened to each cluster
(`RemediationReport`, folded into the run's result by `AuditResult.with_remediation`):

* DescribeAddonConfiguration
  (https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeAddonConfiguration.html)
  once per add-on version per run, so the schema check costs a handful of calls however
  many clusters there are. Dry runs make these read-only calls too, so a dry run shows
  exactly the requests a real run would send, schema refusals included.
* UpdateAddon (https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateAddon.html)
  one at a time, at most `settings.max_remediations` per run, spaced in each region, never
  once `should_stop()` says the time budget is spent. HTTP 409 ResourceInUseException means
  an update is already running: reported as in_progress, not as an error.

The verdict is never changed here: a cluster stays FAILED until a later audit observes the
new configuration (PASSED comes from observation, never from assumption).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from ..aws import describe_error, error_code
from ..model import (
    VPC_CNI_ADDON,
    Action,
    AuditError,
    AuditResult,
    Guard,
    Outcome,
    RemediationReport,
)
from .plan import (
    Candidate,
    DeferReason,
    check_schema,
    deferred,
    plan,
    select,
    skip,
)

if TYPE_CHECKING:
    from ..aws import AwsClients
    from ..config import Settings
    from ..event_targets import EventContext

logger = logging.getLogger(__name__)

# Seconds between two UpdateAddon calls in the same region. Each update rolls the aws-node
# DaemonSet of one cluster; spacing keeps a run from becoming a burst of control-plane
# changes (the same 3 s pacing AWS's Automated Security Response uses). Tests set it to 0.
UPDATE_SPACING_SECONDS = 3.0
SCHEMA_WORKERS = 8
IN_PROGRESS_REASON = "an add-on update is already running; retry next run"
# Indirections so tests can observe the pacing without sleeping.
_sleep: Callable[[float], None] = time.sleep
_monotonic: Callable[[], float] = time.monotonic


@dataclass(frozen=True)
class _Schema:
    text: str | None
    error: str | None = None


class SchemaCache:
    """DescribeAddonConfiguration results for this run, keyed by add-on version.

    Thread-safe, and one call per version even under concurrency: the first caller of a
    version fetches under that version's lock while the others wait for its answer.
    Failures are cached too, so every cluster on that version fails closed alike. No
    look-up starts once `should_stop()` says the time budget is spent (`get` answers None).
    """

    def __init__(self, clients: AwsClients, should_stop: Callable[[], bool]) -> None:
        self._clients = clients
        self._should_stop = should_stop
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._schemas: dict[str, _Schema] = {}

    def get(self, region: str, version: str) -> _Schema | None:
        with self._lock:
            version_lock = self._locks.setdefault(version, threading.Lock())
        with version_lock:
            cached = self._schemas.get(version)
            if cached is None:
                if self._should_stop():
                    return None
                cached = self._fetch(region, version)
                self._schemas[version] = cached
            return cached

    def _fetch(self, region: str, version: str) -> _Schema:
        try:
            response = self._clients.eks(region).describe_addon_configuration(
                addonName=VPC_CNI_ADDON, addonVersion=version
            )
        except (ClientError, BotoCoreError) as error:
            return _Schema(None, describe_error(error))
        text = response.get("configurationSchema")
        return _Schema(text if isinstance(text, str) else None)


def remediate(
    settings: Settings,
    clients: AwsClients,
    result: AuditResult,
    should_stop: Callable[[], bool],
    events: EventContext | None = None,
) -> RemediationReport:
    """Apply (or, in a dry run, plan) the enable-network-policy change where it is safe.

    Reports an outcome for every cluster that is not PASSED and logs one line per action.
    `events` (an event run's context) adds the own-update and cooldown guards.
    """
    if not settings.auto_remediate:
        return RemediationReport()
    outcomes, candidates = plan(
        result.results, result.account, require_tag=settings.require_tag, events=events
    )
    accepted = _schema_checked(candidates, SchemaCache(clients, should_stop), settings, outcomes)
    chosen, overflow = select(accepted, settings.max_remediations)
    for candidate in overflow:
        outcomes[candidate.key] = deferred(DeferReason.CAP, settings.max_remediations)
    last_call: dict[str, float] = {}
    for candidate in chosen:
        if settings.dry_run:
            outcomes[candidate.key] = Outcome(
                Action.DRY_RUN,
                "dry run: this UpdateAddon request would be sent; nothing was changed",
                request=candidate.request,
            )
            continue
        _space(candidate.region, last_call)
        if should_stop():
            outcomes[candidate.key] = deferred(DeferReason.TIME_BUDGET, settings.max_remediations)
            continue
        outcomes[candidate.key] = _apply(clients, candidate)
        last_call[candidate.region] = _monotonic()
    return _record(result, outcomes, dry_run=settings.dry_run)


def _schema_checked(
    candidates: list[Candidate],
    cache: SchemaCache,
    settings: Settings,
    outcomes: dict[tuple[str, str], Outcome],
) -> list[Candidate]:
    """Candidates whose add-on version's schema accepts the merged document; those whose
    schema was not looked up because the time budget ran out are deferred."""
    first_region: dict[str, str] = {}
    for candidate in candidates:
        first_region.setdefault(candidate.addon_version, candidate.region)
    if first_region:
        workers = min(len(first_region), SCHEMA_WORKERS, max(settings.max_workers, 1))
        with ThreadPoolExecutor(workers, thread_name_prefix="schema") as pool:
            list(pool.map(lambda item: cache.get(item[1], item[0]), first_region.items()))
    accepted: list[Candidate] = []
    for candidate in candidates:
        schema = cache.get(candidate.region, candidate.addon_version)
        if schema is None:
            outcomes[candidate.key] = deferred(DeferReason.TIME_BUDGET, settings.max_remediations)
            continue
        if schema.error is not None:
            refusal: Outcome | None = skip(
                Guard.SCHEMA_UNAVAILABLE,
                f"DescribeAddonConfiguration for {candidate.addon_version} failed: {schema.error}",
            )
        else:
            refusal = check_schema(schema.text, candidate.merged)
        if refusal is None:
            accepted.append(candidate)
        else:
            outcomes[candidate.key] = refusal
    return accepted


def _space(region: str, last_call: dict[str, float]) -> None:
    previous = last_call.get(region)
    if previous is None:
        return
    wait = previous + UPDATE_SPACING_SECONDS - _monotonic()
    if wait > 0:
        _sleep(wait)


def _apply(clients: AwsClients, candidate: Candidate) -> Outcome:
    request = candidate.request
    try:
        response: Any = clients.eks(candidate.region).update_addon(**request.to_kwargs())  # type: ignore[arg-type]
    except ClientError as error:
        if error_code(error) == "ResourceInUseException":
            return Outcome(Action.IN_PROGRESS, IN_PROGRESS_REASON, request=request)
        return _failed(candidate, f"UpdateAddon failed: {describe_error(error)}")
    except BotoCoreError as error:
        return _failed(candidate, f"UpdateAddon failed: {describe_error(error)}")
    except Exception as error:  # a bug must not lose the other clusters' outcomes
        logger.exception(
            "unexpected failure updating %s in %s", candidate.cluster, candidate.region
        )
        return _failed(candidate, f"UpdateAddon failed: {describe_error(error)}")
    update = response.get("update") or {}
    update_id, status = update.get("id"), update.get("status")
    if not update_id:
        return _failed(candidate, "UpdateAddon returned no update id")
    if status != "InProgress":
        # A new update always starts InProgress; anything else is EKS answering the same
        # clientRequestToken with an earlier, finished update: nothing was changed now.
        return _failed(
            candidate,
            f"UpdateAddon returned the earlier update {update_id} ({status}) for this "
            "clientRequestToken; the change was not applied again",
            update_id=update_id,
            update_status=status,
        )
    return Outcome(
        Action.APPLIED,
        "UpdateAddon accepted; the finding stays FAILED until a later audit observes "
        "enableNetworkPolicy",
        request=request,
        update_id=str(update_id),
        update_status=str(status),
    )


def _failed(
    candidate: Candidate,
    reason: str,
    *,
    update_id: str | None = None,
    update_status: str | None = None,
) -> Outcome:
    return Outcome(
        Action.FAILED,
        reason,
        request=candidate.request,
        update_id=update_id,
        update_status=update_status,
    )


def _record(
    result: AuditResult, outcomes: dict[tuple[str, str], Outcome], *, dry_run: bool
) -> RemediationReport:
    """Log each cluster's outcome and report it, with failures as run errors."""
    counts: dict[str, int] = {}
    errors: list[AuditError] = []
    for cluster in result.results:
        outcome = outcomes.get(cluster.key)
        if outcome is None:
            continue
        counts[outcome.action.value] = counts.get(outcome.action.value, 0) + 1
        if outcome.action is Action.FAILED:
            errors.append(
                AuditError(
                    cluster.facts.region, cluster.facts.name, f"remediation: {outcome.reason}"
                )
            )
        logger.log(
            logging.WARNING if outcome.action is Action.FAILED else logging.INFO,
            "remediation %s %s/%s: %s",
            outcome.action.value,
            cluster.facts.region,
            cluster.facts.name,
            outcome.reason,
            extra={
                "event": "remediation",
                "cluster": cluster.facts.name,
                "region": cluster.facts.region,
                "cluster_arn": cluster.facts.arn,
                "remediation": outcome.to_json(),
            },
        )
    logger.info(
        "remediation summary: %s",
        ", ".join(f"{count} {action}" for action, count in sorted(counts.items())) or "nothing",
        extra={"event": "remediation_summary", "dry_run": dry_run, "actions": counts},
    )
    return RemediationReport(outcomes=outcomes, errors=errors)
