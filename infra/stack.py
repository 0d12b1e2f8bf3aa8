"""The deployable product: a scheduled, least-privilege auditor Lambda.

Why it looks like this:

* Users deploy once per account and then steer the auditor with CloudFormation
  parameters (``cdk deploy --parameters AutoRemediate=true``), so every knob the
  function reads is a parameter passed through an environment variable.
* ``eks:UpdateAddon`` is the only write to customer workloads. It lives in its
  own ``AWS::IAM::Policy`` that exists only under the ``AutoRemediateEnabled``
  condition: flipping the parameter back to ``false`` deletes the policy, so the
  permission disappears instead of merely being unused.
* No managed policies and no Docker: permissions are written out action by
  action (scoped as far as the Service Authorization Reference allows) and the
  asset is bundled locally (see ``infra.bundling``). Powertools comes from the
  AWS-managed layer whose ARN is resolved at deploy time from a public SSM
  parameter, so nothing region-specific is hard-coded and synthesis needs no
  credentials.
* Failures must be visible: bounded retries, one DLQ for both the EventBridge
  target and the function's async invocations, and alarms on errors,
  throttles and DLQ depth to an encrypted, SSL-only SNS topic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import (
    Acknowledgment,
    Aws,
    BundlingOptions,
    CfnCondition,
    CfnParameter,
    Duration,
    Fn,
    RemovalPolicy,
    Stack,
    Validations,
)
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from eks_netpol_auditor.names import METRICS_NAMESPACE, PRODUCT, Env
from infra.bundling import EXCLUDE_PATTERNS, LocalPythonBundler

REPO_ROOT = Path(__file__).resolve().parent.parent
LAMBDA_DIR = REPO_ROOT / "lambda"

HANDLER = "eks_netpol_auditor.handler.lambda_handler"

# Newest Python runtime offered by aws-cdk-lib 2.275. The Powertools layer
# parameter below is derived from it, so the two can never drift apart.
RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
POWERTOOLS_LAYER_PARAMETER = f"/aws/service/powertools/python/arm64/{RUNTIME.name}/latest"

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
DLQ_RETENTION = Duration.days(14)
ALARM_PERIOD = Duration.minutes(5)

VPC_CNI = "vpc-cni"

_BOOL_VALUES = ["true", "false"]


class EksNetpolAuditorStack(Stack):
    """Scheduled EKS NetworkPolicy auditor with optional guarded remediation."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        kwargs.setdefault(
            "description",
            "eks-netpol-auditor: audits EKS vpc-cni enableNetworkPolicy (CIS EKS 5.4.4) "
            "in every region, publishes ASFF findings to Security Hub, optional remediation.",
        )
        super().__init__(scope, construct_id, **kwargs)

        self._create_parameters()
        self._create_conditions()

        self.dlq = self._create_dlq()
        self.log_group = logs.LogGroup(
            self,
            "FunctionLogGroup",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.role = self._create_role()
        self.remediation_policy = self._create_remediation_policy()
        self.function = self._create_function()
        self.rule = self._create_schedule()
        self.alarm_topic = self._create_alarm_topic()
        self.alarms = self._create_alarms()
        self._acknowledge_nag_findings()

    # ------------------------------------------------------------------ parameters

    def _create_parameters(self) -> None:
        self.auto_remediate = CfnParameter(
            self,
            "AutoRemediate",
            type="String",
            allowed_values=_BOOL_VALUES,
            default="false",
            description="Enable vpc-cni enableNetworkPolicy remediation with eks:UpdateAddon. "
            "'false' removes the eks:UpdateAddon permission from the function's role.",
        )
        self.remediation_dry_run = CfnParameter(
            self,
            "RemediationDryRun",
            type="String",
            allowed_values=_BOOL_VALUES,
            default="false",
            description="With AutoRemediate=true: log the planned UpdateAddon calls without "
            "making them.",
        )
        self.max_remediations = CfnParameter(
            self,
            "MaxRemediationsPerRun",
            type="Number",
            default=5,
            min_value=0,
            description="Upper bound on add-on updates per run (0 = remediate nothing).",
        )
        self.remediation_require_tag = CfnParameter(
            self,
            "RemediationRequireTag",
            type="String",
            allowed_values=_BOOL_VALUES,
            default="false",
            description="Only remediate clusters that carry the opt-in remediation tag.",
        )
        self.audit_regions = CfnParameter(
            self,
            "AuditRegions",
            type="String",
            default="all",
            allowed_pattern=r"^(all|[a-z]{2}(-[a-z]+)+-[0-9]+( *, *[a-z]{2}(-[a-z]+)+-[0-9]+)*)$",
            constraint_description="'all' or a comma-separated list of region names.",
            description="Regions to audit: 'all' (every region enabled in the account) or a "
            "comma-separated list such as 'eu-west-1,us-east-1'.",
        )
        self.findings_region = CfnParameter(
            self,
            "FindingsRegion",
            type="String",
            default="",
            allowed_pattern=r"^([a-z]{2}(-[a-z]+)+-[0-9]+)?$",
            constraint_description="empty or a region name.",
            description="Region to publish all findings to (e.g. a Security Hub aggregation "
            "region). Empty = each cluster's own region.",
        )
        self.schedule_expression = CfnParameter(
            self,
            "ScheduleExpression",
            type="String",
            default="rate(6 hours)",
            allowed_pattern=r"^(rate|cron)\(.+\)$",
            constraint_description="an EventBridge rate(...) or cron(...) expression.",
            description="EventBridge schedule for the audit.",
        )
        self.notification_email = CfnParameter(
            self,
            "NotificationEmail",
            type="String",
            default="",
            allowed_pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$",
            constraint_description="empty or an email address.",
            description="Optional email address subscribed to the alarm topic "
            "(confirm the subscription email). Empty = no subscription.",
        )
        self.reserved_concurrency = CfnParameter(
            self,
            "ReservedConcurrency",
            type="Number",
            default=1,
            min_value=0,
            max_value=1,
            description="1 = reserve one concurrent execution so runs never overlap. "
            "0 = reserve nothing: use it when the deployment fails because the account's "
            "concurrency quota is too low (new accounts can have 10, and Lambda always keeps "
            "a minimum of unreserved concurrency).",
        )
        self.log_level = CfnParameter(
            self,
            "LogLevel",
            type="String",
            allowed_values=["DEBUG", "INFO", "WARNING", "ERROR"],
            default="INFO",
            description="Powertools Logger level.",
        )

    def _create_conditions(self) -> None:
        self.auto_remediate_condition = CfnCondition(
            self,
            "AutoRemediateEnabled",
            expression=Fn.condition_equals(self.auto_remediate.value_as_string, "true"),
        )
        self.email_condition = CfnCondition(
            self,
            "HasNotificationEmail",
            expression=Fn.condition_not(
                Fn.condition_equals(self.notification_email.value_as_string, "")
            ),
        )
        self.reserve_concurrency_condition = CfnCondition(
            self,
            "ReserveConcurrency",
            expression=Fn.condition_not(
                Fn.condition_equals(self.reserved_concurrency.value_as_string, "0")
            ),
        )

    # ------------------------------------------------------------------ resources

    def _create_dlq(self) -> sqs.Queue:
        # SQS-managed SSE rather than KMS: EventBridge can only deliver to a
        # KMS-encrypted DLQ with a customer managed key and an extra key policy,
        # and the queue carries only scheduled-event envelopes and invocation
        # records (no secrets), so SQS-managed keys are the fitting choice.
        return sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
        )

    def _arn(self, service: str, resource: str) -> str:
        """ARN in any region of this account and partition (the audit covers all regions)."""
        return f"arn:{Aws.PARTITION}:{service}:*:{Aws.ACCOUNT_ID}:{resource}"

    def _audit_policy_document(self) -> iam.PolicyDocument:
        # Resource scoping follows the Service Authorization Reference
        # (https://docs.aws.amazon.com/service-authorization/latest/reference/
        #  list_amazonelastickubernetesservice.html and list_awssecurityhub.html):
        #  - eks:ListClusters, eks:DescribeAddonConfiguration, ec2:DescribeRegions and
        #    sts:GetCallerIdentity support no resource types -> "*".
        #  - eks:DescribeCluster / eks:ListAddons take the cluster resource,
        #    eks:DescribeAddon the addon resource, eks:DescribeUpdate addon or cluster.
        #  - securityhub:BatchImportFindings takes the product resource,
        #    BatchUpdateFindings / GetFindings the hub resource (hub/default).
        # Region is "*" because the auditor publishes findings in each cluster's region.
        cluster_arn = self._arn("eks", "cluster/*")
        # Add-on ARNs are addon/<cluster>/<addon>/<uuid>. The bare form covers the
        # authorization of a DescribeAddon for an add-on that does not exist, so the
        # engine sees ResourceNotFoundException (= no managed vpc-cni) and not
        # AccessDenied.
        vpc_cni_addon_arns = [
            self._arn("eks", f"addon/*/{VPC_CNI}/*"),
            self._arn("eks", f"addon/*/{VPC_CNI}"),
        ]
        return iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    sid="DiscoverAccountAndRegions",
                    actions=["sts:GetCallerIdentity", "ec2:DescribeRegions"],
                    resources=["*"],
                ),
                iam.PolicyStatement(
                    sid="EksActionsWithoutResourceTypes",
                    actions=["eks:ListClusters", "eks:DescribeAddonConfiguration"],
                    resources=["*"],
                ),
                iam.PolicyStatement(
                    sid="EksReadClusters",
                    actions=["eks:DescribeCluster", "eks:ListAddons", "eks:DescribeUpdate"],
                    resources=[cluster_arn],
                ),
                iam.PolicyStatement(
                    sid="EksReadVpcCniAddon",
                    actions=["eks:DescribeAddon", "eks:DescribeUpdate"],
                    resources=vpc_cni_addon_arns,
                ),
                iam.PolicyStatement(
                    sid="SecurityHubImportOwnFindings",
                    actions=["securityhub:BatchImportFindings"],
                    resources=[self._arn("securityhub", f"product/{Aws.ACCOUNT_ID}/default")],
                ),
                iam.PolicyStatement(
                    sid="SecurityHubReadAndResolveFindings",
                    actions=["securityhub:BatchUpdateFindings", "securityhub:GetFindings"],
                    resources=[self._arn("securityhub", "hub/default")],
                ),
            ]
        )

    def _create_role(self) -> iam.Role:
        role = iam.Role(
            self,
            "FunctionRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="eks-netpol-auditor function role (read-only unless AutoRemediate=true)",
            inline_policies={"Audit": self._audit_policy_document()},
        )
        # Written out instead of AWSLambdaBasicExecutionRole: only this function's
        # own log group (logs:CreateLogStream, logs:PutLogEvents).
        self.log_group.grant_write(role)
        return role

    def _create_remediation_policy(self) -> iam.Policy:
        policy = iam.Policy(
            self,
            "RemediationPolicy",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    sid="EksUpdateVpcCniAddon",
                    actions=["eks:UpdateAddon"],
                    resources=[self._arn("eks", f"addon/*/{VPC_CNI}/*")],
                )
            ],
        )
        cfn_policy = policy.node.default_child
        assert isinstance(cfn_policy, iam.CfnPolicy)
        cfn_policy.cfn_options.condition = self.auto_remediate_condition
        return policy

    def _create_function(self) -> lambda_.Function:
        powertools_layer = lambda_.LayerVersion.from_layer_version_arn(
            self,
            "PowertoolsLayer",
            ssm.StringParameter.value_for_string_parameter(self, POWERTOOLS_LAYER_PARAMETER),
        )
        code = lambda_.Code.from_asset(
            str(LAMBDA_DIR),
            exclude=list(EXCLUDE_PATTERNS),
            bundling=BundlingOptions(
                # Required by the API, never pulled: the local bundler always succeeds.
                image=RUNTIME.bundling_image,
                # jsii calls try_bundle(output_dir, options) positionally, which the
                # generated keyword-only protocol signature cannot express.
                local=LocalPythonBundler(LAMBDA_DIR),  # type: ignore[arg-type]
                command=["false"],
            ),
        )
        function = lambda_.Function(
            self,
            "AuditorFunction",
            description="Audits EKS vpc-cni enableNetworkPolicy in every region and "
            "publishes Security Hub findings",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=HANDLER,
            code=code,
            layers=[powertools_layer],
            role=self.role,
            log_group=self.log_group,
            tracing=lambda_.Tracing.ACTIVE,
            timeout=FUNCTION_TIMEOUT,
            memory_size=FUNCTION_MEMORY_MB,
            environment={
                Env.AUDIT_REGIONS.value: self.audit_regions.value_as_string,
                Env.PUBLISH_FINDINGS.value: "true",
                Env.FINDINGS_REGION.value: self.findings_region.value_as_string,
                Env.AUTO_REMEDIATE.value: self.auto_remediate.value_as_string,
                Env.REMEDIATION_DRY_RUN.value: self.remediation_dry_run.value_as_string,
                Env.MAX_REMEDIATIONS_PER_RUN.value: self.max_remediations.value_as_string,
                Env.REMEDIATION_REQUIRE_TAG.value: self.remediation_require_tag.value_as_string,
                Env.POWERTOOLS_SERVICE_NAME.value: PRODUCT,
                Env.POWERTOOLS_METRICS_NAMESPACE.value: METRICS_NAMESPACE,
                Env.LOG_LEVEL.value: self.log_level.value_as_string,
            },
        )
        cfn_function = function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        # Reserved concurrency 1 keeps runs from overlapping; 0 omits the property
        # for accounts whose concurrency quota cannot spare a reservation.
        cfn_function.add_property_override(
            "ReservedConcurrentExecutions",
            Fn.condition_if(
                self.reserve_concurrency_condition.logical_id,
                self.reserved_concurrency.value_as_number,
                Aws.NO_VALUE,
            ),
        )
        # CDK makes the function depend on both the role and its DefaultPolicy; the
        # role dependency is already implied by GetAtt Role.Arn (cfn-lint W3005), so
        # keep only the one on the DefaultPolicy (X-Ray, logs, DLQ permissions must
        # exist before the first invocation).
        default_policy = self.role.node.find_child("DefaultPolicy").node.default_child
        assert isinstance(default_policy, iam.CfnPolicy)
        cfn_function.add_override("DependsOn", [default_policy.logical_id])
        function.configure_async_invoke(
            retry_attempts=ASYNC_RETRY_ATTEMPTS,
            max_event_age=MAX_EVENT_AGE,
            on_failure=destinations.SqsDestination(self.dlq),
        )
        return function

    def _create_schedule(self) -> events.Rule:
        return events.Rule(
            self,
            "ScheduleRule",
            description="Runs the eks-netpol-auditor",
            schedule=events.Schedule.expression(self.schedule_expression.value_as_string),
            targets=[
                targets.LambdaFunction(
                    self.function,
                    dead_letter_queue=self.dlq,
                    retry_attempts=TARGET_RETRY_ATTEMPTS,
                    max_event_age=MAX_EVENT_AGE,
                )
            ],
        )

    def _create_alarm_topic(self) -> sns.Topic:
        # A customer managed key, because the AWS managed alias/aws/sns key policy
        # does not let CloudWatch alarms use it: alarms could not publish.
        key = kms.Key(
            self,
            "AlarmTopicKey",
            description="Encrypts the eks-netpol-auditor alarm topic",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
            pending_window=Duration.days(7),
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToUseTheKey",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )
        topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name="eks-netpol-auditor alarms",
            master_key=key,
            enforce_ssl=True,
        )
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsOfThisAccount",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        subscription = sns.Subscription(
            self,
            "AlarmEmailSubscription",
            topic=topic,
            protocol=sns.SubscriptionProtocol.EMAIL,
            endpoint=self.notification_email.value_as_string,
        )
        cfn_subscription = subscription.node.default_child
        assert isinstance(cfn_subscription, sns.CfnSubscription)
        cfn_subscription.cfn_options.condition = self.email_condition
        return topic

    def _create_alarms(self) -> list[cloudwatch.Alarm]:
        specs: list[tuple[str, str, cloudwatch.IMetric]] = [
            (
                "FunctionErrorsAlarm",
                "The auditor run failed (nothing could be audited, or it crashed).",
                self.function.metric_errors(period=ALARM_PERIOD, statistic="Sum"),
            ),
            (
                "FunctionThrottlesAlarm",
                "The auditor was throttled (reserved concurrency 1: overlapping invocation).",
                self.function.metric_throttles(period=ALARM_PERIOD, statistic="Sum"),
            ),
            (
                "DeadLetterQueueAlarm",
                "Events or failed invocations are waiting in the dead-letter queue.",
                self.dlq.metric_approximate_number_of_messages_visible(
                    period=ALARM_PERIOD, statistic="Maximum"
                ),
            ),
        ]
        action = cw_actions.SnsAction(self.alarm_topic)
        alarms = []
        for alarm_id, description, metric in specs:
            alarm = cloudwatch.Alarm(
                self,
                alarm_id,
                alarm_description=f"eks-netpol-auditor: {description}",
                metric=metric,
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(action)
            alarms.append(alarm)
        return alarms

    # ------------------------------------------------------------------ cdk-nag

    def _acknowledge_nag_findings(self) -> None:
        """Acknowledge the AwsSolutions findings that are deliberate, each with its reason.

        cdk-nag v3 reports IAM5 per wildcard resource ("AwsSolutions-IAM5[Resource::...]"),
        so each wildcard is acknowledged on its own: a new wildcard fails synthesis.
        """
        any_region = (
            "Region is '*' because the auditor reads and publishes in every enabled region "
            "of the account; account and partition are fixed."
        )
        # How cdk-nag renders the ARN prefixes built by self._arn().
        eks = "arn:<AWS::Partition>:eks:*:<AWS::AccountId>"
        securityhub = "arn:<AWS::Partition>:securityhub:*:<AWS::AccountId>"
        role_acks = {
            "Resource::*": "Only actions that support no resource types (Service Authorization "
            "Reference): sts:GetCallerIdentity, ec2:DescribeRegions, eks:ListClusters, "
            "eks:DescribeAddonConfiguration, and X-Ray tracing's xray:PutTraceSegments and "
            "xray:PutTelemetryRecords.",
            f"Resource::{eks}:cluster/*": "Read-only (DescribeCluster, ListAddons, "
            "DescribeUpdate) on every cluster of the account: clusters are discovered at "
            "run time. " + any_region,
            f"Resource::{eks}:addon/*/{VPC_CNI}/*": "Read-only (DescribeAddon, DescribeUpdate), "
            "limited to vpc-cni add-ons; cluster name and add-on UUID are only known at "
            "run time. " + any_region,
            f"Resource::{eks}:addon/*/{VPC_CNI}": "Read-only DescribeAddon of a vpc-cni add-on "
            "that may not exist, so the answer is ResourceNotFound (no managed add-on) rather "
            "than AccessDenied. " + any_region,
            f"Resource::{securityhub}:product/<AWS::AccountId>/default": "BatchImportFindings "
            "only into this account's default product. " + any_region,
            f"Resource::{securityhub}:hub/default": "GetFindings and BatchUpdateFindings "
            "(resolving our own findings) on this account's hub. " + any_region,
        }
        for applies_to, reason in role_acks.items():
            Validations.of(self.role).acknowledge(
                Acknowledgment(id=f"AwsSolutions-IAM5[{applies_to}]", reason=reason)
            )
        Validations.of(self.remediation_policy).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::{eks}:addon/*/{VPC_CNI}/*]",
                reason="eks:UpdateAddon only on vpc-cni add-ons, only when AutoRemediate=true "
                "(the policy is conditional); clusters are discovered at run time. " + any_region,
            )
        )
        Validations.of(self.dlq).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SQS3",
                reason="This queue is itself the dead-letter queue of the EventBridge target "
                "and of the function's asynchronous invocations; a DLQ for a DLQ adds nothing.",
            )
        )
