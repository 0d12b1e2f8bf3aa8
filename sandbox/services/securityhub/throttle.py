"""Request quotas: one token bucket per (account, Region, operation).

"Security Hub CSPM quotas"
(https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-limits.html).
"""

from __future__ import annotations

from dataclasses import dataclass

# Quotas page: BatchImportFindings and BatchUpdateFindings 10 TPS burst 30, GetFindings 3 TPS
# burst 6, per account per Region. The page lists each API on its own, so each operation gets
# its own bucket. DescribeHub, ListMembers, GetAdministratorAccount and the finding aggregator
# reads: assumed to be in "all other APIs" at 10 TPS burst 30.
RATE_LIMITS: dict[str, tuple[float, float]] = {
    "BatchImportFindings": (10.0, 30.0),
    "BatchUpdateFindings": (10.0, 30.0),
    "GetFindings": (3.0, 6.0),
    "DescribeHub": (10.0, 30.0),
    "ListMembers": (10.0, 30.0),
    "GetAdministratorAccount": (10.0, 30.0),
    "ListFindingAggregators": (10.0, 30.0),
    "GetFindingAggregator": (10.0, 30.0),
}


@dataclass
class TokenBucket:
    """Classic token bucket: starts full at ``burst`` tokens and refills at ``rate`` per second."""

    rate: float
    burst: float
    tokens: float
    updated: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class Throttle:
    """The buckets of every (account, Region, operation); callers hold the backend's lock."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}

    def reset(self) -> None:
        self._buckets.clear()

    def take(self, account: str, region: str, operation: str, now: float) -> bool:
        """Whether this call fits its quota (and spend a token when it does)."""
        rate, burst = RATE_LIMITS[operation]
        key = (account, region, operation)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(rate, burst, burst, now)
        return bucket.take(now)
