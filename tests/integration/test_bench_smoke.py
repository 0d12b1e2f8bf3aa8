"""Smoke test of the benchmark machinery (`bench/`): a tiny account, no latency, no timing.

It proves `make bench` can run (sandbox process, our audit, the baseline, the report) and
checks the call-count promises that hold at any size: at most two EKS calls per cluster
plus one ListClusters page per region, ceil(findings/100) imports per region, nothing lost.
"""

from __future__ import annotations

import math

from bench.baseline import network_policy_enabled, run_baseline
from bench.latency import HOME_REGION, ZERO
from bench.run import RUN_REPEATS, measure_size, render, sandbox_environment, target_checks
from sandbox import start_sandbox_process

REGIONS = ("us-east-1", "eu-west-1")
CLUSTERS = 20


def test_bench_machinery_on_a_small_account() -> None:
    with start_sandbox_process() as sandbox, sandbox_environment(sandbox.endpoint):
        (m,) = measure_size(
            sandbox.client,
            CLUSTERS,
            REGIONS,
            [ZERO],
            trace_memory=False,
            sandbox_pid=sandbox.process.pid,
            log=False,
        )
        sampled = run_baseline(HOME_REGION, sample_per_region=3)

    assert m.invariant_violations() == []
    # Our audit is repeated and the least-CPU run is the one reported (bench.run.RUN_REPEATS).
    assert len(m.cpu_samples) == RUN_REPEATS > 1
    assert m.ours.cpu_seconds == min(m.cpu_samples)
    assert m.eks_calls_per_cluster() <= 2
    assert m.list_pages() == len(REGIONS)
    assert len(m.ours.result.results) == CLUSTERS
    delivered = m.findings_by_region()
    assert sum(delivered.values()) == CLUSTERS
    for region in REGIONS:
        imports = m.ours.sandbox.by_region[region]["securityhub:BatchImportFindings"]
        assert imports == math.ceil(delivered[region] / 100) == 1
    assert m.ours.sandbox.throttled == 0
    assert m.ours.surfaced_errors == []

    assert m.baseline is not None
    assert m.baseline.clusters == m.baseline.clusters_measured == CLUSTERS
    assert not m.baseline.extrapolated
    assert m.baseline.api_calls["eks:DescribeAddon"] == CLUSTERS
    assert sampled.extrapolated
    assert sampled.clusters_measured == 3 * len(REGIONS)
    assert sampled.clusters == CLUSTERS

    report = render([m], command="pytest", total_seconds=1.0)
    assert f"| {CLUSTERS} |" in report
    assert {target for target, _, _ in target_checks([m])} >= {
        "<= 2 EKS calls per cluster plus ListClusters pages",
        "Security Hub imports = ceil(findings/100) per region",
    }


def test_baseline_reads_enable_network_policy_like_the_cis_text() -> None:
    assert network_policy_enabled('{"enableNetworkPolicy": "true"}')
    assert network_policy_enabled('enableNetworkPolicy: "true"\n')
    assert not network_policy_enabled('{"enableNetworkPolicy": "false"}')
    assert not network_policy_enabled(None)
    assert not network_policy_enabled("{not yaml")
