"""EKS access-entry APIs of the sandbox through unmodified boto3: real wire shapes
(botocore ``eks`` model) and the errors EKS gives (sandbox/eks/access.py cites them)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.client import SandboxClient
from tests.conftest import AwsClientFactory

ROLE = "arn:aws:iam::123456789012:role/auditor"
VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"


@pytest.fixture
def eks(sandbox: SandboxClient, aws_client: AwsClientFactory) -> Any:
    sandbox.add_cluster("us-east-1", "prod")
    return aws_client("eks")


def _code(error: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response: Any = error.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_create_describe_list_and_associate(eks: Any) -> None:
    created = eks.create_access_entry(clusterName="prod", principalArn=ROLE)["accessEntry"]
    assert created["principalArn"] == ROLE
    assert created["type"] == "STANDARD"
    assert created["kubernetesGroups"] == []
    # Default username of a role (EKS user guide, "Create access entries").
    assert created["username"] == ("arn:aws:sts::123456789012:assumed-role/auditor/{{SessionName}}")
    assert created["accessEntryArn"].startswith(
        "arn:aws:eks:us-east-1:123456789012:access-entry/prod/role/123456789012/auditor/"
    )
    described = eks.describe_access_entry(clusterName="prod", principalArn=ROLE)
    assert described["accessEntry"]["accessEntryArn"] == created["accessEntryArn"]
    assert eks.list_access_entries(clusterName="prod")["accessEntries"] == [ROLE]
    associated = eks.associate_access_policy(
        clusterName="prod", principalArn=ROLE, policyArn=VIEW, accessScope={"type": "cluster"}
    )
    assert associated["associatedAccessPolicy"]["policyArn"] == VIEW
    assert associated["associatedAccessPolicy"]["accessScope"] == {
        "type": "cluster",
        "namespaces": [],
    }
    listed = eks.list_associated_access_policies(clusterName="prod", principalArn=ROLE)
    assert [p["policyArn"] for p in listed["associatedAccessPolicies"]] == [VIEW]
    assert eks.list_access_entries(clusterName="prod", associatedPolicyArn=VIEW)[
        "accessEntries"
    ] == [ROLE]


def test_config_map_clusters_refuse_access_entries(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    sandbox.add_cluster("us-east-1", "legacy", authentication_mode="CONFIG_MAP")
    eks = aws_client("eks")
    calls: list[tuple[str, dict[str, str]]] = [
        ("create_access_entry", {"principalArn": ROLE}),
        ("list_access_entries", {}),
        ("describe_access_entry", {"principalArn": ROLE}),
    ]
    for operation, params in calls:
        with pytest.raises(ClientError) as error:
            getattr(eks, operation)(clusterName="legacy", **params)
        assert _code(error) == ("InvalidRequestException", 400)
        assert "[API, API_AND_CONFIG_MAP]" in str(error.value)


def test_a_second_entry_for_the_same_principal_is_in_use(eks: Any) -> None:
    eks.create_access_entry(clusterName="prod", principalArn=ROLE)
    with pytest.raises(ClientError) as error:
        eks.create_access_entry(clusterName="prod", principalArn=ROLE)
    assert _code(error) == ("ResourceInUseException", 409)


def test_a_role_session_arn_is_not_a_principal(eks: Any) -> None:
    with pytest.raises(ClientError) as error:
        eks.create_access_entry(
            clusterName="prod", principalArn="arn:aws:sts::123456789012:assumed-role/auditor/s"
        )
    assert _code(error) == ("InvalidParameterException", 400)


def test_associating_needs_an_existing_entry_and_a_known_policy(eks: Any) -> None:
    with pytest.raises(ClientError) as error:
        eks.associate_access_policy(
            clusterName="prod", principalArn=ROLE, policyArn=VIEW, accessScope={"type": "cluster"}
        )
    assert _code(error) == ("ResourceNotFoundException", 404)
    eks.create_access_entry(clusterName="prod", principalArn=ROLE)
    with pytest.raises(ClientError) as error:
        eks.associate_access_policy(
            clusterName="prod",
            principalArn=ROLE,
            policyArn="arn:aws:eks::aws:cluster-access-policy/MadeUp",
            accessScope={"type": "cluster"},
        )
    assert _code(error) == ("InvalidParameterException", 400)
    with pytest.raises(ClientError) as error:
        eks.associate_access_policy(
            clusterName="prod", principalArn=ROLE, policyArn=VIEW, accessScope={"type": "namespace"}
        )
    assert _code(error) == ("InvalidParameterException", 400)


def test_groups_starting_with_system_are_refused(eks: Any) -> None:
    with pytest.raises(ClientError) as error:
        eks.create_access_entry(
            clusterName="prod", principalArn=ROLE, kubernetesGroups=["system:masters"]
        )
    assert _code(error) == ("InvalidParameterException", 400)


def test_deleting_an_entry_removes_it(eks: Any) -> None:
    eks.create_access_entry(clusterName="prod", principalArn=ROLE)
    eks.delete_access_entry(clusterName="prod", principalArn=ROLE)
    assert eks.list_access_entries(clusterName="prod")["accessEntries"] == []


CREATOR = "arn:aws:iam::123456789012:user/sandbox"  # the default account's principal
ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


def _create(eks: Any, name: str, **access: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "name": name,
        "roleArn": "arn:aws:iam::123456789012:role/eks",
        "resourcesVpcConfig": {"subnetIds": ["subnet-1"]},
    }
    if access:
        params["accessConfig"] = access
    cluster: dict[str, Any] = eks.create_cluster(**params)["cluster"]
    return cluster


def test_create_cluster_defaults_to_config_map(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    eks = aws_client("eks")
    created = _create(eks, "made")
    assert created["accessConfig"]["authenticationMode"] == "CONFIG_MAP"
    with pytest.raises(ClientError) as error:
        eks.list_access_entries(clusterName="made")
    assert _code(error) == ("InvalidRequestException", 400)


def test_the_creator_gets_an_admin_entry_when_the_mode_has_access_entries(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    eks = aws_client("eks")
    _create(eks, "made", authenticationMode="API_AND_CONFIG_MAP")
    assert eks.list_access_entries(clusterName="made")["accessEntries"] == [CREATOR]
    listed = eks.list_associated_access_policies(clusterName="made", principalArn=CREATOR)
    [policy] = listed["associatedAccessPolicies"]
    assert (policy["policyArn"], policy["accessScope"]["type"]) == (ADMIN, "cluster")
    _create(eks, "bare", authenticationMode="API", bootstrapClusterCreatorAdminPermissions=False)
    assert eks.list_access_entries(clusterName="bare")["accessEntries"] == []


def test_config_map_needs_the_creator_bootstrap(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    with pytest.raises(ClientError) as error:
        _create(
            aws_client("eks"),
            "made",
            authenticationMode="CONFIG_MAP",
            bootstrapClusterCreatorAdminPermissions=False,
        )
    assert _code(error) == ("InvalidParameterException", 400)
