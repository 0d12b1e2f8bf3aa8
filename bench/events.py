"""`python -m bench.events`: event-driven runs, measured against the sandbox.

1. Time to detect: from a person's UpdateAddon that switches network policy on ("the
   configuration changed") to the cluster's Security Hub finding showing PASSED, with the
   CloudTrail event delivered to the handler in an SQS record. The sandbox hands the event
   over at once; AWS's own delivery (CloudTrail -> EventBridge -> forwarder -> queue ->
   Lambda poll) comes on top and AWS publishes no figure for it (docs/events.md).
2. One-cluster event cost: handler time and AWS calls per invocation, cold (a fresh Python
   process: module import, then the first invocation with its client creation) and warm
   (later invocations in the same process), at the realistic latency model.

The handler runs in a child process (`--child`) so that "cold" is really cold. Measured by
`bench.measure` (`bench.render` renders it) or alone (replaces the section in RESULTS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.latency import BENCH_REGIONS, HOME_REGION, REALISTIC, ZERO, LatencyModel
from bench.markdown import RESULTS_PATH, replace_section
from sandbox import AddonSeed, SandboxClient, sandbox_environ, start_sandbox_process

SECTION = "## Event-driven runs (time to detect, one-cluster events)"
TARGET_REGION = "eu-west-1"  # a non-home region: every call pays a 100 ms round trip
TARGET = "payments-prod"
NEIGHBOURS = 40
WARM_RUNS = 7
TARGET_WARM_SECONDS = 1.0
TARGET_CALLS = 6
ENABLED = '{"enableNetworkPolicy":"true"}'
ENV = {"PUBLISH_FINDINGS": "true", "AWS_REGION": HOME_REGION, "POWERTOOLS_TRACE_DISABLED": "true"}


@dataclass(frozen=True)
class Invocation:
    seconds: float
    calls: dict[str, int]  # "service:Operation@region" -> count, from the sandbox

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())


@dataclass(frozen=True)
class EventBench:
    import_seconds: float
    cold: Invocation
    warm: list[Invocation]
    detect_seconds: float
    detect_parts: dict[str, float]
    detect_calls: int

    def warm_median(self) -> float:
        return statistics.median(i.seconds for i in self.warm)


# ------------------------------------------------------------------------- the child


def update_event(client: SandboxClient) -> dict[str, Any]:
    """The CloudTrail event of the latest UpdateAddon, from the sandbox's journal when it
    has one (`SandboxClient.events`), else built in the same documented shape."""
    journal = getattr(client, "events", None)
    if journal is not None:
        found = journal(region=TARGET_REGION, event_name="UpdateAddon")
        if found:
            return dict(found[-1])
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.eks",
        "account": "123456789012",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": TARGET_REGION,
        "resources": [],
        "detail": {
            "eventSource": "eks.amazonaws.com",
            "eventName": "UpdateAddon",
            "awsRegion": TARGET_REGION,
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/alice"},
            "requestParameters": {"clusterName": TARGET, "addonName": "vpc-cni"},
        },
    }


def sqs(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "r",
                "body": json.dumps(event),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "0",
                    "SenderId": "S",
                    "ApproximateFirstReceiveTimestamp": "0",
                },
                "messageAttributes": {},
                "md5OfBody": "0" * 32,
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{HOME_REGION}:123456789012:events",
                "awsRegion": HOME_REGION,
            }
        ]
    }


class _Context:
    function_name = "eks-netpol-auditor"
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:{HOME_REGION}:123456789012:function:eks-netpol-auditor"
    aws_request_id = "bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 600_000


def _calls(client: SandboxClient) -> dict[str, int]:
    counts: dict[str, int] = {}
    for call in client.calls().calls:
        key = f"{call['service']}:{call['operation']}@{call['region']}"
        counts[key] = counts.get(key, 0) + int(call["count"])
    return counts


def child(endpoint: str) -> None:
    """Cold import and invocation, warm invocations, then one timed detection."""
    client = SandboxClient(endpoint)
    started = time.perf_counter()
    from eks_netpol_auditor import handler

    imported = time.perf_counter() - started
    event = sqs(update_event(client))
    runs = []
    for _ in range(1 + WARM_RUNS):
        client.reset_calls()
        began = time.perf_counter()
        response = handler.event_handler(event, _Context())
        runs.append({"seconds": time.perf_counter() - began, "calls": _calls(client)})
        assert response == {"batchItemFailures": []}, response
    print(json.dumps({"import": imported, "runs": runs, "detect": detect(client, handler)}))


def detect(client: SandboxClient, handler: Any) -> dict[str, float]:
    """Configuration changed -> finding changed, the event handed over in an SQS record."""
    client.set_addon(TARGET_REGION, TARGET, AddonSeed())  # disabled, finding FAILED
    handler.event_handler(sqs(update_event(client)), _Context())
    import boto3

    eks = boto3.client("eks", region_name=TARGET_REGION)
    eks.describe_cluster(name=TARGET)  # connection and model warm, as a person's CLI would be
    started = time.perf_counter()
    eks.update_addon(
        clusterName=TARGET,
        addonName="vpc-cni",
        configurationValues=ENABLED,
        resolveConflicts="PRESERVE",
    )
    changed = time.perf_counter()
    client.settle(TARGET_REGION, TARGET)
    event = sqs(update_event(client))
    client.reset_calls()
    delivered = time.perf_counter()
    handler.event_handler(event, _Context())
    handled = time.perf_counter()
    calls = _calls(client)
    while True:
        finding = next(
            f
            for f in client.findings(TARGET_REGION)
            if f["ProductFields"].get("eks-netpol-auditor/ClusterName") == TARGET
        )
        if finding["Compliance"]["Status"] == "PASSED":
            break
        time.sleep(0.01)
    seen = time.perf_counter()
    return {
        "calls": sum(calls.values()),
        "total": seen - started,
        "update_call": changed - started,
        "event_handover": delivered - changed,
        "handler": handled - delivered,
        "read_back": seen - handled,
    }


# ------------------------------------------------------------------------- the parent


def _set_latency(client: SandboxClient, model: LatencyModel) -> None:
    if model is ZERO:
        client.clear_latency()
    else:
        client.set_latency(base_ms=model.base_ms, region_ms=dict(model.region_ms))


def prepare(client: SandboxClient, endpoint: str) -> None:
    """The target (policy off) plus neighbours in every bench region, findings published."""
    client.reset()
    client.clear_latency()
    client.add_cluster(TARGET_REGION, TARGET, addon=AddonSeed())
    for index in range(NEIGHBOURS):
        region = BENCH_REGIONS[index % len(BENCH_REGIONS)]
        client.add_cluster(region, f"neighbour-{index:02d}", addon=AddonSeed())
    env = {**sandbox_environ(endpoint), **ENV}
    code = (
        "from eks_netpol_auditor.cli import main; main(['scan', '--publish', '--format', 'json'])"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        check=False,
        capture_output=True,
        cwd=Path(__file__).parent.parent,
    )


def measure(client: SandboxClient, endpoint: str) -> EventBench:
    prepare(client, endpoint)
    _set_latency(client, REALISTIC)
    root = Path(__file__).parent.parent
    env = {**sandbox_environ(endpoint), **ENV}
    env["PYTHONPATH"] = os.pathsep.join([str(root / "lambda"), str(root)])
    out = subprocess.run(
        [sys.executable, "-m", "bench.events", "--child", endpoint],
        env=env,
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    data = json.loads(out.strip().splitlines()[-1])
    runs = [Invocation(r["seconds"], r["calls"]) for r in data["runs"]]
    client.clear_latency()
    parts = dict(data["detect"])
    total, calls = parts.pop("total"), int(parts.pop("calls"))
    return EventBench(data["import"], runs[0], runs[1:], total, parts, calls)


def render(bench: EventBench) -> str:
    warm = bench.warm_median()
    calls = bench.warm[0]
    ok_time = "met" if warm <= TARGET_WARM_SECONDS else "NOT met"
    ok_calls = "met" if calls.total_calls <= TARGET_CALLS else "NOT met"
    ok_detect = "met" if bench.detect_calls <= TARGET_CALLS else "NOT met"
    lines = [
        SECTION,
        "",
        f"Cluster `{TARGET}` in {TARGET_REGION} ({REALISTIC.call_ms(TARGET_REGION):g} ms per call"
        f" at the realistic model), {NEIGHBOURS} neighbours in {len(BENCH_REGIONS)} regions,"
        " findings already published; the event is a CloudTrail UpdateAddon event in one SQS"
        " record; publishing on, remediation off.",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| time to detect (UpdateAddon -> finding PASSED) | {bench.detect_seconds:.2f} s | - |",
        f"| handler, warm (median of {len(bench.warm)}) | {warm:.3f} s | <= 1 s: {ok_time} |",
        f"| handler, cold (first invocation) | {bench.cold.seconds:.3f} s | - |",
        f"| module import, cold | {bench.import_seconds:.3f} s | - |",
        f"| AWS calls per one-cluster event, verdict unchanged | {calls.total_calls} | <= 6:"
        f" {ok_calls} |",
        f"| AWS calls, the detecting event (FAILED -> PASSED, finding resolved) |"
        f" {bench.detect_calls} | <= 6: {ok_detect} |",
        "",
        "Time to detect, by part: "
        + ", ".join(f"{name} {value:.3f} s" for name, value in bench.detect_parts.items())
        + ". `event_handover` is the sandbox's journal read; in AWS it is CloudTrail ->"
        " EventBridge -> forwarder -> SQS -> Lambda poll, for which AWS publishes no figure.",
        "",
        "Calls of one warm invocation: "
        + ", ".join(f"{name} x{count}" for name, count in sorted(calls.calls.items()))
        + ".",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.events", description=__doc__)
    parser.add_argument("--child", metavar="ENDPOINT", help=argparse.SUPPRESS)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    with start_sandbox_process() as sandbox:
        section = render(measure(sandbox.client, sandbox.endpoint))
    print(section)
    if not args.no_write:
        RESULTS_PATH.write_text(replace_section(RESULTS_PATH.read_text(), SECTION, section))
    return 0


if __name__ == "__main__":
    sys.exit(main())
