"""A run reports its own stage timings (`AuditResult.stage_seconds`), so the benchmark
(`bench/measure.py`) and a profiler read them instead of wrapping the engine's internals."""

from __future__ import annotations

from eks_netpol_auditor.audit import run_audit
from eks_netpol_auditor.aws import AwsClients
from eks_netpol_auditor.config import Settings
from sandbox.client import AddonSeed, SandboxClient

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
