"""Day-one operations in the template: Outputs, console layout, dashboard, insight.

Why: a user who has just deployed needs to find the function, its logs, the alarms
and the findings without knowing CDK's generated names; and what is linted must be
what is deployed (no CDKMetadata added by one synth path only).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import pytest

from eks_netpol_auditor import handler
from eks_netpol_auditor.model import AuditResult
from eks_netpol_auditor.names import METRICS_NAMESPACE, PRODUCT
from eks_netpol_auditor.securityhub.asff import GENERATOR_ID
from infra.operations import DASHBOARD_GRAPHS
from infra.parameters import LABELS
from tests.unit.infra.cfn import Json, by_path, only, resources_of
from tests.unit.infra.cfn_eval import Deployment

REPO = Path(__file__).resolve().parents[3]


def joined(value: Any) -> str:
    """An Fn::Join rendered as text, with references as <Ref>/<GetAtt.Attr>/<If>."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return f"<{value['Fn::GetAtt'][0]}.{value['Fn::GetAtt'][1]}>"
    if "Fn::If" in value:
        return "<If>"
    sep, parts = value["Fn::Join"]
    return str(sep).join(joined(p) for p in parts)


def test_outputs_name_what_a_user_looks_for(template_json: Json) -> None:
    outputs = template_json["Outputs"]
    function_id = by_path(template_json, "AWS::Lambda::Function", "AuditorFunction/Resource")
    log_id = by_path(template_json, "AWS::Logs::LogGroup", "FunctionLogGroup/Resource")
    topic_id, _ = only(resources_of(template_json, "AWS::SNS::Topic"))
    assert outputs["FunctionName"]["Value"] == {"Ref": function_id}
    assert outputs["LogGroupName"]["Value"] == {"Ref": log_id}
    assert outputs["AlarmTopicArn"]["Value"] == {"Ref": topic_id}
    dlq = outputs["DeadLetterQueueUrl"]["Value"]["Ref"]
    assert template_json["Resources"][dlq]["Type"] == "AWS::SQS::Queue"
    assert all(o["Description"] for o in outputs.values())


def test_findings_link_lists_both_controls_by_our_product_name(template_json: Json) -> None:
    """Each control has its own GeneratorId (issue 18); the link filters on the product name
    both share, so it lists CIS 5.4.4 and 4.3.2 findings alike."""
    url = joined(template_json["Outputs"]["FindingsUrl"]["Value"])
    assert url.startswith("https://<If>/securityhub/home?region=<If>#/findings?search=")
    # The console's search value is URL-encoded twice.
    assert url.endswith("ProductName%3D%255Coperator%255C%253AEQUALS%255C%253Aeks-netpol-auditor")
    assert "GeneratorId" not in url
    region = template_json["Outputs"]["FindingsUrl"]["Value"]["Fn::Join"][1][3]
    assert region == {
        "Fn::If": ["HasFindingsRegion", {"Ref": "FindingsRegion"}, {"Ref": "AWS::Region"}]
    }


def test_dashboard_and_insight_are_linked(template_json: Json) -> None:
    dashboard_id, _ = only(resources_of(template_json, "AWS::CloudWatch::Dashboard"))
    insight_id, _ = only(resources_of(template_json, "AWS::SecurityHub::Insight"))
    dashboard_url = joined(template_json["Outputs"]["DashboardUrl"]["Value"])
    insight_url = joined(template_json["Outputs"]["FailedByRegionInsightUrl"]["Value"])
    assert dashboard_url.endswith(f"#dashboards/dashboard/<{dashboard_id}>")
    assert insight_url.endswith(f"#/insights/<{insight_id}.InsightArn>")


def test_console_host_follows_the_partition(template_json: Json) -> None:
    host = template_json["Outputs"]["DashboardUrl"]["Value"]["Fn::Join"][1][1]
    text = json.dumps(host)
    for name in ("console.aws.amazon.com", "console.amazonaws.cn", "console.amazonaws-us-gov.com"):
        assert name in text
    conditions = template_json["Conditions"]
    partitions = {
        c["Fn::Equals"][1]
        for c in conditions.values()
        if "Fn::Equals" in c and c["Fn::Equals"][0] == {"Ref": "AWS::Partition"}
    }
    assert partitions == {"aws-cn", "aws-us-gov"}


def test_insight_groups_our_failed_findings_by_region(template_json: Json) -> None:
    _, insight = only(resources_of(template_json, "AWS::SecurityHub::Insight"))
    props = insight["Properties"]
    assert props["GroupByAttribute"] == "ResourceRegion"
    assert props["Filters"] == {
        "GeneratorId": [{"Comparison": "EQUALS", "Value": GENERATOR_ID}],
        "ComplianceStatus": [{"Comparison": "EQUALS", "Value": "FAILED"}],
        "RecordState": [{"Comparison": "EQUALS", "Value": "ACTIVE"}],
    }


def dashboard_widgets(template_json: Json, **parameters: str) -> list[Json]:
    """The dashboard's widgets as deployed with these parameter values."""
    _, dashboard = only(resources_of(template_json, "AWS::CloudWatch::Dashboard"))
    body = Deployment(template_json, parameters).resolve(dashboard["Properties"]["DashboardBody"])
    widgets: list[Json] = json.loads(body)["widgets"]
    return widgets


def dashboard_metric_lines(template_json: Json, **parameters: str) -> list[list[Any]]:
    """Every metric line: [namespace, name, dimension, value, ..., {options}]."""
    return [
        line
        for widget in dashboard_widgets(template_json, **parameters)
        for line in widget["properties"].get("metrics", [])
    ]


def dashboard_metrics(template_json: Json) -> set[tuple[str, str]]:
    """(namespace, metric name) of every metric on the dashboard."""
    return {(line[0], line[1]) for line in dashboard_metric_lines(template_json)}


def test_dashboard_shows_the_event_function_and_queue_with_event_mode(
    template_json: Json,
) -> None:
    """Issue 17 item 17: the dashboard showed only the scheduled function."""
    function = "<" + by_path(template_json, "AWS::Lambda::Function", "Events/Function/Resource")
    queue = "<" + by_path(template_json, "AWS::SQS::Queue", "Events/Queue/Resource")
    lines = dashboard_metric_lines(template_json, EventDrivenMode="true")
    of_function = {
        line[1] for line in lines if line[0] == "AWS/Lambda" and line[3].startswith(function)
    }
    of_queue = {line[1] for line in lines if line[0] == "AWS/SQS" and line[3].startswith(queue)}
    assert of_function >= {"Invocations", "Errors", "Throttles", "Duration"}
    assert of_queue >= {"ApproximateAgeOfOldestMessage", "NumberOfMessagesSent"}
    # Without the event path the dashboard is still valid and names none of its parts.
    off = json.dumps(dashboard_widgets(template_json, EventDrivenMode="false"))
    assert function not in off
    assert queue not in off
    assert "AWS/Lambda" in off


def test_the_cloudtrail_prerequisite_is_an_output_with_its_check(template_json: Json) -> None:
    """Issue 17 item 9: "AWS API Call via CloudTrail" events exist only where a trail logs
    them (EventBridge User Guide, "AWS service events delivered via AWS CloudTrail"); the
    Output says so and names the graph that shows whether any event arrived."""
    output = template_json["Outputs"]["EventPrerequisite"]
    assert output["Condition"] == "EventDrivenEnabled"
    assert "CloudTrail trail" in output["Value"]
    titles = [w["properties"].get("title") for w in dashboard_widgets(template_json)]
    [received] = [t for t in titles if t and t.startswith("EKS change events received")]
    assert "'EKS change events received'" in output["Value"]
    lines = dashboard_metric_lines(template_json)
    queue = "<" + by_path(template_json, "AWS::SQS::Queue", "Events/Queue/Resource")
    assert any(
        line[:2] == ["AWS/SQS", "NumberOfMessagesSent"] and line[3].startswith(queue)
        for line in lines
    ), received


def emitted_metric_names(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Every metric name the handler's record_metrics adds, with a spy."""
    spy = MagicMock()
    monkeypatch.setattr(handler, "metrics", spy)
    handler.record_metrics(AuditResult(account="111122223333", partition="aws", regions=[]), 1.0)
    return {call.kwargs["name"] for call in spy.add_metric.call_args_list}


def test_dashboard_shows_what_the_handler_emits(
    template_json: Json, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = dashboard_metrics(template_json)
    ours = {name for namespace, name in shown if namespace == METRICS_NAMESPACE}
    emitted = emitted_metric_names(monkeypatch) | {"InvocationsRejected", "RunsAborted"}
    assert ours, shown
    assert ours <= emitted, ours - emitted
    # Every per-run metric is on the dashboard (the picture is complete).
    assert emitted_metric_names(monkeypatch) <= ours | {"ClustersAudited"}
    assert ("AWS/Lambda", "Errors") in shown
    assert {name for _, graph in DASHBOARD_GRAPHS for name, _ in graph} == ours


def test_dashboard_metrics_carry_the_powertools_service_dimension(template_json: Json) -> None:
    _, dashboard = only(resources_of(template_json, "AWS::CloudWatch::Dashboard"))
    body = joined(dashboard["Properties"]["DashboardBody"])
    assert f'"{METRICS_NAMESPACE}","ClustersFailed","service","{PRODUCT}"' in body


def test_console_shows_parameters_in_labelled_groups(template_json: Json) -> None:
    interface = template_json["Metadata"]["AWS::CloudFormation::Interface"]
    grouped = [p for g in interface["ParameterGroups"] for p in g["Parameters"]]
    ours = [p for p in template_json["Parameters"] if p != "BootstrapVersion"]
    assert sorted(grouped) == sorted(ours)
    assert len(grouped) == len(set(grouped))
    assert interface["ParameterGroups"][0]["Parameters"][0] == "AuditRegions"
    assert set(interface["ParameterLabels"]) == set(ours) == set(LABELS)


def test_no_cdk_metadata_so_make_and_cdk_synth_agree(template_json: Json) -> None:
    assert not resources_of(template_json, "AWS::CDK::Metadata")
    assert "CDKMetadataAvailable" not in template_json.get("Conditions", {})
    cdk_json = json.loads((REPO / "cdk.json").read_text())
    assert cdk_json["versionReporting"] is False
    # The CLI adds aws:cdk:path metadata by default; make synth must as well.
    assert all("aws:cdk:path" in r["Metadata"] for r in template_json["Resources"].values())


def test_cfn_guard_plugin_runs_and_is_clean(synth: tuple[Path, Json]) -> None:
    outdir, _ = synth
    reports = json.loads((outdir / "validation-report.json").read_text())["pluginReports"]
    (guard,) = [r for r in reports if r["pluginName"] == "cdk-validator-cfnguard"]
    assert guard["conclusion"] == "success"
    assert not guard["violations"]
    acknowledged = {v["ruleName"] for v in guard["suppressedViolations"]}
    # Exactly the exceptions the documentation's security page lists.
    assert acknowledged == {
        "cloudwatch_log_group_encrypted_check",
        "lambda_inside_vpc_check",
    }
    security_page = (REPO / "docs" / "security-iam.md").read_text()
    for rule in ("CT.CLOUDWATCH.PR.3", "CT.LAMBDA.PR.3", "CT.SQS.PR.1"):
        assert rule in security_page, rule


def test_alarm_key_allows_grants_only_for_aws_resources(template_json: Json) -> None:
    _, key = only(resources_of(template_json, "AWS::KMS::Key"))
    (deny,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s["Effect"] == "Deny"]
    assert deny["Action"] == "kms:CreateGrant"
    assert deny["Condition"] == {
        "BoolIfExists": {"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}
    }
