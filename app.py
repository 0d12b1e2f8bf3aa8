#!/usr/bin/env python3
"""CDK app entry point: synthesizes the eks-netpol-auditor stack.

Why it is written this way: ``make synth`` runs ``python app.py`` directly
(with ``CDK_OUTDIR=cdk.out``), not through the CDK CLI, so the feature flags in
``cdk.json`` are loaded here as well; both paths then produce the same template.
The stack is environment-agnostic (no account/region lookups), so synthesis
works without AWS credentials, and cdk-nag's AwsSolutions pack runs as a policy
validation plugin: any unacknowledged finding fails synthesis.
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.app_context import load_cdk_json_context
from infra.stack import EksNetpolAuditorStack

STACK_NAME = "EksNetpolAuditor"


def build_app(outdir: str | None = None) -> cdk.App:
    """Build the app with the stack and the cdk-nag validation plugin.

    ``outdir`` defaults to ``CDK_OUTDIR`` (set by ``make synth`` and the CDK CLI).
    """
    app = cdk.App(context=load_cdk_json_context(), outdir=outdir)
    EksNetpolAuditorStack(app, STACK_NAME)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


if __name__ == "__main__":
    build_app().synth()
