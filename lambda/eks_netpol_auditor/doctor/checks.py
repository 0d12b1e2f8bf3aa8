"""`eks-netpol-audit doctor`, the pure half: gathered facts in, check lines out.

Each line is ✓ (fine), ✗ (wrong, with the fix) or ? (not known: the caller may not ask,
and the line names the denied action). boto3-free so every rule is tested by table;
`gather.py` is the shell that asks AWS.

A `?` is not a pass: a preflight that could not confirm a requirement has not shown the
setup is right, so `?` exits 1 like `✗` (the stricter reading; `doctor --help` says so).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..names import AUDITOR_STACK_NAME, OLDEST_EVENT_ALARM_SECONDS, StackOutput
from ..securityhub.plan import NOT_ENABLED

# Error codes an IAM or SCP denial arrives as: AccessDeniedException (rest-json and json
# services: EKS, Security Hub, CloudTrail), AccessDenied (query services: STS,
# CloudFormation, and CloudWatch through its x-amzn-query-error header, botocore
# parsers.py `_do_query_compatible_error_parse`), UnauthorizedOperation (EC2, "Error codes
# for the Amazon EC2 API").
DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
# Stack parameters the checks read (infra/parameters.py; pinned by tests/unit/doctor).
AUDIT_REGIONS_PARAMETER = "AuditRegions"
EVENT_DRIVEN_PARAMETER = "EventDrivenMode"
FINDINGS_REGION_PARAMETER = "FindingsRegion"
SHOWN_PARAMETERS = (
    AUDIT_REGIONS_PARAMETER,
    FINDINGS_REGION_PARAMETER,
    EVENT_DRIVEN_PARAMETER,
    "AutoRemediate",
    "RemediationDryRun",
    "ScheduleExpression",
)
ALWAYS_OUTPUTS = (
    StackOutput.FUNCTION_NAME,
    StackOutput.LOG_GROUP_NAME,
    StackOutput.ALARM_TOPIC_ARN,
    StackOutput.DEAD_LETTER_QUEUE_URL,
    StackOutput.DASHBOARD_URL,
    StackOutput.FINDINGS_URL,
)
# The stack creates its insight only with CreateInsight=true (infra/parameters.py).
INSIGHT_PARAMETER = "CreateInsight"
INSIGHT_OUTPUTS = (StackOutput.FAILED_BY_REGION_INSIGHT_URL,)
EVENT_OUTPUTS = (
    StackOutput.EVENT_FUNCTION_NAME,
    StackOutput.EVENT_LOG_GROUP_NAME,
    StackOutput.EVENT_BUS_ARN,
    StackOutput.EVENT_QUEUE_URL,
    StackOutput.EVENT_DEAD_LETTER_QUEUE_URL,
    StackOutput.EVENT_PREREQUISITE,
)
# The in-cluster check (infra/in_cluster.py): its Outputs exist only with InClusterCheck=true.
IN_CLUSTER_PARAMETER = "InClusterCheck"
IN_CLUSTER_ENROL_PARAMETER = "InClusterEnrol"
IN_CLUSTER_OUTPUTS = (StackOutput.IN_CLUSTER_ROLE_ARN, StackOutput.IN_CLUSTER_ENROL_COMMANDS)
ERROR_WINDOW_HOURS = 24
# "Stack status codes" (CloudFormation user guide, "Stack status codes"): a stack serves
# what it was created or updated with only in these states.
HEALTHY_STACK_STATUSES = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})
EVENTBRIDGE_DOC = (
    'EventBridge user guide, "AWS service events delivered via AWS CloudTrail": '
    '"To record events with one of the CloudTrail detail-type values, you must enable a '
    'CloudTrail trail with logging"'
)


class Mark(StrEnum):
    OK = "✓"
    FAIL = "✗"
    UNKNOWN = "?"


STATUS_WORDS = {Mark.OK: "ok", Mark.FAIL: "fail", Mark.UNKNOWN: "unknown"}


@dataclass(frozen=True)
class Check:
    """One line of the report. `fix` is what to do (None on ✓); a ? names `denied`."""

    id: str
    mark: Mark
    title: str
    detail: str
    fix: str | None = None
    denied: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": STATUS_WORDS[self.mark],
            "title": self.title,
            "detail": self.detail,
            "fix": self.fix,
            "denied_action": self.denied,
        }


@dataclass(frozen=True)
class Failure:
    """A call that failed: the IAM action it needed, the AWS error code and message."""

    action: str
    code: str
    message: str

    @property
    def denied(self) -> bool:
        return self.code in DENIED_CODES

    def text(self) -> str:
        return f"{self.code}: {self.message}" if self.message else self.code


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str


@dataclass(frozen=True)
class Stack:
    name: str
    status: str
    reason: str = ""
    parameters: Mapping[str, str] = field(default_factory=dict)
    outputs: Mapping[str, str] = field(default_factory=dict)

    @property
    def event_driven(self) -> bool:
        return self.parameters.get(EVENT_DRIVEN_PARAMETER, "false").lower() == "true"

    @property
    def in_cluster(self) -> bool:
        """A stack from before InClusterCheck never read any cluster."""
        return self.parameters.get(IN_CLUSTER_PARAMETER, "false").lower() == "true"

    @property
    def creates_insight(self) -> bool:
        """A stack from before CreateInsight always created its insight."""
        return self.parameters.get(INSIGHT_PARAMETER, "true").lower() == "true"


@dataclass(frozen=True)
class RegionFacts:
    """Security Hub CSPM (True: DescribeHub answered) and EKS (clusters listed) in one
    region; `more` when ListClusters said there is another page."""

    region: str
    hub: bool | Failure
    clusters: int | Failure
    more: bool = False


@dataclass(frozen=True)
class Metrics:
    """Largest values of the window; None where CloudWatch returned no datapoint."""

    scheduled_errors: float | None = None
    event_errors: float | None = None
    oldest_event_seconds: float | None = None


@dataclass(frozen=True)
class Trail:
    """A trail DescribeTrails returned, with its status and selectors (or why not)."""

    name: str
    arn: str
    home_region: str
    multi_region: bool
    logging: bool | Failure
    management_writes: bool | Failure


@dataclass(frozen=True)
class Facts:
    home_region: str
    identity: Identity | Failure
    stack_name: str = AUDITOR_STACK_NAME
    stack: Stack | Failure | None = None  # None: DescribeStacks says it does not exist
    regions: tuple[str, ...] = ()
    regions_source: str = ""
    regions_failure: Failure | None = None  # ec2:DescribeRegions, when it was needed
    findings_region: str | None = None
    region_facts: tuple[RegionFacts, ...] = ()
    metrics: Metrics | Failure | None = None  # None: nothing to measure (no stack)
    trails: tuple[Trail, ...] | Failure | None = None  # None: not needed


def _unknown(check_id: str, title: str, failure: Failure, why: str) -> Check:
    """? when the caller was denied; ✗ for any other error (the call itself failed)."""
    if failure.denied:
        return Check(
            check_id,
            Mark.UNKNOWN,
            title,
            f"{failure.action} was denied ({failure.text()})",
            f"grant {failure.action} to the caller to check {why}",
            failure.action,
        )
    return Check(
        check_id,
        Mark.FAIL,
        title,
        f"{failure.action} failed ({failure.text()})",
        f"look into the error above; {why} could not be checked",
    )


def credentials_check(identity: Identity | Failure) -> Check:
    title = "credentials"
    if isinstance(identity, Failure):
        return Check(
            "credentials",
            Mark.FAIL,
            title,
            f"sts:GetCallerIdentity failed ({identity.text()})",
            "use credentials of the account to check (AWS_PROFILE, `aws sso login`, or "
            "fresh keys); every other check needs them",
        )
    return Check("credentials", Mark.OK, title, f"{identity.arn} in account {identity.account}")


def stack_checks(name: str, region: str, stack: Stack | Failure | None) -> list[Check]:
    """The stack line, then (when it is deployed) its parameters and its Outputs."""
    title = f"stack {name} in {region}"
    if isinstance(stack, Failure):
        return [_unknown("stack", title, stack, "the auditor stack")]
    if stack is None:
        return [
            Check(
                "stack",
                Mark.FAIL,
                title,
                "not deployed (DescribeStacks: it does not exist); the function, queue "
                "and output checks need it",
                f"deploy it (`make deploy`, or the release template as stack {name}), "
                "or pass --stack-name / --region if it lives elsewhere",
            )
        ]
    if stack.status not in HEALTHY_STACK_STATUSES:
        reason = f": {stack.reason}" if stack.reason else ""
        return [
            Check(
                "stack",
                Mark.FAIL,
                title,
                f"status {stack.status}{reason}",
                "see the stack's events in the CloudFormation console, fix the cause and "
                "update the stack until it is CREATE_COMPLETE or UPDATE_COMPLETE",
            )
        ]
    return [
        Check("stack", Mark.OK, title, stack.status),
        parameters_check(stack),
        outputs_check(stack),
    ]


def parameters_check(stack: Stack) -> Check:
    title = "stack parameters"
    missing = [
        p for p in (AUDIT_REGIONS_PARAMETER, EVENT_DRIVEN_PARAMETER) if p not in stack.parameters
    ]
    if missing:
        return Check(
            "parameters",
            Mark.FAIL,
            title,
            f"no parameter {', '.join(missing)}: the stack is from an older release",
            "update the stack with this release's template",
        )
    shown = ", ".join(
        f"{p}={stack.parameters[p] or '(empty)'}" for p in SHOWN_PARAMETERS if p in stack.parameters
    )
    return Check("parameters", Mark.OK, title, shown)


def expected_outputs(stack: Stack) -> tuple[StackOutput, ...]:
    return (
        ALWAYS_OUTPUTS
        + (INSIGHT_OUTPUTS if stack.creates_insight else ())
        + (EVENT_OUTPUTS if stack.event_driven else ())
        + (IN_CLUSTER_OUTPUTS if stack.in_cluster else ())
    )


def outputs_check(stack: Stack) -> Check:
    title = "stack outputs"
    missing = [key.value for key in expected_outputs(stack) if not stack.outputs.get(key)]
    if missing:
        return Check(
            "outputs",
            Mark.FAIL,
            title,
            f"missing {', '.join(missing)}",
            "update the stack with this release's template (the Outputs name the "
            "function, its logs and the event queue)",
        )
    function = stack.outputs[StackOutput.FUNCTION_NAME]
    logs = stack.outputs[StackOutput.LOG_GROUP_NAME]
    return Check(
        "outputs",
        Mark.OK,
        title,
        f"{len(stack.outputs)} outputs; function {function}, logs {logs}",
    )


def in_cluster_check(stack: Stack) -> Check:
    """Whether the second control runs, and with it on, the role clusters must enrol."""
    title = "in-cluster check"
    if not stack.in_cluster:
        if IN_CLUSTER_PARAMETER in stack.parameters:
            detail = f"off ({IN_CLUSTER_PARAMETER}=false): no cluster's Kubernetes API is read"
        else:
            detail = f"off: the stack is from a release without {IN_CLUSTER_PARAMETER}"
        return Check("in-cluster", Mark.OK, title, detail)
    role = stack.outputs.get(StackOutput.IN_CLUSTER_ROLE_ARN)
    if not role:
        return Check(
            "in-cluster",
            Mark.FAIL,
            title,
            f"{IN_CLUSTER_PARAMETER}=true but the stack has no Output "
            f"{StackOutput.IN_CLUSTER_ROLE_ARN.value}: clusters cannot be told whom to enrol",
            "update the stack with this release's template",
        )
    if stack.parameters.get(IN_CLUSTER_ENROL_PARAMETER, "false").lower() == "true":
        how = f"the auditor enrols clusters itself ({IN_CLUSTER_ENROL_PARAMETER}=true)"
    else:
        how = (
            f"enrol each cluster with the Output "
            f"{StackOutput.IN_CLUSTER_ENROL_COMMANDS.value} (or {IN_CLUSTER_ENROL_PARAMETER}=true)"
        )
    return Check("in-cluster", Mark.OK, title, f"on; role {role}; {how}")


def regions_check(facts: Facts) -> Check:
    title = "audited regions"
    if facts.regions_failure is not None:
        checked = ", ".join(facts.regions)
        failure = facts.regions_failure
        unknown = _unknown("regions", title, failure, "which regions are enabled")
        return Check(
            unknown.id,
            unknown.mark,
            title,
            f"{unknown.detail}; checked only {checked}",
            f"{unknown.fix}, or name the regions with --regions",
            unknown.denied,
        )
    return Check(
        "regions", Mark.OK, title, f"{', '.join(facts.regions)} (from {facts.regions_source})"
    )


def hub_check(region: str, hub: bool | Failure, *, findings_region: bool = False) -> Check:
    title = f"Security Hub CSPM in {region}"
    check_id = f"securityhub:{region}"
    role = " (FindingsRegion: every finding goes here)" if findings_region else ""
    if hub is True:
        return Check(check_id, Mark.OK, title, f"enabled{role}")
    if isinstance(hub, Failure) and hub.code != NOT_ENABLED:
        return _unknown(check_id, title, hub, f"Security Hub CSPM in {region}")
    return Check(
        check_id,
        Mark.FAIL,
        title,
        f"not enabled{role} (DescribeHub: {NOT_ENABLED})",
        f"enable Security Hub CSPM in {region} (console, or `aws securityhub "
        f"enable-security-hub --region {region}`); until then this region's findings "
        "go to the home region, or nowhere if it is off there too",
    )


def eks_check(facts: RegionFacts) -> Check:
    region = facts.region
    title = f"EKS in {region}"
    check_id = f"eks:{region}"
    if isinstance(facts.clusters, Failure):
        return _unknown(check_id, title, facts.clusters, f"EKS in {region}")
    count = f"{facts.clusters}{'+' if facts.more else ''}"
    noun = "cluster" if count == "1" else "clusters"
    return Check(check_id, Mark.OK, title, f"readable: {count} {noun} listed")


def region_checks(facts: Facts) -> list[Check]:
    """Security Hub CSPM where findings go and EKS in every audited region. With a
    FindingsRegion every finding goes there, so only that region's hub matters
    (securityhub.plan.target_region); the shell gathers it even when it is not audited."""
    checks: list[Check] = []
    for item in facts.region_facts:
        if facts.findings_region is None or item.region == facts.findings_region:
            checks.append(
                hub_check(item.region, item.hub, findings_region=facts.findings_region is not None)
            )
        if item.region in facts.regions:
            checks.append(eks_check(item))
    return checks


def _errors_check(
    check_id: str, title: str, function: str, errors: float | None, logs: str
) -> Check:
    window = f"in the last {ERROR_WINDOW_HOURS} h"
    if not errors:
        found = "no errors" if errors is not None else "no errors (no datapoints)"
        return Check(check_id, Mark.OK, title, f"{function}: {found} {window}")
    noun = "error" if errors == 1 else "errors"
    return Check(
        check_id,
        Mark.FAIL,
        title,
        f"{function}: {errors:g} {noun} {window} (AWS/Lambda Errors)",
        f"read the log group {logs}: the run's one-line errors say what failed "
        "(troubleshooting page)",
    )


def function_checks(
    stack: Stack | Failure | None, metrics: Metrics | Failure | None
) -> list[Check]:
    """Errors of the scheduled (and event) function and the event queue's oldest message.
    Only for a deployed stack; `metrics` is None when its outputs name no function."""
    if not isinstance(stack, Stack) or stack.status not in HEALTHY_STACK_STATUSES:
        return []
    outputs = stack.outputs
    if metrics is None:
        return []
    if isinstance(metrics, Failure):
        return [_unknown("metrics", "function errors", metrics, "the functions' errors")]
    checks = [
        _errors_check(
            "scheduled-function",
            "scheduled function",
            outputs.get(StackOutput.FUNCTION_NAME, ""),
            metrics.scheduled_errors,
            outputs.get(StackOutput.LOG_GROUP_NAME, ""),
        )
    ]
    if stack.event_driven and outputs.get(StackOutput.EVENT_FUNCTION_NAME):
        checks.append(
            _errors_check(
                "event-function",
                "event function",
                outputs[StackOutput.EVENT_FUNCTION_NAME],
                metrics.event_errors,
                outputs.get(StackOutput.EVENT_LOG_GROUP_NAME, ""),
            )
        )
    if stack.event_driven and outputs.get(StackOutput.EVENT_QUEUE_URL):
        checks.append(queue_check(metrics.oldest_event_seconds))
    return checks


def queue_check(oldest: float | None) -> Check:
    title = "event queue"
    limit = OLDEST_EVENT_ALARM_SECONDS
    if oldest is None or oldest < limit:
        detail = (
            "no datapoints in the last hour (SQS reports no metrics for an idle queue)"
            if oldest is None
            else f"oldest message {oldest / 60:.0f} min old"
        )
        return Check("event-queue", Mark.OK, title, detail)
    return Check(
        "event-queue",
        Mark.FAIL,
        title,
        f"oldest message {oldest / 60:.0f} min old (alarm at {limit // 60} min)",
        "the event function is failing or throttled: read its logs and the "
        "EventFunctionErrors/EventFunctionThrottles alarms",
    )


def covers(trail: Trail, region: str) -> bool:
    return trail.multi_region or trail.home_region == region


def trail_check(trails: tuple[Trail, ...] | Failure | None, regions: Sequence[str]) -> Check:
    """A logging trail with management write events for every audited region: EventBridge
    gets "AWS API Call via CloudTrail" events only then (EVENTBRIDGE_DOC)."""
    title = "CloudTrail for the event path"
    if trails is None:
        return Check("cloudtrail", Mark.OK, title, "not needed: EventDrivenMode is false")
    if isinstance(trails, Failure):
        return _unknown("cloudtrail", title, trails, "that CloudTrail logs management events")
    good = [t for t in trails if t.logging is True and t.management_writes is True]
    uncovered = [r for r in regions if not any(covers(t, r) for t in good)]
    if not uncovered:
        names = ", ".join(sorted({t.name for t in good})) or "(none)"
        return Check("cloudtrail", Mark.OK, title, f"management events logged by {names}")
    unknown = [
        part
        for t in trails
        if any(covers(t, r) for r in uncovered)
        for part in (t.logging, t.management_writes)
        if isinstance(part, Failure) and part.denied
    ]
    if unknown:
        return _unknown("cloudtrail", title, unknown[0], "that CloudTrail logs management events")
    return Check(
        "cloudtrail",
        Mark.FAIL,
        title,
        f"no logging trail records management write events in {', '.join(uncovered)} "
        f"({_describe(trails)})",
        "create a multi-region trail (or turn logging on / add management events with "
        f"ReadWriteType All or WriteOnly); {EVENTBRIDGE_DOC}",
    )


def _describe(trails: Iterable[Trail]) -> str:
    parts = []
    for t in trails:
        logging = "logging" if t.logging is True else "not logging"
        writes = "" if t.management_writes is True else ", no management write events"
        scope = "" if t.multi_region else f", {t.home_region} only"
        parts.append(f"{t.name}: {logging}{writes}{scope}")
    return "; ".join(parts) or "no trails"


def logs_management_writes(
    selectors: Sequence[Mapping[str, Any]], advanced: Sequence[Mapping[str, Any]]
) -> bool:
    """Whether a trail's event selectors record EKS management write events (GetEventSelectors;
    CloudTrail user guide, "Logging management events"). Basic selectors:
    IncludeManagementEvents (default true) with ReadWriteType All or WriteOnly (default All).
    Advanced: a selector with eventCategory Equals Management whose readOnly and
    eventSource fields do not leave EKS's write calls out."""
    for selector in selectors:
        if selector.get("IncludeManagementEvents", True) and selector.get(
            "ReadWriteType", "All"
        ) in ("All", "WriteOnly"):
            return True
    return any(_advanced_writes(selector) for selector in advanced)


def _advanced_writes(selector: Mapping[str, Any]) -> bool:
    fields = {f.get("Field"): f for f in selector.get("FieldSelectors", [])}
    category = fields.get("eventCategory", {})
    if "Management" not in category.get("Equals", []):
        return False
    read_only = fields.get("readOnly", {})
    if "true" in read_only.get("Equals", []) or "false" in read_only.get("NotEquals", []):
        return False
    source = fields.get("eventSource", {})
    eks = "eks.amazonaws.com"
    if source.get("Equals") and eks not in source["Equals"]:
        return False
    return eks not in source.get("NotEquals", [])


def build_checks(facts: Facts) -> list[Check]:
    """Every line, in the order a user fixes things: credentials first, then the stack."""
    checks = [credentials_check(facts.identity)]
    if isinstance(facts.identity, Failure):
        return checks  # every other call would fail the same way
    checks.extend(stack_checks(facts.stack_name, facts.home_region, facts.stack))
    if isinstance(facts.stack, Stack) and facts.stack.status in HEALTHY_STACK_STATUSES:
        checks.append(in_cluster_check(facts.stack))
    checks.append(regions_check(facts))
    checks.extend(region_checks(facts))
    checks.extend(function_checks(facts.stack, facts.metrics))
    checks.append(trail_check(facts.trails, facts.regions))
    return checks


def exit_code(checks: Iterable[Check]) -> int:
    """0 when every line is ✓; 1 on any ✗ or ? (a ? is not a pass)."""
    return 0 if all(check.mark is Mark.OK for check in checks) else 1
