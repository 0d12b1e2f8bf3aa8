"""CloudTrail wire handler (json 1.1): DescribeTrails, GetTrailStatus, GetEventSelectors
over ``backend.py``'s trails."""

from __future__ import annotations

from typing import Any

from sandbox.errors import AwsError
from sandbox.services.cloudtrail.backend import CloudTrailBackend
from sandbox.wire import SandboxRequest, SandboxResponse


class CloudTrailResponses:
    """The trail reads `doctor` makes, over one ``CloudTrailBackend``."""

    def __init__(self, backend: CloudTrailBackend) -> None:
        self.backend = backend

    def reset(self) -> None:
        self.backend.reset()

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        params = request.params
        if request.operation == "DescribeTrails":
            trails = self.backend.describe_trails(
                request.account,
                request.region,
                params.get("trailNameList"),
                params.get("includeShadowTrails", True),
            )
            return SandboxResponse(200, {"trailList": [t.describe() for t in trails]})
        if request.operation == "GetTrailStatus":
            trail = self.backend.find(request.account, request.region, str(params.get("Name", "")))
            return SandboxResponse(200, {"IsLogging": trail.logging})
        if request.operation == "GetEventSelectors":
            trail = self.backend.find(
                request.account, request.region, str(params.get("TrailName", ""))
            )
            body: dict[str, Any] = {"TrailARN": trail.arn}
            if trail.advanced_event_selectors:
                body["AdvancedEventSelectors"] = list(trail.advanced_event_selectors)
            else:
                body["EventSelectors"] = list(trail.event_selectors)
            return SandboxResponse(200, body)
        raise AwsError(
            400,
            "UnsupportedOperationException",
            f"The sandbox does not emulate {request.operation}",
        )
