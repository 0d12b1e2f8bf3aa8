"""Sandbox Security Hub: administrator/member accounts and cross-Region aggregation.

They pin down the behaviours the finding publisher depends on, so a change to the emulator
that would let a broken publisher pass shows up here first.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.client import SandboxAccount, SandboxClient, SandboxError
from sandbox.services.securityhub import (
    SecurityHubResponses,
    default_product_arn,
)
from tests.builders import ACCOUNT
from tests.conftest import AwsClientFactory
from tests.integration.sandbox.securityhub_support import (
    ADMIN,
    HOME,
    LINKED,
    MEMBER_A,
    MEMBER_B,
    OUTSIDER,
    UNLINKED,
    call,
    eq,
    error_code,
    finding,
    ids,
    ids_as,
    import_as,
    owned,
)

# -------------------------------------------------------------------------- organization
# User guide "Administrator and member accounts", "How cross-Region aggregation works";
# API_GetFindings, API_BatchUpdateFindings, API_BatchImportFindings.


def test_administrator_sees_its_members_findings_in_the_region(org: SecurityHubResponses) -> None:
    assert ids_as(org, ADMIN) == ["a-1", "a-2", "admin-1", "b-1"]
    assert ids_as(org, MEMBER_A) == ["a-1", "a-2"]
    assert ids_as(org, OUTSIDER) == ["x-1"]
    # Security Hub "does not copy member account findings into the administrator account".
    assert [f["Id"] for f in org.backend.findings(HOME, account=ADMIN)] == ["admin-1"]
    # Other Regions are not part of the view without aggregation.
    import_as(org, MEMBER_A, owned(MEMBER_A, "a-eu", region=LINKED))
    assert "a-eu" not in ids_as(org, ADMIN)
    assert ids_as(org, ADMIN, LINKED) == ["a-eu"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"AwsAccountId": eq(MEMBER_A)}, ["a-1", "a-2"]),
        ({"AwsAccountId": [{"Value": MEMBER_A, "Comparison": "NOT_EQUALS"}]}, ["admin-1", "b-1"]),
        ({"ProductArn": eq(default_product_arn(HOME, MEMBER_B))}, ["b-1"]),
        (
            {"GeneratorId": eq("eks-netpol-auditor"), "RecordState": eq("ACTIVE")},
            ["a-1", "admin-1", "b-1"],
        ),
        ({"ProductName": eq("Default"), "ComplianceStatus": eq("PASSED")}, ["b-1"]),
        (
            {"WorkflowStatus": eq("NEW"), "Id": [{"Value": "a-", "Comparison": "PREFIX"}]},
            ["a-1", "a-2"],
        ),
        ({"AwsAccountId": eq(OUTSIDER)}, []),
    ],
)
def test_filters_work_across_member_accounts(
    org: SecurityHubResponses, filters: dict[str, Any], expected: list[str]
) -> None:
    assert ids_as(org, ADMIN, Filters=filters) == expected


def test_administrator_cannot_import_for_a_member(org: SecurityHubResponses) -> None:
    """API_BatchImportFindings: with the default product ARN the caller "needs to be the same
    as the AwsAccountId attribute for the finding"."""
    with_admin_product = dict(
        owned(MEMBER_A, "forged-2"), ProductArn=default_product_arn(HOME, ADMIN)
    )
    response = call(
        org,
        "BatchImportFindings",
        {"Findings": [owned(MEMBER_A, "forged-1"), with_admin_product]},
        region=HOME,
        account=ADMIN,
    )
    assert response.body["FailedCount"] == 2
    messages = [f["ErrorMessage"] for f in response.body["FailedFindings"]]
    assert "ProductArn must be" in messages[0]
    assert "AwsAccountId must be the caller's account" in messages[1]
    assert ids_as(org, MEMBER_A) == ["a-1", "a-2"]
    assert org.backend.ingestion_events() == [
        {"account": account, "region": HOME, "count": count}
        for account, count in ((ADMIN, 1), (MEMBER_A, 2), (MEMBER_B, 1), (OUTSIDER, 1))
    ]


def test_administrator_updates_member_findings_members_only_their_own(
    org: SecurityHubResponses,
) -> None:
    target = {"Id": "a-1", "ProductArn": default_product_arn(HOME, MEMBER_A)}
    body = {"FindingIdentifiers": [target], "Workflow": {"Status": "NOTIFIED"}}
    response = call(org, "BatchUpdateFindings", body, region=HOME, account=ADMIN)
    assert response.body["ProcessedFindings"] == [target]
    [stored] = [f for f in org.backend.findings(HOME, account=MEMBER_A) if f["Id"] == "a-1"]
    assert stored["Workflow"]["Status"] == "NOTIFIED"

    for caller in (MEMBER_B, OUTSIDER):
        response = call(org, "BatchUpdateFindings", body, region=HOME, account=caller)
        assert response.body["ProcessedFindings"] == []
        assert response.body["UnprocessedFindings"][0]["ErrorCode"] == "FindingNotFound"
    admin_own = {"Id": "admin-1", "ProductArn": default_product_arn(HOME, ADMIN)}
    response = call(
        org,
        "BatchUpdateFindings",
        {**body, "FindingIdentifiers": [admin_own]},
        region=HOME,
        account=MEMBER_A,
    )
    assert response.body["ProcessedFindings"] == []


def test_aggregation_region_shows_linked_regions_new_and_updated_findings(
    hub: SecurityHubResponses,
) -> None:
    hub.backend.set_organization(ADMIN, [MEMBER_A])
    import_as(hub, MEMBER_A, owned(MEMBER_A, "before-link", region=LINKED))
    import_as(hub, MEMBER_A, owned(MEMBER_A, "touched-later", region=LINKED))
    hub.backend.set_organization(ADMIN, [MEMBER_A], HOME, [LINKED])
    import_as(hub, MEMBER_A, owned(MEMBER_A, "after-link", region=LINKED))
    import_as(hub, MEMBER_A, owned(MEMBER_A, "unlinked", region=UNLINKED))
    import_as(hub, MEMBER_A, owned(MEMBER_A, "home", region=HOME))
    # Findings that existed before the link are not replicated until they are updated.
    assert ids_as(hub, ADMIN) == ["after-link", "home"]

    import_as(
        hub,
        MEMBER_A,
        owned(MEMBER_A, "touched-later", region=LINKED, UpdatedAt="2026-11-05T00:00:00Z"),
    )
    assert ids_as(hub, ADMIN) == ["after-link", "home", "touched-later"]
    # Members inherit the aggregation for their own findings; a linked Region's own view is
    # unchanged.
    assert ids_as(hub, MEMBER_A) == ["after-link", "home", "touched-later"]
    assert ids_as(hub, ADMIN, LINKED) == ["after-link", "before-link", "touched-later"]
    # Replication "does not add to the cost": only the imports count.
    assert sum(row["count"] for row in hub.backend.ingestion_events()) == 6


def test_batch_update_replicates_a_pre_existing_finding(hub: SecurityHubResponses) -> None:
    hub.backend.set_organization(ADMIN, [MEMBER_A])
    import_as(hub, MEMBER_A, owned(MEMBER_A, "old", region=LINKED))
    hub.backend.set_organization(ADMIN, [MEMBER_A], HOME, [LINKED])
    target = {"Id": "old", "ProductArn": default_product_arn(LINKED, MEMBER_A)}
    body = {"FindingIdentifiers": [target], "Workflow": {"Status": "RESOLVED"}}
    # Not in the aggregation Region yet, so it cannot be updated there...
    response = call(hub, "BatchUpdateFindings", body, region=HOME, account=ADMIN)
    assert response.body["UnprocessedFindings"][0]["ErrorCode"] == "FindingNotFound"
    # ...but an update in its own Region replicates it, and later updates work from home.
    response = call(hub, "BatchUpdateFindings", body, region=LINKED, account=ADMIN)
    assert response.body["ProcessedFindings"] == [target]
    assert ids_as(hub, ADMIN) == ["old"]
    body["Workflow"] = {"Status": "NOTIFIED"}
    assert call(hub, "BatchUpdateFindings", body, region=HOME, account=ADMIN).body[
        "ProcessedFindings"
    ] == [target]
    assert hub.backend.findings(LINKED)[0]["Workflow"]["Status"] == "NOTIFIED"


def test_relinking_keeps_the_link_time_of_regions_already_linked(hub: SecurityHubResponses) -> None:
    hub.backend.set_organization(ADMIN, [MEMBER_A], HOME, [LINKED])
    import_as(hub, MEMBER_A, owned(MEMBER_A, "eu", region=LINKED))
    hub.backend.set_organization(ADMIN, [MEMBER_A, MEMBER_B], HOME, [LINKED, UNLINKED])
    assert ids_as(hub, ADMIN) == ["eu"]
    assert hub.backend.organization() == {
        "administrator": ADMIN,
        "members": [MEMBER_A, MEMBER_B],
        "aggregation_region": HOME,
        "linked_regions": [UNLINKED, LINKED],
    }


def test_enablement_is_per_account_and_region(org: SecurityHubResponses) -> None:
    org.backend.set_enabled(HOME, False, account=MEMBER_B)
    response = call(org, "GetFindings", region=HOME, account=MEMBER_B)
    assert response.status == 401
    assert error_code(response) == "InvalidAccessException"
    assert MEMBER_B in response.body["message"]
    # A member with Security Hub off contributes nothing to the administrator's view.
    assert ids_as(org, ADMIN) == ["a-1", "a-2", "admin-1"]
    assert ids_as(org, MEMBER_A) == ["a-1", "a-2"]
    assert call(org, "GetFindings", region=LINKED, account=MEMBER_B).status == 200
    org.backend.set_enabled(HOME, True, account=MEMBER_B)
    assert "b-1" in ids_as(org, ADMIN)
    # Without an account, the setting covers every account in the Region.
    org.backend.set_enabled(HOME, False)
    assert call(org, "GetFindings", region=HOME, account=ADMIN).status == 401
    org.backend.set_enabled(HOME, True)
    assert call(org, "GetFindings", region=HOME, account=MEMBER_B).status == 200


def test_pagination_across_accounts(org: SecurityHubResponses) -> None:
    seen: list[str] = []
    token = None
    while True:
        body: dict[str, Any] = {"MaxResults": 1, **({"NextToken": token} if token else {})}
        response = call(org, "GetFindings", body, region=HOME, account=ADMIN)
        seen += ids(response)
        token = response.body.get("NextToken")
        if token is None:
            break
        # A token issued to the administrator does not continue a member's query.
        stolen = call(
            org, "GetFindings", {"MaxResults": 1, "NextToken": token}, region=HOME, account=MEMBER_A
        )
        assert stolen.status == 400
    assert sorted(seen) == ["a-1", "a-2", "admin-1", "b-1"]


def test_list_members_and_get_administrator_account(org: SecurityHubResponses) -> None:
    first = call(org, "ListMembers", {"MaxResults": 1}, region=HOME, account=ADMIN).body
    assert [m["AccountId"] for m in first["Members"]] == [MEMBER_A]
    assert first["Members"][0]["AdministratorId"] == ADMIN
    assert first["Members"][0]["MemberStatus"] == "Enabled"
    second = call(
        org, "ListMembers", {"NextToken": first["NextToken"]}, region=HOME, account=ADMIN
    ).body
    assert [m["AccountId"] for m in second["Members"]] == [MEMBER_B]
    assert "NextToken" not in second
    assert call(org, "ListMembers", region=HOME, account=MEMBER_A).body == {"Members": []}
    assert call(org, "ListMembers", {"MaxResults": 51}, region=HOME, account=ADMIN).status == 400

    administrator = call(org, "GetAdministratorAccount", region=HOME, account=MEMBER_A).body
    assert administrator["Administrator"]["AccountId"] == ADMIN
    assert call(org, "GetAdministratorAccount", region=HOME, account=OUTSIDER).body == {}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((None, [MEMBER_A]), "need an administrator"),
        ((ADMIN, [ADMIN]), "its own member"),
        ((ADMIN, [MEMBER_A], None, [LINKED]), "need an aggregation_region"),
    ],
)
def test_invalid_organizations_are_refused(
    hub: SecurityHubResponses, args: tuple[Any, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        hub.backend.set_organization(*args)


def test_reset_forgets_the_organization(org: SecurityHubResponses) -> None:
    org.reset()
    assert org.backend.organization()["administrator"] is None
    import_as(org, MEMBER_A, owned(MEMBER_A, "a-1"))
    assert ids_as(org, ADMIN) == []


def test_organization_through_the_control_api(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    """The default account as administrator, driven over HTTP with boto3 (ListMembers is a
    GET with query-string parameters, so this also checks they reach the emulator)."""
    with pytest.raises(SandboxError) as refused:
        sandbox.set_securityhub_organization(ACCOUNT, [ACCOUNT])
    assert refused.value.status == 400
    organization = sandbox.set_securityhub_organization(
        ACCOUNT, [MEMBER_B, MEMBER_A], aggregation_region=HOME, linked_regions=[LINKED]
    )
    assert organization == sandbox.securityhub_organization()
    assert organization["members"] == [MEMBER_A, MEMBER_B]
    client = aws_client("securityhub", HOME)
    page = client.list_members(OnlyAssociated=True, MaxResults=1)
    assert [m["AccountId"] for m in page["Members"]] == [MEMBER_A]
    rest = client.list_members(NextToken=page["NextToken"])
    assert [m["AccountId"] for m in rest["Members"]] == [MEMBER_B]

    eu = aws_client("securityhub", LINKED)
    eu.batch_import_findings(Findings=[finding("eu-1")])
    found = client.get_findings(Filters={"Region": eq(LINKED)})["Findings"]
    assert [f["Id"] for f in found] == ["eu-1"]
    assert sandbox.findings(LINKED, account=ACCOUNT)[0]["Id"] == "eu-1"
    assert sandbox.findings(LINKED, account=MEMBER_A) == []
    assert sandbox.findings(HOME) == []

    sandbox.set_securityhub_enabled(LINKED, False, account=MEMBER_A)
    eu.describe_hub()  # still on for the caller
    sandbox.set_securityhub_enabled(LINKED, False, account=ACCOUNT)
    with pytest.raises(ClientError) as denied:
        eu.describe_hub()
    assert denied.value.response["Error"]["Code"] == "InvalidAccessException"

    sandbox.clear_securityhub_organization()
    assert sandbox.securityhub_organization()["administrator"] is None
    assert client.list_members()["Members"] == []


def _securityhub_as(sandbox: SandboxClient, account: SandboxAccount, region: str) -> Any:
    session: Any = boto3.session.Session(
        aws_access_key_id=account.access_key_id,
        aws_secret_access_key=account.secret_access_key,
    )
    return session.client(
        "securityhub",
        region_name=region,
        endpoint_url=sandbox.endpoint,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def test_organization_across_accounts_over_http(sandbox: SandboxClient) -> None:
    """Each account signs with its own keys: members import their own findings, the
    administrator reads them in the Region and, from linked Regions, in the aggregation
    Region, updates them, and cannot import for them. Faults can target one account."""
    accounts = {
        account: sandbox.create_account(account, f"AKIA{account}", f"secret-{account}")
        for account in (ADMIN, MEMBER_A, MEMBER_B)
    }
    sandbox.set_securityhub_organization(
        ADMIN, [MEMBER_A, MEMBER_B], aggregation_region=HOME, linked_regions=[LINKED]
    )
    for member in (MEMBER_A, MEMBER_B):
        hub = _securityhub_as(sandbox, accounts[member], LINKED)
        result = hub.batch_import_findings(Findings=[owned(member, f"{member}-eu", LINKED)])
        assert result["SuccessCount"] == 1
    admin_home = _securityhub_as(sandbox, accounts[ADMIN], HOME)
    paginator = admin_home.get_paginator("get_findings")
    seen = [
        f["Id"]
        for page in paginator.paginate(
            Filters={"GeneratorId": eq("eks-netpol-auditor")}, PaginationConfig={"PageSize": 1}
        )
        for f in page["Findings"]
    ]
    assert sorted(seen) == [f"{MEMBER_A}-eu", f"{MEMBER_B}-eu"]
    assert [m["AccountId"] for m in admin_home.list_members()["Members"]] == [MEMBER_A, MEMBER_B]

    target = {"Id": f"{MEMBER_A}-eu", "ProductArn": default_product_arn(LINKED, MEMBER_A)}
    updated = admin_home.batch_update_findings(
        FindingIdentifiers=[target], Workflow={"Status": "RESOLVED"}
    )
    assert updated["ProcessedFindings"] == [target]
    stored = sandbox.findings(LINKED, account=MEMBER_A)
    assert stored[0]["Workflow"]["Status"] == "RESOLVED"

    forged = admin_home.batch_import_findings(Findings=[owned(MEMBER_A, "forged", HOME)])
    assert forged["FailedCount"] == 1
    assert sandbox.ingestion_events(account=ADMIN) == 0
    assert sandbox.ingestion_events(account=MEMBER_A, region=LINKED) == 1

    member_b = _securityhub_as(sandbox, accounts[MEMBER_B], HOME)
    assert [f["Id"] for f in member_b.get_findings()["Findings"]] == [f"{MEMBER_B}-eu"]
    sandbox.add_fault("throttle", service="securityhub", operation="GetFindings", account=ADMIN)
    with pytest.raises(ClientError) as throttled:
        admin_home.get_findings()
    assert throttled.value.response["Error"]["Code"] == "LimitExceededException"
    assert member_b.get_findings()["Findings"]


def test_finding_aggregator_reads(sandbox: SandboxClient, aws_client: AwsClientFactory) -> None:
    """ListFindingAggregators (from any Region) and GetFindingAggregator by ARN: how a report
    checks it runs in the aggregation Region."""
    client = aws_client("securityhub", LINKED)
    assert client.list_finding_aggregators()["FindingAggregators"] == []
    sandbox.set_securityhub_organization(
        ACCOUNT, [MEMBER_A], aggregation_region=HOME, linked_regions=[UNLINKED, LINKED]
    )
    [listed] = client.list_finding_aggregators()["FindingAggregators"]
    arn = listed["FindingAggregatorArn"]
    assert arn.startswith(f"arn:aws:securityhub:{HOME}:{ACCOUNT}:finding-aggregator/")
    described = client.get_finding_aggregator(FindingAggregatorArn=arn)
    assert described["FindingAggregationRegion"] == HOME
    assert described["RegionLinkingMode"] == "SPECIFIED_REGIONS"
    assert described["Regions"] == sorted([UNLINKED, LINKED])
    with pytest.raises(ClientError) as missing:
        client.get_finding_aggregator(FindingAggregatorArn=arn + "-other")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    sandbox.set_securityhub_organization(ACCOUNT, [MEMBER_A])
    assert client.list_finding_aggregators()["FindingAggregators"] == []


def test_list_members_honours_only_associated(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    """API_ListMembers: OnlyAssociated "The default value is TRUE" (Enabled members only);
    FALSE: "all existing member accounts", each with its MemberStatus (botocore model)."""
    admin = sandbox.create_account("900000000000", "AKIA900000000000", "s")
    statuses = {"900000000001": "Enabled", "900000000002": "Invited", "900000000003": "Resigned"}
    sandbox.set_securityhub_organization(admin.account, list(statuses), member_statuses=statuses)
    hub = boto3.session.Session(
        aws_access_key_id=admin.access_key_id, aws_secret_access_key=admin.secret_access_key
    ).client("securityhub", region_name="us-east-1", endpoint_url=sandbox.endpoint)
    default = hub.list_members()["Members"]
    assert [(m["AccountId"], m["MemberStatus"]) for m in default] == [("900000000001", "Enabled")]
    every = hub.list_members(OnlyAssociated=False)["Members"]
    assert {m["AccountId"]: m["MemberStatus"] for m in every} == statuses
    paged = hub.get_paginator("list_members").paginate(
        OnlyAssociated=False, PaginationConfig={"PageSize": 1}
    )
    assert [m["AccountId"] for page in paged for m in page["Members"]] == sorted(statuses)
