"""The sandbox account's region catalogue and which regions are enabled.

Why: the auditor discovers regions with ``ec2.describe_regions()`` (default
``AllRegions=False``: enabled regions only, each ``opt-in-not-required`` or ``opted-in``;
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeRegions.html) and must
cope with calls into regions that are not enabled failing with authentication errors.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

# The 17 commercial regions enabled by default in every account (no opt-in required).
DEFAULT_REGIONS: tuple[str, ...] = (
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "sa-east-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
)

# Commercial regions that must be opted in to (disabled unless enabled explicitly).
OPT_IN_REGIONS: tuple[str, ...] = (
    "af-south-1",
    "ap-east-1",
    "ap-south-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-west-1",
    "eu-central-2",
    "eu-south-1",
    "eu-south-2",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
)

ALL_REGIONS: tuple[str, ...] = DEFAULT_REGIONS + OPT_IN_REGIONS


@dataclass(frozen=True)
class RegionInfo:
    """One DescribeRegions item."""

    name: str
    opt_in_status: str  # opt-in-not-required | opted-in | not-opted-in
    enabled: bool

    @property
    def endpoint(self) -> str:
        return f"ec2.{self.name}.amazonaws.com"


class RegionState:
    """Thread-safe set of enabled regions. Unknown names may be enabled (tests' choice)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._enabled: frozenset[str] = frozenset(DEFAULT_REGIONS)

    def reset(self) -> None:
        self.set_enabled(DEFAULT_REGIONS)

    def set_enabled(self, regions: list[str] | tuple[str, ...]) -> None:
        with self._lock:
            self._enabled = frozenset(regions)

    def enabled(self) -> list[str]:
        return sorted(self._enabled)

    def is_enabled(self, region: str) -> bool:
        return region in self._enabled

    def catalogue(self) -> list[RegionInfo]:
        """Every known region with its opt-in status, sorted by name."""
        enabled = self._enabled
        names = sorted(set(ALL_REGIONS) | enabled)
        infos = []
        for name in names:
            on = name in enabled
            if name in DEFAULT_REGIONS:
                status = "opt-in-not-required"
            else:
                status = "opted-in" if on else "not-opted-in"
            infos.append(RegionInfo(name=name, opt_in_status=status, enabled=on))
        return infos
