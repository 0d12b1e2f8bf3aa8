"""`eks-netpol-audit doctor`, the shell: ask AWS with the caller's own credentials, read
only, and hand the facts to the pure `checks`.

A call that fails becomes a `Failure` naming the IAM action it needed, so one denied
call makes one `?` line and never stops the others. Local setup mistakes (profile,
config file, SSO login, an endpoint that does not speak AWS) propagate, and the CLI
turns them into exit 2 as for `scan`.

AWS references, per call: STS GetCallerIdentity; CloudFormation DescribeStacks (a
missing stack answers ValidationError "Stack with id NAME does not exist": the API
reference documents no error for it, this is the text AWS sends); EC2 DescribeRegions
(discovery.enabled_regions); Security Hub DescribeHub; EKS ListClusters; CloudWatch
GetMetricData (AWS/Lambda Errors by FunctionName, "Monitoring functions" in the Lambda
developer guide; AWS/SQS ApproximateAgeOfOldestMessage by QueueName, "Available
CloudWatch metrics for Amazon SQS", which also says an idle queue reports no metrics);
CloudTrail DescribeTrails (includeShadowTrails, so multi-region trails of other home
regions appear), GetTrailStatus and GetEventSelectors (asked in the trail's home region
with its ARN).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from ..aws import AwsClients, error_code
from ..config import ConfigError, known_regions, parse_regions
from ..discovery import enabled_regions
from ..names import StackOutput
from ..setup_errors import explain_setup_error
from .checks import (
    AUDIT_REGIONS_PARAMETER,
    ERROR_WINDOW_HOURS,
    FINDINGS_REGION_PARAMETER,
    HEALTHY_STACK_STATUSES,
    Facts,
    Failure,
    Identity,
    Metrics,
    RegionFacts,
    Stack,
    Trail,
    logs_management_writes,
)

T = TypeVar("T")
# The IAM actions doctor calls, the list its help and docs print; an integration test
# holds it equal to the calls a full run makes.
ACTIONS = (
    "sts:GetCallerIdentity",
    "cloudformation:DescribeStacks",
    "ec2:DescribeRegions",
    "securityhub:DescribeHub",
    "eks:ListClusters",
    "cloudwatch:GetMetricData",
    "cloudtrail:DescribeTrails",
    "cloudtrail:GetTrailStatus",
    "cloudtrail:GetEventSelectors",
)
MAX_REGION_WORKERS = 8
QUEUE_WINDOW = timedelta(hours=1)
NOT_FOUND_TEXT = "does not exist"  # DescribeStacks ValidationError for a missing stack


@dataclass(frozen=True)
class Request:
    """What the user asked: the home region, the stack, and the regions if named
    (`regions_source` None: take the stack's AuditRegions, else every enabled region)."""

    home_region: str
    stack_name: str
    regions: tuple[str, ...] | None = None
    regions_source: str | None = None


def _call(action: str, call: Callable[[], T]) -> T | Failure:
    """The call's answer, or a Failure naming `action`; local setup errors propagate."""
    try:
        return call()
    except ClientError as error:
        info = error.response.get("Error", {})
        return Failure(action, error_code(error) or "Unknown", str(info.get("Message", "")))
    except BotoCoreError as error:
        if explain_setup_error(error, os.environ):
            raise
        return Failure(action, type(error).__name__, str(error))


def gather(request: Request, clients: AwsClients) -> Facts:
    home = request.home_region
    identity = _identity(clients, home)
    if isinstance(identity, Failure):
        return Facts(home, identity, request.stack_name)
    stack = _stack(clients, home, request.stack_name)
    regions, source, regions_failure = _regions(clients, request, stack)
    findings_region = _findings_region(stack)
    hub_regions = [*regions]
    if findings_region and findings_region not in hub_regions:
        hub_regions.append(findings_region)
    with ThreadPoolExecutor(max_workers=MAX_REGION_WORKERS) as pool:
        region_facts = tuple(pool.map(lambda r: _region(clients, r), hub_regions))
    event_driven = isinstance(stack, Stack) and stack.event_driven
    trails_needed = not isinstance(stack, Stack) or event_driven
    return Facts(
        home,
        identity,
        request.stack_name,
        stack,
        tuple(regions),
        source,
        regions_failure,
        findings_region,
        region_facts,
        _metrics(clients, home, stack),
        _trails(clients, regions) if trails_needed else None,
    )


def _identity(clients: AwsClients, region: str) -> Identity | Failure:
    try:
        sts = clients.sts(region)
    except ValueError as error:  # botocore refused to build a client, e.g. AWS_ENDPOINT_URL
        raise ConfigError(f"invalid AWS client configuration: {error}") from None
    answer = _call("sts:GetCallerIdentity", sts.get_caller_identity)
    if isinstance(answer, Failure):
        return answer
    return Identity(answer["Account"], answer["Arn"])


def _stack(clients: AwsClients, region: str, name: str) -> Stack | Failure | None:
    cloudformation = clients.cloudformation(region)
    answer = _call(
        "cloudformation:DescribeStacks", lambda: cloudformation.describe_stacks(StackName=name)
    )
    if isinstance(answer, Failure):
        if answer.code == "ValidationError" and NOT_FOUND_TEXT in answer.message:
            return None
        return answer
    stacks: Sequence[Any] = answer.get("Stacks", [])
    if not stacks:
        return None
    found = stacks[0]
    return Stack(
        name=found["StackName"],
        status=found["StackStatus"],
        reason=found.get("StackStatusReason", ""),
        parameters={
            p["ParameterKey"]: p.get("ResolvedValue", p.get("ParameterValue", ""))
            for p in found.get("Parameters", [])
        },
        outputs={o["OutputKey"]: o.get("OutputValue", "") for o in found.get("Outputs", [])},
    )


def _regions(
    clients: AwsClients, request: Request, stack: Stack | Failure | None
) -> tuple[list[str], str, Failure | None]:
    """(regions, where they came from, DescribeRegions' failure when it was needed)."""
    if request.regions_source is not None:
        if request.regions is not None:
            return list(request.regions), request.regions_source, None
        source = f"{request.regions_source}=all"
    else:
        source = "every enabled region"
        parameter = (
            stack.parameters.get(AUDIT_REGIONS_PARAMETER) if isinstance(stack, Stack) else None
        )
        if parameter:
            try:
                named = parse_regions(AUDIT_REGIONS_PARAMETER, parameter)
            except ConfigError:
                named = None  # the stack's own audit reports that; check every region
            if named is not None:
                return list(named), f"stack parameter {AUDIT_REGIONS_PARAMETER}", None
            source = f"stack parameter {AUDIT_REGIONS_PARAMETER}=all"
    home = request.home_region
    answer = _call("ec2:DescribeRegions", lambda: enabled_regions(clients, home, known_regions()))
    if isinstance(answer, Failure):
        return [home], source, answer
    return answer, source, None


def _findings_region(stack: Stack | Failure | None) -> str | None:
    if not isinstance(stack, Stack):
        return None
    return stack.parameters.get(FINDINGS_REGION_PARAMETER) or None


def _region(clients: AwsClients, region: str) -> RegionFacts:
    securityhub, eks = clients.securityhub(region), clients.eks(region)
    hub = _call("securityhub:DescribeHub", securityhub.describe_hub)
    listed = _call("eks:ListClusters", lambda: eks.list_clusters(maxResults=100))
    if isinstance(listed, Failure):
        return RegionFacts(region, hub if isinstance(hub, Failure) else True, listed)
    return RegionFacts(
        region,
        hub if isinstance(hub, Failure) else True,
        len(listed.get("clusters", [])),
        bool(listed.get("nextToken")),
    )


def _metric(
    query_id: str, metric: tuple[str, str], dimension: tuple[str, str], stat: str, period: int
) -> dict[str, Any]:
    """A MetricStat query: (namespace, metric name), (dimension name, value)."""
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": metric[0],
                "MetricName": metric[1],
                "Dimensions": [{"Name": dimension[0], "Value": dimension[1]}],
            },
            "Period": period,
            "Stat": stat,
        },
    }


def _metrics(
    clients: AwsClients, region: str, stack: Stack | Failure | None
) -> Metrics | Failure | None:
    """One GetMetricData call: the functions' Errors summed over 24 hours (hourly periods),
    and the event queue's ApproximateAgeOfOldestMessage, its latest minute."""
    if not isinstance(stack, Stack) or stack.status not in HEALTHY_STACK_STATUSES:
        return None
    outputs = stack.outputs
    function = outputs.get(StackOutput.FUNCTION_NAME)
    if not function:
        return None
    errors, hour = ("AWS/Lambda", "Errors"), 3600
    queries = [_metric("scheduled", errors, ("FunctionName", function), "Sum", hour)]
    event_function = outputs.get(StackOutput.EVENT_FUNCTION_NAME)
    queue_url = outputs.get(StackOutput.EVENT_QUEUE_URL)
    if stack.event_driven and event_function:
        queries.append(_metric("event", errors, ("FunctionName", event_function), "Sum", hour))
    if stack.event_driven and queue_url:
        queue = ("QueueName", queue_url.rstrip("/").rsplit("/", 1)[-1])
        age = ("AWS/SQS", "ApproximateAgeOfOldestMessage")
        queries.append(_metric("age", age, queue, "Maximum", 60))
    end = datetime.now(UTC)
    cloudwatch = clients.cloudwatch(region)
    answer = _call(
        "cloudwatch:GetMetricData",
        lambda: cloudwatch.get_metric_data(
            MetricDataQueries=queries,  # type: ignore[arg-type]
            StartTime=end - timedelta(hours=ERROR_WINDOW_HOURS),
            EndTime=end,
            ScanBy="TimestampDescending",
        ),
    )
    if isinstance(answer, Failure):
        return answer
    values = {r["Id"]: list(r.get("Values", [])) for r in answer.get("MetricDataResults", [])}
    latest = {r["Id"]: list(r.get("Timestamps", [])) for r in answer.get("MetricDataResults", [])}

    def total(query_id: str) -> float | None:
        return sum(values[query_id]) if values.get(query_id) else None

    oldest: float | None = None
    if values.get("age") and latest["age"] and latest["age"][0] >= end - QUEUE_WINDOW:
        oldest = values["age"][0]  # TimestampDescending: the latest minute first
    return Metrics(total("scheduled"), total("event"), oldest)


def _trails(clients: AwsClients, regions: Sequence[str]) -> tuple[Trail, ...] | Failure:
    """Every trail seen from the audited regions, each with its status and selectors."""
    found: dict[str, Any] = {}
    for region in regions:
        describe = partial(clients.cloudtrail(region).describe_trails, includeShadowTrails=True)
        answer = _call("cloudtrail:DescribeTrails", describe)
        if isinstance(answer, Failure):
            return answer
        for trail in answer.get("trailList", []):
            found.setdefault(trail["TrailARN"], trail)
    return tuple(_trail(clients, trail) for trail in found.values())


def _trail(clients: AwsClients, trail: Any) -> Trail:
    arn, home = trail["TrailARN"], trail["HomeRegion"]
    cloudtrail = clients.cloudtrail(home)
    status = _call("cloudtrail:GetTrailStatus", lambda: cloudtrail.get_trail_status(Name=arn))
    selectors = _call(
        "cloudtrail:GetEventSelectors", lambda: cloudtrail.get_event_selectors(TrailName=arn)
    )
    return Trail(
        name=trail["Name"],
        arn=arn,
        home_region=home,
        multi_region=bool(trail.get("IsMultiRegionTrail")),
        logging=status if isinstance(status, Failure) else bool(status.get("IsLogging")),
        management_writes=selectors
        if isinstance(selectors, Failure)
        else logs_management_writes(
            selectors.get("EventSelectors", []), selectors.get("AdvancedEventSelectors", [])
        ),
    )
