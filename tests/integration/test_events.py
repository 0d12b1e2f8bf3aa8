"""Event-driven runs through the sandbox: every accepted event kind, delivered directly by
EventBridge and wrapped in SQS records, audits exactly its cluster and its finding follows
the change; bursts, poison messages and the auditor's own echo behave."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from eks_netpol_auditor import handler
from eks_netpol_auditor.remediation import apply as remediation_apply
from sandbox.client import AddonSeed, SandboxClient
from sandbox.environment import account_overrides
from tests.builders import ENABLED_CONFIG
from tests.conftest import AwsClientFactory
from tests.eks_events import (
    ADDON_KINDS,
    CLOUDTRAIL_KINDS,
    PERSON,
    SANDBOX_CALLER,
    change_event,
    sqs_batch,
)
from tests.integration.lambda_support import (
    SCHEDULED_EVENT,
    FakeContext,
    emitted,
    lambda_environment,
    metric_values,
)

__all__ = ["lambda_environment"]  # autouse: Lambda environment and captured logs

HOME = "us-east-1"
EXEMPT = {"eks-netpol-auditor:exempt": "cilium"}


@dataclass(frozen=True)
class Change:
    """Account state before, the change the event reports, and the verdict it must produce."""

    before: AddonSeed | None
    apply: Callable[[SandboxClient, str, str], Any]
    expected: tuple[str, str] | None  # (Compliance.Status, Reason); None: archived
    tags: dict[str, str] | None = None
    exists_before: bool = True


def _addon(sandbox: SandboxClient, region: str, name: str, seed: AddonSeed | None) -> None:
    sandbox.set_addon(region, name, seed)


def enable(s: SandboxClient, r: str, n: str) -> None:
    _addon(s, r, n, AddonSeed(configuration_values=ENABLED_CONFIG))


def remove_addon(s: SandboxClient, r: str, n: str) -> None:
    _addon(s, r, n, None)


def degrade(s: SandboxClient, r: str, n: str) -> None:
    _addon(s, r, n, AddonSeed(configuration_values=ENABLED_CONFIG, status="DEGRADED"))


def fail_update(s: SandboxClient, r: str, n: str) -> None:
    _addon(s, r, n, AddonSeed(configuration_values=ENABLED_CONFIG, status="UPDATE_FAILED"))


def fail_create(s: SandboxClient, r: str, n: str) -> None:
    _addon(s, r, n, AddonSeed(configuration_values=ENABLED_CONFIG, status="CREATE_FAILED"))


def create_cluster(s: SandboxClient, r: str, n: str) -> None:
    s.add_cluster(r, n, addon=AddonSeed(configuration_values=ENABLED_CONFIG))


def delete_cluster(s: SandboxClient, r: str, n: str) -> None:
    s.delete_cluster(r, n)


def tag_exempt(s: SandboxClient, r: str, n: str) -> None:
    s.update_cluster(r, n, tags=EXEMPT)


def untag(s: SandboxClient, r: str, n: str) -> None:
    s.update_cluster(r, n, tags={})


def auto_mode_on(s: SandboxClient, r: str, n: str) -> None:
    s.update_cluster(r, n, auto_mode=True)


DISABLED = AddonSeed()
ON = AddonSeed(configuration_values=ENABLED_CONFIG)
PASSED = ("PASSED", "NETWORK_POLICY_ENABLED")
UNHEALTHY = ("WARNING", "ADDON_UNHEALTHY")
CHANGES: dict[str, Change] = {
    "CreateCluster": Change(None, create_cluster, PASSED, exists_before=False),
    "DeleteCluster": Change(DISABLED, delete_cluster, None),
    "CreateAddon": Change(None, enable, PASSED),
    "UpdateAddon": Change(DISABLED, enable, PASSED),
    "DeleteAddon": Change(ON, remove_addon, ("FAILED", "ADDON_NOT_INSTALLED")),
    "TagResource": Change(DISABLED, tag_exempt, ("WARNING", "EXEMPTED")),
    "UntagResource": Change(DISABLED, untag, ("FAILED", "NETWORK_POLICY_DISABLED"), tags=EXEMPT),
    "UpdateClusterConfig": Change(DISABLED, auto_mode_on, ("WARNING", "AUTO_MODE_NOT_VERIFIABLE")),
    "EKS Addon Creation Failed": Change(None, fail_create, UNHEALTHY),
    "EKS Addon Creation Succeeded": Change(None, enable, PASSED),
    "EKS Addon Update Failed": Change(ON, fail_update, UNHEALTHY),
    "EKS Addon Update Succeeded": Change(DISABLED, enable, PASSED),
    "EKS Addon Deletion Failed": Change(ON, fail_update, UNHEALTHY),
    "EKS Addon Deletion Succeeded": Change(ON, remove_addon, ("FAILED", "ADDON_NOT_INSTALLED")),
    "EKS Addon Health Degraded": Change(ON, degrade, UNHEALTHY),
    "EKS Addon Health Restored": Change(
        AddonSeed(configuration_values=ENABLED_CONFIG, status="DEGRADED"), enable, PASSED
    ),
}
assert set(CHANGES) == set(CLOUDTRAIL_KINDS + ADDON_KINDS)


@pytest.fixture(autouse=True)
def publishing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLISH_FINDINGS", "true")
    # The seeding full runs list only these two regions (keeps the suite quick).
    monkeypatch.setenv("AUDIT_REGIONS", "us-east-1,eu-west-1")


@pytest.fixture
def remediating(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTO_REMEDIATE", "true")
    monkeypatch.setattr(remediation_apply, "UPDATE_SPACING_SECONDS", 0.0)


def findings_by_cluster(sandbox: SandboxClient, region: str) -> dict[str, dict[str, Any]]:
    return {
        f["ProductFields"]["eks-netpol-auditor/ClusterName"]: f for f in sandbox.findings(region)
    }


def seed_with_findings(sandbox: SandboxClient, region: str, change: Change) -> None:
    """The target plus a neighbour in its region and one at home, all with findings."""
    if change.exists_before:
        sandbox.add_cluster(region, "target", addon=change.before, tags=change.tags)
    sandbox.add_cluster(region, "neighbour", addon=AddonSeed())
    sandbox.add_cluster(HOME if region != HOME else "eu-west-1", "elsewhere", addon=AddonSeed())
    handler.scheduled_handler(SCHEDULED_EVENT, FakeContext())


def calls_outside(sandbox: SandboxClient, region: str) -> list[tuple[str, str, str]]:
    return [
        (c["service"], c["operation"], c["region"])
        for c in sandbox.calls().calls
        if c["region"] != region and c["service"] in {"eks", "sts", "ec2"}
    ]


def invoke(event: dict[str, Any], wrapped: bool) -> dict[str, Any]:
    if wrapped:
        response: dict[str, Any] = handler.event_handler(sqs_batch([event]), FakeContext())
        assert response == {"batchItemFailures": []}
        return response
    summary: dict[str, Any] = handler.event_handler(event, FakeContext())
    return summary


@pytest.mark.parametrize("wrapped", [False, True], ids=["direct", "sqs"])
@pytest.mark.parametrize("kind", list(CHANGES))
def test_each_event_kind_audits_exactly_its_cluster_and_the_finding_follows(
    sandbox: SandboxClient,
    capsys: pytest.CaptureFixture[str],
    kind: str,
    wrapped: bool,
) -> None:
    region = "eu-west-1"
    change = CHANGES[kind]
    seed_with_findings(sandbox, region, change)
    before = {r: findings_by_cluster(sandbox, r) for r in (region, HOME)}
    change.apply(sandbox, region, "target")
    sandbox.reset_calls()

    invoke(change_event(kind, region, "target"), wrapped)

    calls = sandbox.calls()
    assert calls.count("eks", "ListClusters") == 0
    assert calls.count("ec2") == 0
    assert calls.count("eks", "DescribeCluster") == 1
    assert calls.count("eks", "DescribeCluster", cluster="target") == 1
    assert calls_outside(sandbox, region) == []
    assert calls.count("securityhub", region=HOME) == calls.count(
        "securityhub", "GetFindings", region=HOME
    ), "the home region may be read (routing fallback), never written"
    after = {r: findings_by_cluster(sandbox, r) for r in (region, HOME)}
    target = after[region]["target"]
    if change.expected is None:
        assert target["RecordState"] == "ARCHIVED"
    else:
        assert target["RecordState"] == "ACTIVE"
        status = target["Compliance"]["Status"]
        reason = target["ProductFields"]["eks-netpol-auditor/Reason"]
        assert (status, reason) == change.expected
    for r in (region, HOME):
        for name, finding in after[r].items():
            if name != "target":
                assert finding == before[r][name], f"{name} in {r} was touched"
    lines = emitted(capsys)
    assert metric_values(lines)["EventsReceived"] == 1


def test_a_tag_change_journaled_as_cloudtrail_records_it_re_audits_its_cluster(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    """Issue 17 item 2, end to end: the sandbox journals TagResource with the ARN
    URL-encoded, as CloudTrail records a path parameter; the event must re-audit the
    cluster, not go to the DLQ as poison."""
    sandbox.add_cluster("eu-west-1", "target", addon=AddonSeed())
    handler.scheduled_handler(SCHEDULED_EVENT, FakeContext())
    eks = aws_client("eks", "eu-west-1")
    arn = eks.describe_cluster(name="target")["cluster"]["arn"]
    eks.tag_resource(resourceArn=arn, tags=EXEMPT)
    (event,) = sandbox.events(event_name="TagResource")
    assert event["detail"]["requestParameters"]["resourceArn"].startswith("arn%3Aaws%3Aeks%3A")
    assert handler.event_handler(sqs_batch([event]), FakeContext()) == {"batchItemFailures": []}
    finding = findings_by_cluster(sandbox, "eu-west-1")["target"]
    assert finding["ProductFields"]["eks-netpol-auditor/Reason"] == "EXEMPTED"


def test_an_auto_mode_switch_journaled_by_the_sandbox_re_audits_its_cluster(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    """Issue 17 item 16, end to end: UpdateClusterConfig turning EKS Auto Mode on, as the
    sandbox journals it, re-audits the cluster. The event is handled once the update has
    finished: while the cluster is UPDATING, DescribeCluster may still show the old
    computeConfig (see docs/events.md)."""
    sandbox.add_cluster("eu-west-1", "target", addon=AddonSeed())
    handler.scheduled_handler(SCHEDULED_EVENT, FakeContext())
    eks = aws_client("eks", "eu-west-1")
    eks.update_cluster_config(
        name="target",
        computeConfig={"enabled": True},
        storageConfig={"blockStorage": {"enabled": True}},
        kubernetesNetworkConfig={"elasticLoadBalancing": {"enabled": True}},
    )
    sandbox.settle()
    (event,) = sandbox.events(event_name="UpdateClusterConfig")
    assert handler.event_handler(sqs_batch([event]), FakeContext()) == {"batchItemFailures": []}
    finding = findings_by_cluster(sandbox, "eu-west-1")["target"]
    assert finding["ProductFields"]["eks-netpol-auditor/Reason"] == "AUTO_MODE_NOT_VERIFIABLE"


def test_delete_cluster_archives_only_once_describe_cluster_says_it_is_gone(
    sandbox: SandboxClient,
) -> None:
    region = "eu-west-1"
    seed_with_findings(sandbox, region, CHANGES["UpdateAddon"])
    sandbox.update_cluster(region, "target", status="DELETING")
    summary = invoke(change_event("DeleteCluster", region, "target"), wrapped=False)
    assert summary["confirmed_deleted"] == []
    assert findings_by_cluster(sandbox, region)["target"]["RecordState"] == "ACTIVE"
    sandbox.delete_cluster(region, "target")
    summary = invoke(change_event("DeleteCluster", region, "target"), wrapped=False)
    assert summary["confirmed_deleted"] == [f"{region}/target"]
    assert summary["findings"]["archived"] == 1
    assert findings_by_cluster(sandbox, region)["target"]["RecordState"] == "ARCHIVED"
    assert findings_by_cluster(sandbox, region)["neighbour"]["RecordState"] == "ACTIVE"


def test_a_burst_of_200_events_for_50_clusters_gives_50_audits_and_loses_nothing(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str]
) -> None:
    regions = ("us-east-1", "eu-west-1")
    names = [(regions[i % 2], f"c{i:02d}") for i in range(50)]
    for region, name in names:
        sandbox.add_cluster(region, name, addon=AddonSeed())
    handler.scheduled_handler(SCHEDULED_EVENT, FakeContext())
    for region, name in names:
        enable(sandbox, region, name)
    kinds = ("UpdateAddon", "TagResource", "EKS Addon Update Succeeded", "UntagResource")
    burst = [change_event(kind, r, n) for kind in kinds for r, n in names]
    assert len(burst) == 200
    sandbox.reset_calls()

    response = handler.event_handler(sqs_batch(burst), FakeContext())

    assert response == {"batchItemFailures": []}
    calls = sandbox.calls()
    assert calls.count("eks", "DescribeCluster") == 50
    assert calls.count("eks", "DescribeAddon") == 50
    assert calls.count("eks", "ListClusters") == 0
    for region, name in names:
        assert calls.count("eks", "DescribeCluster", cluster=name) == 1
        finding = findings_by_cluster(sandbox, region)[name]
        assert finding["Compliance"]["Status"] == "PASSED", name
    metrics = metric_values(emitted(capsys))
    assert metrics["EventsReceived"] == 200
    assert metrics["ClustersAudited"] == 50


def test_poison_and_failing_records_are_reported_alone_so_sqs_retries_only_them(
    sandbox: SandboxClient,
) -> None:
    sandbox.add_cluster("us-east-1", "fine", addon=AddonSeed())
    sandbox.add_cluster("us-east-1", "broken", addon=AddonSeed())
    sandbox.deny_describe_addon("us-east-1", "broken")
    batch = sqs_batch(
        [
            change_event("UpdateAddon", "us-east-1", "fine"),
            "{not json",
            {"source": "aws.eks", "detail-type": "AWS API Call via CloudTrail"},
            change_event("UpdateAddon", "us-east-1", "broken"),
            change_event("UpdateAddon", "us-east-1", "fine"),
            change_event("UpdateAddon", "us-east-1", "other", caller=SANDBOX_CALLER)
            | {"detail-type": "Scheduled Event", "source": "aws.events"},
        ]
    )
    ids = [r["messageId"] for r in batch["Records"]]
    response = handler.event_handler(batch, FakeContext())
    failed = [item["itemIdentifier"] for item in response["batchItemFailures"]]
    assert failed == [ids[1], ids[2], ids[3], ids[5]]


def test_a_skipped_event_audits_nothing(sandbox: SandboxClient) -> None:
    sandbox.add_cluster("us-east-1", "c1", addon=AddonSeed())
    sandbox.reset_calls()
    event = change_event("UpdateAddon", "us-east-1", "c1")
    event["detail"]["requestParameters"]["addonName"] = "coredns"
    summary = handler.event_handler(event, FakeContext())
    assert "coredns" in summary["skipped"]
    assert sandbox.calls().total == 0


@pytest.mark.parametrize("wrapped", [False, True], ids=["direct", "sqs"])
def test_an_event_from_a_region_outside_audit_regions_is_skipped_with_the_reason(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str], wrapped: bool
) -> None:
    """Issue 17 item 13: retrying such an event can never succeed, so it must not fail its
    record into the DLQ (and its alarm), nor the direct invocation. Poison before."""
    event = change_event("UpdateAddon", "ap-south-2", "c1")
    if wrapped:
        assert handler.event_handler(sqs_batch([event]), FakeContext()) == {"batchItemFailures": []}
    else:
        summary = handler.event_handler(event, FakeContext())
        assert "ap-south-2 is not in AUDIT_REGIONS" in summary["skipped"]
    assert sandbox.calls().total == 0
    lines = emitted(capsys)
    (skipped,) = [line for line in lines if line.get("message") == "event skipped"]
    assert "ap-south-2 is not in AUDIT_REGIONS (us-east-1, eu-west-1)" in skipped["reason"]
    metrics = metric_values(lines)
    assert (metrics["EventsSkipped"], metrics.get("EventsRejected", 0)) == (1, 0)


def test_a_batch_made_only_of_garbage_returns_its_failures_instead_of_raising(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 17 item 21: Powertools raises BatchProcessingError when every record fails,
    failing the invocation (Errors alarm) on every redelivery; with
    raise_on_entire_batch_failure=False each record is reported failed on its own and
    reaches the DLQ after the queue's maxReceiveCount."""
    batch = sqs_batch(["{not json", "[]", {"source": "aws.eks", "detail-type": "x"}])
    response = handler.event_handler(batch, FakeContext())
    assert [item["itemIdentifier"] for item in response["batchItemFailures"]] == [
        r["messageId"] for r in batch["Records"]
    ]
    assert sandbox.calls().total == 0
    lines = emitted(capsys)
    rejected = [line for line in lines if line.get("message") == "rejected record"]
    assert len(rejected) == 3 and all(line["error"].startswith("poison") for line in rejected)
    assert metric_values(lines)["EventsRejected"] == 3


def test_an_add_on_event_that_names_no_cluster_is_skipped_not_parked_in_the_dlq(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 17 item 6: nothing documents `resources` of EKS's own add-on events; one that
    cannot be placed must not fail its record (5 deliveries, DLQ, alarm)."""
    sandbox.add_cluster("us-east-1", "c1", addon=AddonSeed())
    unplaced = change_event("EKS Addon Update Succeeded", "us-east-1", "c1") | {"resources": []}
    placed = change_event("UpdateAddon", "us-east-1", "c1")
    response = handler.event_handler(sqs_batch([unplaced, placed]), FakeContext())
    assert response == {"batchItemFailures": []}
    assert sandbox.calls().count("eks", "DescribeCluster", cluster="c1") == 1
    (skipped,) = [line for line in emitted(capsys) if line.get("message") == "event skipped"]
    assert "EKS Addon Update Succeeded: cannot tell which cluster" in skipped["reason"]


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (
            change_event("UpdateAddon", "xx-nowhere-9", "c1"),
            "unknown region",
        ),
        (
            {"source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification"},
            "takes only EKS change events",
        ),
    ],
)
def test_a_direct_event_outside_the_deployed_scope_is_rejected_before_any_call(
    sandbox: SandboxClient,
    monkeypatch: pytest.MonkeyPatch,
    event: dict[str, Any],
    message: str,
) -> None:
    monkeypatch.setenv("AUDIT_REGIONS", "us-east-1,eu-west-1")
    with pytest.raises(handler.InvalidEvent, match=message):
        handler.event_handler(event, FakeContext())
    assert sandbox.calls().total == 0


@pytest.mark.parametrize(
    ("event", "shape"),
    [
        ({}, "got {};"),
        (SCHEDULED_EVENT, "got an event from 'aws.events' ('Scheduled Event');"),
        ({"regions": ["us-east-1"], "dry_run": True}, "got an object with keys dry_run, regions;"),
        ({"Records": []}, "got an object with keys Records;"),
        ({"Records": [{"eventSource": "aws:sns"}]}, "got an object with keys Records;"),
        (["us-east-1"], "got a JSON list;"),
    ],
)
def test_the_event_function_refuses_anything_but_eks_events_and_audits_nothing(
    sandbox: SandboxClient,
    capsys: pytest.CaptureFixture[str],
    event: Any,
    shape: str,
) -> None:
    """Issue 16 item 3: `{}` or a scheduled event sent to the event function (2-minute
    timeout, no reserved concurrency) used to start a full audit there."""
    sandbox.add_cluster("us-east-1", "c1", addon=AddonSeed())  # FAILED if it were audited
    sandbox.reset_calls()
    with pytest.raises(handler.InvalidEvent) as raised:
        handler.event_handler(event, FakeContext())
    message = str(raised.value)
    assert message.startswith("the event function takes only EKS change events (source aws.eks)")
    assert shape in message
    assert "\n" not in message
    assert sandbox.calls().total == 0
    assert sandbox.findings("us-east-1") == []
    lines = emitted(capsys)
    (refused,) = [line for line in lines if line.get("level") == "ERROR"]
    assert (refused["message"], refused["error"]) == ("rejected invocation", message)
    metrics = metric_values(lines)
    assert metrics["InvocationsRejected"] == 1
    assert "ClustersAudited" not in metrics


def test_an_event_whose_cluster_cannot_be_read_fails_the_invocation_for_a_retry(
    sandbox: SandboxClient,
) -> None:
    sandbox.add_cluster("us-east-1", "c1", addon=AddonSeed())
    sandbox.deny_describe_addon("us-east-1", "c1")
    with pytest.raises(handler.NothingAudited, match="us-east-1/c1"):
        handler.event_handler(change_event("UpdateAddon", "us-east-1", "c1"), FakeContext())


@pytest.mark.usefixtures("remediating")
def test_the_auditors_own_update_coming_back_never_triggers_a_second_one(
    sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REMEDIATION_COOLDOWN_MINUTES", "0")  # only the identity rule acts
    sandbox.add_cluster("us-east-1", "c1", addon=AddonSeed())
    first = handler.event_handler(change_event("UpdateAddon", "us-east-1", "c1"), FakeContext())
    assert first["remediation"] == {"applied": 1}
    assert sandbox.calls().count("eks", "UpdateAddon") == 1
    token = next(
        line["remediation"]["request"]["clientRequestToken"]
        for line in emitted(capsys)
        if line.get("event") == "remediation"
    )
    # EKS gave up on the update and the add-on is back to its old configuration: exactly
    # the state in which an echo, taken for a person's change, would update it again.
    sandbox.settle("us-east-1", "c1", outcome="Failed")
    sandbox.set_addon("us-east-1", "c1", AddonSeed())
    journaled = sandbox.events(region="us-east-1", event_name="UpdateAddon")
    assert len(journaled) == 1  # the auditor's own call, as CloudTrail records it
    own_by_role = cloudtrail_update("c1", caller=SANDBOX_CALLER, token="console-1")
    own_by_token = cloudtrail_update("c1", caller=PERSON, token=token)
    for echo in (journaled[0], own_by_role, own_by_token):
        sandbox.reset_calls()
        summary = handler.event_handler(sqs_batch([echo]), FakeContext())
        assert summary == {"batchItemFailures": []}
        assert sandbox.calls().count("eks", "UpdateAddon") == 0
        assert sandbox.calls().count("eks", "DescribeCluster", cluster="c1") == 1
        held = [line for line in emitted(capsys) if line.get("event") == "remediation"]
        assert [line["remediation"]["guard"] for line in held] == ["own_update"]
    finding = findings_by_cluster(sandbox, "us-east-1")["c1"]
    assert finding["Compliance"]["Status"] == "FAILED"  # re-audited all the same


def cloudtrail_update(cluster: str, *, caller: str, token: str) -> dict[str, Any]:
    event = change_event("UpdateAddon", "us-east-1", cluster, caller=caller)
    event["detail"]["requestParameters"]["clientRequestToken"] = token
    return event


@pytest.mark.usefixtures("remediating")
def test_an_add_on_changed_within_the_cooldown_is_only_re_audited(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.add_cluster("us-east-1", "c1", addon=AddonSeed())  # modified just now
    summary = handler.event_handler(change_event("UpdateAddon", "us-east-1", "c1"), FakeContext())
    assert summary["summary"]["FAILED"] == 1
    assert summary["remediation"] == {"skipped": 1}
    assert sandbox.calls().count("eks", "UpdateAddon") == 0
    held = [line for line in emitted(capsys) if line.get("event") == "remediation"]
    assert held[0]["remediation"]["guard"] == "cooldown"


@pytest.mark.usefixtures("remediating")
def test_event_batches_keep_the_scheduled_runs_cap_and_guards(
    sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REMEDIATION_COOLDOWN_MINUTES", "0")
    monkeypatch.setenv("MAX_REMEDIATIONS_PER_RUN", "1")
    for name in ("a", "b"):
        sandbox.add_cluster("us-east-1", name, addon=AddonSeed())
    sandbox.add_cluster(
        "us-east-1",
        "opted-out",
        addon=AddonSeed(),
        tags={"eks-netpol-auditor:auto-remediate": "false"},
    )
    batch = sqs_batch(
        [change_event("UpdateAddon", "us-east-1", n) for n in ("a", "b", "opted-out")]
    )
    assert handler.event_handler(batch, FakeContext()) == {"batchItemFailures": []}
    assert sandbox.calls().count("eks", "UpdateAddon") == 1
    assert sandbox.calls().count("eks", "UpdateAddon", cluster="a") == 1


@pytest.mark.usefixtures("remediating")
def test_a_role_session_auditor_recognises_its_own_journaled_call_by_role_alone(
    sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """As deployed: the function runs as a role session; CloudTrail names the role in
    userIdentity.sessionContext.sessionIssuer; the token is removed to prove the role alone
    is enough."""
    account = "210987654321"
    session = f"arn:aws:sts::{account}:assumed-role/eks-netpol-auditor-fn/eks-netpol-auditor"
    created = sandbox.create_account(account, "AKIAEVENTSAUDITOR01", "x", principal_arn=session)
    for name, value in account_overrides(created).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("REMEDIATION_COOLDOWN_MINUTES", "0")
    sandbox.add_cluster("us-east-1", "c1", addon=AddonSeed(), account=account)
    person = change_event("UpdateAddon", "us-east-1", "c1", account=account)
    assert handler.event_handler(person, FakeContext())["remediation"] == {"applied": 1}
    sandbox.settle("us-east-1", "c1", outcome="Failed", account=account)
    sandbox.set_addon("us-east-1", "c1", AddonSeed(), account=account)
    (echo,) = sandbox.events(account=account, event_name="UpdateAddon")
    issuer = echo["detail"]["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"]
    assert issuer.rsplit("/", 1)[-1] == "eks-netpol-auditor-fn"
    echo["detail"]["requestParameters"]["clientRequestToken"] = "typed-by-hand"
    emitted(capsys)
    sandbox.reset_calls()
    summary = handler.event_handler(echo, FakeContext())
    assert summary["remediation"] == {"skipped": 1}
    assert sandbox.calls().count("eks", "UpdateAddon") == 0
    held = [line for line in emitted(capsys) if line.get("event") == "remediation"]
    assert [line["remediation"]["guard"] for line in held] == ["own_update"]


@pytest.mark.parametrize("kind", ["UpdateAddon", "EKS Addon Update Succeeded"])
def test_an_event_naming_another_accounts_cluster_is_never_audited(
    sandbox: SandboxClient, kind: str
) -> None:
    """Issue 16, point 8: an event forwarded from account B names B's cluster; a cluster of
    the same name in the auditor's own account must not be audited (nor changed) instead."""
    sandbox.add_cluster(HOME, "c1", addon=AddonSeed())
    sandbox.reset_calls()
    event = change_event(kind, HOME, "c1", account="999999999999")
    with pytest.raises(handler.NothingAudited, match="event from account 999999999999"):
        handler.event_handler(event, FakeContext())
    assert sandbox.calls().count("eks") == 0
    assert sandbox.findings(HOME) == []


@pytest.mark.usefixtures("remediating")
def test_a_persons_change_batched_with_the_auditors_echo_is_not_held_as_an_echo(
    sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 16, point 8: only a cluster whose events are all the auditor's own echo is held
    (Guard.OWN_UPDATE); a person who switched enforcement off in the same SQS batch as the
    echo arrived has made a change of their own, which remediation handles as any other."""
    monkeypatch.setenv("REMEDIATION_COOLDOWN_MINUTES", "0")  # only the identity rule acts
    sandbox.add_cluster("us-east-1", "c1", addon=AddonSeed())  # enforcement off
    echo = cloudtrail_update("c1", caller=SANDBOX_CALLER, token="enp1-echo")
    person = cloudtrail_update("c1", caller=PERSON, token="console-2")
    summary = handler.event_handler(sqs_batch([echo, person]), FakeContext())
    assert summary == {"batchItemFailures": []}
    assert sandbox.calls().count("eks", "UpdateAddon") == 1
    actions = [line for line in emitted(capsys) if line.get("event") == "remediation"]
    assert [line["remediation"]["action"] for line in actions] == ["applied"]
