"""Hand-made bench records (`bench/records.py`) for the floors and render tests."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from bench.records import (
    AuditRun,
    BaselineRun,
    BenchRun,
    ChildRun,
    InClusterCase,
    Measurement,
    PairRun,
)

REGIONS = ("us-east-1", "eu-west-1")


def sandbox_calls(clusters: int, regions: tuple[str, ...] = REGIONS) -> dict[str, dict[str, int]]:
    """What a correct run sends: identity and regions at home, then per region one
    ListClusters page per 100 clusters, both describes per cluster, one GetFindings page
    and ceil(findings / 100) imports."""
    calls: dict[str, dict[str, int]] = {}
    for index, region in enumerate(regions):
        here = clusters // len(regions) + (1 if index < clusters % len(regions) else 0)
        calls[region] = {
            "eks:ListClusters": max(1, math.ceil(here / 100)),
            "eks:DescribeCluster": here,
            "eks:DescribeAddon": here,
            "securityhub:GetFindings": 1,
            "securityhub:BatchImportFindings": math.ceil(here / 100),
        }
    calls[regions[0]] |= {"sts:GetCallerIdentity": 1, "ec2:DescribeRegions": 1}
    return calls


def measurement(
    *,
    model: str = "realistic",
    clusters: int = 1000,
    cpu_ms: float = 4.0,
    pair_ms: float | None = 2.5,
    wall: float = 5.0,
    baseline: float | None = 130.0,
    **overrides: Any,
) -> Measurement:
    """A correct run of `clusters` over REGIONS; `cpu_ms` per cluster, `pair_ms` per pair."""
    calls = sandbox_calls(clusters)
    api: dict[str, int] = {}
    for ops in calls.values():
        for op, count in ops.items():
            api[op] = api.get(op, 0) + count
    findings = {region: ops["eks:DescribeCluster"] for region, ops in calls.items()}
    ours = AuditRun(
        wall_seconds=wall,
        cpu_seconds=cpu_ms * clusters / 1000,
        stages={"discover": (wall * 0.7, cpu_ms * clusters / 1500), "publish": (1.0, 0.5)},
        api_calls=api,
        sandbox_calls=calls,
        throttled=0,
        peak_concurrency=64,
        sandbox_cpu_seconds=1.5,
        findings_by_region=findings,
        clusters_accounted=clusters,
        surfaced_errors=(),
    )
    pair = None
    if pair_ms is not None:
        pair = PairRun(pairs=clusters, wall_seconds=2.0, cpu_seconds=pair_ms * clusters / 1000)
    base = None
    if baseline is not None:
        base = BaselineRun(
            baseline, baseline, clusters, clusters, False, {"eks:DescribeAddon": clusters}
        )
    m = Measurement(
        model=model,
        clusters=clusters,
        regions=REGIONS,
        workers=128,
        per_region=16,
        publish=True,
        ours=ours,
        cpu_samples=(ours.cpu_seconds, ours.cpu_seconds * 1.2),
        pair=pair,
        pair_samples=(pair.cpu_seconds,) if pair else (),
        pair_sequential=PairRun(50, 3.0, 0.05),
        baseline=base,
        peak_traced_bytes=60 * 2**20,
    )
    return replace(m, **overrides)


def ours(m: Measurement, **changes: Any) -> Measurement:
    return replace(m, ours=replace(m.ours, **changes))


def bench_run(*measurements: Measurement, **overrides: Any) -> BenchRun:
    run = BenchRun(
        date="2026-12-03 09:00 UTC",
        command="python -m bench.run",
        total_seconds=480.0,
        load=("1.0 / 1.0 / 1.0", "2.0 / 2.0 / 2.0"),
        placement="not pinned",
        machine={"CPUs (nproc)": "2"},
        peak_rss_mib=480.0,
        publish_workers=16,
        default_workers=128,
        default_per_region=16,
        measurements=measurements or (measurement(),),
    )
    return replace(run, **overrides)


KUBE_READ = {
    "get:configmaps": 1,
    "get:daemonsets": 1,
    "list:namespaces": 1,
    "list:networkpolicies": 1,
    "list:pods": 1,
    "list:clusternetworkpolicies": 1,
}


def in_cluster_case(
    *,
    clusters: int = 1000,
    off_wall: float = 14.0,
    on_wall: float = 18.0,
    off_cpu_ms: float = 8.0,
    on_cpu_ms: float = 20.0,
    reads: dict[str, int] | None = None,
    peak_mib: float | None = 180.0,
    **overrides: Any,
) -> InClusterCase:
    """The in-cluster case of `clusters` clusters read with `reads` requests each."""
    off = measurement(clusters=clusters, wall=off_wall, cpu_ms=off_cpu_ms).ours
    on = replace(
        off,
        wall_seconds=on_wall,
        cpu_seconds=on_cpu_ms * clusters / 1000,
        api_calls={**off.api_calls, "kubernetes": clusters * sum((reads or KUBE_READ).values())},
    )

    def child(in_cluster: bool, mib: float) -> ChildRun:
        return ChildRun(in_cluster, 90 * 1024, int(mib * 1024), 10.0, 5.0, clusters)

    case = InClusterCase(
        model="realistic",
        clusters=clusters,
        pods_per_cluster=300,
        regions=REGIONS,
        workers=128,
        per_region=16,
        publish=True,
        seed_seconds=30.0,
        off=off,
        on=on,
        off_samples=((off_wall, off.cpu_seconds),),
        on_samples=((on_wall, on.cpu_seconds),),
        kube_calls={f"us-east-1/bench-{i:05d}": dict(reads or KUBE_READ) for i in range(clusters)},
        kube_statuses={"200": 5 * clusters, "403": clusters},
        verdicts={"PASSED/NAMESPACES_COVERED": clusters},
        off_child=None if peak_mib is None else child(False, 130.0),
        on_child=None if peak_mib is None else child(True, peak_mib),
    )
    return replace(case, **overrides)
