"""Pure helpers of the publisher: request batching and client-side pacing."""

from __future__ import annotations

import sys
import threading
from typing import Any

import botocore.session
import pytest
from botocore.serialize import create_serializer

from eks_netpol_auditor.securityhub.plan import batches, chunked
from eks_netpol_auditor.securityhub.publisher import update_findings
from eks_netpol_auditor.securityhub.ratelimit import TokenBucket


def test_batches_hold_at_most_100_findings() -> None:
    findings = [{"Id": str(i)} for i in range(250)]
    sizes = [len(batch) for batch in batches(findings)]
    assert sizes == [100, 100, 50]
    assert [f["Id"] for batch in batches(findings) for f in batch] == [str(i) for i in range(250)]


def import_request_body(findings: list[dict[str, Any]]) -> bytes:
    """The BatchImportFindings body exactly as botocore sends it (its rest-json serializer)."""
    model = botocore.session.get_session().get_service_model("securityhub")
    serializer = create_serializer(model.metadata["protocol"], include_validation=False)
    request = serializer.serialize_to_request(
        {"Findings": findings}, model.operation_model("BatchImportFindings")
    )
    body: bytes = request["body"]
    return body


def test_batches_stay_under_the_6_mb_request_limit() -> None:
    """Quotas (Security Hub CSPM user guide, "Quotas"): 6 MB per BatchImportFindings request,
    counted in the bytes on the wire. A non-ASCII text is 1 character but 6 bytes there
    (JSON escapes it as \\u00e9), so counting characters would overflow the request."""
    big = [{"Id": str(i), "Description": "\u00e9" * 100_000} for i in range(60)]
    result = list(batches(big))
    assert len(result) > 1
    for batch in result:
        assert len(import_request_body(batch)) <= 6 * 1024 * 1024
    assert sum(len(b) for b in result) == 60


def test_chunked_groups_identifiers_for_batch_update() -> None:
    assert [len(c) for c in chunked(list(range(201)), 100)] == [100, 100, 1]


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def test_token_bucket_paces_to_the_rate_after_the_burst() -> None:
    time = FakeTime()
    bucket = TokenBucket(10.0, 10.0, clock=time.clock, sleep=time.sleep)
    for _ in range(10):
        assert bucket.acquire() == 0.0  # the burst is free
    for _ in range(20):
        bucket.acquire()
    assert time.now == pytest.approx(2.0)  # 20 more at 10 per second


class SharedFakeTime:
    """A fake clock for several threads: a sleep lasts from the sleeper's own last look at
    the clock, so threads that sleep side by side wake together, as they would in real time.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()
        self.seen = threading.local()

    def clock(self) -> float:
        with self.lock:
            self.seen.at = self.now
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now = max(self.now, getattr(self.seen, "at", self.now) + seconds)


def test_token_bucket_paces_threads_that_share_it() -> None:
    """Eight threads, 2000 tokens at 100 per second after a burst of 5: together they are
    never served faster than the rate (the quota holds) and not needlessly slower."""
    time = SharedFakeTime()
    rate, burst, threads_, per_thread = 100.0, 5.0, 8, 250
    bucket = TokenBucket(rate, burst, clock=time.clock, sleep=time.sleep)
    granted: list[float] = []
    record = threading.Lock()

    def worker() -> None:
        for _ in range(per_thread):
            bucket.acquire()
            with record:
                granted.append(time.now)

    threads = [threading.Thread(target=worker) for _ in range(threads_)]
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so an unlocked update would race
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch_interval)
    total = threads_ * per_thread
    assert len(granted) == total
    earliest = (total - burst) / rate  # every token after the burst costs 1/rate seconds
    assert time.now >= earliest - 1e-6, "more tokens were handed out than the rate allows"
    assert time.now <= earliest + 10 / rate, "threads waited longer than the rate requires"
    for index, at in enumerate(sorted(granted)):
        assert at >= (index + 1 - burst) / rate - 1e-6, f"token {index} granted early"


def test_token_bucket_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(0, 1)


class RecordingSecurityHub:
    def __init__(self) -> None:
        self.sizes: list[int] = []

    def batch_update_findings(self, **kwargs: Any) -> dict[str, Any]:
        self.sizes.append(len(kwargs["FindingIdentifiers"]))
        return {"ProcessedFindings": [], "UnprocessedFindings": []}


def test_batch_update_findings_is_chunked_at_exactly_the_apis_maximum() -> None:
    """botocore's model (securityhub 2018-10-26, BatchUpdateFindingsRequest.FindingIdentifiers):
    "BatchUpdateFindings can be used to update up to 100 findings at a time". Fewer per call
    costs calls against the 10 TPS quota; more is rejected."""
    client: Any = RecordingSecurityHub()
    ids = [f"id-{i}" for i in range(250)]
    problems = update_findings(client, lambda: None, "arn", ids, {"Note": {}})
    assert problems == {}
    assert client.sizes == [100, 100, 50]
