"""The stack's Output (`access.enrolment_commands`) and the NOT_ENROLLED finding tell a user
the same two commands, so the Output never says something other than the finding does."""

from __future__ import annotations

import pytest

from eks_netpol_auditor.incluster.access import enrolment_commands, view_policy_arn
from eks_netpol_auditor.incluster.model import FailureKind, ReadFailure
from eks_netpol_auditor.incluster.verdict import evaluate_in_cluster
from tests.builders import cluster_facts


@pytest.mark.parametrize(
    ("partition", "region", "name"),
    [("aws", "eu-west-1", "shop"), ("aws-cn", "cn-north-1", "prod-1")],
)
def test_the_output_and_the_finding_give_the_same_commands(
    partition: str, region: str, name: str
) -> None:
    role = f"arn:{partition}:iam::111122223333:role/EksNetpolAuditor-FunctionRole"
    refused = ReadFailure(FailureKind.UNAUTHORIZED, "401 Unauthorized", http_status=401)
    facts = cluster_facts(partition=partition, region=region, name=name, kube=refused)
    message = evaluate_in_cluster(facts, frozenset(), principal_arn=role).message
    create, associate = enrolment_commands(role, name, region)
    assert f"{create} && {associate}" in message
    assert view_policy_arn(partition) in associate


def test_a_placeholder_principal_takes_the_clusters_partition() -> None:
    _, associate = enrolment_commands("<role>", "c", "cn-north-1", partition="aws-cn")
    assert view_policy_arn("aws-cn") in associate
