"""What every Lambda handler test needs: a scheduled event, a Lambda context, and the
function's JSON output (logs and EMF metrics) read back from stdout."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

import pytest

from eks_netpol_auditor import handler

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
    # Each test is a fresh execution environment: no clients cached by an earlier test.
    monkeypatch.setattr(handler, "_event_clients", None)


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
