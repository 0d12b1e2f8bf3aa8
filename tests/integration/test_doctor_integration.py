"""`eks-netpol-audit doctor` against the sandbox: every check shown ✓, ✗ and ? (where a
? can exist), the exit codes, the JSON document, the IAM actions it calls, and never a
traceback.

No `?` for the credentials (GetCallerIdentity needs no permission: STS API reference) or
for the parameters and Outputs lines (they come from the DescribeStacks answer whose
denial is the stack line's `?`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from eks_netpol_auditor import cli
from eks_netpol_auditor.aws import AwsClients
from eks_netpol_auditor.doctor import ACTIONS, Request, run_doctor
from eks_netpol_auditor.doctor import command as doctor_command
from eks_netpol_auditor.names import StackOutput
from sandbox.client import SandboxClient
from sandbox.seeds import seed_demo
from tests.integration.test_bad_input import aws_home, html_endpoint  # noqa: F401

HOME, OTHER = "us-east-1", "eu-west-1"
STACK = "EksNetpolAuditor"
QUEUE = "EksNetpolAuditor-EventQueue-1"
OUTPUTS = {key.value: f"{STACK}-{key.value}" for key in StackOutput} | {
    StackOutput.EVENT_QUEUE_URL.value: f"https://sqs.{HOME}.amazonaws.com/123456789012/{QUEUE}"
}
PARAMETERS = {"AuditRegions": "all", "EventDrivenMode": "true", "FindingsRegion": ""}
Doctor = Callable[..., tuple[int, Any, str]]


def deploy(sandbox: SandboxClient, **changes: Any) -> None:
    """A healthy account: two regions, the stack with its event path, a logging trail."""
    sandbox.set_enabled_regions([HOME, OTHER])
    sandbox.add_cluster(OTHER, "prod")
    stack: dict[str, Any] = {"parameters": PARAMETERS, "outputs": OUTPUTS}
    stack.update(changes)
    sandbox.put_stack(HOME, STACK, **stack)
    sandbox.put_trail("management", home_region=HOME, multi_region=True)


def errors(sandbox: SandboxClient, function: str, count: float, hours_ago: float) -> None:
    point = (time.time() - hours_ago * 3600, count)
    sandbox.add_datapoints(HOME, "AWS/Lambda", "Errors", {"FunctionName": function}, [point])


@pytest.fixture
def doctor(capsys: pytest.CaptureFixture[str]) -> Doctor:
    def invoke(*args: str) -> tuple[int, Any, str]:
        code = cli.main(["doctor", "--format", "json", *args])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        return code, json.loads(captured.out) if captured.out else None, captured.err

    return invoke


def statuses(document: Any) -> dict[str, str]:
    return {check["id"]: check["status"] for check in document["checks"]}


def test_a_healthy_account_is_all_ok_and_exits_0(sandbox: SandboxClient, doctor: Doctor) -> None:
    deploy(sandbox)
    errors(sandbox, OUTPUTS["FunctionName"], 0, 2)
    code, document, err = doctor()
    assert (code, err) == (0, "")
    assert set(statuses(document).values()) == {"ok"}
    assert statuses(document).keys() == {
        "credentials",
        "stack",
        "parameters",
        "outputs",
        "in-cluster",
        "regions",
        f"securityhub:{HOME}",
        f"securityhub:{OTHER}",
        f"eks:{HOME}",
        f"eks:{OTHER}",
        "scheduled-function",
        "event-function",
        "event-queue",
        "cloudtrail",
    }
    assert document["regions"] == [OTHER, HOME]  # the stack's AuditRegions=all
    assert document["account"] == "123456789012"


def test_doctor_calls_exactly_the_actions_its_help_lists(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """The caller's permissions, not the Lambda role's (test_iam_matches_calls.py covers
    those): the documented list must neither miss a call nor name a spare one."""
    deploy(sandbox)
    clients = AwsClients(max_attempts=1)
    run_doctor(Request(HOME, STACK), clients)
    assert set(clients.api_calls()) == set(ACTIONS)
    assert cli.main(["doctor", "--help"]) == 0
    shown = capsys.readouterr().out
    assert all(f"\n  {action}\n" in shown for action in ACTIONS)


def _no_stack(sandbox: SandboxClient) -> None:
    sandbox.delete_stack(HOME, STACK)


def _rolled_back(sandbox: SandboxClient) -> None:
    sandbox.put_stack(HOME, STACK, status="UPDATE_ROLLBACK_COMPLETE", reason="Resource failed")


def _old_parameters(sandbox: SandboxClient) -> None:
    sandbox.put_stack(HOME, STACK, parameters={"AuditRegions": "all"}, outputs=OUTPUTS)


def _missing_output(sandbox: SandboxClient) -> None:
    outputs = {k: v for k, v in OUTPUTS.items() if k != StackOutput.EVENT_QUEUE_URL}
    sandbox.put_stack(HOME, STACK, parameters=PARAMETERS, outputs=outputs)


FAILURES: dict[str, tuple[Callable[[SandboxClient], Any], str, str]] = {
    "credentials": (
        lambda s: s.add_fault("unrecognized_client", service="sts"),
        "credentials",
        "InvalidClientTokenId",
    ),
    "no stack": (_no_stack, "stack", "not deployed"),
    "rolled back": (_rolled_back, "stack", "UPDATE_ROLLBACK_COMPLETE: Resource failed"),
    "old parameters": (_old_parameters, "parameters", "no parameter EventDrivenMode"),
    "missing output": (_missing_output, "outputs", "missing EventQueueUrl"),
    "hub off": (
        lambda s: s.set_securityhub_enabled(OTHER, False),
        f"securityhub:{OTHER}",
        "not enabled",
    ),
    "eks error": (
        lambda s: s.add_fault("server_error", service="eks", region=OTHER),
        f"eks:{OTHER}",
        "eks:ListClusters failed (ServerException",
    ),
    "scheduled errors": (
        lambda s: errors(s, OUTPUTS["FunctionName"], 3, 5),
        "scheduled-function",
        "3 errors in the last 24 h",
    ),
    "event errors": (
        lambda s: errors(s, OUTPUTS["EventFunctionName"], 2, 23),
        "event-function",
        "2 errors in the last 24 h",
    ),
    "old event": (
        lambda s: s.add_datapoints(
            HOME,
            "AWS/SQS",
            "ApproximateAgeOfOldestMessage",
            {"QueueName": QUEUE},
            [(time.time() - 90, 45 * 60.0)],
        ),
        "event-queue",
        "oldest message 45 min old",
    ),
    "trail not logging": (
        lambda s: s.put_trail("management", home_region=HOME, logging=False),
        "cloudtrail",
        "management: not logging",
    ),
    "read-only trail": (
        lambda s: s.put_trail(
            "management",
            home_region=HOME,
            event_selectors=[{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}],
        ),
        "cloudtrail",
        "no management write events",
    ),
    "single-region trail": (
        lambda s: s.put_trail("management", home_region=OTHER, multi_region=False),
        "cloudtrail",
        f"in {HOME} (management: logging, {OTHER} only)",
    ),
}


@pytest.mark.parametrize("case", FAILURES)
def test_each_check_fails_with_its_fix(sandbox: SandboxClient, doctor: Doctor, case: str) -> None:
    setup, check_id, words = FAILURES[case]
    deploy(sandbox)
    setup(sandbox)
    code, document, _ = doctor()
    assert code == 1
    failed = [c for c in document["checks"] if c["status"] == "fail"]
    assert [c["id"] for c in failed] == [check_id]
    assert words in failed[0]["detail"]
    assert failed[0]["fix"]


DENIALS: dict[str, tuple[str, str, str]] = {
    "stack": ("cloudformation", "DescribeStacks", "cloudformation:DescribeStacks"),
    "regions": ("ec2", "DescribeRegions", "ec2:DescribeRegions"),
    f"securityhub:{OTHER}": ("securityhub", "DescribeHub", "securityhub:DescribeHub"),
    f"eks:{OTHER}": ("eks", "ListClusters", "eks:ListClusters"),
    "metrics": ("monitoring", "GetMetricData", "cloudwatch:GetMetricData"),
    "cloudtrail": ("cloudtrail", "DescribeTrails", "cloudtrail:DescribeTrails"),
    "cloudtrail (status)": ("cloudtrail", "GetTrailStatus", "cloudtrail:GetTrailStatus"),
    "cloudtrail (selectors)": (
        "cloudtrail",
        "GetEventSelectors",
        "cloudtrail:GetEventSelectors",
    ),
}


@pytest.mark.parametrize("check_id", DENIALS)
def test_a_denied_call_is_a_question_mark_naming_the_action(
    sandbox: SandboxClient, doctor: Doctor, check_id: str
) -> None:
    service, operation, action = DENIALS[check_id]
    deploy(sandbox)
    region = OTHER if ":" in check_id and "cloudtrail" not in check_id else None
    sandbox.add_fault("access_denied", service=service, operation=operation, region=region)
    code, document, _ = doctor()
    assert code == 1  # a ? is not a pass
    unknown = [c for c in document["checks"] if c["status"] == "unknown"]
    assert [c["id"] for c in unknown] == [check_id.split(" ", maxsplit=1)[0]]
    assert unknown[0]["denied_action"] == action
    assert f"grant {action}" in unknown[0]["fix"]
    assert not [c for c in document["checks"] if c["status"] == "fail"]


def test_a_denied_region_list_still_checks_the_home_region(
    sandbox: SandboxClient, doctor: Doctor
) -> None:
    deploy(sandbox)
    sandbox.add_fault("access_denied", service="ec2")
    _, document, _ = doctor()
    assert document["regions"] == [HOME]
    assert statuses(document)[f"eks:{HOME}"] == "ok"


def test_regions_flag_overrides_the_stack_parameter(sandbox: SandboxClient, doctor: Doctor) -> None:
    deploy(sandbox)
    code, document, _ = doctor("--regions", OTHER)
    assert code == 0
    assert document["regions"] == [OTHER]
    assert f"eks:{HOME}" not in statuses(document)
    assert sandbox.calls().count("ec2") == 0  # named regions need no DescribeRegions


def test_table_shows_marks_fixes_and_the_denied_action(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy(sandbox)
    sandbox.set_securityhub_enabled(OTHER, False)
    sandbox.add_fault("access_denied", service="eks", operation="ListClusters", region=HOME)
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "✓ credentials" in out
    assert f"✗ Security Hub CSPM in {OTHER}" in out
    assert f"? EKS in {HOME}" in out
    assert "fix: grant eks:ListClusters to the caller" in out
    assert "each cluster's access entry is checked by scan --in-cluster (NOT_ENROLLED)" in out


def test_the_demo_account_shows_a_realistic_mix(sandbox: SandboxClient, doctor: Doctor) -> None:
    seed_demo(sandbox)
    code, document, _ = doctor()
    assert code == 1
    found = statuses(document)
    assert found["scheduled-function"] == "fail"
    assert found["cloudtrail"] == "unknown"
    assert [id_ for id_, status in found.items() if status != "ok"] == [
        "scheduled-function",
        "cloudtrail",
    ]


def test_unknown_profile_exits_2_with_one_line(
    sandbox: SandboxClient,
    doctor: Doctor,
    aws_home: Callable[..., None],  # noqa: F811
) -> None:
    aws_home("[default]\nregion = us-east-1\n", profile="nope")
    code, document, err = doctor()
    assert (code, document) == (2, None)
    assert err.count("\n") == 1
    assert "The config profile (nope) could not be found" in err


def test_an_endpoint_that_is_not_aws_exits_2_with_one_line(
    sandbox: SandboxClient,
    doctor: Doctor,
    monkeypatch: pytest.MonkeyPatch,
    html_endpoint: str,  # noqa: F811
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", html_endpoint)
    code, document, err = doctor()
    assert (code, document) == (2, None)
    assert err.count("\n") == 1
    assert f"the endpoint {html_endpoint} (AWS_ENDPOINT_URL) did not answer like AWS" in err


def test_bad_regions_flag_exits_2(sandbox: SandboxClient, doctor: Doctor) -> None:
    code, _, err = doctor("--regions", "mars-1")
    assert code == 2
    assert err == "eks-netpol-audit: error: --regions: unknown region 'mars-1'\n"
    assert sandbox.calls().total == 0


def test_a_bug_exits_3_with_one_line(
    sandbox: SandboxClient, doctor: Doctor, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(doctor_command, "run_doctor", broken)
    code, _, err = doctor()
    assert code == 3
    assert (
        err == "eks-netpol-audit: error: unexpected error, please report it: RuntimeError: boom\n"
    )


def test_ctrl_c_exits_130(
    sandbox: SandboxClient, doctor: Doctor, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*_: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(doctor_command, "run_doctor", interrupted)
    code, _, err = doctor()
    assert code == 130
    assert err == "eks-netpol-audit: interrupted; doctor is read-only, nothing was changed\n"
