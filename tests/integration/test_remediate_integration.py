"""Remediation end to end through the sandbox: real boto3, real wire protocol, loopback only.

Each guard is shown protecting a cluster that would otherwise be changed, and the sandbox's
own record of accepted UpdateAddon calls is the evidence of what was (not) touched.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from eks_netpol_auditor import cli, handler
from eks_netpol_auditor.audit import run_audit
from eks_netpol_auditor.aws import AwsClients
from eks_netpol_auditor.config import Settings
from eks_netpol_auditor.model import AuditResult
from eks_netpol_auditor.remediation import apply as shell
from sandbox.client import AddonSeed, SandboxClient
from sandbox.services.eks import vpccni

REGIONS = ("eu-west-1", "us-east-1")
CURRENT = "v1.19.0-eksbuild.1"
NO_KEY_VERSION = "v1.14.1-eksbuild.1"  # its schema is stripped of enableNetworkPolicy below
USER_JSON = (
    '{"env":{"WARM_IP_TARGET":"5","ENABLE_PREFIX_DELEGATION":"true"},'
    '"nodeAgent":{"enablePolicyEventLogs":"true"},"livenessProbeTimeoutSeconds":10,'
    '"enableNetworkPolicy":"false"}'
)
USER_YAML = """\
# managed by platform team
env:
  WARM_IP_TARGET: "3"
resources:
  requests:
    cpu: 25m
tolerations:
  - operator: Exists
"""


@pytest.fixture(autouse=True)
def no_spacing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Spacing is proven by the unit tests; here it would only slow the suite down."""
    monkeypatch.setattr(shell, "UPDATE_SPACING_SECONDS", 0.0)


@pytest.fixture
def schema_without_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """A v1.14+ version whose published schema lacks enableNetworkPolicy (in-process server)."""
    real = vpccni.configuration_schema

    def patched(version: str) -> dict[str, Any]:
        schema = real(version)
        if version == NO_KEY_VERSION:
            del schema["definitions"]["VpcCni"]["properties"]["enableNetworkPolicy"]
        return schema

    monkeypatch.setattr(vpccni, "configuration_schema", patched)


def settings(**overrides: Any) -> Settings:
    return replace(Settings(regions=REGIONS, home_region="us-east-1"), **overrides)


def remediating(**overrides: Any) -> Settings:
    return settings(auto_remediate=True, **overrides)


def audit(settings_: Settings, **kwargs: Any) -> AuditResult:
    return run_audit(settings_, AwsClients(max_attempts=2), **kwargs)


def by_name(result: AuditResult) -> dict[str, dict[str, Any] | None]:
    """Each cluster's remediation as the JSON output shows it."""
    return {r.facts.name: r.to_json()["remediation"] for r in result.results}


def status_of(result: AuditResult) -> dict[str, tuple[str, str]]:
    return {r.facts.name: (r.verdict.status.value, r.verdict.reason.value) for r in result.results}


def update_calls(sandbox: SandboxClient) -> int:
    return sandbox.calls().count(service="eks", operation="UpdateAddon")


def sent_configuration(update: dict[str, Any]) -> Any:
    values = [p["value"] for p in update["params"] if p["type"] == "ConfigurationValues"]
    assert len(values) == 1
    return json.loads(values[0])


def add(
    sandbox: SandboxClient,
    name: str,
    *,
    region: str = "eu-west-1",
    config: str | None = USER_JSON,
    version: str = CURRENT,
    status: str = "ACTIVE",
    kubernetes: str = "1.31",
    tags: dict[str, str] | None = None,
) -> None:
    sandbox.add_cluster(
        region,
        name,
        version=kubernetes,
        tags=tags,
        addon=AddonSeed(version=version, status=status, configuration_values=config),
    )


def seed_guarded_account(sandbox: SandboxClient) -> None:
    """Two eligible clusters and one cluster per guard, every one of them NP-disabled."""
    add(sandbox, "eligible-json")
    add(sandbox, "eligible-yaml", region="us-east-1", config=USER_YAML)
    add(sandbox, "exempt", tags={"eks-netpol-auditor:exempt": "calico"})
    add(sandbox, "opted-out", tags={"eks-netpol-auditor:auto-remediate": "false"})
    add(sandbox, "tag-unclear", tags={"eks-netpol-auditor:auto-remediate": "maybe"})
    add(sandbox, "old-addon", version="v1.13.4-eksbuild.1", config=None)
    add(sandbox, "old-kubernetes", kubernetes="1.24")
    sandbox.add_cluster("eu-west-1", "auto-mode", auto_mode=True, addon=None)
    sandbox.add_cluster("eu-west-1", "no-addon", addon=None)
    add(sandbox, "addon-updating", status="UPDATING")
    add(sandbox, "addon-degraded", status="DEGRADED")
    add(sandbox, "bad-config", config="env: [unclosed")
    add(sandbox, "schema-no-key", version=NO_KEY_VERSION, config=None)


EXPECTED_GUARDS = {
    "exempt": "exempt_tag",
    "opted-out": "opt_out_tag",
    "tag-unclear": "tag_value",
    "old-addon": "addon_version",
    "old-kubernetes": "kubernetes_version",
    "auto-mode": "auto_mode",
    "no-addon": "addon_missing",
    "addon-degraded": "addon_status",
    "bad-config": "configuration",
    "schema-no-key": "schema_lacks_key",
}


@pytest.fixture
def guarded(sandbox: SandboxClient, schema_without_key: None) -> SandboxClient:
    seed_guarded_account(sandbox)
    sandbox.reset_calls()
    return sandbox


def test_default_off_makes_no_update_call(guarded: SandboxClient) -> None:
    result = audit(settings())
    assert update_calls(guarded) == 0
    assert guarded.calls().count(service="eks", operation="DescribeAddonConfiguration") == 0
    assert all(r.remediation is None for r in result.results)


def test_only_eligible_clusters_are_updated_and_every_guard_protects_its_cluster(
    guarded: SandboxClient,
) -> None:
    result = audit(remediating())
    records = by_name(result)

    updates = guarded.updates()
    assert sorted(u["clusterName"] for u in updates) == ["eligible-json", "eligible-yaml"]
    assert update_calls(guarded) == 2
    for name in ("eligible-json", "eligible-yaml"):
        record = records[name]
        assert record is not None
        assert record["action"] == "applied"
        update = next(u for u in updates if u["clusterName"] == name)
        assert record["update_id"] == update["id"]
        assert record["request"]["clientRequestToken"] == update["clientRequestToken"]
        params = {p["type"]: p["value"] for p in update["params"]}
        assert params["ResolveConflicts"] == "PRESERVE"
        assert params["AddonVersion"] == CURRENT, "the version is never changed"
        assert "ServiceAccountRoleArn" not in params

    for name, guard in EXPECTED_GUARDS.items():
        record = records[name]
        assert record is not None, name
        assert (record["action"], record.get("guard")) == ("skipped", guard), name
    updating = records["addon-updating"]
    assert updating is not None
    assert updating["action"] == "in_progress"

    # The finding stays FAILED until a later audit sees the change.
    assert status_of(result)["eligible-json"] == ("FAILED", "NETWORK_POLICY_DISABLED")
    assert result.errors == []


def test_the_merged_configuration_keeps_every_other_setting(guarded: SandboxClient) -> None:
    audit(remediating())
    received = {u["clusterName"]: sent_configuration(u) for u in guarded.updates()}
    assert received["eligible-json"] == {
        "env": {"WARM_IP_TARGET": "5", "ENABLE_PREFIX_DELEGATION": "true"},
        "nodeAgent": {"enablePolicyEventLogs": "true"},
        "livenessProbeTimeoutSeconds": 10,
        "enableNetworkPolicy": "true",
    }
    assert received["eligible-yaml"] == {
        "env": {"WARM_IP_TARGET": "3"},
        "resources": {"requests": {"cpu": "25m"}},
        "tolerations": [{"operator": "Exists"}],
        "enableNetworkPolicy": "true",
    }


def test_require_tag_changes_only_opted_in_clusters(sandbox: SandboxClient) -> None:
    add(sandbox, "tagged", tags={"eks-netpol-auditor:auto-remediate": "true"})
    add(sandbox, "untagged")
    result = audit(remediating(require_tag=True))
    assert [u["clusterName"] for u in sandbox.updates()] == ["tagged"]
    untagged = by_name(result)["untagged"]
    assert untagged is not None
    assert untagged["guard"] == "require_tag"


def test_cap_is_honoured_in_order_and_the_rest_deferred(sandbox: SandboxClient) -> None:
    for region in REGIONS:
        for name in ("c", "a", "b"):
            add(sandbox, f"{name}-{region}", region=region)
    result = audit(remediating(max_remediations=4))
    assert update_calls(sandbox) == 4
    actions = {
        (r.facts.region, r.facts.name): r.remediation and r.remediation.action
        for r in result.results
    }
    assert actions == {
        ("eu-west-1", "a-eu-west-1"): "applied",
        ("eu-west-1", "b-eu-west-1"): "applied",
        ("eu-west-1", "c-eu-west-1"): "applied",
        ("us-east-1", "a-us-east-1"): "applied",
        ("us-east-1", "b-us-east-1"): "deferred",
        ("us-east-1", "c-us-east-1"): "deferred",
    }


def test_default_cap_is_five(sandbox: SandboxClient) -> None:
    for index in range(7):
        add(sandbox, f"c{index}")
    result = audit(remediating())
    assert update_calls(sandbox) == 5
    deferred = [n for n, r in by_name(result).items() if (r or {}).get("action") == "deferred"]
    assert deferred == ["c5", "c6"]


def test_dry_run_makes_no_update_and_shows_the_exact_request(guarded: SandboxClient) -> None:
    result = audit(remediating(dry_run=True))
    assert update_calls(guarded) == 0
    assert guarded.updates() == []
    record = by_name(result)["eligible-json"]
    assert record is not None
    assert record["action"] == "dry_run"
    request = record["request"]
    assert set(request) == {
        "clusterName",
        "addonName",
        "configurationValues",
        "resolveConflicts",
        "clientRequestToken",
    }
    assert json.loads(request["configurationValues"])["env"]["ENABLE_PREFIX_DELEGATION"] == "true"
    addon = guarded.addon("eu-west-1", "eligible-json")
    assert addon is not None
    assert addon["status"] == "ACTIVE"
    assert addon["configurationValues"] == USER_JSON

    # The dry run's request is exactly what the real run then sends.
    real = audit(remediating())
    applied = by_name(real)["eligible-json"]
    assert applied is not None
    assert applied["request"] == request


def test_second_run_while_updating_makes_no_new_call_and_settled_run_passes(
    sandbox: SandboxClient,
) -> None:
    add(sandbox, "prod")
    first = by_name(audit(remediating()))["prod"]
    assert first is not None
    assert first["action"] == "applied"
    assert update_calls(sandbox) == 1

    second = audit(remediating())
    record = by_name(second)["prod"]
    assert record is not None
    assert record["action"] == "in_progress"
    assert update_calls(sandbox) == 1, "no new UpdateAddon while the add-on is UPDATING"
    assert status_of(second)["prod"] == ("FAILED", "NETWORK_POLICY_DISABLED")

    assert sandbox.settle() == [first["update_id"]]
    third = audit(remediating())
    assert status_of(third)["prod"] == ("PASSED", "NETWORK_POLICY_ENABLED")
    assert by_name(third)["prod"] is None
    assert update_calls(sandbox) == 1


def test_retried_request_returns_the_same_update(sandbox: SandboxClient) -> None:
    """The deterministic token: re-sending the exact request starts no second update."""
    add(sandbox, "prod")
    record = by_name(audit(remediating()))["prod"]
    assert record is not None
    eks = AwsClients(max_attempts=1).eks("eu-west-1")
    again = eks.update_addon(**record["request"])
    assert again["update"]["id"] == record["update_id"]
    assert len(sandbox.updates()) == 1


def test_a_cluster_reverted_to_its_old_configuration_is_remediated_again(
    sandbox: SandboxClient,
) -> None:
    """Issue 17 item 8: after a successful remediation someone puts back exactly the old
    configuration. The next run builds the same document; with the add-on's modifiedAt in
    the token's seed it is a new request, not the earlier (finished) update that EKS
    returns for a reused token, which left the cluster FAILED for good before."""
    add(sandbox, "prod")
    first = by_name(audit(remediating()))["prod"]
    assert first is not None and first["action"] == "applied"
    assert sandbox.settle() == [first["update_id"]]
    assert status_of(audit(remediating()))["prod"] == ("PASSED", "NETWORK_POLICY_ENABLED")
    add(sandbox, "prod")  # reverted: the very configuration remediation started from

    again = by_name(audit(remediating()))["prod"]

    assert again is not None
    assert again["request"]["configurationValues"] == first["request"]["configurationValues"]
    assert again["request"]["clientRequestToken"] != first["request"]["clientRequestToken"]
    assert again["action"] == "applied", again["reason"]
    assert again["update_id"] != first["update_id"]
    assert update_calls(sandbox) == 2


def test_schema_lookup_denied_fails_closed(sandbox: SandboxClient) -> None:
    add(sandbox, "prod")
    sandbox.add_fault("access_denied", service="eks", operation="DescribeAddonConfiguration")
    record = by_name(audit(remediating()))["prod"]
    assert record is not None
    assert record["guard"] == "schema_unavailable"
    assert update_calls(sandbox) == 0


def test_update_denied_is_failed_and_reported_as_a_run_error(sandbox: SandboxClient) -> None:
    add(sandbox, "denied")
    add(sandbox, "fine", region="us-east-1")
    sandbox.add_fault("access_denied", service="eks", operation="UpdateAddon", region="eu-west-1")
    result = audit(remediating())
    records = by_name(result)
    assert (records["denied"] or {})["action"] == "failed"
    assert (records["fine"] or {})["action"] == "applied"
    assert [(e.region, e.cluster) for e in result.errors] == [("eu-west-1", "denied")]
    # The alarm on RemediationsFailed sees the failed update (handler.record_metrics).
    handler.metrics.clear_metrics()
    handler.record_metrics(result, 1.0)
    emitted: dict[str, Any] = dict(handler.metrics.serialize_metric_set())
    handler.metrics.clear_metrics()
    assert (emitted["RemediationsFailed"], emitted["RemediationsApplied"]) == ([1.0], [1.0])


def test_time_budget_spent_defers_everything(sandbox: SandboxClient) -> None:
    add(sandbox, "prod")

    def stop_after_discovery() -> bool:
        return sandbox.calls().count(service="eks", operation="DescribeAddon") >= 1

    record = by_name(audit(remediating(), should_stop=stop_after_discovery))["prod"]
    assert record is not None
    assert (record["action"], record["deferred_by"]) == ("deferred", "time_budget")
    assert update_calls(sandbox) == 0


def test_cli_dry_run_shows_the_plan_in_json_and_table(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str]
) -> None:
    add(sandbox, "prod")
    add(sandbox, "exempt", tags={"eks-netpol-auditor:exempt": "cilium"})
    code = cli.main(
        ["scan", "--regions", "eu-west-1", "--remediate", "--dry-run", "--format", "json"]
    )
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    remediation = {r["cluster"]: r["remediation"] for r in document["results"]}
    assert remediation["prod"]["action"] == "dry_run"
    assert remediation["exempt"]["guard"] == "exempt_tag"

    code = cli.main(["scan", "--regions", "eu-west-1", "--remediate", "--dry-run"])
    table = capsys.readouterr().out
    assert "dry_run" in table
    assert "skipped (exempt_tag)" in table
    assert update_calls(sandbox) == 0
