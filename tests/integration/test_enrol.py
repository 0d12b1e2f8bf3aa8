"""Self-enrolment through the sandbox's EKS access-entry API and its Kubernetes API: the
entry the auditor creates is exactly the one the IAM conditions allow (STANDARD, no groups,
the default username, AmazonEKSViewPolicy at cluster scope), it makes the refused read
succeed, a second call changes nothing, and each refusal is one clear line."""

from __future__ import annotations

from typing import Any

import pytest

from eks_netpol_auditor.aws import AwsClients
from eks_netpol_auditor.discovery import caller_identity, describe_cluster
from eks_netpol_auditor.incluster.access import (
    access_entry_principal,
    enrolment_commands,
    removal_command,
)
from eks_netpol_auditor.incluster.client import ReadLimits
from eks_netpol_auditor.incluster.enrol import enrol
from eks_netpol_auditor.incluster.model import ClusterObjects, FailureKind, ReadFailure
from eks_netpol_auditor.incluster.reader import read_cluster
from eks_netpol_auditor.model import ClusterFacts
from sandbox.client import SandboxClient

REGION = "eu-west-1"
CLUSTER = "shop"
VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
LIMITS = ReadLimits(read_timeout=5.0, budget_seconds=20.0)


def _role(clients: AwsClients) -> str:
    _, _, caller = caller_identity(clients, REGION)
    return access_entry_principal(caller)


def _read(clients: AwsClients) -> ClusterObjects | ReadFailure:
    _, _, caller = caller_identity(clients, REGION)
    facts = describe_cluster(clients, caller.split(":")[4], "aws", REGION, CLUSTER)
    assert isinstance(facts, ClusterFacts)
    return read_cluster(clients, facts, LIMITS)


def _entries(aws_client: Any, principal: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    eks = aws_client("eks", REGION)
    entry = eks.describe_access_entry(clusterName=CLUSTER, principalArn=principal)
    policies = eks.list_associated_access_policies(clusterName=CLUSTER, principalArn=principal)
    return entry["accessEntry"], policies["associatedAccessPolicies"]


def test_enrolment_creates_the_narrow_entry_and_the_refused_read_then_succeeds(
    sandbox: SandboxClient, aws_client: Any
) -> None:
    sandbox.add_cluster(REGION, CLUSTER, authentication_mode="API")
    clients = AwsClients(max_attempts=1)
    before = _read(clients)
    assert isinstance(before, ReadFailure) and before.kind is FailureKind.UNAUTHORIZED

    role = _role(clients)
    assert enrol(clients, REGION, CLUSTER, role) is None

    entry, policies = _entries(aws_client, role)
    assert entry["type"] == "STANDARD"
    assert entry.get("kubernetesGroups", []) == []
    assert [(p["policyArn"], p["accessScope"]) for p in policies] == [
        (VIEW, {"type": "cluster", "namespaces": []})
    ]
    assert isinstance(_read(clients), ClusterObjects)


def test_a_second_enrolment_changes_nothing(sandbox: SandboxClient, aws_client: Any) -> None:
    sandbox.add_cluster(REGION, CLUSTER, authentication_mode="API_AND_CONFIG_MAP")
    clients = AwsClients(max_attempts=1)
    role = _role(clients)
    assert enrol(clients, REGION, CLUSTER, role) is None
    first = _entries(aws_client, role)
    assert enrol(clients, REGION, CLUSTER, role) is None  # ResourceInUseException = there
    assert _entries(aws_client, role)[0] == first[0]
    assert [p["policyArn"] for p in _entries(aws_client, role)[1]] == [VIEW]
    listed = aws_client("eks", REGION).list_access_entries(clusterName=CLUSTER)
    assert listed["accessEntries"] == [role]


def test_a_config_map_cluster_is_refused_with_what_to_do(sandbox: SandboxClient) -> None:
    sandbox.add_cluster(REGION, CLUSTER, authentication_mode="CONFIG_MAP")
    clients = AwsClients(max_attempts=1)
    message = enrol(clients, REGION, CLUSTER, _role(clients))
    assert message is not None
    assert message.startswith(
        f"self-enrolment in {CLUSTER} was refused: eks:CreateAccessEntry needs the "
        "cluster's authentication mode API or API_AND_CONFIG_MAP (InvalidRequestException"
    )
    assert "\n" not in message


@pytest.mark.parametrize("operation", ["CreateAccessEntry", "AssociateAccessPolicy"])
def test_an_iam_denial_names_the_action_and_the_parameter(
    sandbox: SandboxClient, operation: str
) -> None:
    sandbox.add_cluster(REGION, CLUSTER, authentication_mode="API")
    sandbox.add_fault("access_denied", service="eks", operation=operation)
    clients = AwsClients(max_attempts=1)
    message = enrol(clients, REGION, CLUSTER, _role(clients))
    assert message is not None
    assert message.startswith(
        f"self-enrolment in {CLUSTER} was denied: eks:{operation} is granted only with "
        "InClusterEnrol=true, for the auditor's own role (AccessDeniedException"
    )


def test_a_missing_cluster_is_a_plain_failure(sandbox: SandboxClient) -> None:
    clients = AwsClients(max_attempts=1)
    message = enrol(clients, REGION, "gone", _role(clients))
    assert message is not None
    assert message.startswith(
        "self-enrolment in gone failed: eks:CreateAccessEntry: ResourceNotFoundException"
    )


def test_the_commands_a_user_is_told_make_the_same_requests() -> None:
    role = "arn:aws:iam::111122223333:role/EksNetpolAuditor-FunctionRole"
    assert enrolment_commands(role, "shop", "eu-west-1") == [
        "aws eks create-access-entry --region eu-west-1 --cluster-name shop "
        f"--principal-arn {role} --type STANDARD",
        "aws eks associate-access-policy --region eu-west-1 --cluster-name shop "
        f"--principal-arn {role} --policy-arn {VIEW} --access-scope type=cluster",
    ]
    china = "arn:aws-cn:iam::111122223333:role/r"
    assert (
        "arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
        in (enrolment_commands(china, "c")[1])
    )
    assert removal_command(role, "shop") == (
        f"aws eks delete-access-entry --cluster-name shop --principal-arn {role}"
    )
