"""The raw measurements of one `make bench` run, as `bench/measure.py` writes them to JSON.

Plain frozen data, no arithmetic: `bench/floors.py` derives floors, ratios and gates from
it and `bench/render.py` turns it into RESULTS.md, so a report can be re-rendered (or a
floor recomputed) from `bench/out/run.json` without measuring again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter


@dataclass(frozen=True)
class AuditRun:
    """One `run_audit`: the auditor's own view and the sandbox's count of what it was sent."""

    wall_seconds: float
    cpu_seconds: float  # this process, all threads, client creation included
    stages: dict[str, tuple[float, float]]  # AuditResult.stage_seconds: (wall, CPU)
    api_calls: dict[str, int]  # client side, "service:Operation", retries excluded
    sandbox_calls: dict[str, dict[str, int]]  # region -> "service:Operation" -> count
    throttled: int  # 429/503 answers botocore's retries absorbed
    peak_concurrency: int
    sandbox_cpu_seconds: float | None
    findings_by_region: dict[str, int]
    clusters_accounted: int  # results + per-cluster errors
    surfaced_errors: tuple[str, ...]


@dataclass(frozen=True)
class PairRun:
    """The denominator of the CPU ratio: one bare boto3 DescribeCluster + DescribeAddon pair
    per cluster of the same account, on the same sandbox, timed the same way."""

    pairs: int
    wall_seconds: float
    cpu_seconds: float


@dataclass(frozen=True)
class BaselineRun:
    wall_seconds: float  # measured, or extrapolated when `extrapolated`
    measured_seconds: float
    clusters: int
    clusters_measured: int
    extrapolated: bool
    api_calls: dict[str, int]


@dataclass(frozen=True)
class Measurement:
    """One latency model at one account size. `ours` and `pair` are the least-CPU runs of
    their repeats (`cpu_samples`, `pair_samples`), which ran interleaved."""

    model: str  # a name in bench.latency.MODELS
    clusters: int
    regions: tuple[str, ...]
    workers: int
    per_region: int
    publish: bool
    ours: AuditRun
    cpu_samples: tuple[float, ...] = ()
    pair: PairRun | None = None
    pair_samples: tuple[float, ...] = ()
    pair_sequential: PairRun | None = None  # on one thread: context, not the ratio's
    baseline: BaselineRun | None = None
    peak_traced_bytes: int | None = None


@dataclass(frozen=True)
class ChildRun:
    """One `run_audit` in a fresh Python process that imports only the auditor
    (`bench.incluster`): its peak RSS is the whole process's, as Lambda's Max Memory Used."""

    in_cluster: bool
    imported_rss_kib: int  # VmHWM (peak RSS) after the imports, before the run
    peak_rss_kib: int  # VmHWM after the run
    wall_seconds: float
    cpu_seconds: float
    clusters: int  # results of the run


@dataclass(frozen=True)
class InClusterCase:
    """The in-cluster check against the check-off run, same run, same seeded account
    (`bench.incluster`). `off` and `on` are the least-CPU runs of their repeats."""

    model: str  # a name in bench.latency.MODELS (Kubernetes: the round trip alone)
    clusters: int
    pods_per_cluster: int
    regions: tuple[str, ...]
    workers: int
    per_region: int
    publish: bool
    seed_seconds: float
    off: AuditRun
    on: AuditRun
    off_samples: tuple[tuple[float, float], ...]  # (wall, CPU) of every repeat
    on_samples: tuple[tuple[float, float], ...]
    kube_calls: dict[str, dict[str, int]]  # of `on`: "region/name" -> "list:pods" -> requests
    kube_statuses: dict[str, int]  # of `on`: HTTP status -> requests
    verdicts: dict[str, int]  # of `on`: "STATUS/REASON" of the second control -> clusters
    off_child: ChildRun | None = None
    on_child: ChildRun | None = None


@dataclass(frozen=True)
class BenchRun:
    date: str  # UTC, "YYYY-MM-DD HH:MM UTC"
    command: str
    total_seconds: float
    load: tuple[str, str]  # load average at start, at end
    placement: str
    machine: dict[str, str]
    peak_rss_mib: float
    publish_workers: int | None  # securityhub.publisher.MAX_REGION_WORKERS
    default_workers: int
    default_per_region: int
    measurements: tuple[Measurement, ...]
    sweep: tuple[Measurement, ...] = ()
    events: dict[str, Any] | None = None  # bench.events.EventBench
    org: dict[str, Any] | None = None  # bench.org.OrgMeasurement
    in_cluster: InClusterCase | None = None


_ADAPTER: TypeAdapter[BenchRun] = TypeAdapter(BenchRun)


def dump_text(run: BenchRun) -> str:
    return _ADAPTER.dump_json(run, indent=1).decode() + "\n"


def load_text(text: str) -> BenchRun:
    """The run a `dump_text` wrote; pydantic's ValidationError (a ValueError) otherwise."""
    return _ADAPTER.validate_json(text)


def dump(run: BenchRun, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_text(run))


def load(path: Path) -> BenchRun:
    return load_text(path.read_text())
