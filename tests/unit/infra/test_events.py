"""The event path in the template (issue 12 items 2, 3 and 8).

Why: the rules' patterns decide which EKS changes re-audit a cluster within minutes;
the bus policy decides who may start audits; the queue, its DLQ and the event source
decide that a burst is buffered, a poison message is parked after bounded retries and
a partial batch failure is retried alone. Each of those promises is pinned here, for
the home stack and for the per-region forwarder stack.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from app import FORWARDER_STACK_PREFIX, STACK_NAME, build_app
from eks_netpol_auditor.events import (
    ADDON_EVENTS,
    AUTO_MODE_PATH,
    CLOUDTRAIL_DETAIL_TYPE,
    CLOUDTRAIL_EVENTS,
    EKS_EVENT_SOURCE,
    EKS_SOURCE,
)
from infra.app_context import AppContextError, forwarder_regions
from infra.event_path import EVENT_BUS_NAME, FORWARDER_ROLE_PATH
from infra.forwarder import EventForwarderStack
from tests.unit.infra.cfn import Json, by_path, only, resources_of

CONDITION = "EventDrivenEnabled"
API_CALLS_PATTERN: dict[str, Any] = {
    "source": [EKS_SOURCE],
    "detail-type": [CLOUDTRAIL_DETAIL_TYPE],
    "detail": {
        "eventSource": [EKS_EVENT_SOURCE],
        "$or": [
            {"eventName": sorted(CLOUDTRAIL_EVENTS)},
            {
                "eventName": ["UpdateClusterConfig"],
                "requestParameters": {"computeConfig": {"enabled": [{"exists": True}]}},
            },
        ],
    },
}
ADDON_PATTERN = {"source": [EKS_SOURCE], "detail-type": sorted(ADDON_EVENTS)}


def test_patterns_name_exactly_the_documented_events() -> None:
    # CloudTrail: the seven EKS API calls of issue 12 (UpdateClusterConfig, narrowed, has its
    # own alternative: issue 17 item 16); EKS events reference: the eight
    # add-on detail-types (https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-eks.html).
    assert sorted(CLOUDTRAIL_EVENTS) == [
        "CreateAddon",
        "CreateCluster",
        "DeleteAddon",
        "DeleteCluster",
        "TagResource",
        "UntagResource",
        "UpdateAddon",
    ]
    assert sorted(ADDON_EVENTS) == sorted(
        f"EKS Addon {what}"
        for what in (
            "Creation Failed",
            "Creation Succeeded",
            "Update Failed",
            "Update Succeeded",
            "Deletion Failed",
            "Deletion Succeeded",
            "Health Degraded",
            "Health Restored",
        )
    )


def test_update_cluster_config_is_forwarded_only_when_it_switches_auto_mode() -> None:
    """Issue 17 item 16. UpdateClusterConfig's computeConfig.enabled switches EKS Auto Mode
    (botocore eks model), which changes the verdict; the rule narrows on that leaf, since
    EventBridge's exists matching "only works on leaf nodes" (EventBridge user guide,
    "Content filtering in Amazon EventBridge event patterns", Exists matching), and `$or`
    keeps it in the one API-call rule. The pattern and the parser name the same path."""
    (alternative,) = [
        a for a in API_CALLS_PATTERN["detail"]["$or"] if a["eventName"] == ["UpdateClusterConfig"]
    ]
    node: Any = alternative["requestParameters"]
    for key in AUTO_MODE_PATH:
        node = node[key]
    assert node == [{"exists": True}]
    assert "UpdateClusterConfig" not in CLOUDTRAIL_EVENTS  # never unnarrowed


def rules_on(template_json: Json, bus: Any) -> list[Json]:
    return [
        r["Properties"]
        for r in resources_of(template_json, "AWS::Events::Rule").values()
        if r["Properties"].get("EventBusName") == bus and "EventPattern" in r["Properties"]
    ]


def bus_id(template_json: Json) -> str:
    return only(resources_of(template_json, "AWS::Events::EventBus"))[0]


def queue_id(template_json: Json) -> str:
    return by_path(template_json, "AWS::SQS::Queue", "Events/Queue/Resource")


def event_dlq_id(template_json: Json) -> str:
    return by_path(template_json, "AWS::SQS::Queue", "Events/DeadLetterQueue/Resource")


def event_function_id(template_json: Json) -> str:
    return by_path(template_json, "AWS::Lambda::Function", "Events/Function/Resource")


def scheduled_function_id(template_json: Json) -> str:
    return by_path(template_json, "AWS::Lambda::Function", "AuditorFunction/Resource")


def test_rules_on_the_home_bus_send_both_patterns_to_the_queue(template_json: Json) -> None:
    rules = rules_on(template_json, {"Ref": bus_id(template_json)})
    assert sorted(json.dumps(r["EventPattern"], sort_keys=True) for r in rules) == sorted(
        json.dumps(p, sort_keys=True) for p in (API_CALLS_PATTERN, ADDON_PATTERN)
    )
    for rule in rules:
        (target,) = rule["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": [queue_id(template_json), "Arn"]}
        # No InputTransformer: the SQS body is the EventBridge event JSON.
        assert "InputTransformer" not in target and "Input" not in target
        assert target["DeadLetterConfig"] == {
            "Arn": {"Fn::GetAtt": [event_dlq_id(template_json), "Arn"]}
        }
        assert 0 < target["RetryPolicy"]["MaximumRetryAttempts"] <= 185


def test_home_region_forwards_its_own_events_to_the_bus(template_json: Json) -> None:
    rules = rules_on(template_json, None)  # the default bus
    assert sorted(json.dumps(r["EventPattern"], sort_keys=True) for r in rules) == sorted(
        json.dumps(p, sort_keys=True) for p in (API_CALLS_PATTERN, ADDON_PATTERN)
    )
    for rule in rules:
        (target,) = rule["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": [bus_id(template_json), "Arn"]}
        role = template_json["Resources"][target["RoleArn"]["Fn::GetAtt"][0]]
        assert role["Properties"]["Path"] == FORWARDER_ROLE_PATH


def test_bus_admits_only_this_accounts_forwarder_roles(template_json: Json) -> None:
    bus = template_json["Resources"][bus_id(template_json)]
    assert bus["Properties"]["Name"] == EVENT_BUS_NAME
    policies = bus["Properties"]["Policy"]["Statement"]
    assert not resources_of(template_json, "AWS::Events::EventBusPolicy")
    forwarders = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":iam::",
                {"Ref": "AWS::AccountId"},
                f":role{FORWARDER_ROLE_PATH}*",
            ],
        ]
    }
    (deny,) = [s for s in policies if s["Effect"] == "Deny"]
    assert deny["Principal"] == {"AWS": "*"}
    assert deny["Action"] == "events:PutEvents"
    assert deny["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": forwarders}}
    (allow,) = [s for s in policies if s["Effect"] == "Allow"]
    assert allow["Condition"] == {"ArnLike": {"aws:PrincipalArn": forwarders}}
    assert "iam::" in json.dumps(allow["Principal"]) and ":root" in json.dumps(allow["Principal"])


def test_queue_buffers_with_bounded_retries_into_its_dlq(template_json: Json) -> None:
    queue = template_json["Resources"][queue_id(template_json)]["Properties"]
    function = template_json["Resources"][event_function_id(template_json)]["Properties"]
    # Lambda developer guide, "Using Lambda with Amazon SQS": visibility timeout six times
    # the function timeout. A failed or throttled batch returns after it: minutes, not
    # the 90 minutes of the 15-minute scheduled function.
    assert queue["VisibilityTimeout"] == 6 * function["Timeout"]
    assert queue["VisibilityTimeout"] <= 15 * 60
    redrive = queue["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": [event_dlq_id(template_json), "Arn"]}
    assert 1 < redrive["maxReceiveCount"] <= 10
    assert queue["SqsManagedSseEnabled"] is True
    dlq = template_json["Resources"][event_dlq_id(template_json)]["Properties"]
    assert dlq["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert dlq["RedriveAllowPolicy"]["redrivePermission"] in {"allowAll", "byQueue"}


@pytest.mark.parametrize("queue", ["Events/Queue", "Events/DeadLetterQueue"])
def test_event_queues_are_ssl_only(template_json: Json, queue: str) -> None:
    logical_id = by_path(template_json, "AWS::SQS::Queue", f"{queue}/Resource")
    (policy,) = [
        p
        for p in resources_of(template_json, "AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": logical_id}]
    ]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    )


def test_event_source_reports_partial_batch_failures(template_json: Json) -> None:
    _, mapping = only(resources_of(template_json, "AWS::Lambda::EventSourceMapping"))
    props = mapping["Properties"]
    # The event function, never the scheduled one: its reserved concurrency would
    # throttle a batch behind a scheduled run.
    assert props["FunctionName"] == {"Ref": event_function_id(template_json)}
    assert props["EventSourceArn"] == {"Fn::GetAtt": [queue_id(template_json), "Arn"]}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 10 < props["BatchSize"] <= 10_000
    # Above 10 records a batching window is required (1 to 300 s).
    assert 1 <= props["MaximumBatchingWindowInSeconds"] <= 300
    assert props["ScalingConfig"] == {"MaximumConcurrency": 2}
    # Lambda checks the role's SQS permissions when it creates the mapping.
    consume = by_path(template_json, "AWS::IAM::Policy", "Events/ConsumePolicy/Resource")
    assert consume in mapping["DependsOn"]


def test_alarms_on_dlq_depth_oldest_message_and_event_function(template_json: Json) -> None:
    topic_id, _ = only(resources_of(template_json, "AWS::SNS::Topic"))
    alarms = {
        (a["Properties"]["MetricName"], json.dumps(a["Properties"]["Dimensions"])): a
        for a in resources_of(template_json, "AWS::CloudWatch::Alarm").values()
        if a.get("Condition") == CONDITION
    }

    def dims(queue: str) -> str:
        return json.dumps([{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}])

    depth = alarms.pop(("ApproximateNumberOfMessagesVisible", dims(event_dlq_id(template_json))))
    age = alarms.pop(("ApproximateAgeOfOldestMessage", dims(queue_id(template_json))))
    function = json.dumps(
        [{"Name": "FunctionName", "Value": {"Ref": event_function_id(template_json)}}]
    )
    errors = alarms.pop(("Errors", function))
    throttles = alarms.pop(("Throttles", function))
    assert not alarms
    for alarm in (depth, errors, throttles):
        assert alarm["Properties"]["Threshold"] == 1
    assert 15 * 60 <= age["Properties"]["Threshold"] <= 6 * 3600
    for alarm in (depth, age, errors, throttles):
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
        assert alarm["Properties"]["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_event_function_is_the_auditor_without_its_reservation(template_json: Json) -> None:
    resources = template_json["Resources"]
    event = resources[event_function_id(template_json)]["Properties"]
    scheduled = resources[scheduled_function_id(template_json)]["Properties"]
    # One role: the grants (and the IAM-equals-calls test) stay one set.
    assert event["Role"] == scheduled["Role"]
    for same in ("Code", "Runtime", "Architectures", "Layers", "Environment"):
        assert event[same] == scheduled[same], same
    # Each its own entry point: `{}` sent to the event function must not start a full run.
    assert event["Handler"] == "eks_netpol_auditor.handler.event_handler"
    assert scheduled["Handler"] == "eks_netpol_auditor.handler.scheduled_handler"
    assert event["TracingConfig"] == scheduled["TracingConfig"] == {"Mode": "Active"}
    # Short, so that a failed batch returns in minutes; no reservation, so a scheduled run
    # holding its one execution never throttles a batch.
    assert 60 <= event["Timeout"] <= 300
    assert "ReservedConcurrentExecutions" not in event
    assert "ReservedConcurrentExecutions" in scheduled
    # Its own log group, retained as long as the scheduled function's, and the role may
    # write to it only in event-driven mode (the conditional consume policy).
    log_id = by_path(template_json, "AWS::Logs::LogGroup", "Events/FunctionLogGroup/Resource")
    assert event["LoggingConfig"] == {"LogGroup": {"Ref": log_id}}
    scheduled_log = scheduled["LoggingConfig"]["LogGroup"]["Ref"]
    assert resources[log_id]["Properties"] == resources[scheduled_log]["Properties"]
    assert resources[log_id]["DeletionPolicy"] == "Retain"
    consume = by_path(template_json, "AWS::IAM::Policy", "Events/ConsumePolicy/Resource")
    statements = resources[consume]["Properties"]["PolicyDocument"]["Statement"]
    (logs,) = [s for s in statements if s["Resource"] == {"Fn::GetAtt": [log_id, "Arn"]}]
    assert sorted(logs["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]


def _when_off(node: Any) -> Any:
    """``node`` with every Fn::If on the event condition replaced by its false branch."""
    if isinstance(node, list):
        return [_when_off(n) for n in node]
    if not isinstance(node, dict):
        return node
    if list(node) == ["Fn::If"] and node["Fn::If"][0] == CONDITION:
        return _when_off(node["Fn::If"][2])
    return {key: _when_off(value) for key, value in node.items()}


def test_event_driven_mode_can_be_turned_off(template_json: Json) -> None:
    assert template_json["Parameters"]["EventDrivenMode"]["AllowedValues"] == ["true", "false"]
    assert template_json["Conditions"][CONDITION] == {
        "Fn::Equals": [{"Ref": "EventDrivenMode"}, "true"]
    }
    event_resources = {
        logical_id: resource
        for logical_id, resource in template_json["Resources"].items()
        if resource["Metadata"]["aws:cdk:path"].startswith(f"{STACK_NAME}/Events/")
    }
    assert len(event_resources) >= 12
    assert all(r.get("Condition") == CONDITION for r in event_resources.values())
    # Nothing unconditional may point at them (the template would be invalid when off),
    # except in the branch of an Fn::If on the same condition (the dashboard's event graphs).
    for logical_id, resource in template_json["Resources"].items():
        if resource.get("Condition") == CONDITION:
            continue
        text = json.dumps(_when_off(resource))
        for event_id in event_resources:
            assert f'"{event_id}"' not in text, (logical_id, event_id)


# ----------------------------------------------------------------------------- forwarders


def forwarder_template(home_region: str | None) -> Json:
    app = cdk.App()
    stack = EventForwarderStack(
        app, "Forwarder", home_region=home_region, env=cdk.Environment(region="eu-west-1")
    )
    return dict(Template.from_stack(stack).to_json())


def test_forwarder_sends_both_patterns_to_the_home_bus_with_a_role() -> None:
    template = forwarder_template("us-east-1")
    rules = [r["Properties"] for r in resources_of(template, "AWS::Events::Rule").values()]
    assert sorted(json.dumps(r["EventPattern"], sort_keys=True) for r in rules) == sorted(
        json.dumps(p, sort_keys=True) for p in (API_CALLS_PATTERN, ADDON_PATTERN)
    )
    home_bus = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":events:us-east-1:",
                {"Ref": "AWS::AccountId"},
                f":event-bus/{EVENT_BUS_NAME}",
            ],
        ]
    }
    role_id, role = only(resources_of(template, "AWS::IAM::Role"))
    for rule in rules:
        assert "EventBusName" not in rule  # the region's default bus
        (target,) = rule["Targets"]
        assert target["Arn"] == home_bus
        assert target["RoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert role["Properties"]["Path"] == FORWARDER_ROLE_PATH
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    _, policy = only(resources_of(template, "AWS::IAM::Policy"))
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "events:PutEvents"
    assert statement["Resource"] == home_bus


def test_forwarder_for_stacksets_takes_the_home_region_as_a_parameter() -> None:
    template = forwarder_template(None)
    assert template["Parameters"]["HomeRegion"]["Type"] == "String"
    text = json.dumps(template)
    assert '{"Ref": "HomeRegion"}' in text
    assert not resources_of(template, "AWS::SQS::Queue")


def test_app_deploys_forwarders_to_the_regions_given(tmp_path: Path) -> None:
    app = build_app(
        outdir=str(tmp_path),
        context={"forwarderRegions": "eu-west-1,us-west-2,us-east-1", "homeRegion": "us-east-1"},
    )
    assembly = app.synth()  # both validation plugins run on the forwarders too
    names = sorted(s.stack_name for s in assembly.stacks)
    assert names == [
        STACK_NAME,
        f"{FORWARDER_STACK_PREFIX}-eu-west-1",
        f"{FORWARDER_STACK_PREFIX}-us-west-2",
    ]
    forwarder = assembly.get_stack_by_name(f"{FORWARDER_STACK_PREFIX}-eu-west-1")
    assert forwarder.environment.region == "eu-west-1"
    assert '":events:us-east-1:"' in json.dumps(forwarder.template)


@pytest.mark.parametrize(
    ("value", "home", "expected"),
    [
        (None, None, ()),
        ("", "us-east-1", ()),
        ("eu-west-1, us-west-2", "us-east-1", ("eu-west-1", "us-west-2")),
        (["eu-west-1", "eu-west-1", "us-east-1"], "us-east-1", ("eu-west-1",)),
    ],
)
def test_forwarder_regions_from_context(
    value: object, home: str | None, expected: tuple[str, ...]
) -> None:
    assert forwarder_regions(value, home) == expected


@pytest.mark.parametrize(
    ("value", "home", "message"),
    [
        ("eu-west-1,nowhere", "us-east-1", "not a region name: nowhere"),
        ("eu-west-1", None, "needs the home region"),
        (42, "us-east-1", "comma-separated list"),
    ],
)
def test_bad_forwarder_context_is_one_line(value: object, home: str | None, message: str) -> None:
    with pytest.raises(AppContextError, match=message) as error:
        forwarder_regions(value, home)
    assert "\n" not in str(error.value)


def test_event_outputs_exist_only_in_event_driven_mode(template_json: Json) -> None:
    outputs = template_json["Outputs"]
    assert outputs["EventBusArn"]["Value"] == {"Fn::GetAtt": [bus_id(template_json), "Arn"]}
    assert outputs["EventQueueUrl"]["Value"] == {"Ref": queue_id(template_json)}
    assert outputs["EventDeadLetterQueueUrl"]["Value"] == {"Ref": event_dlq_id(template_json)}
    assert outputs["EventFunctionName"]["Value"] == {"Ref": event_function_id(template_json)}
    event_log = by_path(template_json, "AWS::Logs::LogGroup", "Events/FunctionLogGroup/Resource")
    assert outputs["EventLogGroupName"]["Value"] == {"Ref": event_log}
    event_outputs = (
        "EventFunctionName",
        "EventLogGroupName",
        "EventBusArn",
        "EventQueueUrl",
        "EventDeadLetterQueueUrl",
    )
    for name in event_outputs:
        assert outputs[name]["Condition"] == CONDITION
