"""Lambda front ends, one per function (names.SCHEDULED_HANDLER, names.EVENT_HANDLER):

* `scheduled_handler`: the EventBridge schedule, or a manual invocation that may only
  narrow a run (regions, clusters, dry-run), never widen what the stack allows.
* `event_handler`: an EKS change event (directly from EventBridge, or in SQS batches),
  which audits exactly the cluster it names (`events.py`); an SQS batch audits each named
  cluster once, and reports per record which ones failed (Powertools batch utility,
  "partial batch response": only failed records return to the queue, and a record that
  keeps failing reaches the DLQ after the queue's maxReceiveCount). Anything else is
  refused before any AWS call, so `{}` sent to the event function never starts a full
  audit with its 2-minute timeout and no reserved concurrency.

Thin on purpose: configuration comes from the environment (the CLI's contract); the
logger, tracer, metrics and the event clients below are the one shared setup.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Iterable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser import ValidationError, parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from .audit import AuditAborted, run_audit
from .aws import AwsClients
from .config import ConfigError, Settings, known_regions, parse_region, settings_from_env
from .event_targets import ClusterEvent, Skip, Target, group
from .events import EventRejected, first_problem, is_eks_event, parse_event
from .model import AuditResult
from .names import METRICS_NAMESPACE, PRODUCT, Env

# Service name and namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE,
# which the stack sets from `names`; the defaults keep local runs identical.
logger = Logger(service=os.environ.get(Env.POWERTOOLS_SERVICE_NAME, PRODUCT))
# The engine logs through standard `logging` (the CLI has no Powertools); give its module
# loggers the same structured JSON output and level, or the Lambda runtime drops INFO lines.
copy_config_to_registered_loggers(source_logger=logger, include={"eks_netpol_auditor"})
tracer = Tracer()
metrics = Metrics(namespace=os.environ.get(Env.POWERTOOLS_METRICS_NAMESPACE, METRICS_NAMESPACE))

# Stop starting new clusters this long before the timeout, leaving time to publish.
RESERVE_MILLISECONDS = 60_000
MAX_ERRORS_RETURNED = 50


class ManualRun(BaseModel):
    """A hand-started run. Unknown fields are rejected so a typo cannot widen a run."""

    model_config = ConfigDict(extra="forbid")

    regions: list[str] | None = Field(default=None, min_length=1, max_length=40)
    clusters: list[str] | None = Field(default=None, min_length=1, max_length=1000)
    dry_run: bool = False


class InvalidEvent(ValueError):
    """The invocation payload is neither a scheduled event nor a valid manual run."""


_event_clients: AwsClients | None = None


def event_clients(settings: Settings) -> AwsClients:
    """One client set per execution environment for event runs: a warm invocation skips
    client creation and model loading (Lambda developer guide, "Best practices": initialize
    SDK clients outside the handler and reuse them). Scheduled runs keep their own."""
    global _event_clients  # noqa: PLW0603 - the execution environment's client cache
    if _event_clients is None:
        _event_clients = AwsClients(max_pool_connections=settings.max_workers)
    return _event_clients


class NothingAudited(RuntimeError):
    """Raised so the failure reaches the DLQ and the alarm, when no cluster was audited."""


class RecordFailed(RuntimeError):
    """One SQS record failed (poison, or its cluster's audit failed): SQS redelivers it."""


def settings_for(event: object, base: Settings) -> Settings:
    if not isinstance(event, dict):
        # Never read as {} (a full run): a payload such as ["eu-west-1"] meant to narrow.
        raise InvalidEvent(
            f"invalid manual invocation: the event must be a JSON object ({{}} for a full "
            f"run), got {type(event).__name__}"
        )
    if "source" in event or "detail-type" in event:
        if event.get("source") != "aws.events":
            # Never a full run for an event nobody meant to start one (docs/deploy.md),
            # an EKS change event included: those belong to `event_handler`.
            raise InvalidEvent(
                f"unsupported event source {str(event.get('source'))[:80]!r}: the scheduled "
                "function takes only the schedule (aws.events) or a manual run; EKS change "
                "events go to the event function"
            )
        try:
            parse(event=event, model=EventBridgeModel)
        except ValidationError as error:
            raise InvalidEvent(f"malformed EventBridge event: {first_problem(error)}") from None
        return base
    try:
        manual = parse(event=event, model=ManualRun)
    except ValidationError as error:
        raise InvalidEvent(f"invalid manual invocation: {first_problem(error)}") from None
    changes: dict[str, Any] = {}
    if manual.regions is not None:
        # Each entry must name a region: "", "all" or "a,b" would otherwise widen the run.
        regions = tuple(
            dict.fromkeys(parse_region("event.regions", region) for region in manual.regions)
        )
        outside = [r for r in regions if base.regions is not None and r not in base.regions]
        if outside:
            raise InvalidEvent(
                f"event.regions: {', '.join(outside)} not in AUDIT_REGIONS; a manual run "
                "may only narrow the deployed scope"
            )
        changes["regions"] = regions
    if manual.clusters is not None:
        changes["cluster_names"] = frozenset(manual.clusters)
    if manual.dry_run:
        changes["dry_run"] = True
    return dataclasses.replace(base, **changes)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def scheduled_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The scheduled function: the schedule's event or a manual run (docs/deploy.md)."""
    try:
        settings = settings_for(event, settings_from_env())
    except (InvalidEvent, ConfigError) as error:
        _rejected(str(error))
        raise
    started = time.monotonic()
    try:
        result = run_audit(settings, should_stop=_time_budget(context))
    except AuditAborted as error:
        metrics.add_metric(name="RunsAborted", unit=MetricUnit.Count, value=1)
        logger.error("audit aborted", extra={"error": str(error)})
        raise NothingAudited(str(error)) from error
    summary = summarize(result)
    record_metrics(result, time.monotonic() - started)
    logger.info("audit finished", extra={"summary": summary})
    if not result.results and result.errors:
        raise NothingAudited(f"no cluster could be audited: {len(result.errors)} errors")
    return summary


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def event_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The event function: one EKS event, or an SQS batch of them; anything else raises.

    Refusing raises rather than returning an error result, as Powertools' batch utility
    does for a payload that is not the batch it expects (`process_partial_response`:
    "Invalid event format", a ValueError): a raised error is what Lambda counts in the
    `Errors` metric ("Types of metrics for Lambda functions": "exceptions that your code
    throws"), so the EventFunctionErrors alarm fires, and an asynchronous invocation is
    retried twice, then goes to the function's DLQ ("How Lambda handles errors and
    retries with asynchronous invocation"). A returned result would count as a success
    and hide the misdirected trigger. The retries make no AWS call either."""
    if isinstance(event, dict) and _is_sqs_batch(event):
        return handle_batch(event, context)
    if isinstance(event, dict) and is_eks_event(event):
        return handle_event(event, context)
    message = (
        "the event function takes only EKS change events (source aws.eks) or SQS batches "
        f"of them, got {_shape(event)}; a full or manual run goes to the scheduled function"
    )
    _rejected(message)
    raise InvalidEvent(message)


def _shape(event: object) -> str:
    """What the payload looks like, in a few words (never its values: no secrets in logs)."""
    if not isinstance(event, dict):
        return f"a JSON {type(event).__name__}"
    if not event:
        return "{}"
    if "source" in event or "detail-type" in event:
        return (
            f"an event from {str(event.get('source'))[:80]!r} "
            f"({str(event.get('detail-type'))[:80]!r})"
        )
    keys = sorted(str(key)[:40] for key in event)
    more = f" and {len(keys) - 5} more" if len(keys) > 5 else ""
    return f"an object with keys {', '.join(keys[:5])}{more}"


def _rejected(error: str) -> None:
    metrics.add_metric(name="InvocationsRejected", unit=MetricUnit.Count, value=1)
    logger.error("rejected invocation", extra={"error": error})


def _time_budget(context: LambdaContext) -> Any:
    def should_stop() -> bool:
        return context.get_remaining_time_in_millis() < RESERVE_MILLISECONDS

    return should_stop


# ---------------------------------------------------------------------- event runs


def _is_sqs_batch(event: dict[str, Any]) -> bool:
    records = event.get("Records")
    return (
        isinstance(records, list)
        and bool(records)
        and all(isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in records)
    )


def accepted(raw: object, settings: Settings) -> ClusterEvent | Skip:
    """parse_event, plus the deployment's scope: a region botocore knows, in AUDIT_REGIONS.

    A valid event from a region this deployment does not audit (a forwarder left behind
    after AUDIT_REGIONS was narrowed) is a Skip: retrying it can never succeed, so it
    must not fail its record into the DLQ and its alarm. A region name botocore does not
    know stays a rejection (a malformed event, or a forged one)."""
    parsed = parse_event(raw)
    if isinstance(parsed, ClusterEvent):
        if parsed.region not in known_regions():
            raise EventRejected(f"unknown region {parsed.region!r}")
        if settings.regions is not None and parsed.region not in settings.regions:
            return Skip(
                f"{parsed.name} for {parsed.region}/{parsed.cluster}: {parsed.region} is not "
                f"in AUDIT_REGIONS ({', '.join(settings.regions)}); this deployment does not "
                "audit it"
            )
    return parsed


def handle_event(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """One EKS event straight from EventBridge: audit its cluster, raise if that failed
    (Lambda's asynchronous retries, then the function's DLQ)."""
    try:
        settings = settings_from_env()
        parsed = accepted(event, settings)
    except (EventRejected, ConfigError) as error:
        _rejected(str(error))
        raise InvalidEvent(str(error)) from None
    metrics.add_metric(name="EventsReceived", unit=MetricUnit.Count, value=1)
    if isinstance(parsed, Skip):
        metrics.add_metric(name="EventsSkipped", unit=MetricUnit.Count, value=1)
        logger.info("event skipped", extra={"reason": parsed.reason})
        return {"skipped": parsed.reason}
    summary, failed = _audit_events(settings, group([parsed]), context)
    if failed:
        raise NothingAudited(
            f"{parsed.region}/{parsed.cluster}: {failed[parsed.region, parsed.cluster]}"
        )
    return summary


def handle_batch(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SQS records whose bodies are EKS events: group by cluster, audit each once, then
    fail exactly the records that were unreadable or whose cluster's audit failed."""
    try:
        settings = settings_from_env()
    except ConfigError as error:
        _rejected(str(error))
        raise
    outcomes = {str(r.get("messageId")): _read_record(r, settings) for r in event["Records"]}
    metrics.add_metric(name="EventsReceived", unit=MetricUnit.Count, value=len(outcomes))
    _count_outcomes(outcomes.values())
    targets = group(o for o in outcomes.values() if isinstance(o, ClusterEvent))
    failed: dict[tuple[str, str], str] = {}
    if targets:
        _, failed = _audit_events(settings, targets, context)

    def record_handler(record: SQSRecord) -> None:
        outcome = outcomes[record.message_id]
        if isinstance(outcome, str):
            raise RecordFailed(outcome)
        if isinstance(outcome, ClusterEvent) and (outcome.region, outcome.cluster) in failed:
            raise RecordFailed(failed[outcome.region, outcome.cluster])

    # Per-record failures even when every record failed: by default Powertools raises
    # BatchProcessingError then, failing the invocation (Errors alarm) on every redelivery
    # of a batch of garbage. `raise_on_entire_batch_failure=False` returns the failures
    # instead: "When set to False, partial failures are reported in the response"
    # (Powertools for AWS Lambda (Python) 3.x, utilities/batch/base.py,
    # BasePartialBatchProcessor; added by aws-powertools/powertools-lambda-python#4719,
    # July 2024, so every v3 layer has it).
    return process_partial_response(  # type: ignore[return-value]
        event=event,
        record_handler=record_handler,
        processor=BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False),
        context=context,
    )


def _read_record(record: dict[str, Any], settings: Settings) -> ClusterEvent | Skip | str:
    """The record's event, a Skip, or the one-line reason it is poison."""
    try:
        body = json.loads(str(record.get("body")))
    except ValueError:
        reason = "poison message: body is not JSON"
    else:
        try:
            outcome = accepted(body, settings)
        except EventRejected as error:
            reason = f"poison message: {error}"
        else:
            if isinstance(outcome, Skip):
                logger.info(
                    "event skipped",
                    extra={"message_id": record.get("messageId"), "reason": outcome.reason},
                )
            return outcome
    logger.error("rejected record", extra={"message_id": record.get("messageId"), "error": reason})
    return reason


def _count_outcomes(outcomes: Iterable[ClusterEvent | Skip | str]) -> None:
    items = list(outcomes)
    skipped = sum(1 for o in items if isinstance(o, Skip))
    rejected = sum(1 for o in items if isinstance(o, str))
    metrics.add_metric(name="EventsSkipped", unit=MetricUnit.Count, value=skipped)
    metrics.add_metric(name="EventsRejected", unit=MetricUnit.Count, value=rejected)


def _audit_events(
    settings: Settings, targets: list[Target], context: LambdaContext
) -> tuple[dict[str, Any], dict[tuple[str, str], str]]:
    """(summary, failed clusters -> first error). Raises NothingAudited when the run could
    not start at all (no identity), so the whole invocation is retried."""
    started = time.monotonic()
    try:
        result = run_audit(
            settings,
            event_clients(settings),
            should_stop=_time_budget(context),
            targets=targets,
        )
    except AuditAborted as error:
        metrics.add_metric(name="RunsAborted", unit=MetricUnit.Count, value=1)
        logger.error("event audit aborted", extra={"error": str(error)})
        raise NothingAudited(str(error)) from error
    summary = summarize(result)
    summary["confirmed_deleted"] = [f"{r}/{c}" for r, c in result.confirmed_deleted]
    record_metrics(result, time.monotonic() - started)
    failed: dict[tuple[str, str], str] = {}
    for problem in result.errors:
        if problem.cluster is not None:
            failed.setdefault((problem.region, problem.cluster), problem.error)
    logger.info("event audit finished", extra={"summary": summary, "targets": len(targets)})
    return summary, failed


def summarize(result: AuditResult) -> dict[str, Any]:
    actions: dict[str, int] = {}
    for cluster in result.results:
        if cluster.remediation is not None:
            action = cluster.remediation.action.value
            actions[action] = actions.get(action, 0) + 1
    summary: dict[str, Any] = {
        "account": result.account,
        "regions": len(result.regions),
        "clusters": len(result.results),
        "summary": result.summary(),
    }
    in_cluster = result.in_cluster_summary()
    if in_cluster is not None:  # IN_CLUSTER_CHECK on: the second control's counts too
        summary["in_cluster_summary"] = in_cluster
    return summary | {
        "remediation": actions,
        "findings": result.findings_json(),
        "errors": [e.to_json() for e in result.errors[:MAX_ERRORS_RETURNED]],
        "errors_total": len(result.errors),
        "duration_seconds": result.duration_seconds,
    }


def record_metrics(result: AuditResult, duration: float) -> None:
    """EMF metrics the stack alarms and dashboards on."""
    counts = result.summary()
    remediated = summarize(result)["remediation"]
    values = {
        "ClustersAudited": len(result.results),
        "ClustersPassed": counts["PASSED"],
        "ClustersFailed": counts["FAILED"],
        "ClustersWarning": counts["WARNING"],
        "ClustersNotAvailable": counts["NOT_AVAILABLE"],
        "RemediationsApplied": remediated.get("applied", 0),
        "RemediationsDeferred": remediated.get("deferred", 0),
        "RemediationsFailed": remediated.get("failed", 0),
        "Errors": len(result.errors),
        "RegionsFailed": sum(1 for e in result.errors if e.cluster is None),
        "FindingsPublished": result.findings_published,
        "FindingsFailed": result.findings_failed,
    }
    for name, value in values.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    metrics.add_metric(name="DurationSeconds", unit=MetricUnit.Seconds, value=round(duration, 3))
