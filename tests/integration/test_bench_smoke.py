"""Smoke test of the benchmark machinery (`bench/`): a tiny account, no latency, no timing.

It proves `make bench` can run (sandbox process, our audit, the bare pairs, the baseline,
the JSON and the report) and checks the call-count promises that hold at any size: at most
two EKS calls per cluster plus one ListClusters page per region, ceil(findings/100) imports
per region, nothing lost.
"""

from __future__ import annotations

import math

from bench import floors, records
from bench.baseline import network_policy_enabled, run_baseline
from bench.environment import sandbox_environment
from bench.latency import HOME_REGION, ZERO
from bench.measure import RUN_REPEATS, SizeOptions, measure_size
from bench.records import BenchRun
from bench.render import render
from sandbox import start_sandbox_process

REGIONS = ("us-east-1", "eu-west-1")
CLUSTERS = 20


def test_bench_machinery_on_a_small_account() -> None:
    with start_sandbox_process() as sandbox, sandbox_environment(sandbox.endpoint):
        options = SizeOptions(trace_memory=False, sandbox_pid=sandbox.process.pid, log=False)
        (m,) = measure_size(sandbox.client, CLUSTERS, REGIONS, [ZERO], options)
        sampled = run_baseline(HOME_REGION, sample_per_region=3)

    assert floors.invariant_violations(m) == []
    # Our audit is repeated and the least-CPU run is the one reported (measure.RUN_REPEATS).
    assert len(m.cpu_samples) == RUN_REPEATS > 1
    assert m.ours.cpu_seconds == min(m.cpu_samples)
    assert floors.eks_calls_per_cluster(m) <= 2
    assert floors.list_pages(m) == len(REGIONS)
    assert m.ours.clusters_accounted == CLUSTERS
    # The engine's own stage timings reach the record (nothing of the engine is patched).
    assert set(m.ours.stages) == {"discover", "publish"}
    delivered = m.ours.findings_by_region
    assert sum(delivered.values()) == CLUSTERS
    for region in REGIONS:
        imports = m.ours.sandbox_calls[region]["securityhub:BatchImportFindings"]
        assert imports == math.ceil(delivered[region] / 100) == 1
    assert m.ours.throttled == 0
    assert m.ours.surfaced_errors == ()
    # The ratio's denominator: one pair per audited cluster, repeated like our audit; and
    # the one-thread pairs over the home region's clusters (half of them here).
    assert m.pair is not None and m.pair.pairs == CLUSTERS
    assert len(m.pair_samples) == RUN_REPEATS
    assert m.pair_sequential is not None and m.pair_sequential.pairs == CLUSTERS // 2
    assert floors.cpu_ratio(m) is not None

    assert m.baseline is not None
    assert m.baseline.clusters == m.baseline.clusters_measured == CLUSTERS
    assert not m.baseline.extrapolated
    assert m.baseline.api_calls["eks:DescribeAddon"] == CLUSTERS
    assert sampled.extrapolated
    assert sampled.clusters_measured == 3 * len(REGIONS)
    assert sampled.clusters == CLUSTERS

    run = BenchRun(
        date="today",
        command="pytest",
        total_seconds=1.0,
        load=("n/a", "n/a"),
        placement="not pinned",
        machine={},
        peak_rss_mib=0.0,
        publish_workers=None,
        default_workers=m.workers,
        default_per_region=m.per_region,
        measurements=(m,),
    )
    report = render(records.load_text(records.dump_text(run)))
    assert f"| {CLUSTERS} |" in report
    passed = {gate.target for gate in floors.gates([m]) if gate.passed}
    assert passed >= {
        "<= 2 EKS calls per cluster plus ListClusters pages",
        "Security Hub imports = ceil(findings/100) per region",
        "zero throttling errors surfaced",
    }


def test_baseline_reads_enable_network_policy_like_the_cis_text() -> None:
    assert network_policy_enabled('{"enableNetworkPolicy": "true"}')
    assert network_policy_enabled('enableNetworkPolicy: "true"\n')
    assert not network_policy_enabled('{"enableNetworkPolicy": "false"}')
    assert not network_policy_enabled(None)
    assert not network_policy_enabled("{not yaml")
