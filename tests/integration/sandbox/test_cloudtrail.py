"""The CloudTrail journal: mutating EKS calls as the events EventBridge delivers."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.client import SandboxAccount, SandboxClient
from tests.conftest import AwsClientFactory

MEMBER = "210987654321"
ROLE = "EksNetpolAuditorRole"
SESSION_ARN = f"arn:aws:sts::{MEMBER}:assumed-role/{ROLE}/auditor-run"
TOKEN = "enp1-" + "a" * 40  # EKS accepts 33-126 characters


def _eks(sandbox: SandboxClient, account: SandboxAccount, region: str) -> Any:
    session: Any = boto3.session.Session(
        aws_access_key_id=account.access_key_id,
        aws_secret_access_key=account.secret_access_key,
    )
    return session.client(
        "eks",
        region_name=region,
        endpoint_url=sandbox.endpoint,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


@pytest.fixture
def member(sandbox: SandboxClient) -> SandboxAccount:
    return sandbox.create_account(MEMBER, "AKIAMEMBER0000000002", "s", principal_arn=SESSION_ARN)


def test_update_addon_event_as_eventbridge_delivers_it(
    sandbox: SandboxClient, member: SandboxAccount
) -> None:
    sandbox.add_cluster("eu-west-1", "prod", account=MEMBER)
    eks = _eks(sandbox, member, "eu-west-1")
    eks.describe_addon(clusterName="prod", addonName="vpc-cni")  # read-only: not journaled
    update = eks.update_addon(
        clusterName="prod",
        addonName="vpc-cni",
        configurationValues='{"enableNetworkPolicy":"true"}',
        resolveConflicts="PRESERVE",
        clientRequestToken=TOKEN,
    )["update"]
    [event] = sandbox.events()
    assert {k: event[k] for k in ("version", "detail-type", "source", "account", "region")} == {
        "version": "0",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.eks",
        "account": MEMBER,
        "region": "eu-west-1",
    }
    assert event["resources"] == [] and event["id"] and event["time"].endswith("Z")
    detail = event["detail"]
    assert detail["eventSource"] == "eks.amazonaws.com"
    assert detail["eventName"] == "UpdateAddon"
    assert detail["awsRegion"] == "eu-west-1"
    assert detail["eventVersion"] == "1.11"
    assert (detail["eventType"], detail["readOnly"], detail["recipientAccountId"]) == (
        "AwsApiCall",
        False,
        MEMBER,
    )
    assert detail["eventTime"] == event["time"] and detail["eventID"]
    # Path parameters under their URI label, as in a real EKS capture (cloudtrail.py).
    assert detail["requestParameters"] == {
        "name": "prod",
        "addonName": "vpc-cni",
        "configurationValues": '{"enableNetworkPolicy":"true"}',
        "resolveConflicts": "PRESERVE",
        "clientRequestToken": TOKEN,
    }
    journaled = detail["responseElements"]["update"]
    for key in ("id", "status", "type", "params"):
        assert journaled[key] == update[key]
    assert "errorCode" not in detail
    identity = detail["userIdentity"]
    assert (identity["type"], identity["arn"], identity["accountId"]) == (
        "AssumedRole",
        SESSION_ARN,
        MEMBER,
    )
    assert identity["accessKeyId"] == member.access_key_id
    assert identity["principalId"].endswith(":auditor-run")
    issuer = identity["sessionContext"]["sessionIssuer"]
    assert issuer["type"] == "Role"
    assert issuer["arn"] == f"arn:aws:iam::{MEMBER}:role/{ROLE}"
    assert (issuer["userName"], issuer["accountId"]) == (ROLE, MEMBER)
    assert identity["principalId"].startswith(issuer["principalId"] + ":")


def test_every_mutating_operation_is_journaled_with_its_cluster_name(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    eks = aws_client("eks", "us-east-1")
    eks.create_cluster(
        name="new",
        roleArn="arn:aws:iam::123456789012:role/eks",
        resourcesVpcConfig={"subnetIds": ["subnet-1"]},
    )
    sandbox.settle()
    arn = eks.describe_cluster(name="new")["cluster"]["arn"]
    eks.create_addon(clusterName="new", addonName="vpc-cni")
    sandbox.settle()
    eks.tag_resource(resourceArn=arn, tags={"eks-netpol-auditor:exempt": "cilium"})
    eks.untag_resource(resourceArn=arn, tagKeys=["eks-netpol-auditor:exempt"])
    eks.delete_addon(clusterName="new", addonName="vpc-cni")
    eks.delete_cluster(name="new")
    eks.list_clusters()
    events = sandbox.events()
    names = [e["detail"]["eventName"] for e in events]
    assert names == [
        "CreateCluster",
        "CreateAddon",
        "TagResource",
        "UntagResource",
        "DeleteAddon",
        "DeleteCluster",
    ]
    params = [e["detail"]["requestParameters"] for e in events]
    # CreateCluster: "clusterName", as in the EKS user guide's CloudTrail example.
    assert params[0]["clusterName"] == "new" and "name" not in params[0]
    assert params[1]["name"] == "new" and params[4]["name"] == "new"
    # The ARN travels in the URL path: CloudTrail records it URL-encoded (issue 17 item 2;
    # AssociateAccessPolicy capture, DataDog/stratus-red-team
    # docs/attack-techniques/EKS/eks.lateral-movement.create-access-entry.md).
    encoded = "arn%3Aaws%3Aeks%3Aus-east-1%3A123456789012%3Acluster%2Fnew"
    assert arn == "arn:aws:eks:us-east-1:123456789012:cluster/new"
    assert params[2] == {"resourceArn": encoded, "tags": {"eks-netpol-auditor:exempt": "cilium"}}
    assert params[3] == {"resourceArn": encoded, "tagKeys": ["eks-netpol-auditor:exempt"]}
    assert params[5] == {"name": "new"}
    assert events[2]["detail"]["responseElements"] is None  # TagResource returns nothing
    assert events[5]["detail"]["responseElements"]["cluster"]["status"] == "DELETING"
    identity = events[0]["detail"]["userIdentity"]
    assert (identity["type"], identity["arn"]) == (
        "IAMUser",
        "arn:aws:iam::123456789012:user/sandbox",
    )


def test_failed_calls_carry_the_error_and_disabled_regions_record_nothing(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    sandbox.add_cluster("us-east-1", "c", status="CREATING")
    eks = aws_client("eks")
    with pytest.raises(ClientError):
        eks.update_addon(clusterName="c", addonName="vpc-cni", resolveConflicts="NONE")
    [event] = sandbox.events()
    detail = event["detail"]
    assert detail["errorCode"] == "InvalidRequestException"
    assert "CREATING" in detail["errorMessage"]
    assert detail["responseElements"] is None
    sandbox.clear_events()
    with pytest.raises(ClientError):
        aws_client("eks", "af-south-1").delete_cluster(name="c")  # not enabled: no auth
    assert sandbox.events() == []


def test_events_filter_by_account_region_and_name(
    sandbox: SandboxClient, member: SandboxAccount, aws_client: AwsClientFactory
) -> None:
    sandbox.add_cluster("us-east-1", "a")
    sandbox.add_cluster("eu-west-1", "b", account=MEMBER)
    aws_client("eks").delete_cluster(name="a")
    _eks(sandbox, member, "eu-west-1").delete_addon(clusterName="b", addonName="vpc-cni")
    assert [e["account"] for e in sandbox.events(account=MEMBER)] == [MEMBER]
    assert [e["region"] for e in sandbox.events(region="us-east-1")] == ["us-east-1"]
    assert [e["detail"]["eventName"] for e in sandbox.events(event_name="DeleteAddon")] == [
        "DeleteAddon"
    ]
    sandbox.reset()
    assert sandbox.events() == []
