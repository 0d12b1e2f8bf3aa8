"""Fault suite: the "nothing lost" promise under everything AWS throws at once.

One small account over four regions, audited twice with publishing on, as the scheduled
Lambda would. The first run is clean and leaves a finding per cluster. The second runs
with, all at the same time:

* random throttling (20 %) and 5xx (5 %) on every operation of every service (EKS, EC2,
  STS, Security Hub), from the sandbox's seeded fault RNG;
* a region whose EKS calls an SCP denies (AccessDeniedException);
* a region without Security Hub (its clusters' findings live in the home region);
* a cluster deleted between ListClusters and DescribeCluster;
* a cluster whose DescribeAddon is denied;
* guarded remediation of one opted-in cluster (UpdateAddon and the Note under faults).

Afterwards every audited cluster must have the verdict it deserves and exactly one ACTIVE
finding, in the right region; the denied region's findings must be untouched; only the
deleted cluster's finding may be archived; and the run result must list exactly the two
real errors, never a throttle or a 5xx (botocore's standard retries absorb those).

Seeds: each seed gives the fault rules their own RNG sequence. Under concurrency which
request draws which number can vary, so the assertions are invariants that hold for any
interleaving; the seeds make the fault density reproducible in CI.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from eks_netpol_auditor import audit as audit_module
from eks_netpol_auditor.audit import run_audit
from eks_netpol_auditor.config import Settings
from eks_netpol_auditor.discovery import list_clusters as real_list_clusters
from eks_netpol_auditor.model import AUTO_REMEDIATE_TAG, EXEMPT_TAG, AuditResult
from eks_netpol_auditor.remediation import apply as remediate_module
from eks_netpol_auditor.securityhub.asff import finding_id, parse_finding_id
from sandbox.client import AddonSeed, ClusterSeed, SandboxClient
from tests.builders import ACCOUNT

HOME = "us-east-1"
DENIED = "eu-west-1"  # an SCP denies EKS here
NO_HUB = "ap-southeast-2"  # Security Hub is not enabled here
CHURN = "us-west-2"  # a cluster vanishes mid-run, another's DescribeAddon is denied
REGIONS = (HOME, DENIED, NO_HUB, CHURN)
VANISHES = "vanishes"
SECRET = "secret-addon"
REMEDIATED = "opted-in"

THROTTLE_RATE = 0.20
SERVER_ERROR_RATE = 0.05
SEEDS = (1, 2, 3)
# Far more than a healthy run needs (about 3 s per seed); a hang fails loudly instead.
RUN_BUDGET_SECONDS = 40.0

ENABLED_JSON = AddonSeed(configuration_values='{"enableNetworkPolicy":"true"}')
ENABLED_YAML = AddonSeed(configuration_values='enableNetworkPolicy: "true"\n')
DEFAULT_OFF = AddonSeed()
EXPLICIT_OFF = AddonSeed(
    version="v1.18.3-eksbuild.3",
    configuration_values=json.dumps({"enableNetworkPolicy": "false"}),
)
OLD_ADDON = AddonSeed(version="v1.12.6-eksbuild.2")
DEGRADED = AddonSeed(
    configuration_values='{"enableNetworkPolicy":"true"}',
    status="DEGRADED",
    health_issues=({"code": "InsufficientNumberOfReplicas", "message": "x", "resourceIds": []},),
)

# (seed, expected (Compliance.Status, reason) on the faulted run; None: not in the result)
ACCOUNT_SEEDS: list[tuple[ClusterSeed, tuple[str, str] | None]] = [
    # Home region: one of every verdict the auditor distinguishes.
    (ClusterSeed(HOME, "json-on", addon=ENABLED_JSON), ("PASSED", "NETWORK_POLICY_ENABLED")),
    (ClusterSeed(HOME, "yaml-on", addon=ENABLED_YAML), ("PASSED", "NETWORK_POLICY_ENABLED")),
    (ClusterSeed(HOME, "default-off", addon=DEFAULT_OFF), ("FAILED", "NETWORK_POLICY_DISABLED")),
    (ClusterSeed(HOME, "explicit-off", addon=EXPLICIT_OFF), ("FAILED", "NETWORK_POLICY_DISABLED")),
    (ClusterSeed(HOME, "no-addon", addon=None), ("FAILED", "ADDON_NOT_INSTALLED")),
    (
        ClusterSeed(HOME, "old-addon", addon=OLD_ADDON),
        ("FAILED", "ADDON_VERSION_UNSUPPORTED"),
    ),
    (
        ClusterSeed(HOME, "auto-mode", addon=None, auto_mode=True, version="1.32"),
        ("WARNING", "AUTO_MODE_NOT_VERIFIABLE"),
    ),
    (
        ClusterSeed(HOME, "exempt", addon=DEFAULT_OFF, tags={EXEMPT_TAG: "cilium"}),
        ("WARNING", "EXEMPTED"),
    ),
    (ClusterSeed(HOME, "degraded", addon=DEGRADED), ("WARNING", "ADDON_UNHEALTHY")),
    (
        ClusterSeed(HOME, "creating", status="CREATING", addon=AddonSeed(status="CREATING")),
        ("NOT_AVAILABLE", "CLUSTER_NOT_READY"),
    ),
    # Denied region: seen by the clean run only.
    (ClusterSeed(DENIED, "dublin-on", addon=ENABLED_JSON), None),
    (ClusterSeed(DENIED, "dublin-off", addon=DEFAULT_OFF), None),
    (ClusterSeed(DENIED, "dublin-none", addon=None), None),
    # No Security Hub: findings go to the home region.
    (ClusterSeed(NO_HUB, "sydney-on", addon=ENABLED_JSON), ("PASSED", "NETWORK_POLICY_ENABLED")),
    (
        ClusterSeed(NO_HUB, "sydney-off", addon=DEFAULT_OFF),
        ("FAILED", "NETWORK_POLICY_DISABLED"),
    ),
    (ClusterSeed(NO_HUB, "sydney-none", addon=None), ("FAILED", "ADDON_NOT_INSTALLED")),
    (
        ClusterSeed(
            NO_HUB,
            "sydney-k8s124",
            version="1.24",
            platform_version="eks.15",
            addon=AddonSeed(version="v1.14.1-eksbuild.1"),
        ),
        ("FAILED", "KUBERNETES_VERSION_UNSUPPORTED"),
    ),
    # Churn region.
    (ClusterSeed(CHURN, "oregon-on", addon=ENABLED_JSON), ("PASSED", "NETWORK_POLICY_ENABLED")),
    (
        ClusterSeed(CHURN, "oregon-off", addon=DEFAULT_OFF),
        ("FAILED", "NETWORK_POLICY_DISABLED"),
    ),
    (ClusterSeed(CHURN, VANISHES, addon=DEFAULT_OFF), None),
    (ClusterSeed(CHURN, SECRET, addon=ENABLED_JSON), ("NOT_AVAILABLE", "EVALUATION_ERROR")),
    (
        ClusterSeed(
            CHURN,
            REMEDIATED,
            addon=AddonSeed(configuration_values='{"env":{"WARM_IP_TARGET":"5"}}'),
            tags={AUTO_REMEDIATE_TAG: "true"},
        ),
        ("FAILED", "NETWORK_POLICY_DISABLED"),
    ),
]
EXPECTED = {
    (seed.region, seed.name): verdict for seed, verdict in ACCOUNT_SEEDS if verdict is not None
}
DENIED_CLUSTERS = {seed.name for seed, _ in ACCOUNT_SEEDS if seed.region == DENIED}


def fid(region: str, cluster: str) -> str:
    return finding_id("aws", ACCOUNT, region, cluster)


def home_of(region: str) -> str:
    """Where a cluster's finding must live: its own region, or home without Security Hub."""
    return HOME if region == NO_HUB else region


def findings_everywhere(sandbox: SandboxClient) -> dict[str, dict[str, dict[str, Any]]]:
    """region -> finding Id -> finding, for every region of the account (no duplicate Ids)."""
    everywhere: dict[str, dict[str, dict[str, Any]]] = {}
    for region in REGIONS:
        stored = sandbox.findings(region)
        by_id = {f["Id"]: f for f in stored}
        assert len(by_id) == len(stored), f"duplicate finding ids in {region}"
        everywhere[region] = by_id
    return everywhere


def active_by_id(everywhere: dict[str, dict[str, dict[str, Any]]]) -> dict[str, list[str]]:
    """finding Id -> the regions holding an ACTIVE copy."""
    where: dict[str, list[str]] = {}
    for region, by_id in everywhere.items():
        for key, finding in by_id.items():
            if finding["RecordState"] == "ACTIVE":
                where.setdefault(key, []).append(region)
    return where


def settings(**changes: Any) -> Settings:
    """Every enabled region (DescribeRegions is part of the run), publishing on."""
    # Refresh 0: every run re-imports, so each run's count of published findings accounts for
    # every cluster (an unchanged finding would otherwise be skipped, not published).
    values: dict[str, Any] = {
        "publish": True,
        "home_region": HOME,
        "max_workers": 16,
        "findings_refresh_hours": 0,
    }
    values.update(changes)
    return Settings(**values)


@pytest.fixture
def account(sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch) -> SandboxClient:
    sandbox.set_enabled_regions(list(REGIONS))
    sandbox.set_securityhub_enabled(NO_HUB, False)
    sandbox.add_clusters([seed for seed, _ in ACCOUNT_SEEDS])
    # Remediation spaces UpdateAddon calls per region; one candidate here, but never sleep.
    monkeypatch.setattr(remediate_module, "UPDATE_SPACING_SECONDS", 0.0)
    return sandbox


def clean_run(sandbox: SandboxClient) -> AuditResult:
    result = run_audit(settings())
    assert result.errors == []
    assert result.findings_failed == 0
    assert result.findings_published == len(ACCOUNT_SEEDS)
    return result


def inject_faults(sandbox: SandboxClient, seed: int) -> None:
    """Deterministic rules first (they always fire), then the random ones.

    The sandbox fires the first matching rule, so the 5xx rule sees only the calls the
    throttle rule let through: its probability is scaled to give 5 % of all calls.
    """
    sandbox.deny_region(DENIED, service="eks")
    sandbox.deny_describe_addon(CHURN, SECRET)
    sandbox.add_fault("throttle", probability=THROTTLE_RATE, seed=seed)
    sandbox.add_fault(
        "server_error",
        probability=SERVER_ERROR_RATE / (1 - THROTTLE_RATE),
        seed=seed + 10_000,
    )


def delete_mid_run(sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Delete VANISHES right after its region's ListClusters, before it is described."""

    def list_then_delete(clients: Any, region: str) -> list[str]:
        names = real_list_clusters(clients, region)
        if region == CHURN:
            assert VANISHES in names
            sandbox.delete_cluster(CHURN, VANISHES)
        return names

    monkeypatch.setattr(audit_module, "list_clusters", list_then_delete)


@pytest.mark.parametrize("seed", SEEDS)
def test_every_cluster_is_accounted_for_under_every_fault_at_once(
    account: SandboxClient, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    sandbox = account
    clean_run(sandbox)
    before = findings_everywhere(sandbox)
    assert before[NO_HUB] == {}
    assert set(before[DENIED]) == {fid(DENIED, name) for name in DENIED_CLUSTERS}

    inject_faults(sandbox, seed)
    delete_mid_run(sandbox, monkeypatch)
    sandbox.reset_calls()
    started = time.monotonic()
    result = run_audit(settings(auto_remediate=True, require_tag=True))
    elapsed = time.monotonic() - started
    assert elapsed < RUN_BUDGET_SECONDS

    # The faults really happened, on the scale asked for.
    fired = {rule["kind"]: rule["fired"] for rule in sandbox.faults()}
    calls = sandbox.calls()
    assert fired["throttle"] > 0
    assert fired["server_error"] > 0
    assert calls.count(status=429) + calls.count("ec2", status=503) > 0
    assert calls.count(status=500) > 0

    # 1. Every cluster ends with the verdict it deserves; nothing missing, nothing extra.
    verdicts = {
        (r.facts.region, r.facts.name): (r.verdict.status.value, r.verdict.reason.value)
        for r in result.results
    }
    assert verdicts == EXPECTED
    assert sorted(result.regions) == sorted(REGIONS)
    assert sorted(result.listed_regions) == sorted(set(REGIONS) - {DENIED})

    # 2. The run lists exactly the real errors: the denied region and the denied add-on.
    assert [(e.region, e.cluster) for e in result.errors] == [(DENIED, None), (CHURN, SECRET)]
    assert all(e.error.startswith("AccessDeniedException") for e in result.errors)
    transient = (
        "Throttl",
        "LimitExceeded",
        "RequestLimitExceeded",
        "ServerException",
        "InternalException",
        "InternalFailure",
        "InternalError",
    )
    for error in result.errors:
        assert not any(word in error.error for word in transient), error
    for cluster in result.results:
        assert cluster.publish_error is None, cluster.publish_error

    # 3. Exactly one ACTIVE finding per audited cluster, in the right region, saying the
    #    same as the result.
    after = findings_everywhere(sandbox)
    active = active_by_id(after)
    for (region, name), (status, reason) in EXPECTED.items():
        key = fid(region, name)
        assert active.get(key) == [home_of(region)], (name, active.get(key))
        finding = after[home_of(region)][key]
        assert finding["Compliance"]["Status"] == status
        assert finding["ProductFields"]["eks-netpol-auditor/Reason"] == reason
        assert finding["ProductArn"].split(":")[3] == home_of(region)
    assert result.findings_published == len(EXPECTED)
    assert result.findings_failed == 0
    assert {r.finding_region for r in result.results if r.facts.region == NO_HUB} == {HOME}
    assert after[NO_HUB] == {}

    # 4. Nothing archived wrongly: the denied region is untouched, only VANISHES is archived.
    assert after[DENIED] == before[DENIED]
    assert all(f["RecordState"] == "ACTIVE" for f in after[DENIED].values())
    archived = sorted(
        (region, key)
        for region, by_id in after.items()
        for key, finding in by_id.items()
        if finding["RecordState"] == "ARCHIVED"
    )
    assert archived == [(CHURN, fid(CHURN, VANISHES))]
    assert result.findings_archived == 1
    expected_active = set(EXPECTED) | {(DENIED, name) for name in DENIED_CLUSTERS}
    assert {parse_finding_id(key)[2:] for key in active} == expected_active  # type: ignore[index]

    # 5. Remediation under faults: one UpdateAddon, for the opted-in cluster only, its
    #    outcome recorded on the result and as the finding's Note.
    updates = sandbox.updates()
    assert [(u["region"], u["clusterName"]) for u in updates] == [(CHURN, REMEDIATED)]
    opted = next(r for r in result.results if r.facts.name == REMEDIATED)
    assert opted.remediation is not None
    assert opted.remediation.action == "applied"
    assert opted.remediation.update_id == updates[0]["id"]
    note = after[CHURN][fid(CHURN, REMEDIATED)]["Note"]["Text"]
    assert f"EKS update id {updates[0]['id']}" in note
    skipped = {
        r.facts.name: r.remediation.guard
        for r in result.results
        if r.remediation is not None and r.remediation.action == "skipped"
    }
    assert skipped[SECRET] == "not_evaluated"
    assert skipped["default-off"] == "require_tag"
