"""A thread-safe token bucket, so the auditor stays inside Security Hub's request quotas.

Security Hub throttles per account and region (BatchImportFindings and BatchUpdateFindings
10 TPS burst 30, GetFindings 3 TPS burst 6: "Security Hub CSPM quotas",
https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-limits.html). botocore
retries the resulting LimitExceededException, but pacing ourselves avoids the throttle (and
its backoff delays) in the first place and leaves headroom for other tools in the account.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

_EPSILON = 1e-9


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up; `acquire` blocks until one is free."""

    def __init__(
        self,
        rate: float,
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = burst
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, waiting if needed; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                # The epsilon absorbs float rounding, which could otherwise ask for a sleep
                # shorter than the clock's resolution, forever.
                if self._tokens >= 1.0 - _EPSILON:
                    self._tokens = max(0.0, self._tokens - 1.0)
                    return waited
                delay = (1.0 - self._tokens) / self.rate
            # Sleep outside the lock so other threads can refill-check meanwhile.
            self._sleep(delay)
            waited += delay
