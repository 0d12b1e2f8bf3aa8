"""Measure, record nothing but raw figures (`bench/records.py`): the JSON `bench/run.py`
writes to bench/out/run.json.

For each latency model and account size, against the sandbox running in its own process:

1. seed the account (clusters round-robin over 16 regions, `sandbox.seeds.seed_scale`)
   and run our audit once without latency, so the measured runs are steady-state runs (the
   findings exist already, as on every scheduled run after the first);
2. `RUN_REPEATS` times, interleaved: our audit (`run_audit` in this process, publishing on:
   wall time, this process's CPU time, the engine's own `AuditResult.stage_seconds`, API
   calls from the client and from the sandbox's counters) and the bare pairs (one plain
   boto3 DescribeCluster + DescribeAddon per cluster, same threads, same sandbox, same
   latency, same clock); the least-CPU run of each is kept;
3. the sequential CIS-style baseline (`bench.baseline`) in the same sandbox state;
4. once per size, a separate run under tracemalloc for the peak Python heap (tracing slows
   the run, so its timings are not used).
"""

from __future__ import annotations

import gc
import math
import resource
import sys
import time
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from bench import events as events_bench
from bench import org
from bench.baseline import BaselineResult, run_baseline
from bench.cpus import cpus_apart
from bench.environment import (
    load_average,
    machine_details,
    process_cpu_seconds,
    publish_workers,
    publishing_available,
    sandbox_environment,
    set_latency,
)
from bench.latency import BENCH_REGIONS, HOME_REGION, MODELS, REALISTIC, LatencyModel
from bench.records import AuditRun, BaselineRun, BenchRun, InClusterCase, Measurement, PairRun
from eks_netpol_auditor.audit import run_audit
from eks_netpol_auditor.aws import AwsClients
from eks_netpol_auditor.config import Settings
from eks_netpol_auditor.model import VPC_CNI_ADDON, AuditResult
from sandbox import SandboxClient, start_sandbox_process
from sandbox.client import CallStats
from sandbox.seeds import seed_scale

# Measure the baseline in full when it should take less than this; else sample + extrapolate.
BASELINE_FULL_LIMIT_SECONDS = 240.0
THROTTLE_STATUSES = frozenset({429, 503})
# Each measured run is repeated and the run with the least CPU is reported, as the timeit
# docs advise: "the lowest value gives a lower bound for how fast your machine can run the
# given code snippet; higher values ... are typically ... caused by other processes
# interfering with your timing accuracy" (docs.python.org/3/library/timeit.html). On this
# shared 2-core VM the same code measured 4.96 to 6.58 ms/cluster in consecutive runs
# (2026-11-27, realistic model, 1,000 clusters, unpinned).
RUN_REPEATS = 3
# The bare pairs again on one thread, for the report only: what the same two calls cost
# without any concurrency, from the home region's clusters (27 ms per call, realistic).
SEQUENTIAL_PAIRS = 50


def audit_run(result: AuditResult, wall: float, cpu: float, stats: CallStats) -> AuditRun:
    by_region: dict[str, Counter[str]] = defaultdict(Counter)
    throttled = 0
    for row in stats.calls:
        op, count = f"{row['service']}:{row['operation']}", int(row["count"])
        by_region[str(row["region"])][op] += count
        if int(row["status"]) in THROTTLE_STATUSES:
            throttled += count
    surfaced = [f"{e.region}/{e.cluster or '*'}: {e.error}" for e in result.errors]
    surfaced += [
        f"{r.facts.region}/{r.facts.name}: {r.publish_error}"
        for r in result.results
        if r.publish_error
    ]
    return AuditRun(
        wall_seconds=wall,
        cpu_seconds=cpu,
        stages={name: (s.wall, s.cpu) for name, s in result.stage_seconds.items()},
        api_calls=dict(result.api_calls),
        sandbox_calls={region: dict(ops) for region, ops in sorted(by_region.items())},
        throttled=throttled,
        peak_concurrency=stats.peak_concurrency,
        sandbox_cpu_seconds=None,
        findings_by_region=dict(
            Counter(r.finding_region for r in result.results if r.finding_region)
        ),
        clusters_accounted=len(result.results)
        + sum(1 for e in result.errors if e.cluster is not None),
        surfaced_errors=tuple(surfaced),
    )


def run_ours(
    client: SandboxClient, settings: Settings, sandbox_pid: int | None = None
) -> tuple[AuditRun, AuditResult]:
    client.reset_calls()
    gc.collect()
    sandbox_before = process_cpu_seconds(sandbox_pid) if sandbox_pid else None
    cpu_started, started = time.process_time(), time.perf_counter()
    result = run_audit(settings, AwsClients(max_pool_connections=settings.max_workers))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    run = audit_run(result, wall, cpu, client.calls())
    if sandbox_before is not None and sandbox_pid:
        after = process_cpu_seconds(sandbox_pid)
        run = replace(run, sandbox_cpu_seconds=None if after is None else after - sandbox_before)
    return run, result


def interleaved(result: AuditResult) -> list[tuple[str, str]]:
    """(region, cluster) of every audited cluster, the regions taken in turn, so the pairs
    spread over the regions as the auditor's per-region backlogs do."""
    by_region: dict[str, list[str]] = defaultdict(list)
    for cluster in result.results:
        by_region[cluster.facts.region].append(cluster.facts.name)
    rows = list(by_region.values())
    return [
        (region, names[i])
        for i in range(max(map(len, rows), default=0))
        for region, names in by_region.items()
        if i < len(names)
    ]


def run_pairs(targets: Sequence[tuple[str, str]], workers: int, *, warm: bool = False) -> PairRun:
    """One plain boto3 DescribeCluster + DescribeAddon per target on `workers` threads.

    Bare: default client configuration but for the connection pool (as large as the
    thread pool, as the auditor's, so no connection is thrown away), one client per region
    made before the clock starts, no counting hooks, no parsing beyond botocore's. Timed
    as the auditor is: this process's `time.process_time()` around the whole batch. `warm`
    makes one untimed pair per client first (first-call model loading, a connection), for
    the one-thread figure over a few pairs; the auditor's own clients start cold.
    """
    session = boto3.session.Session()
    config = Config(max_pool_connections=workers)
    clients = {
        region: session.client("eks", region_name=region, config=config)
        for region in dict.fromkeys(region for region, _ in targets)
    }

    def pair(target: tuple[str, str]) -> None:
        region, name = target
        eks = clients[region]
        eks.describe_cluster(name=name)
        try:
            eks.describe_addon(clusterName=name, addonName=VPC_CNI_ADDON)
        except ClientError as error:  # no managed add-on: the answer is still one call
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise

    if warm:
        for target in {region: (region, name) for region, name in targets}.values():
            pair(target)
    gc.collect()
    cpu_started, started = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(workers, thread_name_prefix="pair") as pool:
        list(pool.map(pair, targets))
    return PairRun(
        pairs=len(targets),
        wall_seconds=time.perf_counter() - started,
        cpu_seconds=time.process_time() - cpu_started,
    )


def audit_settings(workers: int | None, publish: bool, per_region: int | None = None) -> Settings:
    # Refresh 0: every run imports every finding (the most Security Hub work a run can do),
    # so repeated runs over one seeded account measure the same thing as the first.
    settings = Settings(publish=publish, home_region=HOME_REGION, findings_refresh_hours=0)
    if workers is not None:
        settings = replace(settings, max_workers=workers)
    if per_region is not None:
        settings = replace(settings, per_region_concurrency=per_region)
    return settings


def peak_traced_bytes(settings: Settings) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        run_audit(settings, AwsClients(max_pool_connections=settings.max_workers))
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def baseline_sample(model: LatencyModel, clusters: int, regions: Sequence[str]) -> int | None:
    """None (measure everything) when the full baseline fits the time limit."""
    per_region = math.ceil(clusters / len(regions))
    estimate = sum(per_region * (model.call_seconds(r) + 0.002) for r in regions)
    if estimate <= BASELINE_FULL_LIMIT_SECONDS:
        return None
    return max(5, int(per_region * BASELINE_FULL_LIMIT_SECONDS / estimate))


def baseline_run(result: BaselineResult) -> BaselineRun:
    return BaselineRun(
        wall_seconds=result.wall_seconds,
        measured_seconds=result.measured_seconds,
        clusters=result.clusters,
        clusters_measured=result.clusters_measured,
        extrapolated=result.extrapolated,
        api_calls=dict(result.api_calls),
    )


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class SizeOptions:
    workers: int | None = None
    per_region: int | None = None
    with_baseline: bool = True
    with_pairs: bool = True
    trace_memory: bool = True
    sandbox_pid: int | None = None
    log: bool = True
    repeats: int = RUN_REPEATS


def measure_model(
    client: SandboxClient,
    model: LatencyModel,
    *,
    clusters: int,
    regions: Sequence[str],
    settings: Settings,
    options: SizeOptions,
) -> Measurement:
    """Our audit and the bare pairs, interleaved `repeats` times; then the baseline."""
    set_latency(client, model)
    runs: list[AuditRun] = []
    pairs: list[PairRun] = []
    alone: list[PairRun] = []
    for _ in range(options.repeats):
        run, result = run_ours(client, settings, options.sandbox_pid)
        runs.append(run)
        if options.with_pairs:
            targets = interleaved(result)
            pairs.append(run_pairs(targets, settings.max_workers))
            home = [t for t in targets if t[0] == HOME_REGION][:SEQUENTIAL_PAIRS]
            alone.append(run_pairs(home, 1, warm=True))
    ours = min(runs, key=lambda r: r.cpu_seconds)
    pair = min(pairs, key=lambda p: p.cpu_seconds) if pairs else None
    if options.log:
        samples = ", ".join(f"{1000 * r.cpu_seconds / clusters:.2f}" for r in runs)
        pair_ms = f", pair {1000 * pair.cpu_seconds / pair.pairs:.2f} ms" if pair else ""
        _log(
            f"  {model.name:>12} {clusters:>5} clusters: ours {ours.wall_seconds:6.2f} s,"
            f" cpu {1000 * ours.cpu_seconds / clusters:5.2f} ms/cluster (least of {samples})"
            + pair_ms
        )
    baseline = None
    if options.with_baseline:
        client.reset_calls()
        sample = baseline_sample(model, clusters, regions)
        baseline = baseline_run(run_baseline(HOME_REGION, sample_per_region=sample))
        if options.log:
            extra = " (extrapolated)" if baseline.extrapolated else ""
            _log(f"  {'':>12} baseline {baseline.wall_seconds:7.2f} s{extra}")
    return Measurement(
        model=model.name,
        clusters=clusters,
        regions=tuple(regions),
        workers=settings.max_workers,
        per_region=settings.per_region_concurrency,
        publish=settings.publish,
        ours=ours,
        cpu_samples=tuple(r.cpu_seconds for r in runs),
        pair=pair,
        pair_samples=tuple(p.cpu_seconds for p in pairs),
        pair_sequential=min(alone, key=lambda p: p.cpu_seconds) if alone else None,
        baseline=baseline,
    )


def measure_size(
    client: SandboxClient,
    clusters: int,
    regions: Sequence[str],
    models: Sequence[LatencyModel],
    options: SizeOptions | None = None,
) -> list[Measurement]:
    """Every model at one size; the account is seeded and warmed up once."""
    options = options or SizeOptions()
    settings = audit_settings(options.workers, publishing_available(), options.per_region)
    client.reset()
    client.set_enabled_regions(list(regions))
    seed_scale(client, clusters, list(regions))
    set_latency(client, MODELS["zero"])
    run_audit(settings, AwsClients(max_pool_connections=settings.max_workers))  # warm-up
    measurements = [
        measure_model(
            client, model, clusters=clusters, regions=regions, settings=settings, options=options
        )
        for model in models
    ]
    if options.trace_memory and measurements:
        set_latency(client, MODELS[measurements[-1].model])
        peak = peak_traced_bytes(settings)
        measurements = [replace(m, peak_traced_bytes=peak) for m in measurements]
    set_latency(client, MODELS["zero"])
    return measurements


def measure_sweep(
    client: SandboxClient,
    model: LatencyModel,
    *,
    clusters: int,
    regions: Sequence[str],
    workers: Sequence[int],
    per_region: int | None,
    sandbox_pid: int | None,
) -> list[Measurement]:
    """Our audit alone at other pool sizes, on the account the last size left seeded."""
    set_latency(client, model)
    out = []
    for count in workers:
        settings = audit_settings(count, publishing_available(), per_region)
        run, _ = run_ours(client, settings, sandbox_pid)
        out.append(
            Measurement(
                model=model.name,
                clusters=clusters,
                regions=tuple(regions),
                workers=count,
                per_region=settings.per_region_concurrency,
                publish=settings.publish,
                ours=run,
                cpu_samples=(run.cpu_seconds,),
            )
        )
    set_latency(client, MODELS["zero"])
    return out


@dataclass(frozen=True)
class Plan:
    """What one `python -m bench.run` measures (its command line, parsed)."""

    sizes: tuple[int, ...]
    models: tuple[LatencyModel, ...]
    command: str
    workers: int | None = None
    per_region: int | None = None
    with_baseline: bool = True
    with_events: bool = True
    sweep_workers: tuple[int, ...] = ()
    org_accounts: int = 0


# The in-cluster case (`bench.incluster.case`), given the sandbox's client, endpoint and pid.
InClusterMeasure = Callable[[SandboxClient, str, int | None], InClusterCase]


def measure_all(plan: Plan, in_cluster: InClusterMeasure | None = None) -> BenchRun:
    """Every case of the plan, each against its own sandbox process; raw figures only."""
    started, load_started = time.perf_counter(), load_average()
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    measurements: list[Measurement] = []
    sweep: list[Measurement] = []
    events: dict[str, Any] | None = None
    in_cluster_case: InClusterCase | None = None
    with (
        start_sandbox_process() as sandbox,
        sandbox_environment(sandbox.endpoint),
        cpus_apart(sandbox.process.pid) as placement,
    ):
        client, pid = sandbox.client, sandbox.process.pid
        options = SizeOptions(
            workers=plan.workers,
            per_region=plan.per_region,
            with_baseline=plan.with_baseline,
            sandbox_pid=pid,
        )
        for size in plan.sizes:
            _log(f"{size} clusters over {len(BENCH_REGIONS)} regions")
            measurements += measure_size(client, size, BENCH_REGIONS, plan.models, options)
        largest = plan.sizes[-1]
        default = [m for m in measurements if m.model == REALISTIC.name and m.clusters == largest]
        others = [w for w in plan.sweep_workers if not any(m.workers == w for m in default)]
        if plan.sweep_workers:
            _log(f"worker sweep {plan.sweep_workers}")
            swept = measure_sweep(
                client,
                REALISTIC,
                clusters=largest,
                regions=BENCH_REGIONS,
                workers=others,
                per_region=plan.per_region,
                sandbox_pid=pid,
            )
            sweep = sorted(swept + default, key=lambda m: m.workers)
        if in_cluster is not None:  # it resets the sandbox and seeds its own account
            in_cluster_case = in_cluster(client, sandbox.endpoint, pid)
        if plan.with_events:  # last: it resets the sandbox
            _log("event-driven runs")
            events = asdict(events_bench.measure(client, sandbox.endpoint))
    organization = (
        asdict(org.measure_org(sandbox_environment, plan.org_accounts))
        if plan.org_accounts
        else None
    )
    defaults = Settings()
    return BenchRun(
        date=date,
        command=plan.command,
        total_seconds=time.perf_counter() - started,
        load=(load_started, load_average()),
        placement=placement,
        machine=machine_details(),
        peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        publish_workers=publish_workers(),
        default_workers=defaults.max_workers,
        default_per_region=defaults.per_region_concurrency,
        measurements=tuple(measurements),
        sweep=tuple(sweep),
        events=events,
        org=organization,
        in_cluster=in_cluster_case,
    )
