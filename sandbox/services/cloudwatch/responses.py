"""CloudWatch wire handler: GetMetricData in the json protocol botocore speaks for it
(the state and its rules: ``backend.py``)."""

from __future__ import annotations

from sandbox.errors import AwsError
from sandbox.services.cloudwatch.backend import CloudWatchBackend
from sandbox.wire import SandboxRequest, SandboxResponse


class CloudWatchResponses:
    """GetMetricData over the datapoints of one ``CloudWatchBackend``."""

    def __init__(self, backend: CloudWatchBackend) -> None:
        self.backend = backend

    def reset(self) -> None:
        self.backend.reset()

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        if request.operation != "GetMetricData":
            raise AwsError(400, "InvalidAction", "The sandbox emulates only GetMetricData")
        body = self.backend.get_metric_data(request.account, request.region, request.params)
        return SandboxResponse(200, body)
