"""Lambda front end: EventBridge schedule or a manual, narrowing invocation -> the engine.

Thin on purpose: configuration comes from the environment (the CLI's contract), the event
may only narrow a run (regions, clusters, dry-run), never widen what the stack allows.
"""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import ValidationError, parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from .audit import AuditAborted, run_audit
from .config import ConfigError, Settings, parse_region, settings_from_env
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


class NothingAudited(RuntimeError):
    """Raised so the failure reaches the DLQ and the alarm, when no cluster was audited."""


def settings_for(event: object, base: Settings) -> Settings:
    if not isinstance(event, dict):
        # Never read as {} (a full run): a payload such as ["eu-west-1"] meant to narrow.
        raise InvalidEvent(
            f"invalid manual invocation: the event must be a JSON object ({{}} for a full "
            f"run), got {type(event).__name__}"
        )
    if event.get("source") == "aws.events" or "detail-type" in event:
        try:
            parse(event=event, model=EventBridgeModel)
        except ValidationError as error:
            raise InvalidEvent(f"malformed EventBridge event: {_first_problem(error)}") from None
        return base
    try:
        manual = parse(event=event, model=ManualRun)
    except ValidationError as error:
        raise InvalidEvent(f"invalid manual invocation: {_first_problem(error)}") from None
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


def _first_problem(error: ValidationError) -> str:
    problems = error.errors()
    if not problems:
        return str(error).splitlines()[0]
    first = problems[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or "event"
    return f"{where}: {first.get('msg', 'invalid')}"


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        settings = settings_for(event, settings_from_env())
    except (InvalidEvent, ConfigError) as error:
        metrics.add_metric(name="InvocationsRejected", unit=MetricUnit.Count, value=1)
        logger.error("rejected invocation", extra={"error": str(error)})
        raise
    started = time.monotonic()

    def should_stop() -> bool:
        return context.get_remaining_time_in_millis() < RESERVE_MILLISECONDS

    try:
        result = run_audit(settings, should_stop=should_stop)
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


def summarize(result: AuditResult) -> dict[str, Any]:
    actions: dict[str, int] = {}
    for cluster in result.results:
        if cluster.remediation is not None:
            action = cluster.remediation.action.value
            actions[action] = actions.get(action, 0) + 1
    return {
        "account": result.account,
        "regions": len(result.regions),
        "clusters": len(result.results),
        "summary": result.summary(),
        "remediation": actions,
        "findings": {
            "published": result.findings_published,
            "failed": result.findings_failed,
            "archived": result.findings_archived,
        },
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
