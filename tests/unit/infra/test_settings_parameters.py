"""Every stack parameter is a row of the settings table, as the synthesized templates show.

A parameter without a row, a different type, default, range, allowed values or
description, or an auditor parameter that sets no environment variable of the function
(and is not one of the few that only shape resources) fails here.
"""

from __future__ import annotations

from typing import Any

import pytest

from eks_netpol_auditor.settings_table import SETTINGS, Dynamic, Setting, Stack, by_parameter
from infra import release

Json = dict[str, Any]

NAMES = release.ReleaseNames("9.8.7", "cd" * 32)
# Auditor parameters that shape the stack's resources, not what the engine reads; any
# other auditor parameter must reach the function as an environment variable.
RESOURCE_ONLY = {
    "ScheduleExpression",
    "EventDrivenMode",
    "CreateInsight",
    "NotificationEmail",
    "ReservedConcurrency",
    "PowertoolsLayerArn",
    "CodeBucketPrefix",
    "CodeKey",
}
MIRRORED = "Auditor setting, passed to every account. "


@pytest.fixture(scope="module")
def templates() -> dict[Stack, Json]:
    """The release app's three templates (the auditor's has every CDK-mode parameter too)."""
    app, auditor, forwarder, org = release.release_app(NAMES)
    assembly = app.synth()
    return {
        Stack.AUDITOR: assembly.get_stack_by_name(auditor.stack_name).template,
        Stack.FORWARDER: assembly.get_stack_by_name(forwarder.stack_name).template,
        Stack.ORGANIZATION: assembly.get_stack_by_name(org.stack_name).template,
    }


def _template_of(row: Setting) -> Stack:
    return Stack.AUDITOR if row.stack is Stack.RELEASE else row.stack


def _check(name: str, parameter: Json, row: Setting, description: str) -> None:
    assert parameter["Type"] == ("Number" if row.numeric else "String"), name
    assert parameter["Description"] == description, name
    if row.default is None:
        assert "Default" not in parameter, name
    elif isinstance(row.default, Dynamic):
        assert parameter["Default"], name
    else:
        assert parameter["Default"] == row.default, name
    assert parameter.get("AllowedValues") == (list(row.choices) or None), name
    assert parameter.get("MinValue") == row.minimum, name
    assert parameter.get("MaxValue") == row.maximum, name


def test_every_parameter_is_described_by_its_row(templates: dict[Stack, Json]) -> None:
    auditor_names = set(templates[Stack.AUDITOR]["Parameters"])
    for stack, template in templates.items():
        for name, parameter in template["Parameters"].items():
            row = by_parameter(name)  # KeyError: a parameter without a row
            if stack is Stack.ORGANIZATION and name in auditor_names:
                # Mirrored from the auditor stack (infra.org_parameters.mirror_parameter).
                assert _template_of(row) is Stack.AUDITOR, name
                _check(name, parameter, row, MIRRORED + row.meaning)
            else:
                assert _template_of(row) is stack, name
                _check(name, parameter, row, row.meaning)


def test_every_row_parameter_is_in_its_template(templates: dict[Stack, Json]) -> None:
    for row in SETTINGS:
        if row.parameter is not None:
            assert row.parameter in templates[_template_of(row)]["Parameters"], row.parameter


def test_every_auditor_parameter_sets_its_variable(templates: dict[Stack, Json]) -> None:
    """The functions' environment: each variable is its parameter (Ref) or the fixed value
    the table names; no auditor parameter is silently dropped on the way."""
    template = templates[Stack.AUDITOR]
    functions = [
        r["Properties"]["Environment"]["Variables"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function" and "Environment" in r["Properties"]
    ]
    assert len(functions) == 2  # the scheduled and the event function
    for variables in functions:
        for row in SETTINGS:
            if row.env is None:
                continue
            expected = {"Ref": row.parameter} if row.parameter else row.stack_value
            assert variables.get(row.env.value) == expected, row.env
    for name in template["Parameters"]:
        row = by_parameter(name)
        assert row.env is not None or name in RESOURCE_ONLY, f"{name} sets no variable"
