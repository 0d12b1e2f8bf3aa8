"""The deployable product: a scheduled, least-privilege auditor Lambda.

Why it looks like this:

* Users deploy once per account and then steer the auditor with CloudFormation
  parameters (``infra.parameters``), each passed through an environment variable.
* ``eks:UpdateAddon`` is the only write to customer workloads: its own conditional
  policy (``infra.remediation``). The read and publish grants are in
  ``infra.permissions``, the alarms in ``infra.alarms``.
* No managed policies and no Docker: permissions are written out action by
  action (scoped as far as the Service Authorization Reference allows) and the
  asset is bundled locally (see ``infra.bundling``). Powertools comes from the
  AWS-managed layer whose ARN is resolved at deploy time from a public SSM
  parameter, so nothing region-specific is hard-coded and synthesis needs no
  credentials.
* Failures must be visible: bounded retries, one DLQ for both the EventBridge
  target and the function's async invocations, and alarms on errors,
  throttles and DLQ depth to an encrypted, SSL-only SNS topic.
* Changes made through the EKS API re-audit their cluster within minutes
  (``infra.event_path``, under the ``EventDrivenMode`` parameter); other regions
  forward their events with ``infra.forwarder.EventForwarderStack``. Event batches
  run in a second function built by ``new_function`` (same code, layer, environment
  and role, so the grants stay one set; its own entry point) without the scheduled
  function's reserved concurrency, so a batch is never throttled behind a scheduled run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from aws_cdk import (
    Acknowledgment,
    Aws,
    CfnDynamicReference,
    CfnDynamicReferenceService,
    Duration,
    Fn,
    RemovalPolicy,
    Stack,
    Token,
    Validations,
)
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from eks_netpol_auditor.names import METRICS_NAMESPACE, PRODUCT, SCHEDULED_HANDLER, Env
from infra.alarms import ALARM_PERIOD, Alarms, alarm_topic
from infra.bundling import asset_code
from infra.event_path import EventPath
from infra.in_cluster import InClusterEnrolPermission, add_in_cluster_outputs
from infra.operations import EventViews, OperationsViews
from infra.outputs import add_outputs
from infra.parameters import AuditorParameters
from infra.permissions import acknowledge_audit_wildcards, audit_policy_document
from infra.queues import dead_letter_queue
from infra.remediation import RemediationPermission

REPO_ROOT = Path(__file__).resolve().parent.parent
LAMBDA_DIR = REPO_ROOT / "lambda"

# The newest Lambda Python runtime that CI also tests on: `make test-runtime` runs the
# engine's tests on this minor version (Makefile LAMBDA_PYTHON; a test keeps the two equal),
# and CI machines have CPython 3.13, not 3.14. python3.13 is a supported runtime on Amazon
# Linux 2023, deprecated on 2029-06-30 (Lambda developer guide, "Lambda runtimes",
# Supported runtimes). The Powertools layer parameter below is derived from it, so the two
# can never drift apart.
RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
POWERTOOLS_LAYER_PARAMETER = f"/aws/service/powertools/python/arm64/{RUNTIME.name}/latest"

# The SSM parameter whose name an auditor stack claims in its account and region.
CLAIM_PARAMETER_NAME = f"/{PRODUCT}/auditor-stack"

# A full audit walks every enabled region; the handler budgets its time with
# context.get_remaining_time_in_millis(), so the Lambda maximum is the right cap.
FUNCTION_TIMEOUT = Duration.minutes(15)
FUNCTION_MEMORY_MB = 512
LOG_RETENTION = logs.RetentionDays.ONE_YEAR

# Async retries: one retry of a failed run is useful (transient throttling);
# after that the event goes to the DLQ and the alarm fires. An event older than
# an hour is not worth running: the next scheduled run is coming anyway.
ASYNC_RETRY_ATTEMPTS = 1
TARGET_RETRY_ATTEMPTS = 2
MAX_EVENT_AGE = Duration.hours(1)


def function_log_group(scope: Construct, construct_id: str) -> logs.LogGroup:
    """A function's log group: retained, one retention for every auditor function."""
    log_group = logs.LogGroup(
        scope, construct_id, retention=LOG_RETENTION, removal_policy=RemovalPolicy.RETAIN
    )
    Validations.of(log_group).acknowledge(
        Acknowledgment(
            id="cdk-validator-cfnguard::cloudwatch_log_group_encrypted_check",
            reason="CloudWatch Logs encrypts log data at rest with service keys; the logs "
            "hold cluster names and verdicts, no secrets. The group is retained after the "
            "stack is deleted, and a customer key deleted with the stack would leave it "
            "unreadable.",
        )
    )
    return log_group


class EksNetpolAuditorStack(Stack):
    """Scheduled EKS NetworkPolicy auditor with optional guarded remediation."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: Callable[[Construct], lambda_.Code] | None = None,
        **kwargs: Any,
    ) -> None:
        """``code`` builds the function's code inside this stack (the release reads its
        location from parameters: ``infra.release_code``); default: the local asset."""
        self._code_factory = code
        self._code: lambda_.Code | None = None
        self._layer: lambda_.ILayerVersion | None = None
        kwargs.setdefault(
            "description",
            "eks-netpol-auditor: audits EKS vpc-cni enableNetworkPolicy (CIS EKS 5.4.4) "
            "in every region, publishes ASFF findings to Security Hub, optional remediation.",
        )
        super().__init__(scope, construct_id, **kwargs)

        self.params = AuditorParameters(self)
        self.claim = self._claim_account_and_region()

        self.dlq = self._create_dlq()
        self.log_group = function_log_group(self, "FunctionLogGroup")
        self.role = self._create_role()
        self.remediation = RemediationPermission(
            self,
            "Remediation",
            role=self.role,
            condition=self.params.auto_remediate_condition,
        )
        self.in_cluster_enrol = InClusterEnrolPermission(
            self,
            "InClusterEnrolment",
            role=self.role,
            condition=self.params.in_cluster_enrol_condition,
        )
        self.function = self._create_function()
        self.rule = self._create_schedule()
        self.alarm_topic = alarm_topic(
            self,
            email=self.params.notification_email,
            email_condition=self.params.email_condition,
        )
        self.alarms = self._create_alarms()
        self.event_path = EventPath(
            self,
            "Events",
            new_function=self.new_function,
            log_group=function_log_group,
            alarms=self.alarms,
            condition=self.params.event_driven_condition,
        )
        self.views = OperationsViews(
            self,
            "Operations",
            function=self.function,
            insight_condition=self.params.insight_condition,
            events=EventViews(
                function=self.event_path.function,
                queue=self.event_path.queue,
                condition=self.params.event_driven_condition,
            ),
        )
        add_outputs(self, self)
        add_in_cluster_outputs(self, self.role, self.params.in_cluster_condition)
        self.template_options.metadata = {"AWS::CloudFormation::Interface": self.params.interface()}

    # ------------------------------------------------------------------ resources

    def _claim_account_and_region(self) -> ssm.CfnParameter:
        """One auditor per account and region: a fixed SSM parameter name.

        Two auditors in one account would audit, publish and remediate everything twice,
        and an organization can reach an account through two StackSets (a remediation OU
        inside a target OU: ``infra.org``). A second stack fails on this name ("already
        exists") before any function exists (they depend on it), and rolls back. The
        event bus's fixed name did this only with EventDrivenMode=true.
        """
        return ssm.CfnParameter(
            self,
            "AuditorClaim",
            name=CLAIM_PARAMETER_NAME,
            type="String",
            value=Aws.STACK_NAME,
            description=f"The {PRODUCT} stack of this account and region (one only).",
        )

    def _create_dlq(self) -> sqs.Queue:
        # RedriveAllowPolicy allowAll, as the event path's DLQ: Control Tower's proactive
        # control CT.SQS.PR.1 ("Require any Amazon SQS queue to have a dead-letter queue
        # configured") runs as a CloudFormation hook and passes a queue without a
        # RedrivePolicy only when its redrivePermission is allowAll or byQueue (the
        # control's guard rule sqs_dlq_check, scenarios 2-3). denyAll failed the hook, so
        # the stack could not be created where the control is enabled. Nothing redrives
        # into this queue either way: only EventBridge and Lambda send to it.
        return dead_letter_queue(
            self,
            "DeadLetterQueue",
            redrive_permission=sqs.RedrivePermission.ALLOW_ALL,
            acknowledgments=[
                Acknowledgment(
                    id="AwsSolutions-SQS3",
                    reason="This queue is itself the dead-letter queue of the EventBridge "
                    "target and of the function's asynchronous invocations; a DLQ for a DLQ "
                    "adds nothing.",
                ),
            ],
        )

    def _create_role(self) -> iam.Role:
        role = iam.Role(
            self,
            "FunctionRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="eks-netpol-auditor function role (read-only unless AutoRemediate=true)",
            inline_policies={"Audit": audit_policy_document()},
        )
        acknowledge_audit_wildcards(role)
        # Written out instead of AWSLambdaBasicExecutionRole: only this function's
        # own log group (logs:CreateLogStream, logs:PutLogEvents).
        self.log_group.grant_write(role)
        return role

    def _powertools_layer(self) -> lambda_.ILayerVersion:
        """The given ``PowertoolsLayerArn``, else the layer AWS publishes in SSM.

        The public parameter exists only where Powertools' release workflow writes it
        (commercial regions; not GovCloud, China or some opt-in regions), and
        ``latest`` moves between deploys. An ``AWS::SSM::Parameter::Value`` template
        parameter would be resolved at every create/update even when unused, so the
        lookup is an ``{{resolve:ssm:...}}`` dynamic reference in the Fn::If branch
        that uses it ("Using dynamic references to specify template values",
        CloudFormation User Guide). Whether CloudFormation resolves a dynamic
        reference in the branch it does not take is not documented; docs/deploy.md
        says what to do if it does.
        """
        params = self.params
        from_ssm = CfnDynamicReference(CfnDynamicReferenceService.SSM, POWERTOOLS_LAYER_PARAMETER)
        arn = Fn.condition_if(
            params.powertools_from_ssm_condition.logical_id,
            from_ssm,
            params.powertools_layer_arn.value_as_string,
        )
        return lambda_.LayerVersion.from_layer_version_arn(
            self, "PowertoolsLayer", Token.as_string(arn)
        )

    def _environment(self) -> dict[str, str]:
        """The function's configuration: one variable per parameter (names.Env)."""
        params = self.params
        return {
            Env.AUDIT_REGIONS.value: params.audit_regions.value_as_string,
            Env.PUBLISH_FINDINGS.value: "true",
            Env.FINDINGS_REGION.value: params.findings_region.value_as_string,
            Env.FINDINGS_REFRESH_HOURS.value: params.findings_refresh_hours.value_as_string,
            Env.AUTO_REMEDIATE.value: params.auto_remediate.value_as_string,
            Env.REMEDIATION_DRY_RUN.value: params.remediation_dry_run.value_as_string,
            Env.MAX_REMEDIATIONS_PER_RUN.value: params.max_remediations.value_as_string,
            Env.REMEDIATION_REQUIRE_TAG.value: params.remediation_require_tag.value_as_string,
            Env.REMEDIATION_COOLDOWN_MINUTES.value: params.remediation_cooldown.value_as_string,
            Env.IN_CLUSTER_CHECK.value: params.in_cluster_check.value_as_string,
            Env.IN_CLUSTER_EXCLUDE_NAMESPACES.value: (
                params.in_cluster_exclude_namespaces.value_as_string
            ),
            Env.IN_CLUSTER_ENROL.value: params.in_cluster_enrol.value_as_string,
            Env.POWERTOOLS_SERVICE_NAME.value: PRODUCT,
            Env.POWERTOOLS_METRICS_NAMESPACE.value: METRICS_NAMESPACE,
            Env.LOG_LEVEL.value: params.log_level.value_as_string,
        }

    def _create_function(self) -> lambda_.Function:
        params = self.params
        function = self.new_function(
            self,
            "AuditorFunction",
            description="Audits EKS vpc-cni enableNetworkPolicy in every region and "
            "publishes Security Hub findings",
            handler=SCHEDULED_HANDLER,
            timeout=FUNCTION_TIMEOUT,
            log_group=self.log_group,
        )
        cfn_function = function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        # Reserved concurrency 1 keeps scheduled runs from overlapping; 0 omits the
        # property for accounts whose concurrency quota cannot spare a reservation.
        # Event-driven runs have their own function (infra.event_path), so an event
        # batch is never throttled behind a scheduled run.
        cfn_function.add_property_override(
            "ReservedConcurrentExecutions",
            Fn.condition_if(
                params.reserve_concurrency_condition.logical_id,
                params.reserved_concurrency.value_as_number,
                Aws.NO_VALUE,
            ),
        )
        function.configure_async_invoke(
            retry_attempts=ASYNC_RETRY_ATTEMPTS,
            max_event_age=MAX_EVENT_AGE,
            on_failure=destinations.SqsDestination(self.dlq),
        )
        return function

    def new_function(
        self,
        scope: Construct,
        construct_id: str,
        *,
        description: str,
        handler: str,
        timeout: Duration,
        log_group: logs.ILogGroup,
    ) -> lambda_.Function:
        """An auditor function: the one code asset, layer, environment, role and
        tracing; the scheduled and the event-driven function differ only in ``handler``
        (each has its own entry point), ``timeout``, ``log_group`` and what the caller
        adds (``infra.event_path``)."""
        if self._code is None:
            self._code = (
                self._code_factory(self)
                if self._code_factory is not None
                else asset_code(LAMBDA_DIR, RUNTIME.bundling_image)
            )
        if self._layer is None:
            self._layer = self._powertools_layer()
        function = lambda_.Function(
            scope,
            construct_id,
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=handler,
            code=self._code,
            layers=[self._layer],
            role=self.role,
            log_group=log_group,
            tracing=lambda_.Tracing.ACTIVE,
            timeout=timeout,
            memory_size=FUNCTION_MEMORY_MB,
            environment=self._environment(),
        )
        cfn_function = function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        self._acknowledge_function_findings(function)
        # CDK makes the function depend on both the role and its DefaultPolicy; the
        # role dependency is already implied by GetAtt Role.Arn (cfn-lint W3005), so
        # keep the one on the DefaultPolicy (X-Ray, logs, DLQ permissions must exist
        # before the first invocation), and add the one on this account's claim (no
        # function of a second auditor stack ever exists).
        default_policy = self.role.node.find_child("DefaultPolicy").node.default_child
        assert isinstance(default_policy, iam.CfnPolicy)
        cfn_function.add_override("DependsOn", [default_policy.logical_id, self.claim.logical_id])
        return function

    @staticmethod
    def _acknowledge_function_findings(function: lambda_.Function) -> None:
        layer = (
            "The layer is Fn::If(PowertoolsLayerFromSsm, SSM dynamic reference, "
            "PowertoolsLayerArn): the validator evaluates the parameter's default '' in the "
            "branch that is only taken when the parameter is not empty."
        )
        Validations.of(function).acknowledge(
            Acknowledgment(
                id="cdk-validator-cfnguard::lambda_inside_vpc_check",
                reason="The functions only call AWS public APIs (EKS, EC2, STS, Security "
                "Hub) in every audited region; a VPC would need NAT or an interface endpoint "
                "per service and region, and reaches nothing private.",
            ),
            Acknowledgment(id="CloudFormation-Validate::F3031", reason=layer),
            Acknowledgment(id="CloudFormation-Validate::F3033", reason=layer),
            Acknowledgment(
                id="AwsSolutions-L1",
                reason="python3.13, one behind the newest Lambda Python runtime, is the "
                "newest one the project's CI runs the function's tests on (make "
                "test-runtime); it is supported until 2029-06-30 (Lambda runtimes page).",
            ),
        )

    def _create_schedule(self) -> events.Rule:
        return events.Rule(
            self,
            "ScheduleRule",
            description="Runs the eks-netpol-auditor",
            schedule=events.Schedule.expression(self.params.schedule_expression.value_as_string),
            targets=[
                targets.LambdaFunction(
                    self.function,
                    dead_letter_queue=self.dlq,
                    retry_attempts=TARGET_RETRY_ATTEMPTS,
                    max_event_age=MAX_EVENT_AGE,
                )
            ],
        )

    def _create_alarms(self) -> Alarms:
        alarms = Alarms(self, "Alarms", topic=self.alarm_topic)
        alarms.add(
            "FunctionErrors",
            "The auditor run failed (nothing could be audited, or it crashed).",
            self.function.metric_errors(period=ALARM_PERIOD, statistic="Sum"),
        )
        alarms.add(
            "FunctionThrottles",
            "The auditor was throttled (reserved concurrency 1: overlapping invocation).",
            self.function.metric_throttles(period=ALARM_PERIOD, statistic="Sum"),
        )
        alarms.add(
            "DeadLetterQueue",
            "Events or failed invocations are waiting in the dead-letter queue.",
            self.dlq.metric_approximate_number_of_messages_visible(
                period=ALARM_PERIOD, statistic="Maximum"
            ),
        )
        return alarms
