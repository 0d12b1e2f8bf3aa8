"""The remediation shell (remediation/apply.py): what UpdateAddon receives and how its answers
are reported.

EKS API reference, UpdateAddon (https://docs.aws.amazon.com/eks/latest/APIReference/
API_UpdateAddon.html): `clientRequestToken` makes the call idempotent; a new update starts
`InProgress`; HTTP 409 ResourceInUseException means an update is already running, and
InvalidParameterException means the request was refused. A stub EKS client records calls,
so no AWS (or sandbox) is involved.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from eks_netpol_auditor.config import Settings
from eks_netpol_auditor.model import Action, AuditResult, UpdateRequest
from eks_netpol_auditor.remediation import apply
from eks_netpol_auditor.remediation.plan import Candidate

REGION = "eu-west-1"
REQUEST = UpdateRequest(
    cluster_name="prod",
    configuration_values='{"enableNetworkPolicy":"true"}',
    client_request_token="eks-netpol-auditor-0123456789abcdef",
)
CANDIDATE = Candidate(
    region=REGION,
    cluster="prod",
    addon_version="v1.19.0-eksbuild.1",
    merged={"enableNetworkPolicy": "true"},
    request=REQUEST,
)
SCHEMA = json.dumps({"properties": {"enableNetworkPolicy": {"type": "string"}}})


class StubEks:
    """Records UpdateAddon calls; answers with `answer` or raises it."""

    def __init__(self, answer: dict[str, Any] | Exception) -> None:
        self.answer = answer
        self.updates: list[dict[str, Any]] = []

    def update_addon(self, **kwargs: Any) -> dict[str, Any]:
        self.updates.append(kwargs)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    def describe_addon_configuration(self, **kwargs: Any) -> dict[str, Any]:
        return {"configurationSchema": SCHEMA}


class StubClients:
    def __init__(self, eks: StubEks) -> None:
        self.eks_client = eks
        self.regions: list[str] = []

    def eks(self, region: str) -> StubEks:
        self.regions.append(region)
        return self.eks_client


def refused(code: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": "refused"},
        },
        "UpdateAddon",
    )


def run_apply(answer: dict[str, Any] | Exception) -> tuple[StubClients, Any]:
    clients = StubClients(StubEks(answer))
    return clients, apply._apply(clients, CANDIDATE)  # type: ignore[arg-type]


def test_sends_exactly_the_planned_request_with_its_token_in_the_cluster_region() -> None:
    clients, outcome = run_apply({"update": {"id": "u-1", "status": "InProgress"}})
    assert clients.regions == [REGION]
    assert clients.eks_client.updates == [
        {
            "clusterName": "prod",
            "addonName": "vpc-cni",
            "configurationValues": '{"enableNetworkPolicy":"true"}',
            "resolveConflicts": "PRESERVE",
            "clientRequestToken": "eks-netpol-auditor-0123456789abcdef",
        }
    ]
    assert outcome.action is Action.APPLIED
    assert (outcome.update_id, outcome.update_status) == ("u-1", "InProgress")
    assert outcome.request == REQUEST


def test_resource_in_use_is_in_progress_not_an_error() -> None:
    _, outcome = run_apply(refused("ResourceInUseException"))
    assert outcome.action is Action.IN_PROGRESS
    assert outcome.reason == apply.IN_PROGRESS_REASON


def test_invalid_parameter_is_a_failure_that_names_the_error() -> None:
    _, outcome = run_apply(refused("InvalidParameterException"))
    assert outcome.action is Action.FAILED
    assert "InvalidParameterException" in outcome.reason
    assert outcome.update_id is None


def test_a_token_answered_with_an_earlier_finished_update_is_not_applied() -> None:
    _, outcome = run_apply({"update": {"id": "u-0", "status": "Successful"}})
    assert outcome.action is Action.FAILED
    assert (outcome.update_id, outcome.update_status) == ("u-0", "Successful")


@pytest.mark.parametrize("dry_run", [True, False])
def test_dry_run_sends_no_update(monkeypatch: pytest.MonkeyPatch, dry_run: bool) -> None:
    monkeypatch.setattr(apply, "plan", lambda *args, **kwargs: ({}, [CANDIDATE]))
    eks = StubEks({"update": {"id": "u-1", "status": "InProgress"}})
    settings = replace(Settings(), auto_remediate=True, dry_run=dry_run, max_remediations=5)
    result = AuditResult(account="123456789012", partition="aws", regions=[REGION])
    apply.remediate(settings, StubClients(eks), result, should_stop=lambda: False)  # type: ignore[arg-type]
    assert eks.updates == ([] if dry_run else [REQUEST.to_kwargs()])
