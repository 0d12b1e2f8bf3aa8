#!/usr/bin/env python3
"""CDK app entry point: synthesizes the eks-netpol-auditor stack.

Why it is written this way: ``make synth`` runs ``python app.py`` directly
(with ``CDK_OUTDIR=cdk.out``), not through the CDK CLI, so the feature flags in
``cdk.json`` are loaded here as well; both paths then produce the same template.
The stack is environment-agnostic (no account/region lookups), so synthesis
works without AWS credentials. Two independent policy-validation plugins run on
every synthesis and fail it on any unacknowledged finding: cdk-nag's AwsSolutions
pack and cfn-guard with the AWS Control Tower proactive controls (the plugin ships
the cfn-guard binary, so it runs offline). Analytics reporting is off here and
``versionReporting`` is off in cdk.json, and path and asset metadata are on in both, so
``make synth`` and ``cdk synth`` write the same template (no CDKMetadata
resource): what is linted is what is deployed.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from cdklabs.cdk_validator_cfnguard import CfnGuardValidator

from infra.app_context import load_cdk_json_context
from infra.stack import EksNetpolAuditorStack

STACK_NAME = "EksNetpolAuditor"
PATH_METADATA = "aws:cdk:enable-path-metadata"
ASSET_METADATA = "aws:cdk:enable-asset-metadata"


def build_app(outdir: str | None = None) -> cdk.App:
    """Build the app with the stack and both validation plugins.

    ``outdir`` defaults to ``CDK_OUTDIR`` (set by ``make synth`` and the CDK CLI).
    """
    app = cdk.App(
        # The CDK CLI turns path and asset metadata on by default; so does make synth.
        context={**load_cdk_json_context(), PATH_METADATA: True, ASSET_METADATA: True},
        outdir=outdir,
        analytics_reporting=False,
    )
    EksNetpolAuditorStack(app, STACK_NAME)
    # CfnGuardValidator 0.0.62 implements the Beta1 plugin interface, which
    # add_plugins accepts at run time; its generated type differs only in name.
    guard: Any = CfnGuardValidator()
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), guard)
    return app


if __name__ == "__main__":
    build_app().synth()
