"""The in-cluster case of `make bench` (issue 18, "Speed and memory"): what the second
control (CIS EKS 4.3.2, `Settings.in_cluster_check`) adds to a run, measured in the same
`make bench` run against the check-off run on the same seeded account.

1. Seed `clusters` clusters over the bench regions (`sandbox.seeds.seed_scale`), each with
   `pods` pods, three namespaces, two default-deny NetworkPolicies and the auditor
   enrolled (AmazonEKSViewPolicy), and warm up once without latency.
2. The check off, `repeats` runs at the latency model, then a fresh child process's run
   (its peak RSS); then a warm-up with the check on (its 4.3.2 findings now exist, as on
   every scheduled run after the first), `repeats` runs with the check on, and a fresh
   child with the check on. Off before on: a check-off run after an on run would also
   archive the second control's findings (IN_CLUSTER_CHECK_OFF), work no steady-state run
   does.
3. Latency: AWS calls as the model says; every Kubernetes request the cluster's region's
   round trip alone (no service time), and two more per new connection (TCP and TLS
   handshakes, `sandbox/services/kubernetes/server.py`): wire time, slept by the sandbox.

Raw figures only (`bench.records.InClusterCase`); `bench.floors` does the arithmetic and
the gates, `bench.render` the RESULTS.md section.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bench.environment import publishing_available
from bench.latency import BENCH_REGIONS, HOME_REGION, REALISTIC, LatencyModel
from bench.measure import InClusterMeasure, audit_settings, run_ours
from bench.records import AuditRun, ChildRun, InClusterCase
from eks_netpol_auditor.audit import run_audit
from eks_netpol_auditor.aws import AwsClients
from eks_netpol_auditor.config import Settings
from eks_netpol_auditor.model import AuditResult
from sandbox import SandboxClient, sandbox_environ
from sandbox.seeds import seed_scale

KUBERNETES = "kubernetes"  # the sandbox's service name for the clusters' API servers
CLUSTERS = 1000
PODS = 300
REPEATS = 2
ROOT = Path(__file__).resolve().parent.parent

# A fresh interpreter that imports only the auditor, runs one audit and prints its
# resource usage: Lambda's "Max Memory Used" is the whole runtime process's, so the
# child's peak RSS (imports included) is the stricter figure, not the growth of a run.
# VmHWM (proc(5): "Peak resident set size"), not ru_maxrss: Linux keeps ru_maxrss across
# execve, so a child of this large process would start from the parent's figure.
_CHILD = """
import json, sys, time
from dataclasses import replace
from eks_netpol_auditor.audit import run_audit
from eks_netpol_auditor.aws import AwsClients
from eks_netpol_auditor.config import Settings
def hwm_kib():
    with open("/proc/self/status") as status:
        line = next(l for l in status if l.startswith("VmHWM:"))
    return int(line.split()[1])
a = json.loads(sys.argv[1])
settings = replace(
    Settings(publish=a["publish"], home_region=a["home"], findings_refresh_hours=0),
    max_workers=a["workers"], per_region_concurrency=a["per_region"],
    in_cluster_check=a["in_cluster"],
)
before = hwm_kib()
cpu, wall = time.process_time(), time.perf_counter()
result = run_audit(settings, AwsClients(max_pool_connections=settings.max_workers))
print(json.dumps({
    "in_cluster": a["in_cluster"],
    "imported_rss_kib": before,
    "peak_rss_kib": hwm_kib(),
    "wall_seconds": time.perf_counter() - wall,
    "cpu_seconds": time.process_time() - cpu,
    "clusters": len(result.results),
}))
"""


def set_latency(client: SandboxClient, model: LatencyModel) -> None:
    """The model for AWS calls; for Kubernetes requests the region's round trip only
    (`service_ms` 0 replaces the model's service time, the sandbox adds `region_ms`)."""
    if model.base_ms == 0 and not model.region_ms:
        client.clear_latency()
    else:
        client.set_latency(
            base_ms=model.base_ms, region_ms=dict(model.region_ms), service_ms={KUBERNETES: 0.0}
        )


def kube_calls(client: SandboxClient) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """The sandbox's count of Kubernetes requests since the last reset: per cluster
    ("region/name") per operation ("list:pods"), and per HTTP status."""
    per_cluster: dict[str, Counter[str]] = defaultdict(Counter)
    statuses: Counter[str] = Counter()
    for row in client.calls().calls:
        if row["service"] != KUBERNETES:
            continue
        count = int(row["count"])
        per_cluster[f"{row['region']}/{row['cluster']}"][str(row["operation"])] += count
        statuses[str(row["status"])] += count
    return {k: dict(v) for k, v in sorted(per_cluster.items())}, dict(statuses)


def verdicts(result: AuditResult) -> dict[str, int]:
    """Second-control verdicts of a run, "STATUS/REASON" -> clusters."""
    return dict(
        Counter(
            f"{r.in_cluster.status.value}/{r.in_cluster.reason.value}"
            for r in result.results
            if r.in_cluster is not None
        )
    )


def child_run(endpoint: str, settings: Settings) -> ChildRun:
    """One audit in a fresh Python process (same settings, same sandbox, same latency)."""
    env = {**sandbox_environ(endpoint), "AWS_REGION": HOME_REGION}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "lambda"), str(ROOT)])
    argument = {
        "publish": settings.publish,
        "home": settings.home_region,
        "workers": settings.max_workers,
        "per_region": settings.per_region_concurrency,
        "in_cluster": settings.in_cluster_check,
    }
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(argument)],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    data = json.loads(out.strip().splitlines()[-1])
    return ChildRun(**data)


@dataclass(frozen=True)
class _Kept:
    """The least-CPU run of a few (as `bench.measure` keeps its own), with its result and
    its Kubernetes requests, and every run's (wall, CPU)."""

    run: AuditRun
    result: AuditResult
    per_cluster: dict[str, dict[str, int]]
    statuses: dict[str, int]
    samples: tuple[tuple[float, float], ...]


def _runs(
    client: SandboxClient, settings: Settings, repeats: int, sandbox_pid: int | None
) -> _Kept:
    kept: _Kept | None = None
    samples: list[tuple[float, float]] = []
    for _ in range(max(1, repeats)):
        run, result = run_ours(client, settings, sandbox_pid)
        samples.append((run.wall_seconds, run.cpu_seconds))
        if kept is None or run.cpu_seconds < kept.run.cpu_seconds:
            kept = _Kept(run, result, *kube_calls(client), ())
    assert kept is not None
    return replace(kept, samples=tuple(samples))


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def measure(
    client: SandboxClient,
    endpoint: str,
    *,
    clusters: int,
    pods: int,
    regions: Sequence[str],
    model: LatencyModel,
    repeats: int = REPEATS,
    sandbox_pid: int | None = None,
    children: bool = True,
    log: bool = True,
) -> InClusterCase:
    """The case on a freshly seeded account (the sandbox is reset first)."""
    off = audit_settings(None, publishing_available())
    on = replace(off, in_cluster_check=True)
    client.reset()
    client.set_enabled_regions(list(regions))
    started = time.perf_counter()
    seed_scale(client, clusters, list(regions), pods_per_cluster=pods)
    seed_seconds = time.perf_counter() - started
    if log:
        _log(f"in-cluster case: {clusters} clusters x {pods} pods seeded in {seed_seconds:.0f} s")

    def warm_up(settings: Settings) -> None:
        client.clear_latency()
        run_audit(settings, AwsClients(max_pool_connections=settings.max_workers))
        set_latency(client, model)

    warm_up(off)
    checked_off = _runs(client, off, repeats, sandbox_pid)
    off_child = child_run(endpoint, off) if children else None
    warm_up(on)
    checked_on = _runs(client, on, repeats, sandbox_pid)
    on_child = child_run(endpoint, on) if children else None
    client.clear_latency()
    if log:
        _log(
            f"  off {checked_off.run.wall_seconds:.2f} s, {checked_off.run.cpu_seconds:.2f} s"
            f" CPU; on {checked_on.run.wall_seconds:.2f} s, {checked_on.run.cpu_seconds:.2f} s"
            f" CPU; child peak RSS {on_child.peak_rss_kib / 1024 if on_child else 0:.0f} MiB"
        )
    return InClusterCase(
        model=model.name,
        clusters=clusters,
        pods_per_cluster=pods,
        regions=tuple(regions),
        workers=on.max_workers,
        per_region=on.per_region_concurrency,
        publish=on.publish,
        seed_seconds=seed_seconds,
        off=checked_off.run,
        on=checked_on.run,
        off_samples=checked_off.samples,
        on_samples=checked_on.samples,
        kube_calls=checked_on.per_cluster,
        kube_statuses=checked_on.statuses,
        verdicts=verdicts(checked_on.result),
        off_child=off_child,
        on_child=on_child,
    )


def case(clusters: int = CLUSTERS, pods: int = PODS) -> InClusterMeasure:
    """The case as `bench.measure.measure_all` runs it: the realistic model, the bench
    regions, on the sandbox the other cases used."""

    def run(client: SandboxClient, endpoint: str, sandbox_pid: int | None) -> InClusterCase:
        return measure(
            client,
            endpoint,
            clusters=clusters,
            pods=pods,
            regions=BENCH_REGIONS,
            model=REALISTIC,
            sandbox_pid=sandbox_pid,
        )

    return run
