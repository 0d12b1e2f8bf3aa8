"""Assertions on the synthesized CloudFormation template of the auditor stack.

Why: the stack's security properties (conditional eks:UpdateAddon, scoped
Security Hub import, no managed policies, SSL-only encrypted queues and topics,
zero unacknowledged cdk-nag findings) are the product's promise to the people
who deploy it, so each one is pinned here. The app is synthesized once per
module, exactly as ``make synth`` does (same context, same nag plugin), because
synthesis takes seconds.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

from app import STACK_NAME, build_app
from infra.bundling import LocalPythonBundler, dist_info_files, yaml_distribution
from infra.stack import POWERTOOLS_LAYER_PARAMETER, REPO_ROOT, EksNetpolAuditorStack
from tests.unit.infra.cfn import Json, by_path, only, resources_of

ACCOUNT = {"Ref": "AWS::AccountId"}
MAKEFILE = REPO_ROOT / "Makefile"
PARTITION = {"Ref": "AWS::Partition"}


def arn(service: str, resource: list[Any]) -> Json:
    """The Fn::Join CDK renders for arn:${Partition}:<service>:*:${AccountId}:<resource>."""
    return {"Fn::Join": ["", ["arn:", PARTITION, f":{service}:*:", ACCOUNT, ":", *resource]]}


def _merge_strings(parts: list[Any]) -> list[Any]:
    merged: list[Any] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    return merged


def normalize(value: Any) -> Any:
    """Fn::Join lists with adjacent string parts merged, for order-insensitive compare."""
    if isinstance(value, dict) and set(value) == {"Fn::Join"}:
        sep, parts = value["Fn::Join"]
        return {"Fn::Join": [sep, _merge_strings([normalize(p) for p in parts])]}
    return value


CLUSTER_ARN = normalize(arn("eks", ["cluster/*"]))
ACCESS_ENTRY_ARN = normalize(arn("eks", ["access-entry/*"]))
VPC_CNI_ADDON_ARN = normalize(arn("eks", ["addon/*/vpc-cni/*"]))
VPC_CNI_ADDON_BARE_ARN = normalize(arn("eks", ["addon/*/vpc-cni"]))
DEFAULT_PRODUCT_ARN = normalize(arn("securityhub", ["product/", ACCOUNT, "/default"]))
HUB_ARN = normalize(arn("securityhub", ["hub/default"]))


def statements(template_json: Json) -> list[tuple[str, Json]]:
    """Every IAM statement of every role inline policy and AWS::IAM::Policy, with its owner."""
    found: list[tuple[str, Json]] = []
    for logical_id, role in resources_of(template_json, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            found.extend((logical_id, s) for s in policy["PolicyDocument"]["Statement"])
    for logical_id, policy in resources_of(template_json, "AWS::IAM::Policy").items():
        found.extend((logical_id, s) for s in policy["Properties"]["PolicyDocument"]["Statement"])
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def function_role_id(template_json: Json) -> str:
    role: str = function_of(template_json)["Role"]["Fn::GetAtt"][0]
    return role


def function_statements(template_json: Json) -> list[tuple[str, Json]]:
    """The statements of the function's role: its inline policies and attached policies."""
    role = function_role_id(template_json)
    resources = template_json["Resources"]
    return [
        (owner, statement)
        for owner, statement in statements(template_json)
        if owner == role or {"Ref": role} in resources[owner]["Properties"].get("Roles", [])
    ]


def action_resources(template_json: Json) -> dict[str, list[Any]]:
    """Action -> resources granted (normalized) to the function's role."""
    table: dict[str, list[Any]] = {}
    for _owner, statement in function_statements(template_json):
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            table.setdefault(action, []).extend(
                normalize(r) for r in as_list(statement["Resource"])
            )
    return table


# ----------------------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "AutoRemediate",
            {"Type": "String", "Default": "false", "AllowedValues": ["true", "false"]},
        ),
        ("RemediationDryRun", {"Type": "String", "Default": "false"}),
        ("RemediationRequireTag", {"Type": "String", "Default": "false"}),
        ("MaxRemediationsPerRun", {"Type": "Number", "Default": 5, "MinValue": 0}),
        ("AuditRegions", {"Type": "String", "Default": "all"}),
        ("FindingsRegion", {"Type": "String", "Default": ""}),
        ("ScheduleExpression", {"Type": "String", "Default": "rate(6 hours)"}),
        ("NotificationEmail", {"Type": "String", "Default": ""}),
        ("ReservedConcurrency", {"Type": "Number", "Default": 1, "MinValue": 0, "MaxValue": 1}),
        ("LogLevel", {"Type": "String", "Default": "INFO"}),
        ("FindingsRefreshHours", {"Type": "Number", "Default": 24, "MinValue": 1}),
        ("PowertoolsLayerArn", {"Type": "String", "Default": ""}),
        ("EventDrivenMode", {"Type": "String", "Default": "true"}),
        ("RemediationCooldownMinutes", {"Type": "Number", "Default": 30, "MinValue": 0}),
    ],
)
def test_parameter(template_json: Json, name: str, expected: Json) -> None:
    parameter = template_json["Parameters"][name]
    for key, value in expected.items():
        assert parameter[key] == value, (name, key)
    assert parameter["Description"]


@pytest.mark.parametrize("name", ["AutoRemediate", "RemediationDryRun", "RemediationRequireTag"])
def test_boolean_parameters_allow_only_true_false(template_json: Json, name: str) -> None:
    assert sorted(template_json["Parameters"][name]["AllowedValues"]) == ["false", "true"]


@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        ("AuditRegions", ["all", "eu-west-1", "eu-west-1,us-east-1", "us-gov-west-1"], ["", "x"]),
        ("FindingsRegion", ["", "eu-central-1"], ["all", "eu central"]),
        ("ScheduleExpression", ["rate(6 hours)", "cron(0 */6 * * ? *)"], ["6h", ""]),
        ("NotificationEmail", ["", "sec@example.com"], ["nobody", "a@b"]),
        (
            "PowertoolsLayerArn",
            [
                "",
                "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:7",
                "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:layer:powertools:1",
                "arn:aws-cn:lambda:cn-north-1:123456789012:layer:powertools:3",
            ],
            ["latest", "arn:aws:lambda:eu-west-1:123:layer:x", "arn:aws:s3:::bucket"],
        ),
    ],
)
def test_parameter_patterns(
    template_json: Json, name: str, good: list[str], bad: list[str]
) -> None:
    pattern = re.compile(template_json["Parameters"][name]["AllowedPattern"])
    assert all(pattern.fullmatch(v) for v in good), name
    assert not any(pattern.fullmatch(v) for v in bad), name


def test_conditions(template_json: Json) -> None:
    conditions = template_json["Conditions"]
    assert conditions["AutoRemediateEnabled"] == {"Fn::Equals": [{"Ref": "AutoRemediate"}, "true"]}
    assert conditions["HasNotificationEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "NotificationEmail"}, ""]}]
    }
    assert conditions["ReserveConcurrency"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ReservedConcurrency"}, "0"]}]
    }
    assert conditions["PowertoolsLayerFromSsm"] == {
        "Fn::Equals": [{"Ref": "PowertoolsLayerArn"}, ""]
    }


def test_cdk_json_runs_app_py_with_its_feature_flags() -> None:
    cdk_json = json.loads((Path(__file__).resolve().parents[3] / "cdk.json").read_text())
    assert cdk_json["app"].endswith("python app.py")
    flags = cdk_json["context"]
    assert len(flags) > 50
    app = build_app()
    for flag, value in flags.items():
        assert app.node.try_get_context(flag) == value, flag


# ----------------------------------------------------------------------------- IAM


def test_remediation_policy_is_conditional_and_only_updates_vpc_cni(template_json: Json) -> None:
    conditional = {
        k: v
        for k, v in resources_of(template_json, "AWS::IAM::Policy").items()
        if v.get("Condition") == "AutoRemediateEnabled"
    }
    _, policy = only(conditional)
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert as_list(statement["Action"]) == ["eks:UpdateAddon"]
    assert [normalize(r) for r in as_list(statement["Resource"])] == [VPC_CNI_ADDON_ARN]
    assert policy["Properties"]["Roles"] == [{"Ref": function_role_id(template_json)}]


def test_update_addon_granted_nowhere_else(template_json: Json) -> None:
    for owner, statement in statements(template_json):
        actions = as_list(statement["Action"])
        assert not any(a in ("*", "eks:*", "eks:Update*") for a in actions), owner
        if "eks:UpdateAddon" in actions:
            assert template_json["Resources"][owner].get("Condition") == "AutoRemediateEnabled"


def test_no_managed_policies(template_json: Json) -> None:
    assert not resources_of(template_json, "AWS::IAM::ManagedPolicy")
    for role in resources_of(template_json, "AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]


def test_role_trusts_only_lambda(template_json: Json) -> None:
    role = template_json["Resources"][function_role_id(template_json)]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"


def test_batch_import_findings_scoped_to_default_product(template_json: Json) -> None:
    assert action_resources(template_json)["securityhub:BatchImportFindings"] == [
        DEFAULT_PRODUCT_ARN
    ]


def test_iam_action_resource_table(template_json: Json) -> None:
    """The complete grant table: docs/security-iam.md states this list."""
    table = action_resources(template_json)
    dlq_arn = {"Fn::GetAtt": [dlq_id(template_json), "Arn"]}
    log_group_arn = {"Fn::GetAtt": [log_group_id(template_json), "Arn"]}
    event_log_group = by_path(
        template_json, "AWS::Logs::LogGroup", "Events/FunctionLogGroup/Resource"
    )
    event_log_group_arn = {"Fn::GetAtt": [event_log_group, "Arn"]}
    event_queue = by_path(template_json, "AWS::SQS::Queue", "Events/Queue/Resource")
    event_queue_arn = {"Fn::GetAtt": [event_queue, "Arn"]}
    expected: dict[str, list[Any]] = {
        "sts:GetCallerIdentity": ["*"],
        "ec2:DescribeRegions": ["*"],
        "eks:ListClusters": ["*"],
        "eks:DescribeAddonConfiguration": ["*"],
        "eks:DescribeCluster": [CLUSTER_ARN],
        "eks:ListAddons": [CLUSTER_ARN],
        "eks:DescribeAddon": [VPC_CNI_ADDON_ARN, VPC_CNI_ADDON_BARE_ARN],
        "eks:UpdateAddon": [VPC_CNI_ADDON_ARN],
        # Self-enrolment (conditional policy, InClusterCheck and InClusterEnrol; its
        # conditions: tests/unit/infra/test_in_cluster_iam.py).
        "eks:CreateAccessEntry": [CLUSTER_ARN],
        "eks:AssociateAccessPolicy": [ACCESS_ENTRY_ARN],
        "securityhub:BatchImportFindings": [DEFAULT_PRODUCT_ARN],
        "securityhub:BatchUpdateFindings": [HUB_ARN],
        "securityhub:GetFindings": [HUB_ARN],
        "xray:PutTraceSegments": ["*"],
        "xray:PutTelemetryRecords": ["*"],
        # Each function's own log group; the event function's in the conditional policy.
        "logs:CreateLogStream": [log_group_arn, event_log_group_arn],
        "logs:PutLogEvents": [log_group_arn, event_log_group_arn],
        "sqs:SendMessage": [dlq_arn],
        "sqs:GetQueueAttributes": [dlq_arn, event_queue_arn],
        "sqs:GetQueueUrl": [dlq_arn],
        # The SQS event source (conditional policy, EventDrivenMode): exactly what
        # Lambda's poller needs, on the event queue only.
        "sqs:ReceiveMessage": [event_queue_arn],
        "sqs:DeleteMessage": [event_queue_arn],
    }
    assert sorted(table) == sorted(expected)
    for action, resources in expected.items():
        assert sorted(map(json.dumps, table[action])) == sorted(map(json.dumps, resources)), action


def test_security_page_lists_exactly_the_granted_actions(template_json: Json) -> None:
    """docs/security-iam.md's grant table names every action the template grants, and no
    other: a new grant without its row (or a row for a removed grant) fails here."""
    page = (Path(__file__).resolve().parents[3] / "docs" / "security-iam.md").read_text()
    section = page.split("## What the function may do", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    listed = {
        a for row in rows for a in re.findall(r"`([a-z0-9-]+:[A-Za-z]+)`", row.split(" | ")[0])
    }
    assert listed == set(action_resources(template_json))


# ----------------------------------------------------------------------------- function


def makefile_lambda_python() -> str:
    """The Python minor version `make test-runtime` (CI) runs the engine's tests on."""
    found = re.search(r"^LAMBDA_PYTHON := (\d+\.\d+)$", MAKEFILE.read_text(), re.MULTILINE)
    assert found is not None
    return found.group(1)


def function_id(template_json: Json) -> str:
    """The scheduled function (event-driven runs have their own: test_events.py)."""
    return by_path(template_json, "AWS::Lambda::Function", "AuditorFunction/Resource")


def function_of(template_json: Json) -> Json:
    properties: Json = template_json["Resources"][function_id(template_json)]["Properties"]
    return properties


def dlq_id(template_json: Json) -> str:
    """The dead-letter queue of the schedule and of async invocations."""
    return by_path(template_json, "AWS::SQS::Queue", "DeadLetterQueue/Resource")


def log_group_id(template_json: Json) -> str:
    return by_path(template_json, "AWS::Logs::LogGroup", "FunctionLogGroup/Resource")


def test_function_runtime_and_sizing(template_json: Json) -> None:
    function = function_of(template_json)
    # The function runs exactly the Python its tests run on in CI (issue 19, item 6).
    assert function["Runtime"] == f"python{makefile_lambda_python()}" == "python3.13"
    assert function["Architectures"] == ["arm64"]
    assert function["Handler"] == "eks_netpol_auditor.handler.scheduled_handler"
    assert function["MemorySize"] == 512
    assert 600 <= function["Timeout"] <= 900
    assert function["TracingConfig"] == {"Mode": "Active"}


def test_powertools_layer_from_public_ssm_parameter_unless_an_arn_is_given(
    template_json: Json,
) -> None:
    runtime = function_of(template_json)["Runtime"]
    expected = f"/aws/service/powertools/python/arm64/{runtime}/latest"
    assert expected == POWERTOOLS_LAYER_PARAMETER
    (layer,) = function_of(template_json)["Layers"]
    assert layer == {
        "Fn::If": [
            "PowertoolsLayerFromSsm",
            f"{{{{resolve:ssm:{POWERTOOLS_LAYER_PARAMETER}}}}}",
            {"Ref": "PowertoolsLayerArn"},
        ]
    }
    # No SSM-typed template parameter: CloudFormation would resolve it on every deploy,
    # failing where the public parameter does not exist even with an ARN given.
    assert [
        name
        for name, parameter in template_json["Parameters"].items()
        if parameter["Type"].startswith("AWS::SSM::Parameter")
    ] == ["BootstrapVersion"]  # CDK's own bootstrap check, not ours


def test_environment_passes_parameters(template_json: Json) -> None:
    assert function_of(template_json)["Environment"]["Variables"] == {
        "AUDIT_REGIONS": {"Ref": "AuditRegions"},
        "PUBLISH_FINDINGS": "true",
        "FINDINGS_REGION": {"Ref": "FindingsRegion"},
        "FINDINGS_REFRESH_HOURS": {"Ref": "FindingsRefreshHours"},
        "AUTO_REMEDIATE": {"Ref": "AutoRemediate"},
        "REMEDIATION_DRY_RUN": {"Ref": "RemediationDryRun"},
        "MAX_REMEDIATIONS_PER_RUN": {"Ref": "MaxRemediationsPerRun"},
        "REMEDIATION_REQUIRE_TAG": {"Ref": "RemediationRequireTag"},
        "REMEDIATION_COOLDOWN_MINUTES": {"Ref": "RemediationCooldownMinutes"},
        "IN_CLUSTER_CHECK": {"Ref": "InClusterCheck"},
        "IN_CLUSTER_EXCLUDE_NAMESPACES": {"Ref": "InClusterExcludeNamespaces"},
        "IN_CLUSTER_ENROL": {"Ref": "InClusterEnrol"},
        "POWERTOOLS_SERVICE_NAME": "eks-netpol-auditor",
        "POWERTOOLS_METRICS_NAMESPACE": "EksNetpolAuditor",
        "LOG_LEVEL": {"Ref": "LogLevel"},
    }


def test_reserved_concurrency_is_a_parameter_with_opt_out(template_json: Json) -> None:
    assert function_of(template_json)["ReservedConcurrentExecutions"] == {
        "Fn::If": ["ReserveConcurrency", {"Ref": "ReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
    }


def test_log_group_with_retention(template_json: Json) -> None:
    log_id = log_group_id(template_json)
    log_group = template_json["Resources"][log_id]
    assert log_group["Properties"]["RetentionInDays"] == 365
    assert function_of(template_json)["LoggingConfig"] == {"LogGroup": {"Ref": log_id}}
    # No log_retention custom resource (the deprecated mechanism).
    assert not resources_of(template_json, "Custom::LogRetention")


def test_async_invoke_config(template_json: Json) -> None:
    _, config = only(resources_of(template_json, "AWS::Lambda::EventInvokeConfig"))
    props = config["Properties"]
    assert 0 <= props["MaximumRetryAttempts"] <= 2
    assert props["MaximumEventAgeInSeconds"] <= 6 * 3600
    assert props["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": [dlq_id(template_json), "Arn"]}}
    }


# ----------------------------------------------------------------------------- schedule, DLQ


def test_schedule_rule_targets_function_with_dlq_and_retries(template_json: Json) -> None:
    _, rule = only(
        {
            k: v
            for k, v in resources_of(template_json, "AWS::Events::Rule").items()
            if "ScheduleExpression" in v["Properties"]
        }
    )
    props = rule["Properties"]
    assert props["ScheduleExpression"] == {"Ref": "ScheduleExpression"}
    assert props["State"] == "ENABLED"
    (target,) = props["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [function_id(template_json), "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq_id(template_json), "Arn"]}}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 2
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] == 3600


def test_every_queue_passes_control_tower_sqs_pr_1(template_json: Json) -> None:
    """CT.SQS.PR.1 runs as a CloudFormation hook where enabled, and fails the stack on a
    queue that has neither a RedrivePolicy with a target nor a RedriveAllowPolicy of
    allowAll or byQueue (guard rule sqs_dlq_check in cdk-validator-cfnguard's Control
    Tower rules, scenarios 2-5). A denyAll DLQ fails it (issue 17, item 20)."""
    queues = resources_of(template_json, "AWS::SQS::Queue")
    assert len(queues) >= 2
    for logical_id, queue in queues.items():
        props = queue["Properties"]
        redrive_target = props.get("RedrivePolicy", {}).get("deadLetterTargetArn")
        permission = props.get("RedriveAllowPolicy", {}).get("redrivePermission")
        assert redrive_target or permission in ("allowAll", "byQueue"), logical_id


def test_dlq_encrypted_and_ssl_only(template: Template, template_json: Json) -> None:
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {"SqsManagedSseEnabled": True, "RedriveAllowPolicy": {"redrivePermission": "allowAll"}},
    )
    queue = {"Ref": dlq_id(template_json)}
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "Queues": [queue],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Action": "sqs:*",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        ),
                        # EventBridge may send to the DLQ, only for this rule.
                        Match.object_like(
                            {
                                "Effect": "Allow",
                                "Action": "sqs:SendMessage",
                                "Principal": {"Service": "events.amazonaws.com"},
                                "Condition": Match.object_like({"ArnEquals": Match.any_value()}),
                            }
                        ),
                    ]
                )
            },
        },
    )


# ----------------------------------------------------------------------------- alarms, SNS


def test_three_alarms_to_the_topic(template_json: Json) -> None:
    # The event path's alarms exist only with EventDrivenMode (tests/unit/infra/test_events.py).
    alarms = {
        k: v
        for k, v in resources_of(template_json, "AWS::CloudWatch::Alarm").items()
        if "Condition" not in v
    }
    topic_id, _ = only(resources_of(template_json, "AWS::SNS::Topic"))
    metrics = {}
    for alarm in alarms.values():
        props = alarm["Properties"]
        assert props["Threshold"] == 1
        assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert props["TreatMissingData"] == "notBreaching"
        assert props["EvaluationPeriods"] == 1
        assert props["AlarmActions"] == [{"Ref": topic_id}]
        metrics[(props["Namespace"], props["MetricName"])] = props["Dimensions"]
    scheduled = {"Ref": function_id(template_json)}
    assert metrics == {
        ("AWS/Lambda", "Errors"): [{"Name": "FunctionName", "Value": scheduled}],
        ("AWS/Lambda", "Throttles"): [{"Name": "FunctionName", "Value": scheduled}],
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"): [
            {"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id(template_json), "QueueName"]}}
        ],
    }


def test_topic_encrypted_ssl_only_and_usable_by_cloudwatch(
    template: Template, template_json: Json
) -> None:
    key_id, key = only(resources_of(template_json, "AWS::KMS::Key"))
    assert key["Properties"]["EnableKeyRotation"] is True
    key_statements = key["Properties"]["KeyPolicy"]["Statement"]
    assert any(
        s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
        and set(s["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
        for s in key_statements
    )
    template.has_resource_properties(
        "AWS::SNS::Topic", {"KmsMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]}}
    )
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        ),
                        Match.object_like(
                            {
                                "Effect": "Allow",
                                "Action": "sns:Publish",
                                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
                            }
                        ),
                    ]
                )
            }
        },
    )


def test_email_subscription_only_when_address_given(template_json: Json) -> None:
    _, subscription = only(resources_of(template_json, "AWS::SNS::Subscription"))
    assert subscription["Condition"] == "HasNotificationEmail"
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "NotificationEmail"}


def test_environment_agnostic(template_json: Json) -> None:
    text = json.dumps(template_json)
    assert not re.search(r"\b\d{12}\b", text), "hard-coded account id"
    assert not re.search(r'"[a-z]{2}-[a-z]+-\d"', text), "hard-coded region"


# ----------------------------------------------------------------------------- cdk-nag


def test_cdk_nag_reports_no_unacknowledged_finding(synth: tuple[Path, Json]) -> None:
    # The module's synth already ran app.py's nag plugin (it raises on a finding);
    # the stack checked directly must give an empty report as well.
    outdir, _ = synth
    reports = json.loads((outdir / "validation-report.json").read_text())["pluginReports"]
    # Only plugins with acknowledged rules write a report; none may report a violation.
    assert {r["pluginName"] for r in reports} <= {
        "cdk-validator-cfnguard",
        "CloudFormation Validate",
    }
    assert all(r["conclusion"] == "success" and r["violations"] == [] for r in reports)
    app = cdk.App()
    stack = EksNetpolAuditorStack(app, "NagCheck")
    report = AwsSolutionsChecks(app).validate_scope(stack)
    assert report.success, [(v.rule_name, v.description) for v in report.violations]
    assert not report.violations


def test_every_acknowledgment_has_a_reason() -> None:
    app = cdk.App()
    stack = EksNetpolAuditorStack(app, "AckCheck")
    acks: dict[str, str] = {}
    for construct in stack.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                acks.update(entry.data)
    assert acks
    for rule, reason in acks.items():
        assert rule.startswith(ACK_PREFIXES), rule
        assert len(reason) >= 40, rule
    # No blanket IAM5: every wildcard is acknowledged on its own.
    assert not any(rule.endswith("AwsSolutions-IAM5") for rule in acks)


ACK_PREFIXES = tuple(
    f"{scope}{plugin}"
    for scope in ("", "Annotation::")
    for plugin in ("AwsSolutions-", "cdk-validator-cfnguard::", "CloudFormation-Validate::")
)


def test_cdk_nag_check_can_fail() -> None:
    """Negative control: a queue without SSL and an unacknowledged wildcard are reported."""
    app = cdk.App()
    stack = cdk.Stack(app, "Bad")
    sqs.Queue(stack, "PlainQueue")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_policy(iam.PolicyStatement(actions=["eks:DescribeCluster"], resources=["*"]))
    report = AwsSolutionsChecks(app).validate_scope(stack)
    rules = {v.rule_name for v in report.violations}
    assert not report.success
    assert "AwsSolutions-SQS4" in rules
    assert "AwsSolutions-IAM5[Resource::*]" in rules


def test_app_synth_fails_on_unacknowledged_finding(tmp_path: Path) -> None:
    """app.py wires the nag plugin so that synthesis itself fails (`make synth` relies on it)."""
    app = build_app(outdir=str(tmp_path))
    stack = app.node.find_child(STACK_NAME)
    assert isinstance(stack, EksNetpolAuditorStack)
    sqs.Queue(stack, "PlainQueue")
    with pytest.raises(RuntimeError, match="ValidationFailed") as failure:
        app.synth()
    assert "AwsSolutions-SQS4" in str(failure.value)
    assert "PlainQueue" in str(failure.value)


# ----------------------------------------------------------------------------- asset


def asset_dir(synth: tuple[Path, Json]) -> Path:
    outdir, template_json = synth
    key = function_of(template_json)["Code"]["S3Key"]
    path = outdir / f"asset.{key.removesuffix('.zip')}"
    assert path.is_dir(), path
    return path


def test_asset_contains_package_and_pure_python_yaml(synth: tuple[Path, Json]) -> None:
    root = asset_dir(synth)
    yaml_dist_info = dist_info_files(yaml_distribution())[0].parts[0]
    assert sorted(p.name for p in root.iterdir()) == [
        "eks_netpol_auditor",
        yaml_dist_info,
        "yaml",
    ]
    assert (root / "eks_netpol_auditor" / "__init__.py").is_file()
    assert (root / "eks_netpol_auditor" / "model.py").is_file()
    assert (root / "yaml" / "__init__.py").is_file()
    unwanted = [
        p
        for p in root.rglob("*")
        if p.name in {"tests", "__pycache__", ".pytest_cache", ".mypy_cache", "conftest.py"}
        or p.suffix in {".pyc", ".so", ".pyd"}
    ]
    assert not unwanted


def test_bundled_yaml_works_without_c_extension(synth: tuple[Path, Json]) -> None:
    code = (
        "import sys, yaml; "
        "assert yaml.__file__.startswith(sys.argv[1]), yaml.__file__; "
        "assert not yaml.__with_libyaml__; "
        "print(yaml.safe_load('enableNetworkPolicy: \"true\"')['enableNetworkPolicy'])"
    )
    root = str(asset_dir(synth))
    result = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {root!r}); {code}", root],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "true"


def test_local_bundler_excludes_tests_and_caches(tmp_path: Path) -> None:
    source = tmp_path / "src"
    package = source / "eks_netpol_auditor"
    for relative in [
        "__init__.py",
        "engine.py",
        "tests/test_engine.py",
        "__pycache__/engine.cpython-311.pyc",
        ".mypy_cache/x.json",
        "fast.cpython-311-x86_64-linux-gnu.so",
    ]:
        (package / relative).parent.mkdir(parents=True, exist_ok=True)
        (package / relative).write_text("x")
    out = tmp_path / "out"
    out.mkdir()
    assert LocalPythonBundler(source).try_bundle(str(out), None) is True
    shipped = sorted(str(p.relative_to(out)) for p in out.rglob("*.py*"))
    assert "eks_netpol_auditor/engine.py" in shipped
    assert not [p for p in shipped if "test" in p or "cache" in p or p.endswith(".pyc")]
    assert not list(out.rglob("*.so"))
    assert (out / "yaml" / "__init__.py").is_file()


def test_local_bundler_fails_loudly_without_package(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        LocalPythonBundler(tmp_path).try_bundle(str(tmp_path / "out"), None)


# ----------------------------------------------------------------------------- cfn-lint


def test_cfn_lint_clean(synth: tuple[Path, Json]) -> None:
    from cfnlint.api import ManualArgs, lint_file

    outdir, _ = synth
    matches = lint_file(outdir / f"{STACK_NAME}.template.json", config=ManualArgs())
    assert not matches, [str(m) for m in matches]
