"""CloudFormation parameters built from their row of the settings table.

Why: a parameter's type, default, allowed values, range and description are stated once,
in `eks_netpol_auditor.settings_table`, which also feeds the CLI help and the docs; here
only the template-specific constraints (patterns, constraint descriptions) are added.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnParameter
from constructs import Construct

from eks_netpol_auditor.settings_table import Dynamic, by_parameter


def cfn_parameter(scope: Construct, name: str, **constraints: Any) -> CfnParameter:
    """The parameter `name` (its logical id is the name users type).

    A row whose default is computed when the template is built (`Dynamic`) needs the value
    as `default=`; any other row's default comes from the table and may not be passed.
    """
    row = by_parameter(name)
    options: dict[str, Any] = {
        "type": "Number" if row.numeric else "String",
        "description": row.meaning,
    }
    if isinstance(row.default, Dynamic):
        if "default" not in constraints:
            raise ValueError(f"{name}: its default ({row.default.text}) must be passed")
    elif "default" in constraints:
        raise ValueError(f"{name}: the default comes from the settings table")
    elif row.default is not None:
        options["default"] = row.default
    if row.choices:
        options["allowed_values"] = list(row.choices)
    if row.minimum is not None:
        options["min_value"] = row.minimum
    if row.maximum is not None:
        options["max_value"] = row.maximum
    return CfnParameter(scope, name, **options, **constraints)
