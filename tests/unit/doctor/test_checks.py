"""The pure rules of `doctor`: each table row is a fact a user's account can present and
the mark and fix they must get for it."""

from __future__ import annotations

import io
from typing import Any

import pytest

from eks_netpol_auditor.doctor.checks import (
    ALWAYS_OUTPUTS,
    EVENT_OUTPUTS,
    IN_CLUSTER_OUTPUTS,
    INSIGHT_OUTPUTS,
    Check,
    Facts,
    Failure,
    Identity,
    Mark,
    Metrics,
    RegionFacts,
    Stack,
    Trail,
    build_checks,
    exit_code,
    function_checks,
    hub_check,
    in_cluster_check,
    logs_management_writes,
    queue_check,
    stack_checks,
    trail_check,
)
from eks_netpol_auditor.doctor.render import render_table, to_json
from eks_netpol_auditor.names import StackOutput

HOME = "us-east-1"
DENIED = Failure("securityhub:DescribeHub", "AccessDeniedException", "User: x is not authorized")
NOT_SUBSCRIBED = Failure("securityhub:DescribeHub", "InvalidAccessException", "not subscribed")
PARAMETERS = {"AuditRegions": "all", "EventDrivenMode": "true", "FindingsRegion": ""}
OUTPUTS = {
    key.value: f"value-{key.value}" for key in (*ALWAYS_OUTPUTS, *INSIGHT_OUTPUTS, *EVENT_OUTPUTS)
}


def stack(status: str = "UPDATE_COMPLETE", **changes: Any) -> Stack:
    values: dict[str, Any] = {"parameters": PARAMETERS, "outputs": OUTPUTS, **changes}
    return Stack("EksNetpolAuditor", status, **values)


def marks(checks: list[Check]) -> dict[str, Mark]:
    return {check.id: check.mark for check in checks}


@pytest.mark.parametrize(
    ("hub", "mark", "words"),
    [
        (True, Mark.OK, "enabled"),
        (NOT_SUBSCRIBED, Mark.FAIL, "not enabled"),
        (DENIED, Mark.UNKNOWN, "securityhub:DescribeHub was denied"),
        (Failure("securityhub:DescribeHub", "InternalException", "boom"), Mark.FAIL, "failed"),
    ],
)
def test_security_hub_per_region(hub: bool | Failure, mark: Mark, words: str) -> None:
    check = hub_check("eu-west-1", hub)
    assert (check.mark, check.id) == (mark, "securityhub:eu-west-1")
    assert words in check.detail
    assert (check.fix is None) == (mark is Mark.OK)
    assert check.denied == ("securityhub:DescribeHub" if mark is Mark.UNKNOWN else None)


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        (stack(), {"stack": Mark.OK, "parameters": Mark.OK, "outputs": Mark.OK}),
        (stack("CREATE_COMPLETE"), {"stack": Mark.OK, "parameters": Mark.OK, "outputs": Mark.OK}),
        (None, {"stack": Mark.FAIL}),
        (stack("ROLLBACK_COMPLETE"), {"stack": Mark.FAIL}),
        (stack("UPDATE_ROLLBACK_COMPLETE"), {"stack": Mark.FAIL}),
        (stack("UPDATE_IN_PROGRESS"), {"stack": Mark.FAIL}),
        (Failure("cloudformation:DescribeStacks", "AccessDenied", "no"), {"stack": Mark.UNKNOWN}),
        (
            stack(parameters={"AuditRegions": "all"}),
            {"stack": Mark.OK, "parameters": Mark.FAIL, "outputs": Mark.OK},
        ),
        (
            stack(outputs={k: v for k, v in OUTPUTS.items() if k != "EventQueueUrl"}),
            {"stack": Mark.OK, "parameters": Mark.OK, "outputs": Mark.FAIL},
        ),
        (  # event outputs are only expected when EventDrivenMode is on
            stack(
                parameters={**PARAMETERS, "EventDrivenMode": "false"},
                outputs={k.value: "v" for k in (*ALWAYS_OUTPUTS, *INSIGHT_OUTPUTS)},
            ),
            {"stack": Mark.OK, "parameters": Mark.OK, "outputs": Mark.OK},
        ),
        (  # the insight's output only with CreateInsight=true (the organization's false)
            stack(
                parameters={**PARAMETERS, "EventDrivenMode": "false", "CreateInsight": "false"},
                outputs={k.value: "v" for k in ALWAYS_OUTPUTS},
            ),
            {"stack": Mark.OK, "parameters": Mark.OK, "outputs": Mark.OK},
        ),
        (  # a stack from before CreateInsight always had its insight
            stack(
                parameters={**PARAMETERS, "EventDrivenMode": "false"},
                outputs={k.value: "v" for k in ALWAYS_OUTPUTS},
            ),
            {"stack": Mark.OK, "parameters": Mark.OK, "outputs": Mark.FAIL},
        ),
    ],
)
def test_stack_parameters_and_outputs(
    found: Stack | Failure | None, expected: dict[str, Mark]
) -> None:
    assert marks(stack_checks("EksNetpolAuditor", HOME, found)) == expected


ROLE = "arn:aws:iam::123456789012:role/EksNetpolAuditor-FunctionRole"
WITH_ROLE = {**OUTPUTS, **{k.value: ROLE for k in IN_CLUSTER_OUTPUTS}}


@pytest.mark.parametrize(
    ("parameters", "outputs", "mark", "words"),
    [
        (PARAMETERS, OUTPUTS, Mark.OK, "off: the stack is from a release without"),
        ({**PARAMETERS, "InClusterCheck": "false"}, OUTPUTS, Mark.OK, "off (InClusterCheck=false)"),
        (
            {**PARAMETERS, "InClusterCheck": "true"},
            WITH_ROLE,
            Mark.OK,
            f"on; role {ROLE}; enrol each cluster with the Output InClusterEnrolCommands",
        ),
        (
            {**PARAMETERS, "InClusterCheck": "true", "InClusterEnrol": "true"},
            WITH_ROLE,
            Mark.OK,
            "the auditor enrols clusters itself",
        ),
        (
            {**PARAMETERS, "InClusterCheck": "true"},
            OUTPUTS,
            Mark.FAIL,
            "no Output InClusterRoleArn",
        ),
    ],
)
def test_in_cluster_says_whether_it_is_on_and_whom_to_enrol(
    parameters: dict[str, str], outputs: dict[str, str], mark: Mark, words: str
) -> None:
    check = in_cluster_check(stack(parameters=parameters, outputs=outputs))
    assert (check.id, check.mark) == ("in-cluster", mark)
    assert words in check.detail
    assert (check.fix is None) == (mark is Mark.OK)


def test_in_cluster_outputs_are_expected_only_with_the_check_on() -> None:
    on = {**PARAMETERS, "InClusterCheck": "true"}
    assert marks(stack_checks("EksNetpolAuditor", HOME, stack(parameters=on)))["outputs"] is (
        Mark.FAIL
    )
    checks = stack_checks("EksNetpolAuditor", HOME, stack(parameters=on, outputs=WITH_ROLE))
    assert marks(checks)["outputs"] is Mark.OK


def test_missing_outputs_are_named() -> None:
    broken = stack(outputs={k: v for k, v in OUTPUTS.items() if k != "FunctionName"})
    outputs = stack_checks("EksNetpolAuditor", HOME, broken)[2]
    assert "missing FunctionName" in outputs.detail


@pytest.mark.parametrize(
    ("metrics", "expected"),
    [
        (
            Metrics(0, None, None),
            {"scheduled-function": Mark.OK, "event-function": Mark.OK, "event-queue": Mark.OK},
        ),
        (
            Metrics(3, 0, 60),
            {"scheduled-function": Mark.FAIL, "event-function": Mark.OK, "event-queue": Mark.OK},
        ),
        (
            Metrics(None, 1, 30 * 60),
            {"scheduled-function": Mark.OK, "event-function": Mark.FAIL, "event-queue": Mark.FAIL},
        ),
        (Failure("cloudwatch:GetMetricData", "AccessDenied", "no"), {"metrics": Mark.UNKNOWN}),
        (None, {}),
    ],
)
def test_function_errors_and_event_queue(
    metrics: Metrics | Failure | None, expected: dict[str, Mark]
) -> None:
    assert marks(function_checks(stack(), metrics)) == expected


def test_without_event_mode_only_the_scheduled_function_is_checked() -> None:
    scheduled = stack(parameters={**PARAMETERS, "EventDrivenMode": "false"})
    assert marks(function_checks(scheduled, Metrics(0, 5, 9999))) == {"scheduled-function": Mark.OK}


def test_errors_line_points_at_the_log_group() -> None:
    (line,) = [c for c in function_checks(stack(), Metrics(2)) if c.id == "scheduled-function"]
    assert line.detail.startswith(
        f"{OUTPUTS[StackOutput.FUNCTION_NAME]}: 2 errors in the last 24 h"
    )
    (one,) = [c for c in function_checks(stack(), Metrics(1)) if c.id == "scheduled-function"]
    assert ": 1 error in the last 24 h" in one.detail
    assert line.fix is not None and OUTPUTS[StackOutput.LOG_GROUP_NAME] in line.fix


@pytest.mark.parametrize(
    ("oldest", "mark"), [(None, Mark.OK), (29 * 60, Mark.OK), (30 * 60, Mark.FAIL)]
)
def test_queue_age_fails_at_the_alarm_threshold(oldest: float | None, mark: Mark) -> None:
    assert queue_check(oldest).mark is mark


def trail(name: str = "main", home: str = HOME, **changes: Any) -> Trail:
    values: dict[str, Any] = {"multi_region": True, "logging": True, "management_writes": True}
    values.update(changes)
    return Trail(name, f"arn:aws:cloudtrail:{home}:1:trail/{name}", home, **values)


STATUS_DENIED = Failure("cloudtrail:GetTrailStatus", "AccessDeniedException", "no")


@pytest.mark.parametrize(
    ("trails", "mark"),
    [
        (None, Mark.OK),  # not needed: EventDrivenMode is false
        ((trail(),), Mark.OK),
        ((trail(home="eu-west-1"),), Mark.OK),  # multi-region: every region
        ((), Mark.FAIL),
        ((trail(logging=False),), Mark.FAIL),
        ((trail(management_writes=False),), Mark.FAIL),
        ((trail(multi_region=False),), Mark.FAIL),  # covers us-east-1 only
        (
            (trail(multi_region=False), trail("eu", "eu-west-1", multi_region=False)),
            Mark.OK,
        ),
        ((trail(logging=STATUS_DENIED),), Mark.UNKNOWN),
        (Failure("cloudtrail:DescribeTrails", "AccessDeniedException", "no"), Mark.UNKNOWN),
    ],
)
def test_cloudtrail_covers_every_audited_region(
    trails: tuple[Trail, ...] | Failure | None, mark: Mark
) -> None:
    check = trail_check(trails, [HOME, "eu-west-1"])
    assert check.mark is mark
    if mark is Mark.FAIL:
        assert check.fix is not None and "trail with logging" in check.fix


def test_a_denied_trail_status_names_the_action() -> None:
    check = trail_check((trail(logging=STATUS_DENIED),), [HOME])
    assert check.denied == "cloudtrail:GetTrailStatus"


@pytest.mark.parametrize(
    ("basic", "advanced", "logged"),
    [
        ([{}], [], True),  # AWS defaults: IncludeManagementEvents true, ReadWriteType All
        ([{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}], [], True),
        ([{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}], [], False),
        ([{"ReadWriteType": "All", "IncludeManagementEvents": False}], [], False),
        ([], [], False),
        ([], [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}], True),
        (
            [],
            [
                {
                    "FieldSelectors": [
                        {"Field": "eventCategory", "Equals": ["Management"]},
                        {"Field": "readOnly", "Equals": ["true"]},
                    ]
                }
            ],
            False,
        ),
        (
            [],
            [
                {
                    "FieldSelectors": [
                        {"Field": "eventCategory", "Equals": ["Management"]},
                        {"Field": "eventSource", "NotEquals": ["eks.amazonaws.com"]},
                    ]
                }
            ],
            False,
        ),
        (
            [],
            [
                {
                    "FieldSelectors": [
                        {"Field": "eventCategory", "Equals": ["Management"]},
                        {"Field": "eventSource", "Equals": ["kms.amazonaws.com"]},
                    ]
                }
            ],
            False,
        ),
        ([], [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}]}], False),
    ],
)
def test_management_write_events(
    basic: list[dict[str, Any]], advanced: list[dict[str, Any]], logged: bool
) -> None:
    assert logs_management_writes(basic, advanced) is logged


def healthy_facts(**changes: Any) -> Facts:
    values: dict[str, Any] = {
        "stack": stack(),
        "regions": (HOME,),
        "regions_source": "--regions",
        "region_facts": (RegionFacts(HOME, True, 2),),
        "metrics": Metrics(0, 0, None),
        "trails": (trail(),),
    }
    values.update(changes)
    return Facts(HOME, Identity("123456789012", "arn:aws:iam::123456789012:user/me"), **values)


def test_unusable_credentials_stop_at_one_line() -> None:
    facts = Facts(HOME, Failure("sts:GetCallerIdentity", "InvalidClientTokenId", "bad"))
    checks = build_checks(facts)
    assert [(c.id, c.mark) for c in checks] == [("credentials", Mark.FAIL)]
    assert exit_code(checks) == 1


def test_findings_region_is_the_only_hub_that_matters() -> None:
    facts = healthy_facts(
        stack=stack(parameters={**PARAMETERS, "FindingsRegion": "eu-west-1"}),
        findings_region="eu-west-1",
        region_facts=(RegionFacts(HOME, NOT_SUBSCRIBED, 1), RegionFacts("eu-west-1", True, 0)),
    )
    found = marks(build_checks(facts))
    assert "securityhub:us-east-1" not in found
    assert found["securityhub:eu-west-1"] is Mark.OK
    assert "eks:eu-west-1" not in found  # not audited: its hub is read, its clusters are not


@pytest.mark.parametrize(
    ("facts", "code"),
    [
        (healthy_facts(), 0),
        (healthy_facts(region_facts=(RegionFacts(HOME, NOT_SUBSCRIBED, 2),)), 1),
        (healthy_facts(region_facts=(RegionFacts(HOME, DENIED, 2),)), 1),  # ? alone
        (healthy_facts(stack=None, metrics=None), 1),
    ],
)
def test_exit_code(facts: Facts, code: int) -> None:
    checks = build_checks(facts)
    assert exit_code(checks) == code
    assert to_json(facts, checks)["exit_code"] == code


def test_json_document_contract() -> None:
    facts = healthy_facts(region_facts=(RegionFacts(HOME, DENIED, 2),))
    document = to_json(facts, build_checks(facts))
    assert set(document) == {
        "version",
        "account",
        "caller",
        "home_region",
        "stack_name",
        "regions",
        "summary",
        "exit_code",
        "checks",
    }
    assert document["summary"] == {"ok": 11, "fail": 0, "unknown": 1}
    (hub,) = [c for c in document["checks"] if c["id"] == f"securityhub:{HOME}"]
    assert hub["status"] == "unknown"
    assert hub["denied_action"] == "securityhub:DescribeHub"
    for check in document["checks"]:
        assert set(check) == {"id", "status", "title", "detail", "fix", "denied_action"}
        assert check["status"] in ("ok", "fail", "unknown")


@pytest.mark.parametrize(("encoding", "mark"), [("utf-8", "✗"), ("ascii", "FAIL")])
def test_table_marks_fit_the_terminal(encoding: str, mark: str) -> None:
    facts = healthy_facts(stack=None, metrics=None)
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding=encoding)
    render_table(facts, build_checks(facts), out)  # must not raise UnicodeEncodeError
    out.flush()
    text = raw.getvalue().decode(encoding)
    assert f"{mark} stack EksNetpolAuditor in {HOME}" in text
    assert "fix: deploy it" in text
