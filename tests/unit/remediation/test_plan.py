"""Remediation without AWS: every guard, the merge, the token, the schema check, the cap.

The pure planner is tested table-driven; the I/O shell against a fake EKS client that
records calls, so cap, spacing, dry run and error handling are checked in milliseconds.
Property tests (hypothesis) prove the merged document is the user's document plus
enableNetworkPolicy "true" and nothing else, for JSON and YAML input.
"""

from __future__ import annotations

import json
import shlex
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from hypothesis import given
from hypothesis import strategies as st

from eks_netpol_auditor.config import Settings
from eks_netpol_auditor.evaluate import evaluate
from eks_netpol_auditor.event_targets import ClusterEvent, EventContext, principal_of
from eks_netpol_auditor.model import (
    Action,
    AddonFacts,
    AuditResult,
    ClusterFacts,
    ClusterResult,
    ComplianceStatus,
    Fix,
    Guard,
    NoFix,
    Outcome,
    Reason,
    Verdict,
    client_request_token,
)
from eks_netpol_auditor.remediation import apply as shell
from eks_netpol_auditor.remediation.plan import (
    GUARD_ORDER,
    OWN_GUARDS,
    VERDICT_GUARDS,
    Candidate,
    assess,
    check_schema,
    select,
)
from tests.builders import ACCOUNT

DISABLED_JSON = '{"env":{"WARM_IP_TARGET":"5"},"enableNetworkPolicy":"false"}'
VERSION = "v1.19.2-eksbuild.1"


def cluster(name: str = "prod", region: str = "eu-west-1", **overrides: Any) -> ClusterFacts:
    base = ClusterFacts(
        account=ACCOUNT,
        partition="aws",
        region=region,
        name=name,
        arn=f"arn:aws:eks:{region}:{ACCOUNT}:cluster/{name}",
        status="ACTIVE",
        kubernetes_version="1.31",
        platform_version="eks.12",
        addon=AddonFacts(version=VERSION, status="ACTIVE", configuration_values=DISABLED_JSON),
    )
    return replace(base, **overrides)


def addon(**overrides: Any) -> AddonFacts:
    return replace(
        AddonFacts(version=VERSION, status="ACTIVE", configuration_values=DISABLED_JSON),
        **overrides,
    )


def decide(facts: ClusterFacts, *, require_tag: bool = False) -> Any:
    return assess(facts, evaluate(facts), ACCOUNT, require_tag=require_tag)


# ------------------------------------------------------------------------------- guards

GUARD_CASES: list[tuple[str, ClusterFacts, bool, Guard]] = [
    (
        "cluster of another account",
        cluster(account="999999999999", arn="arn:aws:eks:eu-west-1:999999999999:cluster/prod"),
        False,
        Guard.ACCOUNT,
    ),
    (
        "ARN names another account",
        cluster(arn="arn:aws:eks:eu-west-1:999999999999:cluster/prod"),
        False,
        Guard.ACCOUNT,
    ),
    (
        "ARN names another region",
        cluster(arn=f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/prod"),
        False,
        Guard.ACCOUNT,
    ),
    (
        "ARN names another cluster",
        cluster(arn=f"arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/other"),
        False,
        Guard.ACCOUNT,
    ),
    ("cluster unreadable", cluster(error="AccessDeniedException: no"), False, Guard.NOT_EVALUATED),
    ("cluster UPDATING", cluster(status="UPDATING"), False, Guard.CLUSTER_STATUS),
    ("cluster FAILED", cluster(status="FAILED"), False, Guard.CLUSTER_STATUS),
    (
        "exempt tag, any value",
        cluster(tags={"eks-netpol-auditor:exempt": "calico"}),
        False,
        Guard.EXEMPT_TAG,
    ),
    (
        "exempt wins over opt-in",
        cluster(
            tags={"eks-netpol-auditor:exempt": "", "eks-netpol-auditor:auto-remediate": "true"}
        ),
        True,
        Guard.EXEMPT_TAG,
    ),
    (
        "opt-out tag",
        cluster(tags={"eks-netpol-auditor:auto-remediate": "false"}),
        False,
        Guard.OPT_OUT_TAG,
    ),
    (
        "opt-out tag, other case",
        cluster(tags={"eks-netpol-auditor:auto-remediate": " FALSE "}),
        False,
        Guard.OPT_OUT_TAG,
    ),
    (
        "opt-out beats require-tag",
        cluster(tags={"eks-netpol-auditor:auto-remediate": "False"}),
        True,
        Guard.OPT_OUT_TAG,
    ),
    (
        "unrecognised tag value fails closed",
        cluster(tags={"eks-netpol-auditor:auto-remediate": "no"}),
        False,
        Guard.TAG_VALUE,
    ),
    (
        "empty tag value fails closed",
        cluster(tags={"eks-netpol-auditor:auto-remediate": ""}),
        False,
        Guard.TAG_VALUE,
    ),
    ("require tag, untagged", cluster(), True, Guard.REQUIRE_TAG),
    (
        "require tag, key in other case is not ours",
        cluster(tags={"EKS-NETPOL-AUDITOR:AUTO-REMEDIATE": "true"}),
        True,
        Guard.REQUIRE_TAG,
    ),
    ("Auto Mode", cluster(auto_mode=True, addon=None), False, Guard.AUTO_MODE),
    ("no managed add-on: never created", cluster(addon=None), False, Guard.ADDON_MISSING),
    ("Kubernetes 1.24", cluster(kubernetes_version="1.24"), False, Guard.KUBERNETES_VERSION),
    (
        "Kubernetes 1.25 below its platform minimum",
        cluster(kubernetes_version="1.25", platform_version="eks.6"),
        False,
        Guard.KUBERNETES_VERSION,
    ),
    ("Kubernetes unknown", cluster(kubernetes_version=None), False, Guard.KUBERNETES_VERSION),
    (
        "add-on v1.13",
        cluster(addon=addon(version="v1.13.4-eksbuild.1")),
        False,
        Guard.ADDON_VERSION,
    ),
    (
        "add-on v1.14.0-eksbuild.2",
        cluster(addon=addon(version="v1.14.0-eksbuild.2")),
        False,
        Guard.ADDON_VERSION,
    ),
    (
        "add-on version unparseable",
        cluster(addon=addon(version="latest")),
        False,
        Guard.ADDON_VERSION,
    ),
    ("add-on DEGRADED", cluster(addon=addon(status="DEGRADED")), False, Guard.ADDON_STATUS),
    ("add-on CREATING", cluster(addon=addon(status="CREATING")), False, Guard.ADDON_STATUS),
    (
        "add-on UPDATE_FAILED",
        cluster(addon=addon(status="UPDATE_FAILED")),
        False,
        Guard.ADDON_STATUS,
    ),
    (
        "configuration unparseable",
        cluster(addon=addon(configuration_values="env: [unclosed")),
        False,
        Guard.CONFIGURATION,
    ),
    (
        "configuration is a list",
        cluster(addon=addon(configuration_values="- a\n- b\n")),
        False,
        Guard.CONFIGURATION,
    ),
    (
        "YAML 1.1 boolean word: meaning unknown to us",
        cluster(addon=addon(configuration_values="enableWindowsIpam: yes\n")),
        False,
        Guard.CONFIGURATION,
    ),
    (
        "YAML octal-looking number",
        cluster(addon=addon(configuration_values="livenessProbeTimeoutSeconds: 010\n")),
        False,
        Guard.CONFIGURATION,
    ),
    (
        "YAML duplicate key",
        cluster(addon=addon(configuration_values="init: {}\ninit: {}\n")),
        False,
        Guard.CONFIGURATION,
    ),
    (
        "JSON duplicate key",
        cluster(addon=addon(configuration_values='{"env":{},"env":{}}')),
        False,
        Guard.CONFIGURATION,
    ),
    (
        "non-string key",
        cluster(addon=addon(configuration_values="1: one\n")),
        False,
        Guard.CONFIGURATION,
    ),
]


@pytest.mark.parametrize(
    ("facts", "require_tag", "guard"),
    [pytest.param(f, r, g, id=label) for label, f, r, g in GUARD_CASES],
)
def test_each_guard_skips_and_names_itself(
    facts: ClusterFacts, require_tag: bool, guard: Guard
) -> None:
    outcome = decide(facts, require_tag=require_tag)
    assert not isinstance(outcome, Candidate)
    assert outcome is not None
    assert outcome.action is Action.SKIPPED
    assert outcome.guard is guard
    assert outcome.request is None
    record = outcome.to_json()
    assert record["action"] == "skipped"
    assert record["guard"] == guard.value
    assert record["reason"]
    json.dumps(record)


def test_addon_updating_is_in_progress_and_left_alone() -> None:
    outcome = decide(cluster(addon=addon(status="UPDATING")))
    assert not isinstance(outcome, Candidate)
    assert outcome is not None
    assert outcome.action is Action.IN_PROGRESS
    assert outcome.request is None
    assert "retry next run" in outcome.reason


def test_passed_cluster_has_nothing_to_remediate() -> None:
    facts = cluster(addon=addon(configuration_values='{"enableNetworkPolicy":"true"}'))
    assert decide(facts) is None


@pytest.mark.parametrize(
    ("verdict", "guard"),
    [
        (Verdict(ComplianceStatus.FAILED, Reason.ADDON_NOT_INSTALLED, "x"), Guard.ADDON_MISSING),
        (Verdict(ComplianceStatus.WARNING, Reason.ADDON_UNHEALTHY, "x"), Guard.VERDICT),
        (
            Verdict(ComplianceStatus.FAILED, Reason.NETWORK_POLICY_DISABLED, "x"),
            Guard.CONFIGURATION,
        ),
        (
            Verdict(ComplianceStatus.FAILED, Reason.NETWORK_POLICY_DISABLED, "x", NoFix("odd")),
            Guard.CONFIGURATION,
        ),
    ],
)
def test_a_failed_verdict_for_another_reason_is_never_remediated(
    verdict: Verdict, guard: Guard
) -> None:
    """Remediation trusts the verdict and its fix and never re-decides from the facts: on
    facts that would be remediable, a verdict without a fix names the verdict's guard."""
    outcome = assess(cluster(), verdict, ACCOUNT, require_tag=False)
    assert not isinstance(outcome, Candidate)
    assert outcome is not None
    assert outcome.guard is guard


def test_remediation_never_reads_the_configuration_it_sends_the_verdicts_fix() -> None:
    """Issue 16, point 1: the request is the one evaluate computed, not a second reading."""
    verdict = evaluate(cluster())
    assert isinstance(verdict.fix, Fix)
    unreadable = cluster(addon=addon(configuration_values="env: [unclosed"))
    candidate = assess(unreadable, verdict, ACCOUNT, require_tag=False)
    assert isinstance(candidate, Candidate)
    assert candidate.request == verdict.fix.request
    assert candidate.merged == verdict.fix.merged


# Each verdict rule's condition, and how to lift it so the next rule can fire.
LIFT: dict[Reason, dict[str, Any]] = {
    Reason.EVALUATION_ERROR: {"error": None},
    Reason.CLUSTER_NOT_READY: {"status": "ACTIVE"},
    Reason.EXEMPTED: {"tags": {}},
    Reason.AUTO_MODE_NOT_VERIFIABLE: {"auto_mode": False},
    Reason.ADDON_NOT_INSTALLED: {
        "addon": addon(
            version="v1.13.4-eksbuild.1", configuration_values="env: [unclosed", status="DEGRADED"
        )
    },
    Reason.KUBERNETES_VERSION_UNSUPPORTED: {"kubernetes_version": "1.31"},
}
ADDON_LIFT: dict[Reason, dict[str, Any]] = {
    Reason.ADDON_VERSION_UNSUPPORTED: {"version": VERSION},
    Reason.NETWORK_POLICY_DISABLED: {"configuration_values": '{"enableNetworkPolicy":"true"}'},
    Reason.ADDON_UNHEALTHY: {"status": "ACTIVE"},
}


def test_the_guard_order_agrees_with_the_verdict_table() -> None:
    """Issue 16, point 1 (done-when): start from a cluster that meets every rule of the
    verdict table at once and lift the rule that fired, one at a time, to observe the order
    in which `evaluate` applies its rules; the guards those verdicts map to must come in the
    same order in GUARD_ORDER, and assess must name each one."""
    facts = cluster(
        error="x",
        status="CREATING",
        tags={"eks-netpol-auditor:exempt": "calico"},
        auto_mode=True,
        addon=None,
        kubernetes_version="1.24",
    )
    seen: list[Reason] = []
    positions: list[int] = []
    verdict = evaluate(facts)
    while verdict.status is not ComplianceStatus.PASSED:
        seen.append(verdict.reason)
        guard = VERDICT_GUARDS[verdict.reason] or Guard.CONFIGURATION
        positions.append(GUARD_ORDER.index(guard))
        # The verdict alone names the guard: facts that pass every own guard do not change it.
        held = replace(
            facts, status="ACTIVE", addon=facts.addon and replace(facts.addon, status="ACTIVE")
        )
        outcome = assess(held, verdict, ACCOUNT, require_tag=False)
        assert isinstance(outcome, Outcome) and outcome.guard is guard, verdict.reason
        if verdict.reason in LIFT:
            facts = replace(facts, **LIFT[verdict.reason])
        else:
            assert facts.addon is not None
            facts = replace(facts, addon=replace(facts.addon, **ADDON_LIFT[verdict.reason]))
        verdict = evaluate(facts)
    assert seen == [*LIFT, *ADDON_LIFT], "every rule of the table fired, in this order"
    assert positions == sorted(positions), list(zip(seen, positions, strict=True))
    assert set(VERDICT_GUARDS) == set(Reason)
    assert {g for g in VERDICT_GUARDS.values() if g} | set(OWN_GUARDS) <= set(GUARD_ORDER)


@pytest.mark.parametrize(
    ("facts", "verdict"),
    [
        pytest.param(cluster(status="CREATING"), None, id="cluster still being created"),
        pytest.param(cluster(status="PENDING"), None, id="cluster pending"),
        # Every fact readable and remediable, yet the verdict says "not evaluated".
        pytest.param(
            cluster(),
            Verdict(ComplianceStatus.NOT_AVAILABLE, Reason.EVALUATION_ERROR, "x"),
            id="readable facts",
        ),
    ],
)
def test_a_not_available_verdict_is_never_remediated_even_without_a_fact_error(
    facts: ClusterFacts, verdict: Verdict | None
) -> None:
    """Issue 16, point 8: NOT_AVAILABLE is the not-evaluated guard's, not the error's."""
    verdict = verdict or evaluate(facts)
    assert facts.error is None
    assert verdict.status is ComplianceStatus.NOT_AVAILABLE
    outcome = assess(facts, verdict, ACCOUNT, require_tag=False)
    assert isinstance(outcome, Outcome)
    assert (outcome.action, outcome.guard) == (Action.SKIPPED, Guard.NOT_EVALUATED)


@pytest.mark.parametrize("value", ["true", "True", " TRUE "])
def test_opt_in_tag_satisfies_require_tag(value: str) -> None:
    facts = cluster(tags={"eks-netpol-auditor:auto-remediate": value})
    assert isinstance(decide(facts, require_tag=True), Candidate)


def test_eligible_cluster_gets_the_exact_update_request() -> None:
    facts = cluster(
        addon=addon(
            version="v1.14.0-eksbuild.3",
            configuration_values=(
                "env:\n  WARM_IP_TARGET: '5'\nnodeAgent:\n  enablePolicyEventLogs: 'true'\n"
            ),
        ),
        kubernetes_version="1.25",
        platform_version="eks.7",
    )
    candidate = decide(facts)
    assert isinstance(candidate, Candidate)
    kwargs = candidate.request.to_kwargs()
    assert set(kwargs) == {
        "clusterName",
        "addonName",
        "configurationValues",
        "resolveConflicts",
        "clientRequestToken",
    }, "never addonVersion, never serviceAccountRoleArn"
    assert kwargs["clusterName"] == "prod"
    assert kwargs["addonName"] == "vpc-cni"
    assert kwargs["resolveConflicts"] == "PRESERVE"
    assert json.loads(kwargs["configurationValues"]) == {
        "env": {"WARM_IP_TARGET": "5"},
        "nodeAgent": {"enablePolicyEventLogs": "true"},
        "enableNetworkPolicy": "true",
    }
    assert kwargs["clientRequestToken"] == client_request_token(
        facts.arn, "v1.14.0-eksbuild.3", kwargs["configurationValues"], None
    )


def test_the_request_sends_what_the_verdict_tells_the_user_to_send() -> None:
    """One exact reading: the finding's command and the UpdateAddon request never differ."""
    facts = cluster(addon=addon(configuration_values="env: {A: '1'}\nenableNetworkPolicy: x\n"))
    candidate = decide(facts)
    assert isinstance(candidate, Candidate)
    command = evaluate(facts).command
    assert command is not None
    words = shlex.split(command)
    assert words[words.index("--configuration-values") + 1] == (
        candidate.request.configuration_values
    )
    assert (
        words[words.index("--resolve-conflicts") + 1]
        == (candidate.request.to_kwargs()["resolveConflicts"])
    )


def test_absent_configuration_becomes_just_the_key() -> None:
    candidate = decide(cluster(addon=addon(configuration_values=None)))
    assert isinstance(candidate, Candidate)
    assert candidate.request.configuration_values == '{"enableNetworkPolicy":"true"}'


# ------------------------------------------------------------------------------- token


MODIFIED = datetime(2026, 11, 27, 8, 0, 0, 123000, tzinfo=UTC)


def test_token_is_deterministic_short_and_sensitive_to_every_input() -> None:
    arn = f"arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/" + "c" * 100
    doc = '{"enableNetworkPolicy":"true"}'
    token = client_request_token(arn, VERSION, doc, MODIFIED)
    assert token == client_request_token(arn, VERSION, doc, MODIFIED)
    assert token.startswith("enp1-")
    assert all(ch.isalnum() or ch == "-" for ch in token)
    others = {
        client_request_token(arn + "x", VERSION, doc, MODIFIED),
        client_request_token(arn, "v1.19.3-eksbuild.1", doc, MODIFIED),
        client_request_token(arn, VERSION, '{"a":1,"enableNetworkPolicy":"true"}', MODIFIED),
        client_request_token(arn, VERSION, doc, MODIFIED + timedelta(milliseconds=1)),
        client_request_token(arn, VERSION, doc, None),
    }
    assert token not in others
    assert len(others) == 5


@given(
    arn=st.text(min_size=0, max_size=300),
    version=st.text(max_size=60),
    doc=st.text(max_size=500),
    modified=st.none() | st.datetimes(timezones=st.just(UTC)),
)
def test_token_length_is_what_eks_accepts(
    arn: str, version: str, doc: str, modified: datetime | None
) -> None:
    """Issue 17 item 5: EKS rejects a clientRequestToken outside 33-126 characters
    ("The client request token parameter must be between 33 and 126 characters",
    InvalidParameterException: ansible-collections/community.aws#817, #844), though the
    botocore model and the API reference give no limit. The sandbox enforces the same."""
    assert 33 <= len(client_request_token(arn, version, doc, modified)) <= 126


def test_an_add_on_changed_since_gets_a_new_token_for_the_same_configuration() -> None:
    """Issue 17 item 8: the same cluster, version and document, but an add-on modified
    since (a revert to exactly the pre-remediation configuration), must not reuse the
    token: EKS would answer with the earlier, finished update. One DescribeAddon reading
    (one modifiedAt) keeps one token, so overlapping runs still send one update."""
    before = decide(cluster(addon=addon(modified_at=MODIFIED)))
    again = decide(cluster(addon=addon(modified_at=MODIFIED)))
    reverted = decide(cluster(addon=addon(modified_at=MODIFIED + timedelta(minutes=40))))
    assert isinstance(before, Candidate) and isinstance(reverted, Candidate)
    assert before.request.configuration_values == reverted.request.configuration_values
    assert before.request.client_request_token == again.request.client_request_token
    assert before.request.client_request_token != reverted.request.client_request_token


# ------------------------------------------------------------------------------- schema


def vpc_cni_schema(properties: dict[str, Any], additional: bool = False) -> str:
    """The shape DescribeAddonConfiguration returns for vpc-cni: root $ref to VpcCni."""
    return json.dumps(
        {
            "$ref": "#/definitions/VpcCni",
            "$schema": "http://json-schema.org/draft-06/schema#",
            "definitions": {
                "VpcCni": {
                    "type": "object",
                    "additionalProperties": additional,
                    "properties": properties,
                }
            },
        }
    )


BOOL_STRING = {"type": "string", "format": "boolean"}
MERGED = {"env": {"WARM_IP_TARGET": "5"}, "enableNetworkPolicy": "true"}


def test_schema_with_the_key_and_every_existing_key_accepts() -> None:
    schema = vpc_cni_schema({"env": {"type": "object"}, "enableNetworkPolicy": BOOL_STRING})
    assert check_schema(schema, MERGED) is None


def test_schema_allowing_additional_properties_accepts_unknown_keys() -> None:
    schema = vpc_cni_schema({"enableNetworkPolicy": BOOL_STRING}, additional=True)
    assert check_schema(schema, MERGED) is None


def test_schema_enable_key_through_a_ref_is_followed() -> None:
    document = json.loads(
        vpc_cni_schema({"env": {}, "enableNetworkPolicy": {"$ref": "#/definitions/B"}})
    )
    document["definitions"]["B"] = BOOL_STRING
    assert check_schema(json.dumps(document), MERGED) is None


SCHEMA_REFUSALS: list[tuple[str, str | None, Guard]] = [
    ("no schema", None, Guard.SCHEMA_UNAVAILABLE),
    ("not JSON", "{not json", Guard.SCHEMA_UNAVAILABLE),
    ("not an object", "[]", Guard.SCHEMA_UNAVAILABLE),
    ("dangling $ref", json.dumps({"$ref": "#/definitions/Nope"}), Guard.SCHEMA_UNAVAILABLE),
    ("remote $ref", json.dumps({"$ref": "https://example.com/s.json"}), Guard.SCHEMA_UNAVAILABLE),
    (
        "$ref cycle",
        json.dumps({"$ref": "#/definitions/A", "definitions": {"A": {"$ref": "#/definitions/A"}}}),
        Guard.SCHEMA_UNAVAILABLE,
    ),
    ("no properties", json.dumps({"type": "object"}), Guard.SCHEMA_UNAVAILABLE),
    ("pre-1.14 schema", vpc_cni_schema({"env": {"type": "object"}}), Guard.SCHEMA_LACKS_KEY),
    (
        "key typed boolean, we send a string",
        vpc_cni_schema({"env": {}, "enableNetworkPolicy": {"type": "boolean"}}),
        Guard.SCHEMA_LACKS_KEY,
    ),
    (
        "existing key unknown to this version",
        vpc_cni_schema({"enableNetworkPolicy": BOOL_STRING}),
        Guard.SCHEMA_REJECTS_CONFIG,
    ),
]


@pytest.mark.parametrize(
    ("schema", "guard"), [pytest.param(s, g, id=label) for label, s, g in SCHEMA_REFUSALS]
)
def test_schema_in_doubt_refuses(schema: str | None, guard: Guard) -> None:
    outcome = check_schema(schema, MERGED)
    assert outcome is not None
    assert outcome.action is Action.SKIPPED
    assert outcome.guard is guard


# ------------------------------------------------------------------------------- selection


def candidates(*keys_: tuple[str, str]) -> list[Candidate]:
    out = []
    for region, name in keys_:
        found = decide(cluster(name=name, region=region))
        assert isinstance(found, Candidate)
        out.append(found)
    return out


def test_cap_takes_region_then_name_order_regardless_of_input_order() -> None:
    given_ = candidates(
        ("us-east-1", "b"), ("eu-west-1", "z"), ("us-east-1", "a"), ("eu-west-1", "a")
    )
    chosen, rest = select(given_, 2)
    assert [c.key for c in chosen] == [("eu-west-1", "a"), ("eu-west-1", "z")]
    assert [c.key for c in rest] == [("us-east-1", "a"), ("us-east-1", "b")]
    assert select(list(reversed(given_)), 2)[0] == chosen
    assert select(given_, 0) == ([], sorted(given_, key=lambda c: c.key))


# ------------------------------------------------------------------------------- shell (fake EKS)

SCHEMA_TEXT = vpc_cni_schema({"env": {"type": "object"}, "enableNetworkPolicy": BOOL_STRING})


class FakeEks:
    """Records calls; answers like EKS (UpdateAddon response shape from the API reference)."""

    def __init__(
        self, region: str, log: list[tuple[str, str, dict[str, Any]]], script: dict[str, Any]
    ) -> None:
        self.region = region
        self.log = log
        self.script = script

    def describe_addon_configuration(self, **kwargs: Any) -> dict[str, Any]:
        self.log.append((self.region, "DescribeAddonConfiguration", kwargs))
        error = self.script.get("schema_error")
        if error is not None:
            raise error
        return {
            "addonName": "vpc-cni",
            "addonVersion": kwargs["addonVersion"],
            "configurationSchema": self.script.get("schema", SCHEMA_TEXT),
        }

    def update_addon(self, **kwargs: Any) -> dict[str, Any]:
        self.log.append((self.region, "UpdateAddon", kwargs))
        error = self.script.get("update_errors", {}).get(kwargs["clusterName"])
        if error is not None:
            raise error
        status = self.script.get("update_status", "InProgress")
        return {
            "update": {
                "id": f"upd-{kwargs['clusterName']}",
                "status": status,
                "type": "AddonUpdate",
            }
        }


class FakeClients:
    def __init__(self, **script: Any) -> None:
        self.log: list[tuple[str, str, dict[str, Any]]] = []
        self.script = script
        self.lock = threading.Lock()

    def eks(self, region: str) -> FakeEks:
        return FakeEks(region, self.log, self.script)

    def calls(self, operation: str) -> list[tuple[str, dict[str, Any]]]:
        return [(region, kwargs) for region, op, kwargs in self.log if op == operation]


def client_error(code: str, status: int) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": f"{code} happened"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "UpdateAddon")


def audit_result(*facts: ClusterFacts) -> AuditResult:
    return AuditResult(
        account=ACCOUNT,
        partition="aws",
        regions=sorted({f.region for f in facts}),
        results=sorted(
            (ClusterResult(facts=f, verdict=evaluate(f)) for f in facts),
            key=lambda r: (r.facts.region, r.facts.name),
        ),
    )


def on(**overrides: Any) -> Settings:
    return replace(Settings(auto_remediate=True), **overrides)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Replace the clock and sleep: spacing is observed, never waited for."""
    now = [1000.0]
    recorded: list[float] = []

    def sleep(seconds: float) -> None:
        recorded.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(shell, "_sleep", sleep)
    monkeypatch.setattr(shell, "_monotonic", lambda: now[0])
    return recorded


def remediated(
    clients: FakeClients, result: AuditResult, settings_: Settings, stop: Any = lambda: False
) -> AuditResult:
    """The result with the remediation stage's report folded in, as the pipeline does."""
    return result.with_remediation(shell.remediate(settings_, clients, result, stop))  # type: ignore[arg-type]


def records_of(result: AuditResult) -> dict[str, dict[str, Any] | None]:
    return {r.facts.name: r.to_json()["remediation"] for r in result.results}


def run(
    clients: FakeClients, result: AuditResult, settings_: Settings, stop: Any = lambda: False
) -> dict[str, dict[str, Any] | None]:
    return records_of(remediated(clients, result, settings_, stop))


def test_off_makes_no_call_and_records_nothing(sleeps: list[float]) -> None:
    clients = FakeClients()
    result = audit_result(cluster())
    assert run(clients, result, Settings()) == {"prod": None}
    assert clients.log == []


def test_applies_eligible_and_records_update_id_and_request(sleeps: list[float]) -> None:
    clients = FakeClients()
    result = remediated(
        clients,
        audit_result(cluster("a"), cluster("b", tags={"eks-netpol-auditor:exempt": "x"})),
        on(),
    )
    records = records_of(result)
    updates = clients.calls("UpdateAddon")
    assert [kwargs["clusterName"] for _, kwargs in updates] == ["a"]
    record = records["a"]
    assert record is not None
    assert record.pop("reason").startswith("UpdateAddon accepted")
    assert record == {
        "action": "applied",
        "request": updates[0][1],
        "update_id": "upd-a",
        "update_status": "InProgress",
    }
    assert records["b"] is not None
    assert records["b"]["guard"] == "exempt_tag"
    assert result.results[0].verdict.status is ComplianceStatus.FAILED, "never flipped"
    assert result.errors == []


def test_schema_is_fetched_once_per_version(sleeps: list[float]) -> None:
    clients = FakeClients()
    facts = [
        cluster(f"c{i}", region=region) for i in range(3) for region in ("eu-west-1", "us-east-1")
    ]
    run(clients, audit_result(*facts), on(max_remediations=10))
    schema_calls = clients.calls("DescribeAddonConfiguration")
    assert [kwargs for _, kwargs in schema_calls] == [
        {"addonName": "vpc-cni", "addonVersion": VERSION}
    ]


def test_cap_defers_the_rest_in_deterministic_order(sleeps: list[float]) -> None:
    clients = FakeClients()
    facts = [cluster(n, region=r) for r in ("us-west-2", "eu-west-1") for n in ("b", "a")]
    result = remediated(clients, audit_result(*facts), on(max_remediations=3))
    actions = {
        (r.facts.region, r.facts.name): r.remediation and r.remediation.action
        for r in result.results
    }
    assert actions == {
        ("eu-west-1", "a"): "applied",
        ("eu-west-1", "b"): "applied",
        ("us-west-2", "a"): "applied",
        ("us-west-2", "b"): "deferred",
    }
    assert len(clients.calls("UpdateAddon")) == 3


def test_dry_run_counts_toward_cap_and_makes_no_update(sleeps: list[float]) -> None:
    clients = FakeClients()
    result = audit_result(cluster("a"), cluster("b"))
    records = run(clients, result, on(dry_run=True, max_remediations=1))
    assert clients.calls("UpdateAddon") == []
    assert records["a"] is not None and records["a"]["action"] == "dry_run"
    assert records["a"]["request"]["configurationValues"] == (
        '{"env":{"WARM_IP_TARGET":"5"},"enableNetworkPolicy":"true"}'
    )
    assert records["b"] is not None and records["b"]["action"] == "deferred"
    assert sleeps == []


def test_updates_in_one_region_are_spaced_and_other_regions_are_not(
    sleeps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shell, "UPDATE_SPACING_SECONDS", 3.0)
    clients = FakeClients()
    facts = [cluster("a", "eu-west-1"), cluster("b", "eu-west-1"), cluster("c", "us-east-1")]
    run(clients, audit_result(*facts), on())
    assert sleeps == [3.0], "one wait: between the two eu-west-1 updates only"


def test_should_stop_defers_updates_not_yet_started(sleeps: list[float]) -> None:
    clients = FakeClients()

    def stop_after_first_update() -> bool:
        return len(clients.calls("UpdateAddon")) >= 1

    result = audit_result(cluster("a"), cluster("b"), cluster("c"))
    records = run(clients, result, on(), stop_after_first_update)
    assert [(records[n] or {})["action"] for n in "abc"] == ["applied", "deferred", "deferred"]
    assert (records["b"] or {})["deferred_by"] == "time_budget"


def test_resource_in_use_is_in_progress_not_an_error(sleeps: list[float]) -> None:
    clients = FakeClients(update_errors={"prod": client_error("ResourceInUseException", 409)})
    result = remediated(clients, audit_result(cluster()), on())
    records = records_of(result)
    assert (records["prod"] or {})["action"] == "in_progress"
    assert result.errors == []


@pytest.mark.parametrize(
    "error",
    [
        client_error("InvalidParameterException", 400),
        client_error("AccessDeniedException", 403),
        EndpointConnectionError(endpoint_url="http://127.0.0.1:9"),
        RuntimeError("bug"),
    ],
)
def test_other_update_errors_are_failed_and_reported(sleeps: list[float], error: Exception) -> None:
    clients = FakeClients(update_errors={"a": error})
    result = remediated(clients, audit_result(cluster("a"), cluster("b")), on())
    records = records_of(result)
    assert (records["a"] or {})["action"] == "failed"
    assert (records["b"] or {})["action"] == "applied", "one failure never stops the others"
    assert [(e.region, e.cluster) for e in result.errors] == [("eu-west-1", "a")]


def test_a_replayed_finished_update_is_not_reported_as_applied(sleeps: list[float]) -> None:
    clients = FakeClients(update_status="Successful")
    result = remediated(clients, audit_result(cluster()), on())
    records = records_of(result)
    assert (records["prod"] or {})["action"] == "failed"
    assert len(result.errors) == 1


def test_schema_lookup_failure_fails_closed(sleeps: list[float]) -> None:
    clients = FakeClients(schema_error=client_error("AccessDeniedException", 403))
    result = audit_result(cluster())
    records = run(clients, result, on())
    assert clients.calls("UpdateAddon") == []
    assert (records["prod"] or {})["guard"] == "schema_unavailable"


def test_schema_refusal_does_not_use_a_cap_slot(sleeps: list[float]) -> None:
    clients = FakeClients(schema=vpc_cni_schema({"enableNetworkPolicy": BOOL_STRING}))
    plain = cluster("b", addon=addon(configuration_values=None))
    rejected = cluster("a")  # its "env" key is not in this schema
    records = run(clients, audit_result(rejected, plain), on(max_remediations=1))
    assert (records["a"] or {})["guard"] == "schema_rejects_config"
    assert (records["b"] or {})["action"] == "applied"


def test_every_record_is_json_and_logged_once(
    sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    clients = FakeClients()
    facts = [cluster("a"), cluster("b", addon=addon(status="UPDATING")), cluster("c", addon=None)]
    with caplog.at_level("INFO", logger="eks_netpol_auditor.remediation.apply"):
        result = remediated(clients, audit_result(*facts), on())
    lines = [r for r in caplog.records if getattr(r, "event", None) == "remediation"]
    assert sorted(r.__dict__["cluster"] for r in lines) == ["a", "b", "c"]
    for record in lines:
        json.dumps(record.__dict__["remediation"])
    assert (
        json.loads(json.dumps(result.to_json()))["results"][0]["remediation"]["action"] == "applied"
    )


def test_no_schema_lookup_starts_once_the_time_budget_is_spent(sleeps: list[float]) -> None:
    clients = FakeClients()
    result = audit_result(cluster("a"), cluster("b"))
    records = run(clients, result, on(), lambda: True)
    assert clients.calls("DescribeAddonConfiguration") == []
    assert clients.calls("UpdateAddon") == []
    assert {n: (r or {}).get("deferred_by") for n, r in records.items()} == {
        "a": "time_budget",
        "b": "time_budget",
    }


def test_the_budget_running_out_between_schema_lookups_stops_the_next(
    sleeps: list[float],
) -> None:
    """Two add-on versions, one schema look-up each; the budget ends after the first."""
    clients = FakeClients()
    newer = "v1.20.0-eksbuild.1"
    result = audit_result(cluster("a"), cluster("b", addon=addon(version=newer)))

    def stop_after_first_lookup() -> bool:
        return len(clients.calls("DescribeAddonConfiguration")) >= 1

    records = run(clients, result, on(max_workers=1), stop_after_first_lookup)
    assert len(clients.calls("DescribeAddonConfiguration")) == 1
    looked_up = clients.calls("DescribeAddonConfiguration")[0][1]["addonVersion"]
    skipped = "b" if looked_up == VERSION else "a"
    assert (records[skipped] or {}).get("deferred_by") == "time_budget"
    assert clients.calls("UpdateAddon") == [], "the budget was spent before any update"


def test_an_exemption_tag_with_an_empty_value_counts_as_present() -> None:
    """Issue 16, point 8. EKS tag values may be empty (botocore's eks model: TagValue has a
    maximum length of 256 and no minimum), and docs/configuration.md says the exemption
    tag takes any value: the key alone is the owner's decision, so the cluster is exempt."""
    facts = cluster(tags={"eks-netpol-auditor:exempt": ""})
    verdict = evaluate(facts)
    assert (verdict.status, verdict.reason) == (ComplianceStatus.WARNING, Reason.EXEMPTED)
    outcome = decide(facts)
    assert isinstance(outcome, Outcome)
    assert (outcome.action, outcome.guard) == (Action.SKIPPED, Guard.EXEMPT_TAG)


# ---------------------------------------------------------------- event runs' guards


def event_context(*events: ClusterEvent, cooldown: int = 15) -> EventContext:
    """An event run's context for cluster eu-west-1/prod, audited by OWN_ROLE."""
    return EventContext(
        own_principal=principal_of(OWN_ROLE),
        events={("eu-west-1", "prod"): events},
        cooldown_minutes=cooldown,
        now=EVENT_TIME,
    )


OWN_ROLE = f"arn:aws:sts::{ACCOUNT}:assumed-role/auditor/session"
EVENT_TIME = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def update_event(principal: str | None, token: str | None = None) -> ClusterEvent:
    return ClusterEvent(
        "e", "UpdateAddon", ACCOUNT, "eu-west-1", "prod", principal=principal, client_token=token
    )


def test_the_event_guards_are_in_the_guard_order_after_every_lasting_reason() -> None:
    """OWN_UPDATE and COOLDOWN are remediation's own guards, tried in GUARD_ORDER like the
    others: last, so an exempt or unfixable cluster still names its lasting reason."""
    assert GUARD_ORDER[-2:] == (Guard.OWN_UPDATE, Guard.COOLDOWN)
    assert {Guard.OWN_UPDATE, Guard.COOLDOWN} <= set(OWN_GUARDS)
    echo = event_context(update_event(principal_of(OWN_ROLE)))
    exempt = cluster(tags={"eks-netpol-auditor:exempt": "cilium"})
    held = assess(exempt, evaluate(exempt), ACCOUNT, require_tag=False, events=echo)
    assert isinstance(held, Outcome) and held.guard is Guard.EXEMPT_TAG


@pytest.mark.parametrize(
    ("events", "guard"),
    [
        pytest.param((update_event(principal_of(OWN_ROLE)),), Guard.OWN_UPDATE, id="own role"),
        pytest.param((update_event(None, "enp1-abc"),), Guard.OWN_UPDATE, id="own token"),
        pytest.param(
            (update_event(principal_of(OWN_ROLE)), update_event("arn:aws:iam::1:user/alice")),
            None,
            id="a person's change batched with the echo",
        ),
        pytest.param((update_event("arn:aws:iam::1:user/alice"),), None, id="a person's change"),
    ],
)
def test_only_a_cluster_whose_events_are_all_the_auditors_echo_is_held(
    events: tuple[ClusterEvent, ...], guard: Guard | None
) -> None:
    facts = cluster()
    decided = assess(
        facts, evaluate(facts), ACCOUNT, require_tag=False, events=event_context(*events)
    )
    if guard is None:
        assert isinstance(decided, Candidate)
    else:
        assert isinstance(decided, Outcome) and decided.guard is guard


@pytest.mark.parametrize(
    ("changed_ago", "cooldown", "held"),
    [
        (timedelta(minutes=14, seconds=59), 15, True),
        (timedelta(minutes=15), 15, False),
        (timedelta(minutes=1), 0, False),  # 0 switches the cooldown off
    ],
)
def test_an_add_on_changed_within_the_cooldown_is_held_in_an_event_run_only(
    changed_ago: timedelta, cooldown: int, held: bool
) -> None:
    facts = cluster(addon=addon(modified_at=EVENT_TIME - changed_ago))
    person = update_event("arn:aws:iam::1:user/alice")
    decided = assess(
        facts,
        evaluate(facts),
        ACCOUNT,
        require_tag=False,
        events=event_context(person, cooldown=cooldown),
    )
    if held:
        assert isinstance(decided, Outcome) and decided.guard is Guard.COOLDOWN
        assert f"less than {cooldown} minutes" in decided.reason
    else:
        assert isinstance(decided, Candidate)
    # A scheduled run has no EventContext: neither event guard can hold it.
    assert isinstance(assess(facts, evaluate(facts), ACCOUNT, require_tag=False), Candidate)


def test_remediation_reports_and_leaves_the_result_it_was_handed_alone(
    sleeps: list[float],
) -> None:
    """Stages return reports: the result is folded by the pipeline, never changed in place."""
    clients = FakeClients(update_errors={"a": client_error("AccessDeniedException", 403)})
    given = audit_result(cluster("a"), cluster("b"))
    report = shell.remediate(on(), clients, given, lambda: False)  # type: ignore[arg-type]
    assert [r.remediation for r in given.results] == [None, None]
    assert given.errors == []
    assert {key: o.action for key, o in report.outcomes.items()} == {
        ("eu-west-1", "a"): Action.FAILED,
        ("eu-west-1", "b"): Action.APPLIED,
    }
    assert [(e.region, e.cluster) for e in report.errors] == [("eu-west-1", "a")]
