"""Smoke test of the benchmark machinery (`bench/`): a tiny account, no latency, no timing.

It proves `make bench` can run (sandbox process, our audit, the bare pairs, the baseline,
the JSON and the report) and checks the call-count promises that hold at any size: at most
two EKS calls per cluster plus one ListClusters page per region, ceil(findings/100) imports
per region, nothing lost.
"""

from __future__ import annotations

import math

from bench import floors, incluster, records
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


def test_in_cluster_case_on_a_tiny_account() -> None:
    """4 clusters x 5 pods: the record is filled from both runs, every cluster is read
    through its Kubernetes API, the counts agree and the gates compute."""
    with start_sandbox_process() as sandbox, sandbox_environment(sandbox.endpoint):
        case = incluster.measure(
            sandbox.client,
            sandbox.endpoint,
            clusters=4,
            pods=5,
            regions=REGIONS,
            model=ZERO,
            repeats=1,
            sandbox_pid=sandbox.process.pid,
            log=False,
        )

    assert "kubernetes" not in case.off.api_calls
    assert case.off.clusters_accounted == case.on.clusters_accounted == 4
    assert len(case.kube_calls) == 4  # every cluster read, one connection each
    for ops in case.kube_calls.values():
        assert ops["list:pods"] == 1  # 5 pods: one page
    assert case.on.api_calls["kubernetes"] == floors.kube_requests(case)
    assert sum(case.verdicts.values()) == 4
    assert not any(v.startswith("NOT_AVAILABLE") for v in case.verdicts)
    assert case.on_child is not None and case.off_child is not None
    assert case.on_child.clusters == case.off_child.clusters == 4
    assert case.on_child.peak_rss_kib >= case.on_child.imported_rss_kib > 0
    assert floors.kube_calls_per_cluster(case)[1] <= floors.TARGET_KUBE_CALLS
    gates = floors.in_cluster_gates(case)
    assert len(gates) == 3
    assert next(g for g in gates if "Kubernetes calls" in g.target).passed
    assert next(g for g in gates if "peak memory" in g.target).passed
    run = BenchRun(
        date="today",
        command="pytest",
        total_seconds=1.0,
        load=("n/a", "n/a"),
        placement="not pinned",
        machine={},
        peak_rss_mib=0.0,
        publish_workers=None,
        default_workers=case.workers,
        default_per_region=case.per_region,
        measurements=(),
        in_cluster=case,
    )
    assert records.load_text(records.dump_text(run)) == run
