"""Several accounts in one sandbox: the caller's account comes from its access key id."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.client import SandboxAccount, SandboxClient, SandboxError
from sandbox.environment import account_overrides, sandbox_environ
from tests.conftest import AwsClientFactory

MEMBER = "210987654321"
ROLE_ARN = f"arn:aws:sts::{MEMBER}:assumed-role/AuditorRole/eks-netpol-auditor"


def _client(sandbox: SandboxClient, account: SandboxAccount, service: str, region: str) -> Any:
    session: Any = boto3.session.Session(
        aws_access_key_id=account.access_key_id,
        aws_secret_access_key=account.secret_access_key,
    )
    return session.client(
        service,
        region_name=region,
        endpoint_url=sandbox.endpoint,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


@pytest.fixture
def member(sandbox: SandboxClient) -> SandboxAccount:
    return sandbox.create_account(
        MEMBER,
        "AKIAMEMBER0000000001",
        "member-secret",
        principal_arn=ROLE_ARN,
        enabled_regions=["eu-west-1", "us-east-1"],
    )


def test_caller_identity_follows_the_access_key(
    sandbox: SandboxClient, member: SandboxAccount, aws_client: AwsClientFactory
) -> None:
    identity = _client(sandbox, member, "sts", "us-east-1").get_caller_identity()
    assert identity["Account"] == MEMBER
    assert identity["Arn"] == ROLE_ARN
    # GetCallerIdentity: a role session's UserId is "<role unique id>:<session name>".
    role_id, session = identity["UserId"].split(":")
    assert role_id.startswith("AROA") and session == "eks-netpol-auditor"
    # Unknown keys (the fixtures' "testing") keep landing in the default account.
    default = aws_client("sts").get_caller_identity()
    assert default["Account"] == "123456789012"
    assert default["Arn"] == "arn:aws:iam::123456789012:user/sandbox"
    other: Any = boto3.session.Session(aws_access_key_id="AKIAUNKNOWN", aws_secret_access_key="x")
    sts = other.client("sts", region_name="us-east-1", endpoint_url=sandbox.endpoint)
    assert sts.get_caller_identity()["Account"] == "123456789012"


def test_clusters_belong_to_one_account(
    sandbox: SandboxClient, member: SandboxAccount, aws_client: AwsClientFactory
) -> None:
    sandbox.add_cluster("eu-west-1", "shared-name")
    sandbox.add_cluster("eu-west-1", "shared-name", account=MEMBER, tags={"owner": "member"})
    sandbox.add_cluster("eu-west-1", "member-only", account=MEMBER)
    eks = _client(sandbox, member, "eks", "eu-west-1")
    assert eks.list_clusters()["clusters"] == ["member-only", "shared-name"]
    cluster = eks.describe_cluster(name="shared-name")["cluster"]
    assert cluster["arn"] == f"arn:aws:eks:eu-west-1:{MEMBER}:cluster/shared-name"
    assert cluster["tags"] == {"owner": "member"}
    addon = eks.describe_addon(clusterName="member-only", addonName="vpc-cni")["addon"]
    assert addon["addonArn"].startswith(f"arn:aws:eks:eu-west-1:{MEMBER}:addon/member-only/")
    default = aws_client("eks", "eu-west-1")
    assert default.list_clusters()["clusters"] == ["shared-name"]
    with pytest.raises(default.exceptions.ResourceNotFoundException):
        default.describe_cluster(name="member-only")
    assert [c["name"] for c in sandbox.clusters(account=MEMBER)] == ["member-only", "shared-name"]
    assert sandbox.cluster("eu-west-1", "shared-name", account=MEMBER)["account"] == MEMBER


def test_each_account_has_its_own_enabled_regions(
    sandbox: SandboxClient, member: SandboxAccount
) -> None:
    ec2 = _client(sandbox, member, "ec2", "eu-west-1")
    names = [r["RegionName"] for r in ec2.describe_regions()["Regions"]]
    assert names == ["eu-west-1", "us-east-1"]
    with pytest.raises(ClientError) as exc:
        _client(sandbox, member, "eks", "ap-southeast-2").list_clusters()
    assert exc.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert len(sandbox.enabled_regions()) == 17  # the default account is untouched
    sandbox.set_enabled_regions(["eu-west-1"], account=MEMBER)
    assert sandbox.enabled_regions(account=MEMBER) == ["eu-west-1"]


def test_updates_and_faults_are_scoped_to_an_account(
    sandbox: SandboxClient, member: SandboxAccount, aws_client: AwsClientFactory
) -> None:
    sandbox.add_cluster("us-east-1", "c", account=MEMBER)
    sandbox.add_cluster("us-east-1", "c")
    sandbox.add_fault("throttle", service="eks", account=MEMBER)
    eks = _client(sandbox, member, "eks", "us-east-1")
    with pytest.raises(ClientError) as exc:
        eks.list_clusters()
    assert exc.value.response["Error"]["Code"] == "ThrottlingException"
    assert aws_client("eks").list_clusters()["clusters"] == ["c"]
    sandbox.clear_faults()
    eks.update_addon(
        clusterName="c", addonName="vpc-cni", configurationValues='{"enableNetworkPolicy":"true"}'
    )
    assert [u["account"] for u in sandbox.updates()] == [MEMBER]
    assert sandbox.updates(account="123456789012") == []
    sandbox.settle(account=MEMBER)
    assert sandbox.addon("us-east-1", "c", account=MEMBER)["configurationValues"]  # type: ignore[index]
    assert "configurationValues" not in (sandbox.addon("us-east-1", "c") or {})


def test_security_hub_sees_the_callers_account(
    sandbox: SandboxClient, member: SandboxAccount
) -> None:
    # BatchImportFindings must be called by the account the finding names (API reference):
    # the emulator checks AwsAccountId against request.account.
    region = "eu-west-1"
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    finding = {
        "SchemaVersion": "2018-10-08",
        "Id": "member-finding",
        "ProductArn": f"arn:aws:securityhub:{region}:{MEMBER}:product/{MEMBER}/default",
        "GeneratorId": "g",
        "AwsAccountId": MEMBER,
        "CreatedAt": now,
        "UpdatedAt": now,
        "Title": "t",
        "Description": "d",
        "Severity": {"Label": "LOW"},
        "Types": ["Software and Configuration Checks"],
        "Resources": [{"Type": "Other", "Id": "r"}],
    }
    hub = _client(sandbox, member, "securityhub", region)
    assert hub.batch_import_findings(Findings=[finding])["SuccessCount"] == 1
    assert [f["AwsAccountId"] for f in sandbox.findings(region)] == [MEMBER]


def test_environment_runs_boto3_as_an_account(
    sandbox: SandboxClient, member: SandboxAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = sandbox_environ(sandbox.endpoint, dict(os.environ), account=member)
    assert env["AWS_ACCESS_KEY_ID"] == member.access_key_id
    for name, value in account_overrides(member).items():
        monkeypatch.setenv(name, value)
    # boto3's module-level default session resolves credentials once and keeps them: another
    # test in this process may have made it with the default account's keys. A new process,
    # as the CLI is, starts without one.
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    # A client built from the environment alone, as the CLI and the engine build theirs.
    assert boto3.client("sts").get_caller_identity()["Arn"] == ROLE_ARN


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"account": "12345", "access_key_id": "A", "secret_access_key": "s"}, 400),
        (
            {"account": MEMBER, "access_key_id": "AKIAMEMBER0000000001", "secret_access_key": "s"},
            400,
        ),
        ({"account": "333333333333", "access_key_id": "testing", "secret_access_key": "s"}, 400),
        (
            {
                "account": "333333333333",
                "access_key_id": "B",
                "secret_access_key": "s",
                "principal_arn": f"arn:aws:iam::{MEMBER}:user/x",
            },
            400,
        ),
        (
            {
                "account": "333333333333",
                "access_key_id": "C",
                "secret_access_key": "s",
                "principal_arn": "arn:aws:iam::333333333333:group/x",
            },
            400,
        ),
    ],
)
def test_account_creation_is_validated(
    sandbox: SandboxClient, member: SandboxAccount, kwargs: dict[str, str], status: int
) -> None:
    with pytest.raises(SandboxError) as exc:
        sandbox.create_account(
            kwargs["account"],
            kwargs["access_key_id"],
            kwargs["secret_access_key"],
            principal_arn=kwargs.get("principal_arn"),
        )
    assert exc.value.status == status


def test_unknown_account_is_404_and_reset_forgets_accounts(
    sandbox: SandboxClient, member: SandboxAccount
) -> None:
    with pytest.raises(SandboxError) as exc:
        sandbox.add_cluster("us-east-1", "x", account="999999999999")
    assert exc.value.status == 404
    assert [a.account for a in sandbox.accounts()] == ["123456789012", MEMBER]
    sandbox.reset()
    assert [a.account for a in sandbox.accounts()] == ["123456789012"]


def test_created_accounts_must_sign_with_their_own_secret(
    sandbox: SandboxClient, member: SandboxAccount
) -> None:
    arn = sandbox.add_cluster("eu-west-1", "c", account=MEMBER)["arn"]
    # Correctly signed calls of every protocol pass: rest-json with an encoded ARN label and
    # list query members, ec2 and query form bodies, json.
    eks = _client(sandbox, member, "eks", "eu-west-1")
    eks.tag_resource(resourceArn=arn, tags={"a b": "c/d"})
    eks.untag_resource(resourceArn=arn, tagKeys=["a b", "x"])
    assert eks.list_clusters(include=["all"], maxResults=5)["clusters"] == ["c"]
    assert _client(sandbox, member, "ec2", "eu-west-1").describe_regions(RegionNames=["eu-west-1"])[
        "Regions"
    ]
    assert _client(sandbox, member, "sts", "us-east-1").get_caller_identity()["Account"] == MEMBER
    wrong = SandboxAccount(MEMBER, member.access_key_id, "not-the-secret", ROLE_ARN, ())
    for service, operation in (
        ("eks", "list_clusters"),
        ("sts", "get_caller_identity"),
        ("ec2", "describe_regions"),
    ):
        with pytest.raises(ClientError) as exc:
            getattr(_client(sandbox, wrong, service, "eu-west-1"), operation)()
        error = exc.value.response
        assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (
            "SignatureDoesNotMatch",
            403,
        )
    assert sandbox.events(account=MEMBER, event_name="TagResource")  # the signed calls landed
