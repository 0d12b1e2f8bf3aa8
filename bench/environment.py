"""The benchmark's surroundings: the AWS environment pointed at the sandbox, the latency
model, and what the report says about the machine (CPU, load, versions)."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import platform
from collections.abc import Iterator
from pathlib import Path

import boto3
import botocore

from bench.latency import LatencyModel
from sandbox import SandboxClient
from sandbox.environment import sandbox_overrides

PUBLISHER = "eks_netpol_auditor.securityhub.publisher"


@contextlib.contextmanager
def sandbox_environment(endpoint: str) -> Iterator[None]:
    """Point boto3 (ours and the baseline's) at the sandbox with dummy credentials."""
    values, removed = sandbox_overrides(endpoint, os.environ)
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


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "n/a"
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"


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


def publishing_available() -> bool:
    return importlib.util.find_spec(PUBLISHER) is not None


def publish_workers() -> int | None:
    """`publisher.MAX_REGION_WORKERS`, for the report's account of the publishing waves."""
    if not publishing_available():
        return None
    value = getattr(importlib.import_module(PUBLISHER), "MAX_REGION_WORKERS", None)
    return value if isinstance(value, int) else None
