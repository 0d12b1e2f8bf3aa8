"""The role grants exactly what the code calls: no AccessDenied after deploy, no spare grant.

Why: a new AWS call that the stack does not grant fails only in a real account, after
deployment; a grant that no code uses is privilege nobody needs (issue 10 item 7). One
full sandbox audit with publishing and remediation on exercises every path that calls
AWS, including the ones that only run on trouble (a DescribeAddon that is denied), and
``AwsClients.api_calls()`` counts each operation it made. The set of those operations
must equal the set of IAM actions the synthesized stack grants for the same services,
the conditional remediation policy included.

Scope: the Lambda role only. `eks-netpol-audit doctor` runs from a laptop with the
caller's own credentials and calls services the role must never be granted
(CloudFormation, CloudWatch GetMetricData, CloudTrail); its list of actions is pinned by
tests/integration/test_doctor_integration.py instead.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from eks_netpol_auditor.audit import KUBERNETES_CALLS, run_audit
from eks_netpol_auditor.aws import AwsClients
from eks_netpol_auditor.config import Settings
from eks_netpol_auditor.remediation import apply as remediation_shell
from infra.stack import EksNetpolAuditorStack
from sandbox.client import AddonSeed, SandboxClient
from tests.builders import ENABLED
from tests.unit.infra.cfn_eval import Deployment

# The services the engine talks to; CDK's own grants (logs, xray, sqs) are pinned by
# tests/unit/infra/test_stack.py.
ENGINE_SERVICES = frozenset({"eks", "ec2", "sts", "securityhub"})
DISABLED = AddonSeed(configuration_values='{"enableNetworkPolicy":"false"}')


@functools.cache
def auditor_template() -> Mapping[str, Any]:
    return Template.from_stack(EksNetpolAuditorStack(cdk.App(), "IamCheck")).to_json()


def granted_actions(parameters: Mapping[str, str]) -> set[str]:
    """IAM actions of the engine's services in every identity policy of the stack that
    exists with these parameter values (the remediation and self-enrolment policies are
    conditional)."""
    template = auditor_template()
    deployment = Deployment(dict(template), dict(parameters))
    actions: set[str] = set()
    for resource in template["Resources"].values():
        if "Condition" in resource and not deployment.condition(resource["Condition"]):
            continue
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            documents = [p["PolicyDocument"] for p in properties.get("Policies", [])]
        elif resource["Type"] == "AWS::IAM::Policy":
            documents = [properties["PolicyDocument"]]
        else:
            continue
        for document in documents:
            for statement in document["Statement"]:
                assert statement["Effect"] == "Allow"
                action = statement["Action"]
                actions.update(action if isinstance(action, list) else [action])
    return {a for a in actions if a.split(":")[0] in ENGINE_SERVICES}


def seed_every_path(sandbox: SandboxClient) -> None:
    """Clusters that drive each AWS call the engine can make in one run."""
    # Few enabled regions keep the run short; DescribeRegions is still called.
    sandbox.set_enabled_regions(["eu-west-1", "us-east-1", "eu-central-1"])
    # Remediated: DescribeAddonConfiguration (schema), UpdateAddon, then a Note on the
    # finding (BatchUpdateFindings).
    sandbox.add_cluster("eu-west-1", "disabled", addon=DISABLED)
    sandbox.add_cluster("us-east-1", "enabled", addon=ENABLED)
    # DescribeAddon denied: for a cluster without the add-on (as IAM may answer, issue 10
    # item 8) and by a fault on one that has it. The engine's fallback (if any) runs here.
    sandbox.add_cluster("eu-central-1", "no-addon", addon=None)
    sandbox.add_cluster("eu-central-1", "addon-denied", addon=DISABLED)
    sandbox.deny_describe_addon("eu-central-1", "addon-denied")


@pytest.fixture
def no_spacing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Update spacing is proven by unit tests; here it would only slow the run."""
    monkeypatch.setattr(remediation_shell, "UPDATE_SPACING_SECONDS", 0.0)


# (stack parameters, the same settings as the function's environment): the in-cluster
# check off (the default), on, and on with self-enrolment.
BASE = replace(Settings(), publish=True, auto_remediate=True, home_region="us-east-1")
CASES = {
    "in-cluster off": ({"AutoRemediate": "true"}, BASE),
    "in-cluster on": (
        {"AutoRemediate": "true", "InClusterCheck": "true"},
        replace(BASE, in_cluster_check=True),
    ),
    "in-cluster on, self-enrolment": (
        {"AutoRemediate": "true", "InClusterCheck": "true", "InClusterEnrol": "true"},
        replace(BASE, in_cluster_check=True, in_cluster_enrol=True),
    ),
}


@pytest.mark.usefixtures("no_spacing")
@pytest.mark.parametrize("case", list(CASES))
def test_operations_called_equal_actions_granted(sandbox: SandboxClient, case: str) -> None:
    """The in-cluster check adds no IAM action: its token is presigned locally and its
    reads go to the clusters' Kubernetes APIs (counted apart, as `kubernetes`). Only
    self-enrolment calls EKS, and only where its conditional policy exists."""
    parameters, settings = CASES[case]
    seed_every_path(sandbox)
    result = run_audit(settings, AwsClients(max_attempts=1))

    # The run really took the paths the seeds are for (else the equality proves little).
    assert [u["clusterName"] for u in sandbox.updates()] == ["disabled"]
    assert result.findings_published >= 2
    assert (KUBERNETES_CALLS in result.api_calls) is settings.in_cluster_check
    called = set(result.api_calls) - {KUBERNETES_CALLS}
    assert {c.split(":")[0] for c in called} <= ENGINE_SERVICES

    granted = granted_actions(parameters)
    assert sorted(called - granted) == [], "called but not granted: AccessDenied after deploy"
    assert sorted(granted - called) == [], "granted but never called: remove the grant"


def test_self_enrolment_is_granted_only_with_the_check_on() -> None:
    """InClusterEnrol without InClusterCheck grants nothing: nothing would call it."""
    enrol = {"eks:CreateAccessEntry", "eks:AssociateAccessPolicy"}
    assert not granted_actions({"InClusterEnrol": "true"}) & enrol
    assert not granted_actions({"InClusterCheck": "true"}) & enrol
    assert granted_actions({"InClusterCheck": "true", "InClusterEnrol": "true"}) >= enrol
