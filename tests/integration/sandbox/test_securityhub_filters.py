"""Sandbox Security Hub: GetFindings filters, pagination and sorting.

They pin down the behaviours the finding publisher depends on, so a change to the emulator
that would let a broken publisher pass shows up here first.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from sandbox.services.securityhub import SecurityHubResponses
from tests.builders import ACCOUNT
from tests.integration.sandbox.securityhub_support import (
    PRODUCT_ARN,
    REGION,
    call,
    eq,
    error_code,
    finding,
    get_findings,
    ids,
    import_findings,
)

# -------------------------------------------------------------------------- GetFindings


def test_positive_values_of_one_attribute_are_ored(populated: SecurityHubResponses) -> None:
    response = get_findings(populated, Filters={"Id": eq("prod-a", "dev-b")})
    assert sorted(ids(response)) == ["dev-b", "prod-a"]


def test_different_attributes_are_anded(populated: SecurityHubResponses) -> None:
    filters = {"ComplianceStatus": eq("PASSED"), "RecordState": eq("ACTIVE")}
    assert ids(get_findings(populated, Filters=filters)) == ["dev-b"]


def test_negative_values_are_anded(populated: SecurityHubResponses) -> None:
    filters = {
        "Id": [
            {"Value": "prod-a", "Comparison": "NOT_EQUALS"},
            {"Value": "dev", "Comparison": "PREFIX_NOT_EQUALS"},
        ]
    }
    assert ids(get_findings(populated, Filters=filters)) == ["prod-b"]


def test_prefix_then_not_equals(populated: SecurityHubResponses) -> None:
    filters = {
        "Id": [
            {"Value": "prod", "Comparison": "PREFIX"},
            {"Value": "dev-b", "Comparison": "PREFIX"},
            {"Value": "prod-b", "Comparison": "NOT_EQUALS"},
        ]
    }
    # The PREFIXes are ORed first, then NOT_EQUALS removes from that set.
    assert sorted(ids(get_findings(populated, Filters=filters))) == ["dev-b", "prod-a"]


def test_contains_and_not_contains(populated: SecurityHubResponses) -> None:
    contains = {"Title": [{"Value": "on prod", "Comparison": "CONTAINS"}]}
    assert sorted(ids(get_findings(populated, Filters=contains))) == ["prod-a", "prod-b"]
    not_contains = {
        "Title": [
            {"Value": "prod-a", "Comparison": "NOT_CONTAINS"},
            {"Value": "dev", "Comparison": "NOT_CONTAINS"},
        ]
    }
    assert ids(get_findings(populated, Filters=not_contains)) == ["prod-b"]


@pytest.mark.parametrize(
    "comparisons",
    [
        ["CONTAINS", "EQUALS"],
        ["NOT_CONTAINS", "NOT_EQUALS"],
        ["EQUALS", "NOT_EQUALS"],
        ["EQUALS", "PREFIX_NOT_EQUALS"],
        ["CONTAINS_WORD"],
    ],
)
def test_forbidden_comparison_mixes(
    populated: SecurityHubResponses, comparisons: list[str]
) -> None:
    filters = {"Title": [{"Value": "x", "Comparison": c} for c in comparisons]}
    response = get_findings(populated, Filters=filters)
    assert response.status == 400
    assert error_code(response) == "InvalidInputException"


def test_resource_and_region_filters(populated: SecurityHubResponses) -> None:
    arn = f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/dev-a"
    filters = {
        "ResourceId": eq(arn),
        "ResourceType": eq("AwsEksCluster"),
        "Region": eq(REGION),
        "ProductArn": eq(PRODUCT_ARN),
        "AwsAccountId": eq(ACCOUNT),
        "GeneratorId": eq("eks-netpol-auditor"),
        "WorkflowStatus": eq("NEW"),
    }
    assert ids(get_findings(populated, Filters=filters)) == ["dev-a"]
    assert ids(get_findings(populated, Filters={"Region": eq("us-east-1")})) == []


def test_map_filters(populated: SecurityHubResponses) -> None:
    reason = [{"Key": "acme/netpol/Reason", "Value": "addon-missing", "Comparison": "EQUALS"}]
    assert ids(get_findings(populated, Filters={"ProductFields": reason})) == ["dev-a"]
    not_reason = [{"Key": "acme/netpol/Reason", "Value": "disabled", "Comparison": "NOT_EQUALS"}]
    assert ids(get_findings(populated, Filters={"ProductFields": not_reason})) == ["dev-a"]
    tags = [{"Key": "team", "Value": "platform", "Comparison": "EQUALS"}]
    assert len(ids(get_findings(populated, Filters={"ResourceTags": tags}))) == 4
    contains = [{"Key": "team", "Value": "plat", "Comparison": "CONTAINS"}]
    assert get_findings(populated, Filters={"ResourceTags": contains}).status == 400


def test_date_filter(populated: SecurityHubResponses) -> None:
    import_findings(populated, finding("later", updated_at="2026-12-01T00:00:00Z"))
    window = [{"Start": "2026-11-15T00:00:00Z", "End": "2027-01-01T00:00:00+00:00"}]
    assert ids(get_findings(populated, Filters={"UpdatedAt": window})) == ["later"]


def test_filter_limits(populated: SecurityHubResponses) -> None:
    names = [
        "Id", "ProductArn", "GeneratorId", "AwsAccountId", "RecordState", "ComplianceStatus",
        "WorkflowStatus", "ResourceId", "ResourceType", "Region", "Title",
    ]  # fmt: skip
    eleven = {name: [{"Value": "x", "Comparison": "PREFIX"}] for name in names}
    response = get_findings(populated, Filters=eleven)
    assert response.status == 400
    assert error_code(response) == "InvalidInputException"
    ten = dict(list(eleven.items())[:10])
    assert get_findings(populated, Filters=ten).status == 200

    assert get_findings(populated, Filters={"Id": eq(*(f"v{i}" for i in range(21)))}).status == 400
    assert get_findings(populated, Filters={"Id": eq(*(f"v{i}" for i in range(20)))}).status == 200
    for bad in (0, 101):
        assert get_findings(populated, MaxResults=bad).status == 400
    assert get_findings(populated, Filters={"NoSuchAttribute": eq("x")}).status == 400
    unsupported = get_findings(populated, Filters={"MalwareName": eq("x")})
    assert unsupported.status == 400
    assert "not implemented" in unsupported.body["message"]


def test_pagination_is_stable_and_complete(hub: SecurityHubResponses) -> None:
    import_findings(hub, *(finding(f"c{i:03d}") for i in range(25)))
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        body: dict[str, Any] = {
            "MaxResults": 10,
            "Filters": {"Id": [{"Value": "c", "Comparison": "PREFIX"}]},
        }
        if token:
            body["NextToken"] = token
        response = call(hub, "GetFindings", body)
        seen += ids(response)
        pages += 1
        if pages == 1:
            # A finding imported mid-listing must not shift the pages (keyset pagination).
            import_findings(hub, finding("c000-late"))
        token = response.body.get("NextToken")
        if not token:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 25
    assert seen == sorted(seen)


def test_invalid_next_token(populated: SecurityHubResponses) -> None:
    first = get_findings(populated, MaxResults=1)
    token = first.body["NextToken"]
    for bad in ("garbage!!", base64.urlsafe_b64encode(b'{"v":1}').decode()):
        response = get_findings(populated, MaxResults=1, NextToken=bad)
        assert response.status == 400
        assert error_code(response) == "InvalidInputException"
    # A token only continues the query that issued it.
    other = get_findings(populated, MaxResults=1, NextToken=token, Filters={"Id": eq("dev-a")})
    assert other.status == 400
    assert get_findings(populated, MaxResults=1, NextToken=token).status == 200


def test_sort_criteria(populated: SecurityHubResponses) -> None:
    import_findings(populated, finding("zzz", updated_at="2026-10-01T00:00:00Z"))
    response = get_findings(populated, SortCriteria=[{"Field": "UpdatedAt", "SortOrder": "asc"}])
    assert ids(response)[0] == "zzz"
    response = get_findings(populated, SortCriteria=[{"Field": "Id", "SortOrder": "desc"}])
    assert ids(response) == ["zzz", "prod-b", "prod-a", "dev-b", "dev-a"]
