"""The one GetFindings reader: every page of one query, paced. The publisher reads its own
findings per region with it and the report reads every member's from the aggregation region.

AWS references:
* API_GetFindings: `MaxResults` at most 100 (botocore model); a page carries `NextToken`
  while more results remain.
* "Security Hub CSPM quotas": GetFindings 3 requests per second (burst 6) per account and
  Region; callers pace every page at the sustained rate, with no burst.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_securityhub import SecurityHubClient

GET_FINDINGS_PAGE = 100  # API_GetFindings MaxResults maximum
READ_TPS = 3.0


def findings(
    client: SecurityHubClient, filters: Mapping[str, Any], pace: Callable[[], object]
) -> Iterator[dict[str, Any]]:
    """Every finding of one GetFindings query, calling `pace` before each page."""
    token: str | None = None
    while True:
        pace()
        kwargs: dict[str, Any] = {"Filters": filters, "MaxResults": GET_FINDINGS_PAGE}
        if token:
            kwargs["NextToken"] = token
        page: Any = client.get_findings(**kwargs)
        for finding in page.get("Findings", []):
            yield dict(finding)
        token = page.get("NextToken")
        if not token:
            return
