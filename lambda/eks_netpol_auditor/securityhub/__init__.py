"""Security Hub CSPM: the pure ASFF builder (`asff`), the pure publish planner (`plan`),
the publishing shell (`publisher`) and the client-side rate limiter (`ratelimit`)."""

from .asff import GENERATOR_ID, build_finding, finding_id, parse_finding_id, product_arn
from .plan import ReadStatus, RegionFindings, Scope, route, stale_ids, target_region
from .publisher import Publisher, publish
from .ratelimit import TokenBucket

__all__ = [
    "GENERATOR_ID",
    "Publisher",
    "ReadStatus",
    "RegionFindings",
    "Scope",
    "TokenBucket",
    "build_finding",
    "finding_id",
    "parse_finding_id",
    "product_arn",
    "publish",
    "route",
    "stale_ids",
    "target_region",
]
