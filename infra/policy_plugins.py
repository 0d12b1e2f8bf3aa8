"""The policy-validation plugins every synthesized app runs: cdk-nag and cfn-guard.

Why here and not in ``app.py``: both the CDK entry point and the release
(``infra.release``) add them, and ``infra`` must not import the entry point above it.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from cdklabs.cdk_validator_cfnguard import CfnGuardValidator


def add_policy_plugins(app: cdk.App) -> None:
    """cdk-nag's AwsSolutions pack and cfn-guard: on every app that ships a template
    (``app.py``'s and the release's, ``infra.release``)."""
    # CfnGuardValidator 0.0.62 implements the Beta1 plugin interface, which
    # add_plugins accepts at run time; its generated type differs only in name.
    guard: Any = CfnGuardValidator()
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), guard)
