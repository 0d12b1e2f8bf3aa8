"""The enrolment commands have two spellings today (`access.enrolment_commands`, stdlib
only, for the stack's Output and self-enrolment; `verdict.enrolment_commands`, for the
NOT_ENROLLED message): they must stay the same commands, or the Output would tell a user
something other than the finding does."""

from __future__ import annotations

import pytest

from eks_netpol_auditor.incluster.access import enrolment_commands, view_policy_arn
from eks_netpol_auditor.incluster.verdict import enrolment_commands as verdict_commands
from tests.builders import cluster_facts


@pytest.mark.parametrize(
    ("partition", "region", "name"),
    [("aws", "eu-west-1", "shop"), ("aws-cn", "cn-north-1", "prod-1")],
)
def test_the_output_and_the_finding_give_the_same_commands(
    partition: str, region: str, name: str
) -> None:
    role = f"arn:{partition}:iam::111122223333:role/EksNetpolAuditor-FunctionRole"
    facts = cluster_facts(partition=partition, region=region, name=name)
    assert tuple(enrolment_commands(role, name, region)) == verdict_commands(facts, role)
    assert view_policy_arn(partition) in enrolment_commands(role, name, region)[1]
