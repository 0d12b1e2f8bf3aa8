"""lambda_handler against the sandbox: scheduled, manual and malformed events."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

import pytest

from eks_netpol_auditor import handler
from sandbox.client import AddonSeed, SandboxClient

ENABLED = '{"enableNetworkPolicy":"true"}'

SCHEDULED_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-11-26T12:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/eks-netpol-auditor"],
    "detail": {},
}


@dataclass
class FakeContext:
    remaining_ms: int = 600_000
    function_name: str = "eks-netpol-auditor"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:eks-netpol-auditor"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


class CurrentStdout:
    """Writes to whatever sys.stdout is at write time (capsys swaps it per test phase)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@pytest.fixture(autouse=True)
def lambda_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    # The logger bound sys.stdout at import, before pytest's capture replaced it.
    monkeypatch.setattr(handler.logger.registered_handler, "stream", CurrentStdout())


def emitted(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """Every JSON line the function printed: structured logs and EMF metric blobs."""
    lines = capsys.readouterr().out.splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


def metric_values(lines: list[dict[str, Any]]) -> dict[str, float]:
    """Merge every EMF blob (the cold-start metric arrives in a blob of its own)."""
    values: dict[str, float] = {}
    for blob in (line for line in lines if "_aws" in line):
        for metric in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            value = blob[metric["Name"]]
            if isinstance(value, list):  # EMF allows an array of values per metric
                assert len(value) == 1, f"{metric['Name']} recorded more than once: {value}"
                value = value[0]
            values[metric["Name"]] = value
    return values


def seed(sandbox: SandboxClient) -> None:
    sandbox.add_cluster("us-east-1", "good", addon=AddonSeed(configuration_values=ENABLED))
    sandbox.add_cluster("us-east-1", "bad", addon=AddonSeed())
    sandbox.add_cluster("eu-west-1", "far", addon=None)


def test_scheduled_event_audits_everything_and_emits_metrics(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(sandbox)
    summary = handler.lambda_handler(SCHEDULED_EVENT, FakeContext())
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
    summary = handler.lambda_handler(
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
        handler.lambda_handler(event, FakeContext())
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
        handler.lambda_handler(SCHEDULED_EVENT, FakeContext(remaining_ms=1_000))
    lines = emitted(capsys)
    assert metric_values(lines)["Errors"] == 3  # every cluster reported as not evaluated
    assert sandbox.calls().count("eks", "DescribeCluster") == 0


def test_raises_when_nothing_could_be_audited_so_the_dlq_and_alarm_fire(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(sandbox)
    sandbox.add_fault("access_denied", service="eks")
    with pytest.raises(handler.NothingAudited, match="no cluster could be audited"):
        handler.lambda_handler(SCHEDULED_EVENT, FakeContext())
    assert metric_values(emitted(capsys))["RegionsFailed"] >= 2


def test_engine_log_lines_are_structured_json_with_the_correlation_id(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(sandbox)
    monkeypatch.setenv("AUTO_REMEDIATE", "true")
    summary = handler.lambda_handler({"regions": ["us-east-1"], "dry_run": True}, FakeContext())
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
        handler.lambda_handler({"regions": ["us-east-1", "eu-west-1"]}, FakeContext())
    assert sandbox.calls().total == 0
    narrowed = handler.lambda_handler({"regions": ["us-east-1"]}, FakeContext())
    assert narrowed["clusters"] == 2
