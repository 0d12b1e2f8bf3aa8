"""`doctor` reads the deployed stack by names: the parameters and Outputs it expects must
be the ones the template has, or a renamed one would make doctor report a healthy stack
as broken (or miss the event path)."""

from __future__ import annotations

from app import STACK_NAME
from eks_netpol_auditor.doctor.checks import (
    ALWAYS_OUTPUTS,
    AUDIT_REGIONS_PARAMETER,
    EVENT_DRIVEN_PARAMETER,
    EVENT_OUTPUTS,
    FINDINGS_REGION_PARAMETER,
    IN_CLUSTER_ENROL_PARAMETER,
    IN_CLUSTER_OUTPUTS,
    IN_CLUSTER_PARAMETER,
    INSIGHT_OUTPUTS,
    INSIGHT_PARAMETER,
    SHOWN_PARAMETERS,
)
from eks_netpol_auditor.names import AUDITOR_STACK_NAME
from tests.unit.infra.cfn import Json


def test_doctor_reads_parameters_the_template_has(template_json: Json) -> None:
    parameters = set(template_json["Parameters"])
    read = {
        AUDIT_REGIONS_PARAMETER,
        EVENT_DRIVEN_PARAMETER,
        FINDINGS_REGION_PARAMETER,
        INSIGHT_PARAMETER,
        IN_CLUSTER_PARAMETER,
        IN_CLUSTER_ENROL_PARAMETER,
    }
    assert read | set(SHOWN_PARAMETERS) <= parameters


def test_doctor_expects_exactly_the_outputs_the_template_has(template_json: Json) -> None:
    outputs = template_json["Outputs"]
    expected = {
        key.value
        for key in (*ALWAYS_OUTPUTS, *INSIGHT_OUTPUTS, *EVENT_OUTPUTS, *IN_CLUSTER_OUTPUTS)
    }
    assert expected == set(outputs)
    for key in EVENT_OUTPUTS:  # only present when the event path is deployed
        assert outputs[key.value]["Condition"] == "EventDrivenEnabled"
    for key in INSIGHT_OUTPUTS:  # only present when the insight is created
        assert outputs[key.value]["Condition"] == "CreateSecurityHubInsight"
    for key in IN_CLUSTER_OUTPUTS:  # only present when the in-cluster check is on
        assert outputs[key.value]["Condition"] == "InClusterCheckEnabled"
    for key in ALWAYS_OUTPUTS:
        assert "Condition" not in outputs[key.value]


def test_doctor_looks_for_the_stack_the_app_deploys() -> None:
    assert STACK_NAME == AUDITOR_STACK_NAME
