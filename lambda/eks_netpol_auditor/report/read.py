"""The report's only I/O: who the administrator answers for, and every auditor finding it
can see in its aggregation region. Read-only: STS GetCallerIdentity, Security Hub CSPM
ListMembers and GetFindings, nothing else (docs/report.md, "IAM").

AWS references:
* API_GetFindings: from the aggregation Region the results "include all of the matching
  findings from both the home Region and linked Regions"; an administrator sees its
  members' findings. Filters by `GeneratorId` and `ProductName` (both StringFilter, EQUALS)
  rather than `ProductArn`: a custom product ARN names the importing account, so filtering
  by the caller's own ARN would return only the caller's findings. `RecordState` ACTIVE
  leaves out archived copies (deleted clusters, findings that moved region).
  `MaxResults` at most 100 (botocore model).
* API_ListMembers: `MaxResults` 1-50 (botocore model); `OnlyAssociated` defaults to TRUE,
  members whose relationship is ENABLED, i.e. those whose findings the administrator sees.
* "Security Hub CSPM quotas": GetFindings 3 requests per second (burst 6) per account and
  Region; pages are paced by the same TokenBucket the publisher uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..names import PRODUCT
from ..securityhub.asff import GENERATOR_ID
from ..securityhub.publisher import GET_FINDINGS_PAGE, READ_TPS
from ..securityhub.ratelimit import TokenBucket

if TYPE_CHECKING:
    from mypy_boto3_securityhub import SecurityHubClient

LIST_MEMBERS_PAGE = 50  # API_ListMembers MaxResults maximum (botocore model)

FILTERS: dict[str, list[dict[str, str]]] = {
    "GeneratorId": [{"Value": GENERATOR_ID, "Comparison": "EQUALS"}],
    "ProductName": [{"Value": PRODUCT, "Comparison": "EQUALS"}],
    "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
}


def member_accounts(client: SecurityHubClient) -> list[str]:
    """The administrator's associated member accounts (empty for a standalone account)."""
    accounts: list[str] = []
    paginator = client.get_paginator("list_members")
    for page in paginator.paginate(PaginationConfig={"PageSize": LIST_MEMBERS_PAGE}):
        accounts.extend(m["AccountId"] for m in page.get("Members", []) if "AccountId" in m)
    return accounts


def auditor_findings(
    client: SecurityHubClient, bucket: TokenBucket | None = None
) -> list[dict[str, Any]]:
    """Every ACTIVE auditor finding visible to the caller in the client's region, paged
    at GetFindings' sustained rate."""
    bucket = bucket or TokenBucket(READ_TPS, READ_TPS)
    findings: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        bucket.acquire()
        kwargs: dict[str, Any] = {"Filters": FILTERS, "MaxResults": GET_FINDINGS_PAGE}
        if token:
            kwargs["NextToken"] = token
        page: Any = client.get_findings(**kwargs)
        findings.extend(page.get("Findings", []))
        token = page.get("NextToken")
        if not token:
            return findings
