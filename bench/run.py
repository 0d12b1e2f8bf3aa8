"""`python -m bench.run [--quick] [--sizes 100,400,1000]`: benchmark run_audit vs the baseline.

For each latency model and account size, against the sandbox running in its own process:

1. seed the account (clusters round-robin over 16 regions, `tests.sandbox.seeds.seed_scale`)
   and run our audit once without latency, so the measured runs are steady-state runs (the
   findings exist already, as on every scheduled run after the first);
2. our audit: `run_audit` in this process, publishing on, wall time and this process's CPU
   time (the sandbox's CPU is another process's), API calls from `AwsClients.api_calls()`
   and from the sandbox's counters (per operation and region, peak concurrency, 429s);
3. the sequential CIS-style baseline (`bench.baseline`) in the same sandbox state;
4. once per size, a separate run under tracemalloc for the peak Python heap (tracing slows
   the run, so its timings are not used).

The critical-path floor is the longest chain of dependent round trips: STS and
DescribeRegions in the home region, then per region ListClusters pages, DescribeCluster,
DescribeAddon, GetFindings pages, one BatchImportFindings and one BatchUpdateFindings (when
sent), each costing that region's latency; the floor is the maximum over regions. The
work floor is the sum of every call's latency divided by the worker count: no run with
that many threads can be faster than either.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.util
import math
import os
import platform
import resource
import sys
import time
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import boto3
import botocore

from bench.baseline import BaselineResult, run_baseline
from bench.latency import (
    BENCH_REGIONS,
    HOME_REGION,
    MODELS,
    REALISTIC,
    RTT_FROM_US_EAST_1_MS,
    SERVICE_MS,
    UNIFORM_20,
    LatencyModel,
)
from eks_netpol_auditor.audit import run_audit
from eks_netpol_auditor.aws import AwsClients
from eks_netpol_auditor.config import Settings
from eks_netpol_auditor.model import AuditResult
from tests.sandbox import SandboxClient, start_sandbox_process
from tests.sandbox.client import CallStats
from tests.sandbox.seeds import seed_scale

RESULTS_PATH = Path(__file__).with_name("RESULTS.md")
DEFAULT_SIZES = (100, 400, 1000)
QUICK_SIZES = (100,)
# Measure the baseline in full when it should take less than this; else sample + extrapolate.
BASELINE_FULL_LIMIT_SECONDS = 240.0
EKS_CLUSTER_OPS = ("DescribeCluster", "DescribeAddon")
LIST_PAGE_SIZE = 100
THROTTLE_STATUSES = frozenset({429, 503})
TARGET_SPEEDUP = 10.0
TARGET_CPU_MS_PER_CLUSTER = 4.0
TARGET_SIZE = 1000


def publishing_available() -> bool:
    return importlib.util.find_spec("eks_netpol_auditor.publish") is not None


# ----------------------------------------------------------------------------- environment
@contextlib.contextmanager
def sandbox_environment(endpoint: str) -> Iterator[None]:
    """Point boto3 (ours and the baseline's) at the sandbox with dummy credentials."""
    values = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",  # not a secret: the sandbox accepts anything
        "AWS_DEFAULT_REGION": HOME_REGION,
        "AWS_REGION": HOME_REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    # Anything through which real credentials, endpoints or a proxy could leak in.
    removed = (
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        "AWS_USE_FIPS_ENDPOINT",
        "AWS_USE_DUALSTACK_ENDPOINT",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
        *(k for k in os.environ if k.startswith("AWS_ENDPOINT_URL_")),
    )
    saved = {k: os.environ.get(k) for k in (*values, *removed)}
    os.environ.update(values)
    for key in removed:
        os.environ.pop(key, None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def set_latency(client: SandboxClient, model: LatencyModel) -> None:
    if model.base_ms == 0 and not model.region_ms:
        client.clear_latency()
    else:
        client.set_latency(base_ms=model.base_ms, region_ms=dict(model.region_ms))


def process_cpu_seconds(pid: int) -> float | None:
    """user+system CPU of another process (Linux /proc), for the sandbox's share."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ----------------------------------------------------------------------------- measurements
@dataclass
class SandboxCalls:
    """The sandbox's view of one run: calls by (service, operation) and by region."""

    by_op: Counter[str] = field(default_factory=Counter)
    by_region: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    throttled: int = 0
    total: int = 0
    peak_concurrency: int = 0

    @classmethod
    def from_stats(cls, stats: CallStats) -> SandboxCalls:
        calls = cls(total=stats.total, peak_concurrency=stats.peak_concurrency)
        for row in stats.calls:
            op = f"{row['service']}:{row['operation']}"
            count = int(row["count"])
            calls.by_op[op] += count
            calls.by_region[str(row["region"])][op] += count
            if int(row["status"]) in THROTTLE_STATUSES:
                calls.throttled += count
        return calls


@dataclass
class OursRun:
    result: AuditResult
    wall_seconds: float
    cpu_seconds: float
    sandbox: SandboxCalls
    sandbox_cpu_seconds: float | None
    publish: bool

    @property
    def surfaced_errors(self) -> list[str]:
        errors = [f"{e.region}/{e.cluster or '*'}: {e.error}" for e in self.result.errors]
        errors += [
            f"{r.facts.region}/{r.facts.name}: {r.publish_error}"
            for r in self.result.results
            if r.publish_error
        ]
        return errors


@dataclass
class Measurement:
    model: LatencyModel
    clusters: int
    regions: tuple[str, ...]
    workers: int
    ours: OursRun
    baseline: BaselineResult | None
    peak_traced_bytes: int | None = None

    @property
    def speedup(self) -> float | None:
        if self.baseline is None or self.ours.wall_seconds <= 0:
            return None
        return self.baseline.wall_seconds / self.ours.wall_seconds

    def chain_floor_seconds(self) -> float:
        """Longest chain of dependent round trips, from the calls the sandbox saw."""
        home = 0
        for op in ("sts:GetCallerIdentity", "ec2:DescribeRegions"):
            home = home + (1 if self.ours.sandbox.by_op[op] else 0)
        longest = 0.0
        for region, ops in self.ours.sandbox.by_region.items():
            steps = ops["eks:ListClusters"]
            steps += sum(1 for op in EKS_CLUSTER_OPS if ops[f"eks:{op}"])
            steps += ops["securityhub:GetFindings"] + ops["securityhub:DescribeHub"]
            steps += min(1, ops["securityhub:BatchImportFindings"])
            steps += min(1, ops["securityhub:BatchUpdateFindings"])
            longest = max(longest, steps * self.model.call_seconds(region))
        return home * self.model.call_seconds(HOME_REGION) + longest

    def work_floor_seconds(self) -> float:
        """Every call's latency over the worker count: the throughput bound of the pool."""
        busy = sum(
            count * self.model.call_seconds(region)
            for region, ops in self.ours.sandbox.by_region.items()
            for count in ops.values()
        )
        return busy / self.workers

    def clusters_in_region(self, region: str) -> int:
        """Seeded round-robin (`seed_scale`): the first `clusters % n` regions get one more."""
        index, count = self.regions.index(region), len(self.regions)
        return self.clusters // count + (1 if index < self.clusters % count else 0)

    def cpu_ms_per_cluster(self) -> float:
        return 1000.0 * self.ours.cpu_seconds / self.clusters

    def eks_calls_per_cluster(self) -> float:
        calls = self.ours.result.api_calls
        return sum(calls.get(f"eks:{op}", 0) for op in EKS_CLUSTER_OPS) / self.clusters

    def list_pages(self) -> int:
        return self.ours.result.api_calls.get("eks:ListClusters", 0)

    def findings_by_region(self) -> Counter[str]:
        return Counter(r.finding_region for r in self.ours.result.results if r.finding_region)

    def import_violations(self) -> list[str]:
        """Regions whose BatchImportFindings count is not ceil(findings / 100)."""
        if not self.ours.publish:
            return []
        delivered = self.findings_by_region()
        problems = []
        for region in sorted(set(delivered) | set(self.ours.sandbox.by_region)):
            imports = self.ours.sandbox.by_region[region]["securityhub:BatchImportFindings"]
            expected = math.ceil(delivered[region] / 100)
            if imports != expected:
                problems.append(f"{region}: {imports} imports for {delivered[region]} findings")
        return problems

    def invariant_violations(self) -> list[str]:
        """Call-count promises that hold at any size and latency (the smoke test's checks)."""
        problems = []
        calls = self.ours.result.api_calls
        per_region_pages = sum(
            max(1, math.ceil(self.clusters_in_region(r) / LIST_PAGE_SIZE)) for r in self.regions
        )
        if any(calls.get(f"eks:{op}", 0) > self.clusters for op in EKS_CLUSTER_OPS):
            problems.append(f"more than one DescribeCluster/DescribeAddon per cluster: {calls}")
        if self.list_pages() > per_region_pages:
            problems.append(f"{self.list_pages()} ListClusters pages, expected {per_region_pages}")
        problems += self.import_violations()
        audited = len(self.ours.result.results) + sum(
            1 for e in self.ours.result.errors if e.cluster is not None
        )
        if audited != self.clusters:
            problems.append(f"{audited} clusters accounted for, {self.clusters} seeded")
        problems += self.ours.surfaced_errors
        return problems


def prepare_account(client: SandboxClient, clusters: int, regions: Sequence[str]) -> None:
    """A fresh sandbox account: `clusters` clusters over exactly `regions` (all enabled)."""
    client.reset()
    client.set_enabled_regions(list(regions))
    seed_scale(client, clusters, list(regions))


def run_ours(client: SandboxClient, settings: Settings, sandbox_pid: int | None = None) -> OursRun:
    client.reset_calls()
    gc.collect()
    sandbox_cpu = process_cpu_seconds(sandbox_pid) if sandbox_pid else None
    cpu_started = time.process_time()
    started = time.perf_counter()
    clients = AwsClients(max_pool_connections=settings.max_workers)
    result = run_audit(settings, clients)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    if sandbox_cpu is not None and sandbox_pid:
        after = process_cpu_seconds(sandbox_pid)
        sandbox_cpu = None if after is None else after - sandbox_cpu
    return OursRun(
        result=result,
        wall_seconds=wall,
        cpu_seconds=cpu,
        sandbox=SandboxCalls.from_stats(client.calls()),
        sandbox_cpu_seconds=sandbox_cpu,
        publish=settings.publish,
    )


def audit_settings(workers: int | None, publish: bool) -> Settings:
    settings = Settings(publish=publish, home_region=HOME_REGION)
    return settings if workers is None else replace(settings, max_workers=workers)


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


def measure_size(
    client: SandboxClient,
    clusters: int,
    regions: Sequence[str],
    models: Sequence[LatencyModel],
    *,
    workers: int | None = None,
    with_baseline: bool = True,
    trace_memory: bool = True,
    sandbox_pid: int | None = None,
    log: bool = True,
) -> list[Measurement]:
    """Every model at one size; the account is seeded and warmed up once."""
    publish = publishing_available()
    settings = audit_settings(workers, publish)
    prepare_account(client, clusters, regions)
    set_latency(client, MODELS["zero"])
    run_audit(settings, AwsClients(max_pool_connections=settings.max_workers))  # warm-up
    measurements = []
    for model in models:
        set_latency(client, model)
        ours = run_ours(client, settings, sandbox_pid)
        if log:
            print(
                f"  {model.name:>12} {clusters:>5} clusters: ours {ours.wall_seconds:6.2f} s,"
                f" cpu {1000 * ours.cpu_seconds / clusters:5.2f} ms/cluster",
                file=sys.stderr,
                flush=True,
            )
        baseline = None
        if with_baseline:
            client.reset_calls()
            sample = baseline_sample(model, clusters, regions)
            baseline = run_baseline(HOME_REGION, sample_per_region=sample)
            if log:
                print(
                    f"  {'':>12} baseline {baseline.wall_seconds:7.2f} s"
                    f"{' (extrapolated)' if baseline.extrapolated else ''}",
                    file=sys.stderr,
                    flush=True,
                )
        measurements.append(
            Measurement(model, clusters, tuple(regions), settings.max_workers, ours, baseline)
        )
    if trace_memory and measurements:
        set_latency(client, measurements[-1].model)
        peak = peak_traced_bytes(settings)
        for m in measurements:
            m.peak_traced_bytes = peak
    set_latency(client, MODELS["zero"])
    return measurements


# ----------------------------------------------------------------------------- report
def machine_details() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "CPUs (nproc)": str(os.cpu_count()),
        "CPU model": cpu,
        "Python": platform.python_version(),
        "boto3 / botocore": f"{boto3.__version__} / {botocore.__version__}",
        "OS": f"{platform.system()} {platform.release()}",
    }


def _fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _mib(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 2**20:.1f}"


def render(
    measurements: Sequence[Measurement],
    *,
    command: str,
    total_seconds: float,
    notes: Sequence[str] = (),
) -> str:
    models = list(dict.fromkeys(m.model.name for m in measurements))
    lines = [
        "# Benchmark results",
        "",
        "Generated by `bench/run.py`; do not edit by hand (rerun it).",
        "",
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Command: `{command}` (whole run {total_seconds / 60:.1f} min)",
        f"- Account: clusters round-robin over {len(BENCH_REGIONS)} regions "
        "(`seed_scale`: ~45% enabled, ~30% default, ~10% explicit false, ~5% old add-on,"
        " ~5% no add-on, ~5% Auto Mode); publishing to Security Hub "
        + ("on" if all(m.ours.publish for m in measurements) else "**off** (publish.py absent)")
        + "; measured runs are steady-state (findings exist from a warm-up run).",
        "- Sandbox: `tests.sandbox` in its own process (`start_sandbox_process`), latency "
        "applied server-side as a sleep before each answer; auditor CPU is this process's "
        "`time.process_time()` around `run_audit` (client creation included).",
    ]
    lines += [f"- {k}: {v}" for k, v in machine_details().items()]
    lines += [
        "",
        "## Latency models",
        "",
        f"- **{REALISTIC.name}**: {REALISTIC.description}.",
        f"- **{UNIFORM_20.name}**: {UNIFORM_20.description}.",
        "",
        "Round trips from us-east-1 are rounded p50 approximations of CloudPing's "
        "(cloudping.co) inter-region figures, not measurements of this run:",
        "",
        "| region | RTT (ms) | per call (ms) |",
        "| --- | ---: | ---: |",
    ]
    lines += [
        f"| {r} | {RTT_FROM_US_EAST_1_MS[r]:g} | {SERVICE_MS + RTT_FROM_US_EAST_1_MS[r]:g} |"
        for r in BENCH_REGIONS
    ]
    for name in models:
        rows = [m for m in measurements if m.model.name == name]
        lines += [
            "",
            f"## {name}",
            "",
            "| clusters | ours (s) | baseline (s) | speed-up | chain floor (s) "
            "| ours / floor | work / workers (s) | auditor CPU (ms/cluster) | sandbox CPU (s) "
            "| EKS calls/cluster + list pages | peak concurrency | 429s absorbed "
            "| errors surfaced | peak heap (MiB) |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: "
            "| ---: | ---: | ---: |",
        ]
        for m in rows:
            base = "n/a"
            if m.baseline is not None:
                base = f"{m.baseline.wall_seconds:.1f}"
                if m.baseline.extrapolated:
                    base += (
                        f" (extrapolated from {m.baseline.clusters_measured}/{m.baseline.clusters})"
                    )
            floor = m.chain_floor_seconds()
            lines.append(
                f"| {m.clusters} | {m.ours.wall_seconds:.2f} | {base} "
                f"| {_fmt(m.speedup, 1)}x | {floor:.2f} "
                f"| {_fmt(m.ours.wall_seconds / floor if floor else None, 1)}x "
                f"| {m.work_floor_seconds():.2f} ({m.workers}) "
                f"| {m.cpu_ms_per_cluster():.2f} | {_fmt(m.ours.sandbox_cpu_seconds, 1)} "
                f"| {m.eks_calls_per_cluster():.2f} + {m.list_pages()} "
                f"| {m.ours.sandbox.peak_concurrency} | {m.ours.sandbox.throttled} "
                f"| {len(m.ours.surfaced_errors)} | {_mib(m.peak_traced_bytes)} |"
            )
    lines += _calls_table(measurements)
    lines += _securityhub_table(measurements)
    lines += _targets(measurements)
    lines += [
        "",
        "## Reading the columns",
        "",
        "- **baseline**: `bench/baseline.py`, the CIS 5.4.4 audit scripted with plain boto3:"
        " region by region, ListClusters then DescribeAddon per cluster, one call at a time;"
        " it neither calls DescribeCluster nor publishes. Measured in the same run, same"
        " sandbox state; an *extrapolated* value measured only the first clusters of each"
        " region and scaled each region linearly.",
        "- **chain floor**: the longest chain of dependent round trips (STS + DescribeRegions"
        " in us-east-1, then per region ListClusters pages + DescribeCluster + DescribeAddon"
        " + GetFindings pages + one BatchImportFindings + one BatchUpdateFindings when sent),"
        " maximum over regions. No implementation can beat it.",
        "- **work / workers**: every call's latency summed, divided by the thread-pool size"
        " (`Settings.max_workers`): the floor for a pool of that size.",
        "- **auditor CPU**: CPU seconds of the benchmark process during `run_audit` (all"
        " threads, client creation included) per cluster; the sandbox's CPU is shown"
        " apart.",
        "- **EKS calls/cluster**: (DescribeCluster + DescribeAddon) / clusters, then the"
        " number of ListClusters pages.",
        "- **429s absorbed**: throttling answers the sandbox sent and botocore's standard"
        " retries absorbed; **errors surfaced** counts run errors and publishing errors.",
        "- **peak heap**: tracemalloc peak during a separate run at the same size"
        " (the timed runs are not traced).",
    ]
    if notes:
        lines += ["", "## Analysis", ""]
        lines += list(notes)
    return "\n".join(lines) + "\n"


def _calls_table(measurements: Sequence[Measurement]) -> list[str]:
    first_model = measurements[0].model.name
    rows = [m for m in measurements if m.model.name == first_model]
    ops = sorted({op for m in rows for op in m.ours.result.api_calls})
    lines = [
        "",
        f"## API calls by operation ({first_model}; client-side count, retries excluded)",
        "",
        "| operation | " + " | ".join(f"{m.clusters} clusters (per cluster)" for m in rows) + " |",
        "| --- | " + " | ".join("---:" for _ in rows) + " |",
    ]
    for op in ops:
        cells = []
        for m in rows:
            count = m.ours.result.api_calls.get(op, 0)
            cells.append(f"{count} ({count / m.clusters:.3f})")
        lines.append(f"| {op} | " + " | ".join(cells) + " |")
    totals = [sum(m.ours.result.api_calls.values()) for m in rows]
    lines.append(
        "| **total** | "
        + " | ".join(f"{t} ({t / m.clusters:.3f})" for t, m in zip(totals, rows, strict=True))
        + " |"
    )
    return lines


def _securityhub_table(measurements: Sequence[Measurement]) -> list[str]:
    m = max(measurements, key=lambda x: (x.clusters, x.model is REALISTIC))
    if not m.ours.publish:
        return []
    delivered = m.findings_by_region()
    lines = [
        "",
        f"## Security Hub calls per region ({m.clusters} clusters, {m.model.name}; "
        "sandbox count incl. retries)",
        "",
        "| region | findings | BatchImportFindings (expected) | GetFindings "
        "| BatchUpdateFindings | other |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    named = {"BatchImportFindings", "GetFindings", "BatchUpdateFindings"}
    for region in sorted(set(delivered) | set(m.ours.sandbox.by_region)):
        ops = m.ours.sandbox.by_region[region]
        sh = {k.split(":", 1)[1]: v for k, v in ops.items() if k.startswith("securityhub:")}
        if not sh and not delivered[region]:
            continue
        other = sum(v for k, v in sh.items() if k not in named)
        lines.append(
            f"| {region} | {delivered[region]} | {sh.get('BatchImportFindings', 0)} "
            f"({math.ceil(delivered[region] / 100)}) | {sh.get('GetFindings', 0)} "
            f"| {sh.get('BatchUpdateFindings', 0)} | {other} |"
        )
    return lines


def target_checks(measurements: Sequence[Measurement]) -> list[tuple[str, bool, str]]:
    """(target, passed, evidence) for the issue's targets."""
    checks: list[tuple[str, bool, str]] = []
    big = [m for m in measurements if m.model is REALISTIC and m.clusters == TARGET_SIZE]
    if big and big[0].speedup is not None:
        m = big[0]
        uniform = [x for x in measurements if x.model is UNIFORM_20 and x.clusters == TARGET_SIZE]
        extra = f"; uniform-20ms {_fmt(uniform[0].speedup, 1)}x" if uniform else ""
        checks.append(
            (
                f">= {TARGET_SPEEDUP:g}x faster than the baseline at {TARGET_SIZE} clusters"
                f" ({REALISTIC.name})",
                m.speedup is not None and m.speedup >= TARGET_SPEEDUP,
                f"{_fmt(m.speedup, 1)}x{extra}",
            )
        )
    worst_eks = max(measurements, key=lambda x: x.eks_calls_per_cluster())
    page_problems = [p for m in measurements for p in m.invariant_violations() if "page" in p]
    checks.append(
        (
            "<= 2 EKS calls per cluster plus ListClusters pages",
            worst_eks.eks_calls_per_cluster() <= 2.0 and not page_problems,
            f"max {worst_eks.eks_calls_per_cluster():.2f} per cluster; pages: "
            + ("; ".join(page_problems) or "one per region per 100 clusters"),
        )
    )
    worst_cpu = max(measurements, key=lambda x: x.cpu_ms_per_cluster())
    checks.append(
        (
            f"<= {TARGET_CPU_MS_PER_CLUSTER:g} ms auditor CPU per cluster",
            worst_cpu.cpu_ms_per_cluster() <= TARGET_CPU_MS_PER_CLUSTER,
            f"max {worst_cpu.cpu_ms_per_cluster():.2f} ms ({worst_cpu.clusters} clusters,"
            f" {worst_cpu.model.name})",
        )
    )
    publishing = all(m.ours.publish for m in measurements)
    imports = [p for m in measurements for p in m.import_violations()]
    checks.append(
        (
            "Security Hub imports = ceil(findings/100) per region",
            publishing and not imports,
            ("every region, every run" if not imports else "; ".join(imports[:5]))
            if publishing
            else "publishing not available (publish.py absent)",
        )
    )
    surfaced = [e for m in measurements for e in m.ours.surfaced_errors]
    absorbed = sum(m.ours.sandbox.throttled for m in measurements)
    checks.append(
        (
            "zero throttling errors surfaced",
            not [e for e in surfaced if "Throttl" in e or "LimitExceeded" in e],
            f"{len(surfaced)} errors surfaced in all runs; {absorbed} throttles absorbed"
            " by retries",
        )
    )
    return checks


def _targets(measurements: Sequence[Measurement]) -> list[str]:
    lines = ["", "## Targets (2-core machine)", "", "| target | result | evidence |"]
    lines.append("| --- | --- | --- |")
    for target, passed, evidence in target_checks(measurements):
        lines.append(f"| {target} | {'PASS' if passed else '**MISS**'} | {evidence} |")
    return lines


def analysis_notes(measurements: Sequence[Measurement]) -> list[str]:
    """What bounds each run, derived from the numbers (hand notes are appended by main)."""
    notes = []
    for m in measurements:
        chain, work = m.chain_floor_seconds(), m.work_floor_seconds()
        if max(chain, work) <= 0:
            continue
        bound = "the thread pool (work / workers)" if work > chain else "the critical path"
        notes.append(
            f"- {m.model.name}, {m.clusters} clusters: ours {m.ours.wall_seconds:.2f} s;"
            f" chain floor {chain:.2f} s, work floor {work:.2f} s with {m.workers} workers"
            f" -> bounded by {bound}; {m.ours.wall_seconds / max(chain, work):.2f}x the"
            " larger floor."
        )
    return notes


# ----------------------------------------------------------------------------- main
def parse_sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"--sizes takes whole numbers: {text!r}") from None
    if not sizes or any(s <= 0 for s in sizes):
        raise argparse.ArgumentTypeError("--sizes must list positive numbers")
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100 clusters only, no file")
    parser.add_argument("--sizes", type=parse_sizes, help="account sizes, e.g. 100,400,1000")
    parser.add_argument(
        "--models",
        default=f"{REALISTIC.name},{UNIFORM_20.name}",
        help=f"latency models, from {', '.join(MODELS)}",
    )
    parser.add_argument("--workers", type=int, help="override Settings.max_workers")
    parser.add_argument("--no-baseline", action="store_true", help="skip the baseline")
    parser.add_argument(
        "--output", type=Path, help=f"where to write the report (default {RESULTS_PATH})"
    )
    args = parser.parse_args(argv)
    sizes = args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    try:
        models = [MODELS[name.strip()] for name in args.models.split(",") if name.strip()]
    except KeyError as error:
        parser.error(f"unknown model {error.args[0]!r}; choose from {', '.join(MODELS)}")
    output = args.output or (None if args.quick else RESULTS_PATH)
    command = "python -m bench.run" + (" " + " ".join(argv) if argv else "")
    if argv is None and len(sys.argv) > 1:
        command = "python -m bench.run " + " ".join(sys.argv[1:])
    if not publishing_available():
        print("warning: eks_netpol_auditor.publish is absent: publishing off", file=sys.stderr)

    started = time.perf_counter()
    measurements: list[Measurement] = []
    with start_sandbox_process() as sandbox, sandbox_environment(sandbox.endpoint):
        client = sandbox.client
        for size in sizes:
            print(f"{size} clusters over {len(BENCH_REGIONS)} regions", file=sys.stderr)
            measurements += measure_size(
                client,
                size,
                BENCH_REGIONS,
                models,
                workers=args.workers,
                with_baseline=not args.no_baseline,
                sandbox_pid=sandbox.process.pid,
            )
    total = time.perf_counter() - started
    notes = analysis_notes(measurements)
    notes.append(
        f"- Benchmark process peak RSS (ru_maxrss, whole run incl. boto3 import):"
        f" {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB."
    )
    report = render(measurements, command=command, total_seconds=total, notes=notes)
    print(report)
    if output is not None:
        output.write_text(report)
        print(f"wrote {output}", file=sys.stderr)
    failed = [t for t, passed, _ in target_checks(measurements) if not passed]
    return 1 if failed and not args.quick else 0


if __name__ == "__main__":
    sys.exit(main())
