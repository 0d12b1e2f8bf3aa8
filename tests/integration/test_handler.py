"""scheduled_handler against the sandbox: scheduled, manual and malformed events."""

from __future__ import annotations

from typing import Any

import pytest

from eks_netpol_auditor import handler
from sandbox.client import AddonSeed, SandboxClient
from tests.builders import ENABLED_CONFIG
from tests.eks_events import change_event, sqs_batch
from tests.integration.lambda_support import (
    SCHEDULED_EVENT,
    FakeContext,
    emitted,
    lambda_environment,
    metric_values,
)
from tests.integration.test_bad_input import html_endpoint

# `lambda_environment`: autouse, shared with test_events.py; `html_endpoint`: an HTTP
# server answering HTML, shared with the CLI's bad-input tests.
__all__ = ["html_endpoint", "lambda_environment"]


def seed(sandbox: SandboxClient) -> None:
    sandbox.add_cluster("us-east-1", "good", addon=AddonSeed(configuration_values=ENABLED_CONFIG))
    sandbox.add_cluster("us-east-1", "bad", addon=AddonSeed())
    sandbox.add_cluster("eu-west-1", "far", addon=None)


def test_scheduled_event_audits_everything_and_emits_metrics(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(sandbox)
    summary = handler.scheduled_handler(SCHEDULED_EVENT, FakeContext())
    assert summary["clusters"] == 3
    assert summary["summary"] == {"PASSED": 1, "FAILED": 2, "WARNING": 0, "NOT_AVAILABLE": 0}
    assert summary["errors"] == []
    lines = emitted(capsys)
    metrics = metric_values(lines)
    assert metrics["ClustersAudited"] == 3
    assert metrics["ClustersFailed"] == 2
    assert metrics["ClustersPassed"] == 1
    assert metrics["RegionsFailed"] == 0
    finished = next(line for line in lines if line.get("message") == "audit finished")
    assert finished["correlation_id"] == SCHEDULED_EVENT["id"]
    assert finished["summary"]["clusters"] == 3


def test_manual_event_narrows_regions_and_clusters(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(sandbox)
    sandbox.reset_calls()
    summary = handler.scheduled_handler(
        {"regions": ["us-east-1"], "clusters": ["bad"], "dry_run": True}, FakeContext()
    )
    assert summary["clusters"] == 1
    assert summary["summary"]["FAILED"] == 1
    calls = sandbox.calls()
    assert calls.count("eks", region="eu-west-1") == 0
    assert calls.count("eks", "DescribeCluster") == 1
    emitted(capsys)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"regions": ["us-east-1"], "region": "typo"}, "region: Extra inputs are not permitted"),
        ({"regions": "us-east-1"}, "regions: Input should be a valid list"),
        ({"regions": ["mars-1"]}, "event.regions: unknown region 'mars-1'"),
        ({"dry_run": "perhaps"}, "dry_run"),
        ({"source": "aws.events", "detail-type": "Scheduled Event"}, "malformed EventBridge"),
        # The event function's payloads: the scheduled function never audits them.
        (change_event("UpdateAddon", "us-east-1", "c1"), "EKS change events go to the event"),
        (sqs_batch([change_event("UpdateAddon", "us-east-1", "c1")]), "Records: Extra inputs"),
    ],
)
def test_malformed_events_are_rejected_with_a_clear_error_before_any_call(
    sandbox: SandboxClient,
    capsys: pytest.CaptureFixture[str],
    event: dict[str, Any],
    message: str,
) -> None:
    seed(sandbox)
    sandbox.reset_calls()
    with pytest.raises(ValueError, match=message) as raised:
        handler.scheduled_handler(event, FakeContext())
    assert "\n" not in str(raised.value)
    assert sandbox.calls().total == 0
    lines = emitted(capsys)
    rejected = [line for line in lines if line.get("message") == "rejected invocation"]
    assert rejected
    assert rejected[0]["level"] == "ERROR"
    assert metric_values(lines)["InvocationsRejected"] == 1


def test_near_the_timeout_no_new_work_starts_and_the_rest_is_reported(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(sandbox)
    with pytest.raises(handler.NothingAudited):
        handler.scheduled_handler(SCHEDULED_EVENT, FakeContext(remaining_ms=1_000))
    lines = emitted(capsys)
    assert metric_values(lines)["Errors"] == 3  # every cluster reported as not evaluated
    assert sandbox.calls().count("eks", "DescribeCluster") == 0


def test_raises_when_nothing_could_be_audited_so_the_dlq_and_alarm_fire(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(sandbox)
    sandbox.add_fault("access_denied", service="eks")
    with pytest.raises(handler.NothingAudited, match="no cluster could be audited"):
        handler.scheduled_handler(SCHEDULED_EVENT, FakeContext())
    assert metric_values(emitted(capsys))["RegionsFailed"] >= 2


def test_engine_log_lines_are_structured_json_with_the_correlation_id(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(sandbox)
    monkeypatch.setenv("AUTO_REMEDIATE", "true")
    summary = handler.scheduled_handler({"regions": ["us-east-1"], "dry_run": True}, FakeContext())
    assert summary["remediation"] == {"dry_run": 1}
    assert sandbox.calls().count("eks", "UpdateAddon") == 0
    lines = emitted(capsys)
    planned = [line for line in lines if line.get("event") == "remediation"]
    assert [line["cluster"] for line in planned] == ["bad"]
    assert planned[0]["remediation"]["action"] == "dry_run"
    assert planned[0]["service"] == "eks-netpol-auditor"
    assert metric_values(lines)["RemediationsApplied"] == 0


def test_a_manual_run_cannot_reach_beyond_the_deployed_regions(
    sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(sandbox)
    monkeypatch.setenv("AUDIT_REGIONS", "us-east-1")
    sandbox.reset_calls()
    with pytest.raises(ValueError, match="eu-west-1 not in AUDIT_REGIONS"):
        handler.scheduled_handler({"regions": ["us-east-1", "eu-west-1"]}, FakeContext())
    assert sandbox.calls().total == 0
    narrowed = handler.scheduled_handler({"regions": ["us-east-1"]}, FakeContext())
    assert narrowed["clusters"] == 2


# Issue 17 item 18: an endpoint that does not answer like AWS (a captive portal or proxy
# answering HTML). botocore raises ResponseParserError, which is not a BotoCoreError: the
# Lambda path let it escape with the parser's multi-line text, and a per-cluster one was
# logged as an "unexpected failure" with a traceback. Now it is the CLI's one line
# (setup_errors.explain_setup_error), wherever the call was made.
def test_a_scheduled_run_against_an_endpoint_that_is_not_aws_fails_with_one_clear_line(
    sandbox: SandboxClient,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    html_endpoint: str,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", html_endpoint)
    with pytest.raises(handler.NothingAudited) as raised:
        handler.scheduled_handler(SCHEDULED_EVENT, FakeContext())
    message = str(raised.value)
    assert message.startswith("cannot identify the account: the endpoint ")
    assert f"{html_endpoint} (AWS_ENDPOINT_URL) did not answer like AWS" in message
    assert "\n" not in message
    lines = emitted(capsys)
    (aborted,) = [line for line in lines if line.get("message") == "audit aborted"]
    assert aborted["error"] == message
    assert metric_values(lines)["RunsAborted"] == 1


@pytest.mark.parametrize(
    ("variable", "invocation", "expected"),
    [
        ("AWS_ENDPOINT_URL_STS", "event", "cannot identify the account: "),
        ("AWS_ENDPOINT_URL_EC2", "schedule", "cannot list the account's enabled regions: "),
    ],
)
def test_one_service_behind_an_endpoint_that_is_not_aws_is_one_clear_line(
    sandbox: SandboxClient,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    html_endpoint: str,
    variable: str,
    invocation: str,
    expected: str,
) -> None:
    """A proxy in front of one service (botocore's service-specific endpoint variable):
    an event run's STS call, or a full run's EC2 DescribeRegions (no AUDIT_REGIONS)."""
    sandbox.add_cluster("us-east-1", "c1", addon=AddonSeed())
    monkeypatch.setenv(variable, html_endpoint)
    monkeypatch.delenv("AUDIT_REGIONS", raising=False)
    event = (
        sqs_batch([change_event("UpdateAddon", "us-east-1", "c1")])
        if invocation == "event"
        else SCHEDULED_EVENT
    )
    entry = handler.event_handler if invocation == "event" else handler.scheduled_handler
    with pytest.raises(handler.NothingAudited) as raised:
        entry(event, FakeContext())
    message = str(raised.value)
    # The parser's error does not say where the call went: every candidate is named.
    assert message.startswith(f"{expected}an endpoint set by AWS_ENDPOINT_URL=")
    assert f", {variable}={html_endpoint} did not answer like AWS (" in message
    assert "\n" not in message
    aborted = [line for line in emitted(capsys) if "aborted" in str(line.get("message"))]
    assert [line["error"] for line in aborted] == [message]
