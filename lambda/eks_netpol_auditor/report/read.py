"""The report's only I/O: who the administrator answers for, and every auditor finding it
can see in its aggregation region, and which regions that covers. Read-only: STS
GetCallerIdentity, Security Hub CSPM ListMembers, GetFindings, ListFindingAggregators and
GetFindingAggregator, nothing else (docs/report.md, "IAM").

AWS references:
* API_GetFindings: from the aggregation Region the results "include all of the matching
  findings from both the home Region and linked Regions"; an administrator sees its
  members' findings. Filters by `GeneratorId` (one per control) and `ProductName` (both
  StringFilter, EQUALS)
  rather than `ProductArn`: a custom product ARN names the importing account, so filtering
  by the caller's own ARN would return only the caller's findings. `RecordState` ACTIVE
  leaves out archived copies (deleted clusters, findings that moved region).
  `MaxResults` at most 100 (botocore model).
* API_ListMembers: `MaxResults` 1-50 (botocore model); `OnlyAssociated` "The default value
  is TRUE" and then lists only members whose relationship status is ENABLED; FALSE lists
  "all existing member accounts". The report passes FALSE so an invited, removed or
  resigned member is listed with its `MemberStatus` instead of vanishing.
* API_ListFindingAggregators: returns the aggregator's ARN "If cross-Region aggregation is
  enabled"; API_GetFindingAggregator: `FindingAggregationRegion`, `RegionLinkingMode`
  (ALL_REGIONS, ALL_REGIONS_EXCEPT_SPECIFIED, SPECIFIED_REGIONS, NO_REGIONS) and `Regions`.
* "Security Hub CSPM quotas": GetFindings 3 requests per second (burst 6) per account and
  Region; pages are read by securityhub.reader, as the publisher's are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ..aws import describe_error
from ..names import PRODUCT
from ..securityhub import reader
from ..securityhub.asff import CONTROLS, generator_id
from ..securityhub.ratelimit import TokenBucket
from ..securityhub.reader import READ_TPS
from .aggregate import Coverage

if TYPE_CHECKING:
    from mypy_boto3_securityhub import SecurityHubClient

LIST_MEMBERS_PAGE = 50  # API_ListMembers MaxResults maximum (botocore model)


def filters(controls: tuple[str, ...] = CONTROLS) -> dict[str, list[dict[str, str]]]:
    """Our active findings of the controls asked for: one GeneratorId per control, whose
    EQUALS values GetFindings ORs (API_GetFindings, "Filters"), so one query reads both."""
    return {
        "GeneratorId": [{"Value": generator_id(c), "Comparison": "EQUALS"} for c in controls],
        "ProductName": [{"Value": PRODUCT, "Comparison": "EQUALS"}],
        "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
    }


def member_accounts(client: SecurityHubClient) -> dict[str, str]:
    """Every member account of the administrator, whatever its relationship, with its
    MemberStatus (empty for a standalone account)."""
    members: dict[str, str] = {}
    paginator = client.get_paginator("list_members")
    pages = paginator.paginate(
        OnlyAssociated=False, PaginationConfig={"PageSize": LIST_MEMBERS_PAGE}
    )
    for page in pages:
        for member in page.get("Members", []):
            if "AccountId" in member:
                members[member["AccountId"]] = member.get("MemberStatus", "UNKNOWN")
    return members


def coverage(client: SecurityHubClient, region: str) -> Coverage:
    """Which regions' findings GetFindings returns in `region`: with a finding aggregator
    whose aggregation region this is, the linked ones too; otherwise this region only."""
    try:
        found = client.list_finding_aggregators().get("FindingAggregators", [])
        arns = [a["FindingAggregatorArn"] for a in found if "FindingAggregatorArn" in a]
        if not arns:
            return Coverage(region)
        aggregator: Any = client.get_finding_aggregator(FindingAggregatorArn=arns[0])
    except ClientError as error:  # e.g. an older IAM policy: say so, do not fail the report
        return Coverage(region, error=describe_error(error))
    return Coverage(
        region,
        aggregation_region=str(aggregator.get("FindingAggregationRegion", "")),
        linking_mode=str(aggregator.get("RegionLinkingMode", "")),
        linked=tuple(sorted(aggregator.get("Regions", []))),
    )


def auditor_findings(
    client: SecurityHubClient,
    bucket: TokenBucket | None = None,
    controls: tuple[str, ...] = CONTROLS,
) -> list[dict[str, Any]]:
    """Every ACTIVE auditor finding of `controls` visible to the caller in the client's
    region, paged at GetFindings' sustained rate."""
    bucket = bucket or TokenBucket(READ_TPS, READ_TPS)
    return list(reader.findings(client, filters(controls), bucket.acquire))
