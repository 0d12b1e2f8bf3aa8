"""Event-driven runs: EKS changes in any audited region reach the auditor in minutes.

Why this shape (issue 12):

* Events are regional and the auditor runs in one home region, so every audited region
  has rules on its default bus that forward EKS change events to one custom bus in the
  home region (cross-Region event bus targets need a role that EventBridge assumes:
  "Sending and receiving events between AWS Regions in Amazon EventBridge",
  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-region.html). The
  home region forwards its own events the same way, so one set of rules on the custom
  bus sees every region.
* The custom bus accepts events only from this account's forwarder roles: they are
  created under one IAM path, and the bus policy denies PutEvents to every other
  principal, so nobody can inject events that start audits.
* An SQS queue sits between the bus and the function: a burst (a Terraform apply on 50
  clusters) is buffered, read in batches (the SQS body is the EventBridge event JSON),
  and a poison message ends in the dead-letter queue after a bounded number of receives.
* Event batches run in a function of their own (same code, layer, environment and role
  as the scheduled function; its own entry point, which refuses anything but EKS events
  and SQS batches of them, so ``{}`` never starts a full audit here; short timeout; no
  reserved concurrency). With one shared function holding reserved concurrency 1, a
  batch arriving during a scheduled run was throttled and came back only after the
  queue's visibility timeout (6 x 15 min = 90 minutes;
  https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html and
  https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html). The
  scheduled function keeps its reservation, so scheduled runs still never overlap
  each other.
* An event run may now overlap a scheduled run's remediation of the same cluster. That
  is harmless: UpdateAddon's ``clientRequestToken`` is deterministic per configuration
  (``remediation.plan.TOKEN_PREFIX``; EKS API reference, UpdateAddon: "a unique,
  case-sensitive identifier ... to ensure the idempotency of the request"), so the same
  update sent twice is one update; an update while another is in flight answers
  ResourceInUseException, reported as in_progress; and the own-call and cooldown guards
  (``eks_netpol_auditor.events``, ``remediation.plan``) keep the auditor's own UpdateAddon
  event from starting a second update.

The patterns match exactly what ``eks_netpol_auditor.events`` accepts (one home for the
names): EKS API calls recorded by CloudTrail ("AWS service events delivered via AWS
CloudTrail", https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html)
and EKS's own add-on events ("Amazon Elastic Kubernetes Service events",
https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-eks.html).
"""

from __future__ import annotations

from typing import Any, Protocol

from aws_cdk import Acknowledgment, Aws, CfnCondition, CfnResource, Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from eks_netpol_auditor.events import (
    ADDON_EVENTS,
    AUTO_MODE_PATH,
    CLOUDTRAIL_DETAIL_TYPE,
    CLOUDTRAIL_EVENTS,
    CLUSTER_CONFIG_CALL,
    EKS_EVENT_SOURCE,
    EKS_SOURCE,
)
from eks_netpol_auditor.names import EVENT_HANDLER, OLDEST_EVENT_ALARM_SECONDS, PRODUCT
from infra.alarms import ALARM_PERIOD, Alarms
from infra.queues import dead_letter_queue

# Fixed, so forwarders in other regions (and StackSets) can address the bus by ARN.
EVENT_BUS_NAME = PRODUCT
# Every forwarder role lives under this IAM path; the bus policy admits only these.
FORWARDER_ROLE_PATH = f"/{PRODUCT}/"

# "Using Lambda with Amazon SQS": set the queue's visibility timeout to at least six
# times the function timeout (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html).
VISIBILITY_TIMEOUT_FACTOR = 6
# Receives before a message goes to the DLQ: a throttled batch (account concurrency
# exhausted) also counts as a receive, so allow a few.
MAX_RECEIVE_COUNT = 5
# The event function's timeout. A one-cluster narrow run takes about 0.3 s (bench/
# RESULTS.md); a batch of BATCH_SIZE records audits at most BATCH_SIZE distinct clusters
# (each once per batch) with the engine's bounded concurrency, and each AWS call is
# bounded by the clients' timeouts and retries. The handler stops starting clusters 60 s
# before the timeout (handler.RESERVE_MILLISECONDS) to publish, so two minutes leave a
# minute of auditing: over a hundred times a one-cluster run.
# Short, because a batch that does time out becomes visible again only after the queue's
# visibility timeout (6 x this = 12 minutes), not after 90 as with the 15-minute
# scheduled function.
EVENT_FUNCTION_TIMEOUT = Duration.minutes(2)
# One batch audits each named cluster once however many events name it; the window
# gathers a burst into few batches. Above 10 records Lambda requires a window >= 1 s.
BATCH_SIZE = 100
BATCH_WINDOW = Duration.seconds(30)
# The smallest maximum concurrency the SQS event source allows: bounds the event
# function's concurrent executions (and its calls to EKS and Security Hub) without a
# reservation taken from the account's pool.
MAX_CONCURRENCY = 2
QUEUE_RETENTION = Duration.days(4)
# Target retries of the rules on the bus, then the event DLQ.
TARGET_RETRY_ATTEMPTS = 8
TARGET_MAX_EVENT_AGE = Duration.hours(6)


def api_calls_detail() -> dict[str, Any]:
    """The `detail` of the EKS API call pattern: the calls `events.CLOUDTRAIL_EVENTS`, or
    UpdateClusterConfig only when it carries `computeConfig.enabled` (EKS Auto Mode on or
    off; any other cluster setting changes no verdict).

    EventBridge user guide, "Content filtering in Amazon EventBridge event patterns"
    (eb-event-patterns-content-based-filtering.html): `$or` ("Or (multiple fields)",
    supported on event buses) keeps the two alternatives in one rule, so the template
    does not grow by a rule per bus; "Exists matching only works on leaf nodes. It does
    not work on intermediate nodes", so the pattern tests `computeConfig.enabled`, not
    the `computeConfig` object. Exists matching "works on the presence or absence of a
    field", whatever its value, so switching Auto Mode off (`false`) matches too.
    """
    auto_mode: dict[str, Any] = {AUTO_MODE_PATH[-1]: [{"exists": True}]}
    for key in reversed(AUTO_MODE_PATH[:-1]):
        auto_mode = {key: auto_mode}
    return {
        "eventSource": [EKS_EVENT_SOURCE],
        "$or": [
            {"eventName": sorted(CLOUDTRAIL_EVENTS)},
            {"eventName": [CLUSTER_CONFIG_CALL], "requestParameters": auto_mode},
        ],
    }


def eks_change_patterns() -> dict[str, events.EventPattern]:
    """The two event patterns, by rule id: EKS API calls and EKS add-on events."""
    return {
        "EksApiCalls": events.EventPattern(
            source=[EKS_SOURCE], detail_type=[CLOUDTRAIL_DETAIL_TYPE], detail=api_calls_detail()
        ),
        "EksAddonEvents": events.EventPattern(
            source=[EKS_SOURCE], detail_type=sorted(ADDON_EVENTS)
        ),
    }


def home_bus_arn(home_region: str) -> str:
    """ARN of the auditor's event bus in ``home_region`` of this account."""
    return f"arn:{Aws.PARTITION}:events:{home_region}:{Aws.ACCOUNT_ID}:event-bus/{EVENT_BUS_NAME}"


class ForwardingRules(Construct):
    """Rules on this region's default bus that send EKS change events to the home bus."""

    def __init__(self, scope: Construct, construct_id: str, *, target_bus_arn: str) -> None:
        super().__init__(scope, construct_id)
        bus = events.EventBus.from_event_bus_arn(self, "HomeBus", target_bus_arn)
        self.role = iam.Role(
            self,
            "Role",
            path=FORWARDER_ROLE_PATH,
            description=f"EventBridge forwards EKS change events to the {PRODUCT} bus",
            assumed_by=iam.ServicePrincipal(
                "events.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            ),
        )
        self.rules = [
            events.Rule(
                self,
                rule_id,
                description=f"Forwards EKS changes to the {PRODUCT} bus in the home region",
                event_pattern=pattern,
                targets=[targets.EventBus(bus, role=self.role)],
            )
            for rule_id, pattern in eks_change_patterns().items()
        ]


class FunctionFactory(Protocol):
    """``EksNetpolAuditorStack.new_function``: an auditor function in ``scope``."""

    def __call__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        description: str,
        handler: str,
        timeout: Duration,
        log_group: logs.ILogGroup,
    ) -> lambda_.Function: ...


class LogGroupFactory(Protocol):
    """``infra.stack.function_log_group``: a retained log group in ``scope``."""

    def __call__(self, scope: Construct, construct_id: str) -> logs.LogGroup: ...


class EventPath(Construct):
    """Home bus, rules, buffer queue with DLQ, the event function, its event source and
    alarms; all under ``condition`` (the ``EventDrivenMode`` parameter), so turning it
    off removes them."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        new_function: FunctionFactory,
        log_group: LogGroupFactory,
        alarms: Alarms,
        condition: CfnCondition,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = log_group(self, "FunctionLogGroup")
        self.function = new_function(
            self,
            "Function",
            description="Re-audits the EKS clusters named by change events (event-driven "
            "runs of the auditor)",
            handler=EVENT_HANDLER,
            timeout=EVENT_FUNCTION_TIMEOUT,
            log_group=self.log_group,
        )
        function = self.function
        self.bus = events.EventBus(
            self, "Bus", event_bus_name=EVENT_BUS_NAME, description=f"{PRODUCT}: EKS changes"
        )
        self._admit_only_forwarders()
        self.dlq, self.queue = self._queues(function)
        target = targets.SqsQueue(
            self.queue,
            dead_letter_queue=self.dlq,
            retry_attempts=TARGET_RETRY_ATTEMPTS,
            max_event_age=TARGET_MAX_EVENT_AGE,
        )
        self.rules = [
            events.Rule(
                self,
                rule_id,
                description=f"EKS changes that re-audit one cluster ({PRODUCT})",
                event_bus=self.bus,
                event_pattern=pattern,
                targets=[target],
            )
            for rule_id, pattern in eks_change_patterns().items()
        ]
        self.home_forwarding = ForwardingRules(
            self, "HomeRegion", target_bus_arn=self.bus.event_bus_arn
        )
        self.source = self._event_source(function)
        for construct in self.node.find_all():
            if isinstance(construct, CfnResource):
                construct.cfn_options.condition = condition
        self._alarms(alarms, condition)

    def _admit_only_forwarders(self) -> None:
        """The bus's own resource policy (``AWS::Events::EventBus`` ``Policy``): only
        roles under the forwarder path may put events; everyone else is denied."""
        forwarders = f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role{FORWARDER_ROLE_PATH}*"
        # By name, not GetAtt: the policy is a property of the bus itself.
        bus_arn = home_bus_arn(Aws.REGION)
        statements = [
            iam.PolicyStatement(
                sid="AllowThisAccountsForwarders",
                principals=[iam.AccountRootPrincipal()],
                actions=["events:PutEvents"],
                resources=[bus_arn],
                conditions={"ArnLike": {"aws:PrincipalArn": forwarders}},
            ),
            iam.PolicyStatement(
                sid="DenyEveryoneElse",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["events:PutEvents"],
                resources=[bus_arn],
                conditions={"ArnNotLike": {"aws:PrincipalArn": forwarders}},
            ),
        ]
        cfn_bus = self.bus.node.default_child
        assert isinstance(cfn_bus, events.CfnEventBus)
        cfn_bus.policy = iam.PolicyDocument(statements=statements).to_json()

    def _queues(self, function: lambda_.Function) -> tuple[sqs.Queue, sqs.Queue]:
        # allowAll rather than byQueue: naming the source queue here would make the two
        # queues reference each other (a CloudFormation cycle).
        dlq = dead_letter_queue(
            self,
            "DeadLetterQueue",
            redrive_permission=sqs.RedrivePermission.ALLOW_ALL,
            acknowledgments=[
                Acknowledgment(
                    id="AwsSolutions-SQS3",
                    reason="This queue is itself the dead-letter queue of the event queue and "
                    "of the event rules' targets; a DLQ for a DLQ adds nothing.",
                )
            ],
        )
        timeout = function.timeout or EVENT_FUNCTION_TIMEOUT
        queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=QUEUE_RETENTION,
            visibility_timeout=Duration.seconds(timeout.to_seconds() * VISIBILITY_TIMEOUT_FACTOR),
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=MAX_RECEIVE_COUNT, queue=dlq),
        )
        return dlq, queue

    def _event_source(self, function: lambda_.Function) -> lambda_.EventSourceMapping:
        # Its own policy (not the role's default policy) so that it can carry the
        # condition: exactly the SQS actions Lambda's poller needs
        # (AWSLambdaSQSQueueExecutionRole).
        assert function.role is not None
        consume = iam.Policy(
            self,
            "ConsumePolicy",
            roles=[function.role],
            statements=[
                iam.PolicyStatement(
                    sid="ReadEventQueue",
                    actions=["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                    resources=[self.queue.queue_arn],
                )
            ],
        )
        # The event function's own log group, here rather than in the role's
        # DefaultPolicy: only this conditional policy may name a conditional resource.
        # The event source depends on this policy, so both grants exist before the
        # first event invocation.
        # The same two actions LogGroup.grant_write gives the scheduled function.
        consume.add_statements(
            iam.PolicyStatement(
                sid="WriteEventFunctionLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        source = lambda_.EventSourceMapping(
            self,
            "Source",
            target=function,
            event_source_arn=self.queue.queue_arn,
            batch_size=BATCH_SIZE,
            max_batching_window=BATCH_WINDOW,
            report_batch_item_failures=True,
            max_concurrency=MAX_CONCURRENCY,
        )
        source.node.add_dependency(consume)
        return source

    def _alarms(self, alarms: Alarms, condition: CfnCondition) -> None:
        added = [
            alarms.add(
                "EventFunctionErrors",
                "An event-driven run failed (its batch is retried, then parked in the DLQ).",
                self.function.metric_errors(period=ALARM_PERIOD, statistic="Sum"),
            ),
            alarms.add(
                "EventFunctionThrottles",
                "The event function was throttled (account concurrency exhausted); its "
                "batch returns after the queue's visibility timeout.",
                self.function.metric_throttles(period=ALARM_PERIOD, statistic="Sum"),
            ),
            alarms.add(
                "EventDeadLetterQueue",
                "EKS change events could not be processed and wait in the event DLQ.",
                self.dlq.metric_approximate_number_of_messages_visible(
                    period=ALARM_PERIOD, statistic="Maximum"
                ),
            ),
            alarms.add(
                "EventQueueOldestMessage",
                "EKS change events have waited over 30 minutes in the event queue.",
                self.queue.metric_approximate_age_of_oldest_message(
                    period=ALARM_PERIOD, statistic="Maximum"
                ),
                threshold=OLDEST_EVENT_ALARM_SECONDS,
            ),
        ]
        for alarm in added:
            cfn_alarm = alarm.node.default_child
            assert isinstance(cfn_alarm, CfnResource)
            cfn_alarm.cfn_options.condition = condition
