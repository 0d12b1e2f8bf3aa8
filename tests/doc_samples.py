"""Samples the documentation includes, built by the product's own code (and the sandbox's
control API table, built from its route table, ``sandbox/routes.py``).

Why: a hand-written sample finding drifts from what `build_finding` produces; the docs
include `docs/snippets/sample-finding.json` and `sample-in-cluster-finding.json` (the second
control's), which this module writes and tests/unit/securityhub/test_sample_finding.py
keeps current. Regenerate with
`python -m tests.doc_samples`.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eks_netpol_auditor.evaluate import evaluate
from eks_netpol_auditor.incluster.model import DEFAULT_EXCLUDED_NAMESPACES
from eks_netpol_auditor.incluster.verdict import evaluate_in_cluster
from eks_netpol_auditor.model import AddonFacts, ClusterFacts, ClusterResult
from eks_netpol_auditor.remediation import Action, Outcome
from eks_netpol_auditor.remediation.plan import plan
from eks_netpol_auditor.securityhub.asff import build_finding
from eks_netpol_auditor.securityhub.in_cluster_finding import build_in_cluster_finding
from sandbox import routes
from tests.builders import (
    ACCOUNT,
    ENABLED_CONFIG,
    api_access,
    cluster_objects,
    namespace,
    pod,
)

SNIPPETS = Path(__file__).resolve().parents[1] / "docs" / "snippets"
SAMPLE_FINDING = SNIPPETS / "sample-finding.json"
SAMPLE_IN_CLUSTER_FINDING = SNIPPETS / "sample-in-cluster-finding.json"
SANDBOX_CONTROL_API = SNIPPETS / "sandbox-control-api.md"
REGION = "eu-west-1"
NAME = "payments-prod"


def sample_cluster() -> ClusterFacts:
    """A cluster whose vpc-cni add-on has a custom configuration but no enableNetworkPolicy."""
    arn = f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{NAME}"
    return ClusterFacts(
        account=ACCOUNT,
        partition="aws",
        region=REGION,
        name=NAME,
        arn=arn,
        kubernetes_version="1.31",
        platform_version="eks.12",
        tags={"env": "prod", "team": "payments"},
        addon=AddonFacts(
            version="v1.19.0-eksbuild.1",
            status="ACTIVE",
            configuration_values='{"env":{"WARM_IP_TARGET":"5"}}',
        ),
        details={
            "Arn": arn,
            "ClusterStatus": "ACTIVE",
            "Endpoint": f"https://0123456789ABCDEF.gr7.{REGION}.eks.amazonaws.com",
            "Name": NAME,
            "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/eks-cluster",
            "Version": "1.31",
            "ResourcesVpcConfig": {
                "SecurityGroupIds": ["sg-0abc1234def567890"],
                "SubnetIds": ["subnet-0a1b2c3d", "subnet-4e5f6a7b"],
                "EndpointPublicAccess": False,
            },
        },
    )


def sample_finding() -> dict[str, Any]:
    """The finding of a later daily run, after a remediation stage in dry-run mode."""
    cluster = sample_cluster()
    result = ClusterResult(cluster, evaluate(cluster))
    _, (candidate,) = plan([result], ACCOUNT, require_tag=False)
    result = replace(
        result,
        remediation=Outcome(
            Action.DRY_RUN,
            "dry run: this UpdateAddon request would be sent; nothing was changed",
            request=candidate.request,
        ),
    )
    created = "2026-11-02T06:00:01.412Z"
    return build_finding(
        result,
        delivery_region=REGION,
        now=datetime(2026, 11, 26, 6, 0, tzinfo=UTC),
        existing={"CreatedAt": created, "FirstObservedAt": created},
    )


def sample_finding_text() -> str:
    return json.dumps(sample_finding(), indent=2) + "\n"


def sample_in_cluster_finding() -> dict[str, Any]:
    """The same cluster's second finding (CIS 4.3.2), from the second control's own rules:
    enforcement running, two application namespaces with pods and no NetworkPolicy."""
    objects = cluster_objects(
        namespaces=(namespace("kube-system"), namespace("checkout"), namespace("ledger")),
        network_policies=(),
        pods=(
            pod("kube-system", "coredns-1", **{"k8s-app": "kube-dns"}),
            pod("checkout", "api-1", app="api"),
            pod("checkout", "api-2", app="api"),
            pod("ledger", "writer-1", app="writer"),
        ),
    )
    enabled = AddonFacts("v1.19.0-eksbuild.1", "ACTIVE", configuration_values=ENABLED_CONFIG)
    cluster = replace(sample_cluster(), addon=enabled, api=api_access(), kube=objects)
    verdict = evaluate_in_cluster(cluster, DEFAULT_EXCLUDED_NAMESPACES)
    result = ClusterResult(cluster, evaluate(cluster), in_cluster=verdict)
    created = "2026-11-20T06:00:02.031Z"
    return build_in_cluster_finding(
        result,
        delivery_region=REGION,
        now=datetime(2026, 11, 26, 6, 0, tzinfo=UTC),
        existing={"CreatedAt": created, "FirstObservedAt": created},
    )


def sample_in_cluster_finding_text() -> str:
    return json.dumps(sample_in_cluster_finding(), indent=2) + "\n"


if __name__ == "__main__":
    SAMPLE_FINDING.write_text(sample_finding_text())
    SAMPLE_IN_CLUSTER_FINDING.write_text(sample_in_cluster_finding_text())
    SANDBOX_CONTROL_API.write_text(routes.markdown())
