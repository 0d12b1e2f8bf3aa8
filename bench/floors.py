"""The arithmetic over raw measurements (`bench/records.py`): floors, ratios and the gates
that decide `make bench`'s exit code. Pure: no boto3, no sandbox, no clock.

The critical-path floor is the longest chain of dependent round trips: STS and
DescribeRegions in the home region, then per region ListClusters pages, DescribeCluster,
DescribeAddon, GetFindings pages, one BatchImportFindings and one BatchUpdateFindings (when
sent), each costing that region's latency; the floor is the maximum over regions. The pool
floor is the larger of two throughput bounds: every call's latency summed over the shared
pool (`Settings.max_workers`), and, per region, the latency of its DescribeCluster +
DescribeAddon calls over the calls allowed in flight there (`Settings.per_region_concurrency`),
maximum over regions. No run with those settings can be faster than any of these floors.

Gates are ratios and counts only. Absolute times move with the machine and its other load
(the same code measured 3.65 to 4.97 ms of CPU per cluster on consecutive runs of the shared
2-core VM, 2026-11-27), so they are reported beside the gates, never gated.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bench.latency import HOME_REGION, MODELS, REALISTIC
from bench.records import BenchRun, InClusterCase, Measurement, PairRun

EKS_CLUSTER_OPS = ("DescribeCluster", "DescribeAddon")
LIST_PAGE_SIZE = 100  # ListClusters maxResults (botocore model: 1-100)
IMPORT_BATCH = 100  # BatchImportFindings: "up to 100 findings" per request (API reference)
TARGET_SIZE = 1000
TARGET_SPEEDUP = 10.0
# Auditor CPU per cluster over the CPU of one bare boto3 DescribeCluster + DescribeAddon
# pair, measured side by side in the same run (issue 16, point 6).
TARGET_CPU_RATIO = 2.0


@dataclass(frozen=True)
class Gate:
    target: str
    passed: bool
    evidence: str


def call_seconds(m: Measurement, region: str) -> float:
    return MODELS[m.model].call_seconds(region)


def speedup(m: Measurement) -> float | None:
    if m.baseline is None or m.ours.wall_seconds <= 0:
        return None
    return m.baseline.wall_seconds / m.ours.wall_seconds


def chain_floor(m: Measurement) -> float:
    """Longest chain of dependent round trips, from the calls the sandbox saw."""
    calls = m.ours.sandbox_calls
    home = sum(
        1
        for op in ("sts:GetCallerIdentity", "ec2:DescribeRegions")
        if any(ops.get(op) for ops in calls.values())
    )
    longest = 0.0
    for region, ops in calls.items():
        steps = ops.get("eks:ListClusters", 0)
        steps += sum(1 for op in EKS_CLUSTER_OPS if ops.get(f"eks:{op}"))
        steps += ops.get("securityhub:GetFindings", 0) + ops.get("securityhub:DescribeHub", 0)
        steps += min(1, ops.get("securityhub:BatchImportFindings", 0))
        steps += min(1, ops.get("securityhub:BatchUpdateFindings", 0))
        longest = max(longest, steps * call_seconds(m, region))
    return home * call_seconds(m, HOME_REGION) + longest


def work_floor(m: Measurement) -> float:
    """Every call's latency over the worker count: the throughput bound of the pool."""
    busy = sum(
        count * call_seconds(m, region)
        for region, ops in m.ours.sandbox_calls.items()
        for count in ops.values()
    )
    return busy / m.workers


def region_floor(m: Measurement) -> tuple[float, str | None]:
    """(seconds, region): the busiest region's DescribeCluster + DescribeAddon latency over
    the calls allowed in flight per region, the bound of the per-region cap."""
    best: tuple[float, str | None] = (0.0, None)
    for region, ops in sorted(m.ours.sandbox_calls.items()):
        calls = sum(ops.get(f"eks:{op}", 0) for op in EKS_CLUSTER_OPS)
        seconds = calls * call_seconds(m, region) / m.per_region
        if seconds > best[0]:
            best = (seconds, region)
    return best


def pool_floor(m: Measurement) -> float:
    """max(work / max_workers, busiest region's describe work / per_region_concurrency)."""
    return max(work_floor(m), region_floor(m)[0])


def pool_bound_is_workers(m: Measurement) -> bool:
    """True when the shared pool, not the per-region cap, sets the pool floor."""
    return work_floor(m) >= region_floor(m)[0]


def clusters_in_region(m: Measurement, region: str) -> int:
    """Seeded round-robin (`seed_scale`): the first `clusters % n` regions get one more."""
    index, count = m.regions.index(region), len(m.regions)
    return m.clusters // count + (1 if index < m.clusters % count else 0)


def cpu_ms_per_cluster(m: Measurement) -> float:
    return 1000.0 * m.ours.cpu_seconds / m.clusters


def per_pair_ms(pair: PairRun | None) -> float | None:
    """CPU ms of one bare DescribeCluster + DescribeAddon pair, or None if not measured."""
    if pair is None or pair.pairs == 0:
        return None
    return 1000.0 * pair.cpu_seconds / pair.pairs


def pair_cpu_ms(m: Measurement) -> float | None:
    """The ratio's denominator: the pairs on the auditor's thread count."""
    return per_pair_ms(m.pair)


def cpu_ratio(m: Measurement) -> float | None:
    """Auditor CPU per cluster over the CPU of one bare pair, both from the same run."""
    pair = pair_cpu_ms(m)
    return None if not pair else cpu_ms_per_cluster(m) / pair


def eks_calls_per_cluster(m: Measurement) -> float:
    return sum(m.ours.api_calls.get(f"eks:{op}", 0) for op in EKS_CLUSTER_OPS) / m.clusters


def list_pages(m: Measurement) -> int:
    return m.ours.api_calls.get("eks:ListClusters", 0)


def import_violations(m: Measurement) -> list[str]:
    """Regions whose BatchImportFindings count is not ceil(findings / 100)."""
    if not m.publish:
        return []
    delivered = m.ours.findings_by_region
    problems = []
    for region in sorted(set(delivered) | set(m.ours.sandbox_calls)):
        imports = m.ours.sandbox_calls.get(region, {}).get("securityhub:BatchImportFindings", 0)
        findings = delivered.get(region, 0)
        if imports != math.ceil(findings / IMPORT_BATCH):
            problems.append(f"{region}: {imports} imports for {findings} findings")
    return problems


def page_violations(m: Measurement) -> list[str]:
    expected = sum(max(1, math.ceil(clusters_in_region(m, r) / LIST_PAGE_SIZE)) for r in m.regions)
    if list_pages(m) > expected:
        return [f"{list_pages(m)} ListClusters pages, expected {expected}"]
    return []


def invariant_violations(m: Measurement) -> list[str]:
    """Call-count promises that hold at any size and latency (the smoke test's checks)."""
    problems = []
    calls = m.ours.api_calls
    if any(calls.get(f"eks:{op}", 0) > m.clusters for op in EKS_CLUSTER_OPS):
        problems.append(f"more than one DescribeCluster/DescribeAddon per cluster: {calls}")
    problems += page_violations(m)
    problems += import_violations(m)
    if m.ours.clusters_accounted != m.clusters:
        problems.append(f"{m.ours.clusters_accounted} clusters accounted for, {m.clusters} seeded")
    problems += list(m.ours.surfaced_errors)
    return problems


def marginal_cpu_ms(measurements: Sequence[Measurement]) -> list[tuple[str, float]]:
    """Per model, CPU ms per extra cluster between the smallest and largest sizes: the
    per-cluster cost without the fixed per-run cost (clients, service models)."""
    out = []
    for name in dict.fromkeys(m.model for m in measurements):
        rows = sorted((m for m in measurements if m.model == name), key=lambda m: m.clusters)
        small, big = rows[0], rows[-1]
        if big.clusters > small.clusters:
            extra = big.ours.cpu_seconds - small.ours.cpu_seconds
            out.append((name, 1000.0 * extra / (big.clusters - small.clusters)))
    return out


def _fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _speedup_gate(measurements: Sequence[Measurement]) -> list[Gate]:
    at = {m.model: m for m in measurements if m.clusters == TARGET_SIZE}
    real = at.get(REALISTIC.name)
    if real is None or speedup(real) is None:
        return []
    others = "; ".join(f"{name} {_fmt(speedup(m), 1)}x" for name, m in at.items() if m is not real)
    value = speedup(real)
    return [
        Gate(
            f">= {TARGET_SPEEDUP:g}x faster than the baseline at {TARGET_SIZE} clusters"
            f" ({REALISTIC.name})",
            value is not None and value >= TARGET_SPEEDUP,
            f"{_fmt(value, 1)}x" + (f"; {others}" if others else ""),
        )
    ]


def _ratio_gate(measurements: Sequence[Measurement]) -> Gate:
    """At the largest size measured (the target's 1,000 in `make bench`), every model."""
    largest = max(m.clusters for m in measurements)
    rows = [m for m in measurements if m.clusters == largest]
    ratios = [cpu_ratio(m) for m in rows]
    measured = [r for r in ratios if r is not None]
    evidence = "; ".join(
        f"{m.model} {_fmt(r)} ({cpu_ms_per_cluster(m):.2f} ms per cluster /"
        f" {_fmt(pair_cpu_ms(m))} ms per pair)"
        for m, r in zip(rows, ratios, strict=True)
    )
    return Gate(
        f"auditor CPU per cluster <= {TARGET_CPU_RATIO:g}x one bare DescribeCluster +"
        f" DescribeAddon pair (at {largest} clusters, every model)",
        bool(measured) and len(measured) == len(rows) and max(measured) <= TARGET_CPU_RATIO,
        evidence or "pairs not measured",
    )


def gates(measurements: Sequence[Measurement]) -> list[Gate]:
    """The targets `make bench` exits on: ratios and counts only."""
    checks = _speedup_gate(measurements)
    worst = max(measurements, key=eks_calls_per_cluster)
    pages = [p for m in measurements for p in page_violations(m)]
    checks.append(
        Gate(
            "<= 2 EKS calls per cluster plus ListClusters pages",
            eks_calls_per_cluster(worst) <= 2.0 and not pages,
            f"max {eks_calls_per_cluster(worst):.2f} per cluster; pages: "
            + ("; ".join(pages) or "one per region per 100 clusters"),
        )
    )
    checks.append(_ratio_gate(measurements))
    publishing = all(m.publish for m in measurements)
    imports = [p for m in measurements for p in import_violations(m)]
    checks.append(
        Gate(
            "Security Hub imports = ceil(findings/100) per region",
            publishing and not imports,
            ("every region, every run" if not imports else "; ".join(imports[:5]))
            if publishing
            else "publishing not available (securityhub/publisher.py absent)",
        )
    )
    surfaced = [e for m in measurements for e in m.ours.surfaced_errors]
    absorbed = sum(m.ours.throttled for m in measurements)
    checks.append(
        Gate(
            "zero throttling errors surfaced",
            not [e for e in surfaced if "Throttl" in e or "LimitExceeded" in e],
            f"{len(surfaced)} errors surfaced in all runs; {absorbed} throttles absorbed"
            " by retries",
        )
    )
    return checks


# ------------------------------------------------------------------ the in-cluster case
# Issue 18, "Speed and memory": with the check on, wall time <= 1.5x the check-off run's;
# <= 8 Kubernetes requests per cluster plus list pages; peak memory <= 256 MB (the function
# has 512 MB, infra.stack.FUNCTION_MEMORY_MB).
TARGET_IN_CLUSTER_WALL_RATIO = 1.5
TARGET_KUBE_CALLS = 8
TARGET_PEAK_MIB = 256.0
LIST_PREFIX = "list:"


def in_cluster_wall_ratio(case: InClusterCase) -> float | None:
    """Wall time with the check over without it (the kept runs of each)."""
    if case.off.wall_seconds <= 0:
        return None
    return case.on.wall_seconds / case.off.wall_seconds


def added_wall_seconds(case: InClusterCase) -> float:
    return case.on.wall_seconds - case.off.wall_seconds


def added_cpu_ms_per_cluster(case: InClusterCase) -> float:
    return 1000.0 * (case.on.cpu_seconds - case.off.cpu_seconds) / case.clusters


def kube_pages(ops: dict[str, int]) -> int:
    """Requests beyond the first of each list: continue pages (and 410 restarts)."""
    return sum(count - 1 for op, count in ops.items() if op.startswith(LIST_PREFIX) and count > 1)


def kube_requests(case: InClusterCase) -> int:
    """Every Kubernetes request the sandbox answered in the kept check-on run."""
    return sum(sum(ops.values()) for ops in case.kube_calls.values())


def kube_calls_per_cluster(case: InClusterCase) -> tuple[float, int]:
    """(mean over the clusters read, maximum) of requests per cluster, pages excluded."""
    counts = [sum(ops.values()) - kube_pages(ops) for ops in case.kube_calls.values()]
    if not counts:
        return 0.0, 0
    return sum(counts) / len(counts), max(counts)


def kube_pages_total(case: InClusterCase) -> int:
    return sum(kube_pages(ops) for ops in case.kube_calls.values())


def peak_rss_mib(case: InClusterCase) -> float | None:
    """The check-on child's peak RSS: the whole fresh process, imports included."""
    return None if case.on_child is None else case.on_child.peak_rss_kib / 1024


def rss_growth_mib(case: InClusterCase) -> float | None:
    """What the check adds to a fresh process's peak RSS (on child minus off child)."""
    if case.on_child is None or case.off_child is None:
        return None
    return (case.on_child.peak_rss_kib - case.off_child.peak_rss_kib) / 1024


def growth_bytes_per_pod(case: InClusterCase) -> float | None:
    """The check's peak RSS growth over the pods the run read (every cluster's)."""
    growth = rss_growth_mib(case)
    pods = len(case.kube_calls) * case.pods_per_cluster
    return None if growth is None or not pods else growth * 2**20 / pods


def on_cpu_over_off_wall(case: InClusterCase) -> float | None:
    """The check-on run's auditor CPU over the check-off run's wall time: above the wall
    gate's 1.5, one CPU cannot meet the gate whatever the latency."""
    if case.off.wall_seconds <= 0:
        return None
    return case.on.cpu_seconds / case.off.wall_seconds


def in_cluster_gates(case: InClusterCase) -> list[Gate]:
    """The in-cluster case's targets: a ratio and counts, never an absolute time."""
    ratio = in_cluster_wall_ratio(case)
    mean, most = kube_calls_per_cluster(case)
    read = len(case.kube_calls)
    peak = peak_rss_mib(case)
    growth = rss_growth_mib(case)
    return [
        Gate(
            f"in-cluster: wall time with the check <= {TARGET_IN_CLUSTER_WALL_RATIO:g}x without"
            f" ({case.clusters} clusters x {case.pods_per_cluster} pods, {case.model})",
            ratio is not None and ratio <= TARGET_IN_CLUSTER_WALL_RATIO,
            f"{_fmt(ratio)}x ({case.on.wall_seconds:.2f} s / {case.off.wall_seconds:.2f} s)",
        ),
        Gate(
            f"in-cluster: <= {TARGET_KUBE_CALLS} Kubernetes calls per cluster plus pages",
            read > 0 and most <= TARGET_KUBE_CALLS,
            f"max {most}, mean {mean:.2f} over {read} clusters read;"
            f" {kube_pages_total(case)} more pages",
        ),
        Gate(
            f"in-cluster: peak memory <= {TARGET_PEAK_MIB:g} MiB (peak RSS of a fresh process"
            " running the audit with the check on)",
            peak is not None and peak <= TARGET_PEAK_MIB,
            "not measured"
            if peak is None
            else f"{peak:.0f} MiB" + ("" if growth is None else f" ({growth:+.0f} MiB over off)"),
        ),
    ]


def run_gates(run: BenchRun) -> list[Gate]:
    """Every gate of a run: the main cases' and, when measured, the in-cluster case's."""
    checks = gates(run.measurements)
    if run.in_cluster is not None:
        checks += in_cluster_gates(run.in_cluster)
    return checks
