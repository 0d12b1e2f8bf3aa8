"""The deployment reads `doctor` makes, through botocore's own parsers: CloudFormation
DescribeStacks (query), CloudWatch GetMetricData (json, query-compatible errors) and the
CloudTrail trail reads (json 1.1), with the rules the AWS API references state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from sandbox.client import SandboxClient
from tests.conftest import AwsClientFactory

HOME, OTHER = "us-east-1", "eu-west-1"


def test_describe_stacks_answers_the_stack_and_validation_error_for_a_missing_one(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    sandbox.put_stack(
        HOME,
        "EksNetpolAuditor",
        status="UPDATE_ROLLBACK_COMPLETE",
        reason="Resource handler returned message",
        parameters={"AuditRegions": "all"},
        outputs={"FunctionName": "fn-1"},
    )
    cloudformation = aws_client("cloudformation", HOME)
    (stack,) = cloudformation.describe_stacks(StackName="EksNetpolAuditor")["Stacks"]
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert stack["StackStatusReason"] == "Resource handler returned message"
    assert stack["Parameters"] == [{"ParameterKey": "AuditRegions", "ParameterValue": "all"}]
    assert stack["Outputs"] == [{"OutputKey": "FunctionName", "OutputValue": "fn-1"}]
    assert stack["StackId"].startswith(f"arn:aws:cloudformation:{HOME}:123456789012:stack/")
    with pytest.raises(ClientError) as missing:
        aws_client("cloudformation", OTHER).describe_stacks(StackName="EksNetpolAuditor")
    assert missing.value.response["Error"]["Code"] == "ValidationError"
    assert "Stack with id EksNetpolAuditor does not exist" in str(missing.value)


def test_get_metric_data_sums_per_period_newest_first(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    end = datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(hours=3)
    base = start.timestamp()
    points = [(base + 60, 1.0), (base + 120, 2.0), (base + 7200 + 5, 4.0), (base - 60, 100.0)]
    sandbox.add_datapoints(HOME, "AWS/Lambda", "Errors", {"FunctionName": "fn"}, points)
    other = {"FunctionName": "another"}
    sandbox.add_datapoints(HOME, "AWS/Lambda", "Errors", other, [(base + 60, 50.0)])
    query = {
        "Id": "errors",
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/Lambda",
                "MetricName": "Errors",
                "Dimensions": [{"Name": "FunctionName", "Value": "fn"}],
            },
            "Period": 3600,
            "Stat": "Sum",
        },
    }
    cloudwatch = aws_client("cloudwatch", HOME)
    (result,) = cloudwatch.get_metric_data(MetricDataQueries=[query], StartTime=start, EndTime=end)[
        "MetricDataResults"
    ]
    assert result["Values"] == [4.0, 3.0]  # TimestampDescending by default; empty hour absent
    assert [t.timestamp() for t in result["Timestamps"]] == [base + 7200, base]
    assert result["StatusCode"] == "Complete"
    query["MetricStat"]["Stat"] = "Maximum"  # type: ignore[index]
    (ascending,) = cloudwatch.get_metric_data(
        MetricDataQueries=[query], StartTime=start, EndTime=end, ScanBy="TimestampAscending"
    )["MetricDataResults"]
    assert ascending["Values"] == [2.0, 4.0]


def test_cloudwatch_denial_arrives_as_its_query_code(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    sandbox.add_fault("access_denied", service="monitoring")
    now = datetime.now(UTC)
    with pytest.raises(ClientError) as denied:
        aws_client("cloudwatch", HOME).get_metric_data(
            MetricDataQueries=[{"Id": "q", "Expression": "1"}],
            StartTime=now - timedelta(hours=1),
            EndTime=now,
        )
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert "cloudwatch:GetMetricData" in str(denied.value)


def test_trails_shadow_and_name_rules(sandbox: SandboxClient, aws_client: AwsClientFactory) -> None:
    sandbox.put_trail("org", home_region=HOME, multi_region=True)
    sandbox.put_trail("local", home_region=OTHER, multi_region=False, logging=False)
    home, other = aws_client("cloudtrail", HOME), aws_client("cloudtrail", OTHER)
    assert [t["Name"] for t in home.describe_trails()["trailList"]] == ["org"]
    assert sorted(t["Name"] for t in other.describe_trails()["trailList"]) == ["local", "org"]
    assert [t["Name"] for t in other.describe_trails(includeShadowTrails=False)["trailList"]] == [
        "local"
    ]
    arn = f"arn:aws:cloudtrail:{HOME}:123456789012:trail/org"
    assert other.get_trail_status(Name=arn)["IsLogging"] is True  # a shadow, by its ARN
    with pytest.raises(ClientError) as by_name:
        other.get_trail_status(Name="org")  # a shadow trail's status needs its ARN
    assert by_name.value.response["Error"]["Code"] == "TrailNotFoundException"
    assert other.get_trail_status(Name="local")["IsLogging"] is False
    selectors = home.get_event_selectors(TrailName="org")
    assert selectors["TrailARN"] == arn
    assert selectors["EventSelectors"][0]["ReadWriteType"] == "All"
    assert selectors["EventSelectors"][0]["IncludeManagementEvents"] is True


def test_advanced_selectors_replace_the_basic_ones(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    advanced = [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]
    sandbox.put_trail("adv", home_region=HOME, advanced_event_selectors=advanced)
    answer = aws_client("cloudtrail", HOME).get_event_selectors(TrailName="adv")
    assert answer["AdvancedEventSelectors"] == advanced
    assert "EventSelectors" not in answer


def test_a_cloudwatch_error_carries_its_query_code(aws_client: AwsClientFactory) -> None:
    """Shape InvalidParameterValueException, query code InvalidParameterValue (model
    ``error.code``): botocore reports the latter only from x-amzn-query-error."""
    query = {
        "Id": "Upper",  # must start with a lowercase letter
        "MetricStat": {
            "Metric": {"Namespace": "AWS/Lambda", "MetricName": "Errors"},
            "Period": 60,
            "Stat": "Sum",
        },
    }
    now = datetime.now(UTC)
    with pytest.raises(ClientError) as invalid:
        aws_client("cloudwatch", HOME).get_metric_data(
            MetricDataQueries=[query], StartTime=now - timedelta(hours=1), EndTime=now
        )
    assert invalid.value.response["Error"]["Code"] == "InvalidParameterValue"
    error: dict[str, str] = dict(invalid.value.response["Error"])  # type: ignore[arg-type]
    assert error["QueryErrorCode"] == "InvalidParameterValueException"
