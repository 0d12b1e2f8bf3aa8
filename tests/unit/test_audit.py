"""The scheduler (audit.py): a run reports its own stage timings (`AuditResult.stage_seconds`),
so the benchmark (`bench/measure.py`) and a profiler read them instead of wrapping the engine's
internals; the writing stages never start after Ctrl-C; one failing region or cluster never
stops the others."""

from __future__ import annotations

from typing import Any

import pytest

from eks_netpol_auditor import audit, discovery
from eks_netpol_auditor.audit import run_audit
from eks_netpol_auditor.aws import AwsClients
from eks_netpol_auditor.config import Settings
from eks_netpol_auditor.event_targets import ClusterEvent, Target
from sandbox.client import AddonSeed, SandboxClient
from tests.builders import ACCOUNT

REGIONS = ("eu-west-1", "us-east-1")


def seed(sandbox: SandboxClient) -> None:
    sandbox.add_cluster("eu-west-1", "off", addon=AddonSeed())
    sandbox.add_cluster(
        "us-east-1", "on", addon=AddonSeed(configuration_values='{"enableNetworkPolicy":"true"}')
    )


def test_every_stage_that_ran_is_timed_in_order(sandbox: SandboxClient) -> None:
    seed(sandbox)
    settings = Settings(regions=REGIONS, home_region="us-east-1", publish=True, auto_remediate=True)
    result = run_audit(settings, AwsClients())
    assert list(result.stage_seconds) == ["discover", "remediate", "publish"]
    walls = [stage.wall for stage in result.stage_seconds.values()]
    assert all(stage.wall > 0 and stage.cpu >= 0 for stage in result.stage_seconds.values())
    # The stages are parts of the run, one after another.
    assert sum(walls) <= result.duration_seconds + 0.01


def test_stages_that_did_not_run_are_absent(sandbox: SandboxClient) -> None:
    seed(sandbox)
    quiet = run_audit(Settings(regions=REGIONS, home_region="us-east-1"), AwsClients())
    assert list(quiet.stage_seconds) == ["discover"]
    publishing = Settings(regions=REGIONS, home_region="us-east-1", publish=True)
    # Ctrl-C during discovery (after the first region is listed): publishing never starts.
    progress: list[tuple[int, int, int, int]] = []
    interrupted = run_audit(
        publishing,
        AwsClients(),
        progress=lambda *counts: progress.append(counts),
        interrupted=lambda: bool(progress),
    )
    assert progress
    assert list(interrupted.stage_seconds) == ["discover"]


def test_ctrl_c_during_discovery_starts_no_remediation(sandbox: SandboxClient) -> None:
    """Ctrl-C skips the writing stages that have not started: no UpdateAddon is sent."""
    seed(sandbox)
    remediating = Settings(
        regions=REGIONS, home_region="us-east-1", auto_remediate=True, require_tag=False
    )
    progress: list[tuple[int, int, int, int]] = []
    interrupted = run_audit(
        remediating,
        AwsClients(),
        progress=lambda *counts: progress.append(counts),
        interrupted=lambda: bool(progress),
    )
    assert progress
    assert "remediate" not in interrupted.stage_seconds
    assert all(r.remediation is None for r in interrupted.results)
    assert sandbox.updates("eu-west-1", "off") == []


def test_a_failing_region_or_cluster_never_stops_the_others(sandbox: SandboxClient) -> None:
    seed(sandbox)
    sandbox.add_cluster("eu-west-1", "broken", addon=AddonSeed())
    sandbox.add_cluster("ap-southeast-2", "unseen", addon=AddonSeed())
    sandbox.deny_region("ap-southeast-2", "eks")
    sandbox.add_fault(
        "access_denied",
        service="eks",
        operation="DescribeCluster",
        region="eu-west-1",
        cluster="broken",
    )
    settings = Settings(regions=(*REGIONS, "ap-southeast-2"), home_region="us-east-1")
    result = run_audit(settings, AwsClients(max_attempts=1))
    # The healthy clusters of both healthy regions are audited in full.
    verdicts = {r.facts.name: r.verdict.status.value for r in result.results}
    assert verdicts == {"off": "FAILED", "on": "PASSED", "broken": "NOT_AVAILABLE"}
    # Each failure is reported against its own region (and cluster), not the whole run.
    failed = [(e.region, e.cluster, e.error.split(":")[0]) for e in result.errors]
    assert sorted(failed, key=str) == [
        ("ap-southeast-2", None, "AccessDeniedException"),
        ("eu-west-1", "broken", "AccessDeniedException"),
    ]
    assert sorted(result.listed_regions) == sorted(REGIONS)


def test_an_unexpected_failure_on_one_cluster_keeps_the_others(
    sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug (not an AWS error) while describing one cluster is that cluster's error only."""
    seed(sandbox)
    sandbox.add_cluster("eu-west-1", "buggy", addon=AddonSeed())
    real = discovery.describe_cluster

    def describe(clients: AwsClients, *args: Any) -> Any:
        if args[-1] == "buggy":
            raise RuntimeError("bug while describing")
        return real(clients, *args)

    monkeypatch.setattr(audit, "describe_cluster", describe)
    result = run_audit(Settings(regions=REGIONS, home_region="us-east-1"), AwsClients())
    assert sorted(r.facts.name for r in result.results) == ["off", "on"]
    assert [(e.region, e.cluster) for e in result.errors] == [("eu-west-1", "buggy")]
    assert "bug while describing" in result.errors[0].error


def target(region: str, cluster: str, account: str = ACCOUNT) -> Target:
    event = ClusterEvent("e", "UpdateAddon", account, region, cluster)
    return Target(account, region, cluster, (event,))


def test_an_event_run_is_the_one_pipeline_narrowed_to_its_clusters(
    sandbox: SandboxClient,
) -> None:
    """RunScope "some clusters": the named clusters only, nothing listed, and its regions
    never count as fully listed (so publishing never archives another cluster's finding);
    targets outside the deployment's scope are refused with the reason."""
    seed(sandbox)
    sandbox.add_cluster("eu-west-1", "other", addon=AddonSeed())
    sandbox.reset_calls()
    settings = Settings(regions=("eu-west-1", "us-east-1"), home_region="us-east-1")
    targets = [
        target("eu-west-1", "off"),
        target("eu-west-1", "off", account="999999999999"),
        target("ap-south-1", "far"),
    ]
    result = run_audit(settings, AwsClients(), targets=targets)
    assert [r.facts.name for r in result.results] == ["off"]
    assert result.narrowed and result.listed_regions == []
    assert result.regions == ["eu-west-1"]
    assert sandbox.calls().count("eks", "ListClusters") == 0
    assert sandbox.calls().count("eks", "DescribeCluster") == 1
    assert [e.to_json() for e in result.errors] == [
        {"region": "ap-south-1", "cluster": "far", "error": "ap-south-1 is not in AUDIT_REGIONS"},
        {
            "region": "eu-west-1",
            "cluster": "off",
            "error": f"event from account 999999999999; this auditor audits account {ACCOUNT}",
        },
    ]


def test_a_deleted_cluster_is_confirmed_and_a_deleting_one_left_alone(
    sandbox: SandboxClient,
) -> None:
    seed(sandbox)
    sandbox.add_cluster("eu-west-1", "going", addon=AddonSeed(), status="DELETING")
    settings = Settings(regions=REGIONS, home_region="us-east-1")
    result = run_audit(
        settings, AwsClients(), targets=[target("eu-west-1", "gone"), target("eu-west-1", "going")]
    )
    assert result.results == []
    assert result.errors == []
    assert result.confirmed_deleted == [("eu-west-1", "gone")]
