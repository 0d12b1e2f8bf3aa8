"""CloudFormation conditions on a parameter's value: the one shape every stack uses.

Why: the auditor, organization and insights stacks switch resources on parameters
(``AutoRemediate``, ``DeployAuditors``, ...). Each such switch is a condition that a
parameter equals, or does not equal, one literal value (the CloudFormation user guide,
"Condition functions": ``Fn::Equals`` and ``Fn::Not``).
"""

from __future__ import annotations

from aws_cdk import CfnCondition, CfnParameter, Fn
from constructs import Construct


def parameter_equals(
    scope: Construct, condition_id: str, parameter: CfnParameter, value: str
) -> CfnCondition:
    """A condition that holds when ``parameter`` is exactly ``value``."""
    return CfnCondition(
        scope, condition_id, expression=Fn.condition_equals(parameter.value_as_string, value)
    )


def parameter_differs(
    scope: Construct, condition_id: str, parameter: CfnParameter, value: str
) -> CfnCondition:
    """A condition that holds when ``parameter`` is anything but ``value``."""
    return CfnCondition(
        scope,
        condition_id,
        expression=Fn.condition_not(Fn.condition_equals(parameter.value_as_string, value)),
    )
