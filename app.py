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

Event forwarders (one small stack per audited region other than the home region) are
added with ``-c forwarderRegions=eu-west-1,us-west-2``; the home region is the CLI's
(``CDK_DEFAULT_REGION``) or ``-c homeRegion=...``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk

from eks_netpol_auditor.names import AUDITOR_STACK_NAME
from infra.app_context import (
    FORWARDER_REGIONS,
    HOME_REGION,
    AppContextError,
    forwarder_regions,
    load_cdk_json_context,
)
from infra.forwarder import EventForwarderStack
from infra.policy_plugins import add_policy_plugins
from infra.stack import EksNetpolAuditorStack

STACK_NAME = AUDITOR_STACK_NAME
FORWARDER_STACK_PREFIX = f"{STACK_NAME}Forwarder"
PATH_METADATA = "aws:cdk:enable-path-metadata"
ASSET_METADATA = "aws:cdk:enable-asset-metadata"


def build_app(outdir: str | None = None, context: Mapping[str, Any] | None = None) -> cdk.App:
    """Build the app with the stack, the forwarders and both validation plugins.

    ``outdir`` defaults to ``CDK_OUTDIR`` (set by ``make synth`` and the CDK CLI);
    ``context`` adds to cdk.json's (the CLI's ``-c`` still wins).
    """
    app = cdk.App(
        # The CDK CLI turns path and asset metadata on by default; so does make synth.
        context={
            **load_cdk_json_context(),
            PATH_METADATA: True,
            ASSET_METADATA: True,
            **(context or {}),
        },
        outdir=outdir,
        analytics_reporting=False,
    )
    EksNetpolAuditorStack(app, STACK_NAME)
    home = app.node.try_get_context(HOME_REGION) or os.environ.get("CDK_DEFAULT_REGION")
    for region in forwarder_regions(app.node.try_get_context(FORWARDER_REGIONS), home):
        EventForwarderStack(
            app,
            f"{FORWARDER_STACK_PREFIX}-{region}",
            home_region=home,
            env=cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=region),
        )
    add_policy_plugins(app)
    return app


if __name__ == "__main__":
    try:
        build_app().synth()
    except AppContextError as error:
        sys.exit(f"app.py: {error}")
