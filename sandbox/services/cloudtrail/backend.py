"""CloudTrail API backend: trails, read side only (DescribeTrails, GetTrailStatus,
GetEventSelectors). The journal of the events EventBridge would deliver for EKS calls is
something else and belongs to EKS (``services/eks/journal.py``).

Trails are placed by the control API (``PUT /_sandbox/cloudtrail/trails/NAME``).

Wire shape: json 1.1, ``X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.*``
(botocore ``cloudtrail`` model 2013-11-01). Rules, from the API reference:

* DescribeTrails: the trails of the Region asked; with ``includeShadowTrails`` (default
  true) also the multi-Region trails whose home Region is another one ("shadow trails").
* GetTrailStatus / GetEventSelectors: by name for a trail of the Region asked; "To get
  the status of a shadow trail (a replication of the trail in another Region), you must
  specify its ARN" (API_GetTrailStatus). Otherwise TrailNotFoundException (400).
* A trail has either EventSelectors or AdvancedEventSelectors, never both
  (API_PutEventSelectors); a new trail logs all management events (ReadWriteType All,
  IncludeManagementEvents true: "Logging management events", CloudTrail user guide).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import AwsError

DEFAULT_SELECTORS: tuple[Mapping[str, Any], ...] = (
    {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": []},
)


@dataclass(frozen=True)
class TrailState:
    account: str
    name: str
    home_region: str
    multi_region: bool = True
    organization: bool = False
    logging: bool = True
    event_selectors: Sequence[Mapping[str, Any]] = DEFAULT_SELECTORS
    advanced_event_selectors: Sequence[Mapping[str, Any]] = field(default_factory=tuple)

    @property
    def arn(self) -> str:
        return f"arn:aws:cloudtrail:{self.home_region}:{self.account}:trail/{self.name}"

    def describe(self) -> dict[str, Any]:
        return {
            "Name": self.name,
            "S3BucketName": f"aws-cloudtrail-logs-{self.account}",
            "IncludeGlobalServiceEvents": True,
            "IsMultiRegionTrail": self.multi_region,
            "HomeRegion": self.home_region,
            "TrailARN": self.arn,
            "LogFileValidationEnabled": True,
            "HasCustomEventSelectors": tuple(self.event_selectors) != DEFAULT_SELECTORS,
            "HasInsightSelectors": False,
            "IsOrganizationTrail": self.organization,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            **self.describe(),
            "IsLogging": self.logging,
            "EventSelectors": list(self.event_selectors),
            "AdvancedEventSelectors": list(self.advanced_event_selectors),
        }


class CloudTrailBackend:
    """Trails per (account, name); a name is unique per account here (AWS: per Region)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._trails: dict[tuple[str, str], TrailState] = {}

    def reset(self) -> None:
        with self._lock:
            self._trails = {}

    def put(self, trail: TrailState) -> TrailState:
        if trail.event_selectors and trail.advanced_event_selectors:
            raise ValueError("a trail has event selectors or advanced event selectors, not both")
        with self._lock:
            self._trails[(trail.account, trail.name)] = trail
        return trail

    def delete(self, account: str, name: str) -> None:
        with self._lock:
            if self._trails.pop((account, name), None) is None:
                raise KeyError(f"no trail {name}")

    def _visible(self, account: str, region: str) -> list[TrailState]:
        with self._lock:
            trails = [t for (a, _), t in self._trails.items() if a == account]
        return [t for t in trails if t.home_region == region or t.multi_region]

    def describe_trails(
        self, account: str, region: str, names: Sequence[str] | None, shadows: bool
    ) -> list[TrailState]:
        """DescribeTrails: the Region's trails, plus shadow trails unless ``shadows`` is off."""
        trails = [t for t in self._visible(account, region) if t.home_region == region or shadows]
        if names:
            trails = [t for t in trails if t.name in names or t.arn in names]
        return trails

    def find(self, account: str, region: str, name: str) -> TrailState:
        """GetTrailStatus / GetEventSelectors: a trail by name in its home Region, or by ARN."""
        for trail in self._visible(account, region):
            own = trail.home_region == region
            if name == trail.arn or (own and name == trail.name):
                return trail
        raise AwsError(
            400,
            "TrailNotFoundException",
            f"Unknown trail: {name} for the user: {account}",
        )
