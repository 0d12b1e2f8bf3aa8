"""CloudWatch backend, GetMetricData with MetricStat queries: the metrics `doctor` reads
(AWS/Lambda Errors of the auditor's functions, AWS/SQS ApproximateAgeOfOldestMessage of
the event queue). Datapoints are placed by the control API (``POST
/_sandbox/cloudwatch/datapoints``), as the services would have published them.

Wire shape: the model (``cloudwatch`` 2010-08-01) lists smithy-rpc-v2-cbor, json and
query; botocore 1.44.5 speaks json (awsJson1_0, ``X-Amz-Target:
GraniteServiceVersion20100801.GetMetricData``; ``routing.ServiceRouter.protocol``), and
its SigV4 scope names the service ``monitoring``. Timestamps travel as epoch seconds.

Semantics (API reference, GetMetricData; user guide, "CloudWatch concepts", Periods and
Statistics): each query returns one value per period that has datapoints, stamped with
the period's start, none for an empty period; periods start at StartTime; ``ScanBy``
defaults to TimestampDescending. Query Ids must start with a lowercase letter (model
documentation of ``MetricDataQuery.Id``). Math expressions are not emulated: the sandbox
answers them with a 400 rather than a wrong number.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from sandbox.errors import AwsError

STATISTICS = ("Sum", "Maximum", "Minimum", "Average", "SampleCount")
_QUERY_ID = re.compile(r"^[a-z][A-Za-z0-9_]*$")
MetricKey = tuple[str, str, str, str, frozenset[tuple[str, str]]]


def _invalid(message: str) -> AwsError:
    """The model's InvalidParameterValueException; the wire layer adds its query code,
    InvalidParameterValue, as CloudWatch does (``protocols._query_compatible``)."""
    return AwsError(400, "InvalidParameterValueException", message)


def _statistic(stat: str, values: Sequence[float]) -> float:
    if stat == "Sum":
        return float(sum(values))
    if stat == "Maximum":
        return max(values)
    if stat == "Minimum":
        return min(values)
    if stat == "Average":
        return float(sum(values)) / len(values)
    return float(len(values))


class CloudWatchBackend:
    """Datapoints per (account, region, namespace, metric, dimensions)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._points: dict[MetricKey, list[tuple[float, float]]] = {}

    def reset(self) -> None:
        with self._lock:
            self._points = {}

    def put(
        self,
        account: str,
        region: str,
        metric: tuple[str, str],
        dimensions: Mapping[str, str],
        points: Sequence[tuple[float, float]],
    ) -> int:
        """Add (epoch seconds, value) datapoints to (namespace, metric name)."""
        key = (account, region, metric[0], metric[1], frozenset(dimensions.items()))
        with self._lock:
            self._points.setdefault(key, []).extend(points)
            return len(self._points[key])

    def get_metric_data(
        self, account: str, region: str, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        """GetMetricData's output for its input (botocore member names)."""
        start, end = float(params["StartTime"]), float(params["EndTime"])
        descending = params.get("ScanBy", "TimestampDescending") == "TimestampDescending"
        queries = params.get("MetricDataQueries", [])
        if not 1 <= len(queries) <= 500:
            raise _invalid("MetricDataQueries must have 1 to 500 members")
        results = [self._result((account, region), q, start, end, descending) for q in queries]
        return {"MetricDataResults": results, "Messages": []}

    def _result(
        self,
        where: tuple[str, str],
        query: Mapping[str, Any],
        start: float,
        end: float,
        descending: bool,
    ) -> dict[str, Any]:
        query_id = str(query.get("Id", ""))
        if not _QUERY_ID.match(query_id):
            raise _invalid(
                f"The value {query_id} for parameter MetricDataQueries.member.Id is invalid"
            )
        stat_query = query.get("MetricStat")
        if stat_query is None:
            raise _invalid("The sandbox does not emulate Expression queries")
        metric, period, stat = stat_query["Metric"], int(stat_query["Period"]), stat_query["Stat"]
        if period < 1 or (period >= 60 and period % 60):
            raise _invalid("Period must be 1, 5, 10, 20, 30, 60 or any multiple of 60")
        if stat not in STATISTICS:
            raise _invalid(f"The sandbox does not emulate statistic {stat}")
        dimensions = frozenset((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))
        key = (
            *where,
            metric["Namespace"],
            metric["MetricName"],
            dimensions,
        )
        with self._lock:
            points = list(self._points.get(key, []))
        buckets: dict[float, list[float]] = {}
        for timestamp, value in points:
            if start <= timestamp < end:
                bucket = start + ((timestamp - start) // period) * period
                buckets.setdefault(bucket, []).append(value)
        stamps = sorted(buckets, reverse=descending)
        return {
            "Id": query_id,
            "Label": metric["MetricName"],
            "Timestamps": stamps,
            "Values": [_statistic(stat, buckets[t]) for t in stamps],
            "StatusCode": "Complete",
        }
