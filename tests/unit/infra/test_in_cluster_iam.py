"""Self-enrolment's grant allows exactly the two requests `incluster.enrol` makes, and no
variant that would give the role (or anyone) more than read access.

The sandbox does not evaluate IAM conditions, so the synthesized policy is evaluated here
against the request context each request carries, as the Service Authorization Reference
for Amazon EKS defines the keys: CreateAccessEntry (resource `cluster`) sets
eks:principalArn, eks:accessEntryType, eks:kubernetesGroups and eks:username from the
request; AssociateAccessPolicy (resource `access-entry`) sets eks:principalArn,
eks:policyArn, eks:accessScope and eks:namespaces from the request and
eks:accessEntryType from the entry. A key the request does not carry is absent (IAM User
Guide, "Condition operator to check existence of condition keys"), and ArnEquals on an
absent key does not match (IAM User Guide, "IAM JSON policy elements: Condition
operators").
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any, cast

import pytest

from eks_netpol_auditor.aws import AwsClients
from eks_netpol_auditor.incluster.enrol import enrol
from tests.unit.infra.cfn import Json
from tests.unit.infra.cfn_eval import Deployment

ACCOUNT = "111111111111"
REGION = "eu-west-1"
CLUSTER = "shop"
ENABLED = {"InClusterCheck": "true", "InClusterEnrol": "true"}
VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


@dataclass
class Request:
    action: str
    resource: str
    context: dict[str, list[str]] = field(default_factory=dict)


def _role_arn(template: Json) -> str:
    (role,) = [
        logical_id
        for logical_id, r in template["Resources"].items()
        if r["Type"] == "AWS::IAM::Role" and "FunctionRole" in logical_id
    ]
    return f"arn:aws:iam::{ACCOUNT}:role/<{role}>"


def _statements(template: Json) -> list[Json]:
    """The role's statements as deployed with self-enrolment on (GetAtt Role.Arn stands
    for the role's ARN, as `_role_arn` spells it)."""
    role_arn = _role_arn(template)
    deployment = Deployment(template, ENABLED, account=ACCOUNT, region=REGION)
    found: list[Json] = []
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        if "Condition" in resource and not deployment.condition(resource["Condition"]):
            continue
        document = _with_role(resource["Properties"]["PolicyDocument"], role_arn)
        found += deployment.resolve(document)["Statement"]
    return found


def _with_role(node: Any, role_arn: str) -> Any:
    if isinstance(node, dict):
        if set(node) == {"Fn::GetAtt"} and node["Fn::GetAtt"][1] == "Arn":
            return role_arn
        return {k: _with_role(v, role_arn) for k, v in node.items()}
    if isinstance(node, list):
        return [_with_role(v, role_arn) for v in node]
    return node


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _condition_holds(operator: str, key: str, wanted: Any, context: dict[str, list[str]]) -> bool:
    values = context.get(key)
    if operator == "Null":
        return (values is None or values == []) == (str(wanted) == "true")
    if values is None:
        return False
    wanted_values = [str(w) for w in _as_list(wanted)]
    if operator == "StringEquals":
        return all(v in wanted_values for v in values)
    if operator == "ArnEquals":
        return all(any(fnmatch.fnmatchcase(v, w) for w in wanted_values) for v in values)
    raise AssertionError(f"operator {operator} not modelled")


def allowed(statements: list[Json], request: Request) -> bool:
    for statement in statements:
        if request.action not in _as_list(statement["Action"]):
            continue
        if not any(
            fnmatch.fnmatchcase(request.resource, r) for r in _as_list(statement["Resource"])
        ):
            continue
        conditions = statement.get("Condition", {})
        if all(
            _condition_holds(operator, key, wanted, request.context)
            for operator, keys in conditions.items()
            for key, wanted in keys.items()
        ):
            return True
    return False


class _RecordingEks:
    """Stands in for the EKS client: records the parameters of each request."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def create_access_entry(self, **params: Any) -> dict[str, Any]:
        self.calls.append(("CreateAccessEntry", params))
        return {}

    def associate_access_policy(self, **params: Any) -> dict[str, Any]:
        self.calls.append(("AssociateAccessPolicy", params))
        return {}


class _Clients:
    def __init__(self) -> None:
        self.recorder = _RecordingEks()

    def eks(self, region: str) -> _RecordingEks:
        return self.recorder


def requests_of(role_arn: str) -> list[Request]:
    """The requests `enrol` makes, with the IAM request context each carries."""
    clients = _Clients()
    assert enrol(cast(AwsClients, clients), REGION, CLUSTER, role_arn) is None
    (create_name, create), (associate_name, associate) = clients.recorder.calls
    assert (create_name, associate_name) == ("CreateAccessEntry", "AssociateAccessPolicy")
    return [create_request(create), associate_request(associate, entry_type=create["type"])]


def create_request(params: dict[str, Any]) -> Request:
    context = {"eks:principalArn": [params["principalArn"]]}
    if "type" in params:
        context["eks:accessEntryType"] = [params["type"]]
    if params.get("kubernetesGroups"):
        context["eks:kubernetesGroups"] = list(params["kubernetesGroups"])
    if "username" in params:
        context["eks:username"] = [params["username"]]
    resource = f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{params['clusterName']}"
    return Request("eks:CreateAccessEntry", resource, context)


def associate_request(params: dict[str, Any], entry_type: str = "STANDARD") -> Request:
    scope = params["accessScope"]
    context = {
        "eks:principalArn": [params["principalArn"]],
        "eks:policyArn": [params["policyArn"]],
        "eks:accessScope": [scope["type"]],
        "eks:accessEntryType": [entry_type],
    }
    if scope.get("namespaces"):
        context["eks:namespaces"] = list(scope["namespaces"])
    role_name = params["principalArn"].rsplit("/", 1)[-1]
    resource = (
        f"arn:aws:eks:{REGION}:{ACCOUNT}:access-entry/{params['clusterName']}/role/"
        f"{ACCOUNT}/{role_name}/0ec6d8a2-1111-2222-3333-444455556666"
    )
    return Request("eks:AssociateAccessPolicy", resource, context)


def test_the_grant_exists_only_with_both_parameters(template_json: Json) -> None:
    conditional = [
        r
        for r in template_json["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy" and r.get("Condition") == "InClusterEnrolEnabled"
    ]
    assert len(conditional) == 1
    for values, expected in (
        ({}, False),
        ({"InClusterEnrol": "true"}, False),
        ({"InClusterCheck": "true"}, False),
        (ENABLED, True),
    ):
        assert Deployment(template_json, values).condition("InClusterEnrolEnabled") is expected


def test_enrols_own_requests_are_allowed(template_json: Json) -> None:
    statements = _statements(template_json)
    for request in requests_of(_role_arn(template_json)):
        assert allowed(statements, request), request


def _variants(role: str) -> dict[str, Request]:
    base_create = {"clusterName": CLUSTER, "principalArn": role, "type": "STANDARD"}
    base_associate = {
        "clusterName": CLUSTER,
        "principalArn": role,
        "policyArn": VIEW,
        "accessScope": {"type": "cluster"},
    }
    other = f"arn:aws:iam::{ACCOUNT}:role/someone-else"
    return {
        "entry for another role": create_request({**base_create, "principalArn": other}),
        "entry with a Kubernetes group": create_request(
            {**base_create, "kubernetesGroups": ["cluster-admins"]}
        ),
        "entry with a chosen username": create_request({**base_create, "username": "admin"}),
        "entry of a node type": create_request({**base_create, "type": "EC2_LINUX"}),
        "entry without a type": create_request(
            {k: v for k, v in base_create.items() if k != "type"}
        ),
        "cluster-admin policy": associate_request({**base_associate, "policyArn": ADMIN}),
        "namespace scope": associate_request(
            {**base_associate, "accessScope": {"type": "namespace", "namespaces": ["a"]}}
        ),
        "policy for another role": associate_request({**base_associate, "principalArn": other}),
        "policy on a node entry": associate_request(base_associate, entry_type="EC2_LINUX"),
    }


@pytest.mark.parametrize("variant", list(_variants("r")))
def test_every_broader_request_is_denied(template_json: Json, variant: str) -> None:
    statements = _statements(template_json)
    request = _variants(_role_arn(template_json))[variant]
    assert not allowed(statements, request), variant
