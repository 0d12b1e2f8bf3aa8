"""Pure helpers of the publisher: request batching and client-side pacing."""

from __future__ import annotations

import threading

import pytest

from eks_netpol_auditor.securityhub.plan import MAX_REQUEST_BYTES, batches, chunked
from eks_netpol_auditor.securityhub.ratelimit import TokenBucket


def test_batches_hold_at_most_100_findings() -> None:
    findings = [{"Id": str(i)} for i in range(250)]
    sizes = [len(batch) for batch in batches(findings)]
    assert sizes == [100, 100, 50]
    assert [f["Id"] for batch in batches(findings) for f in batch] == [str(i) for i in range(250)]


def test_batches_stay_under_the_6_mb_request_limit() -> None:
    big = [{"Id": str(i), "Description": "x" * 200_000} for i in range(60)]
    result = list(batches(big))
    assert len(result) > 1
    for batch in result:
        assert sum(len(str(f)) for f in batch) <= MAX_REQUEST_BYTES
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


def test_token_bucket_is_shared_safely_between_threads() -> None:
    bucket = TokenBucket(1000.0, 5.0)
    taken = []

    def worker() -> None:
        for _ in range(50):
            bucket.acquire()
            taken.append(1)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 200


def test_token_bucket_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(0, 1)
