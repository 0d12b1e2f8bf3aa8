"""Latency models for the benchmark: what one AWS API call costs, per target region.

The auditor runs in the home region (us-east-1). A call into region R costs a fixed
service time (25 ms) plus the network round trip us-east-1 -> R. The round trips are
rounded approximations of the median (p50) inter-region figures published by
CloudPing (cloudping.co: TCP round trips between AWS region endpoints, measured every few
hours), in the same range as AWS Network Manager's "Infrastructure Performance"
inter-region dashboards. They are approximations, not measurements of this run: real round
trips move by several ms from day to day.

The sandbox applies the model on its side (`SandboxClient.set_latency`), as a sleep in the
request thread before it answers, so the auditor sees it as wire time and spends no CPU.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sandbox.regions import DEFAULT_REGIONS

HOME_REGION = "us-east-1"
SERVICE_MS = 25.0

# Round trip in ms from us-east-1 (N. Virginia) to each region (p50, rounded).
RTT_FROM_US_EAST_1_MS: dict[str, float] = {
    "us-east-1": 2.0,  # same region: in-region hop
    "us-east-2": 15.0,
    "ca-central-1": 18.0,
    "us-west-1": 65.0,
    "us-west-2": 70.0,
    "eu-west-1": 75.0,
    "eu-west-2": 78.0,
    "eu-west-3": 82.0,
    "eu-central-1": 90.0,
    "eu-north-1": 110.0,
    "sa-east-1": 115.0,
    "ap-northeast-1": 150.0,
    "ap-northeast-3": 155.0,
    "ap-northeast-2": 180.0,
    "ap-south-1": 190.0,
    "ap-southeast-2": 200.0,
    "ap-southeast-1": 215.0,
}

# The 16 regions the benchmark accounts spread their clusters over: the 17 regions every
# account has enabled by default, less ap-northeast-3 (Osaka). The farthest region
# (ap-southeast-1, 240 ms per call) is in, so it sets the critical path.
BENCH_REGIONS: tuple[str, ...] = tuple(r for r in DEFAULT_REGIONS if r != "ap-northeast-3")


@dataclass(frozen=True)
class LatencyModel:
    """Per-call delay: `base_ms` plus `region_ms[region]` (0 for regions not listed)."""

    name: str
    description: str
    base_ms: float
    region_ms: Mapping[str, float] = field(default_factory=dict)

    def call_ms(self, region: str) -> float:
        return self.base_ms + self.region_ms.get(region, 0.0)

    def call_seconds(self, region: str) -> float:
        return self.call_ms(region) / 1000.0


REALISTIC = LatencyModel(
    name="realistic",
    description=(
        f"{SERVICE_MS:g} ms service time + round trip from {HOME_REGION} (2-215 ms, table below)"
    ),
    base_ms=SERVICE_MS,
    region_ms=RTT_FROM_US_EAST_1_MS,
)
UNIFORM_20 = LatencyModel(
    name="uniform-20ms", description="20 ms per call in every region", base_ms=20.0
)
ZERO = LatencyModel(name="zero", description="no added latency (smoke tests)", base_ms=0.0)

MODELS: dict[str, LatencyModel] = {m.name: m for m in (REALISTIC, UNIFORM_20, ZERO)}
