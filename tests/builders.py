"""Values and builders that many test modules share, so each has one home.

ACCOUNT is the sandbox's account (sandbox.server.DEFAULT_ACCOUNT); ENABLED_CONFIG is the VPC CNI
add-on configuration that turns network policy enforcement on, and ENABLED seeds it in the sandbox.
"""

from __future__ import annotations

from dataclasses import replace as _replace
from typing import Any

from eks_netpol_auditor.incluster.model import (
    ClusterObjects,
    InClusterReason,
    InClusterVerdict,
    NamespaceMeta,
    PodMeta,
)
from eks_netpol_auditor.model import AddonFacts, ApiAccess, ClusterFacts, ComplianceStatus
from sandbox.client import AddonSeed

ACCOUNT = "123456789012"
ENABLED_CONFIG = '{"enableNetworkPolicy":"true"}'
ENABLED = AddonSeed(configuration_values=ENABLED_CONFIG)


# ---------------------------------------------------------------------------- pure facts
# Builders for the rules' inputs (evaluate.py, incluster/verdict.py): one healthy cluster,
# changed by keyword, so each test states only what makes its case.

CLUSTER_ARN = f"arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/prod"
STRICT_CONFIG = '{"enableNetworkPolicy":"true","env":{"NETWORK_POLICY_ENFORCING_MODE":"strict"}}'
AGENT_IMAGE = "602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon/aws-network-policy-agent:v1.2.0"


def addon_facts(**overrides: Any) -> AddonFacts:
    return _replace(
        AddonFacts(
            version="v1.19.2-eksbuild.1", status="ACTIVE", configuration_values=ENABLED_CONFIG
        ),
        **overrides,
    )


def api_access(**overrides: Any) -> ApiAccess:
    return _replace(
        ApiAccess(
            endpoint="https://ABC.gr7.eu-west-1.eks.amazonaws.com",
            certificate_authority="LS0t",
            public_access=True,
            public_access_cidrs=("0.0.0.0/0",),
            authentication_mode="API_AND_CONFIG_MAP",
        ),
        **overrides,
    )


def aws_node(
    *,
    agent: bool = True,
    image: str = AGENT_IMAGE,
    args: tuple[str, ...] = ("--enable-ipv6=false", "--enable-network-policy=true"),
    desired: int = 3,
    ready: int = 3,
    mode: str | None = None,
) -> dict[str, Any]:
    """DaemonSet kube-system/aws-node shaped as the vpc-cni chart renders it."""
    env = [{"name": "AWS_VPC_K8S_CNI_LOGLEVEL", "value": "DEBUG"}]
    if mode is not None:
        env.append({"name": "NETWORK_POLICY_ENFORCING_MODE", "value": mode})
    containers: list[dict[str, Any]] = [
        {"name": "aws-node", "image": "amazon-k8s-cni:v1.19.2", "env": env}
    ]
    if agent:
        containers.append({"name": "aws-eks-nodeagent", "image": image, "args": list(args)})
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "aws-node", "namespace": "kube-system"},
        "spec": {"template": {"spec": {"containers": containers}}},
        "status": {"desiredNumberScheduled": desired, "numberReady": ready},
    }


def pod(namespace: str, name: str, **labels: str) -> PodMeta:
    return PodMeta(namespace=namespace, name=name, labels=labels)


def namespace(name: str, **labels: str) -> NamespaceMeta:
    # The API server sets kubernetes.io/metadata.name on every namespace (Kubernetes
    # documentation, "Namespaces", automatic labelling).
    return NamespaceMeta(name=name, labels={"kubernetes.io/metadata.name": name, **labels})


def network_policy(
    namespace: str, name: str = "default-deny", pod_selector: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "podSelector": {} if pod_selector is None else pod_selector,
            "policyTypes": ["Ingress", "Egress"],
        },
    }


def cluster_objects(**overrides: Any) -> ClusterObjects:
    """Enforcement running, one application namespace with one pod, covered by a policy."""
    base = ClusterObjects(
        vpc_cni_config={"enable-network-policy-controller": "true"},
        aws_node=aws_node(),
        namespaces=(namespace("kube-system"), namespace("shop")),
        network_policies=(network_policy("shop"),),
        pods=(
            pod("kube-system", "coredns-1", **{"k8s-app": "kube-dns"}),
            pod("shop", "web-1", app="web"),
        ),
        cluster_policies=(),
        requests=6,
    )
    return _replace(base, **overrides)


def cluster_facts(**overrides: Any) -> ClusterFacts:
    """An ACTIVE, public-endpoint cluster with network policy enabled in the add-on."""
    base = ClusterFacts(
        account=ACCOUNT,
        partition="aws",
        region="eu-west-1",
        name="prod",
        arn=CLUSTER_ARN,
        status="ACTIVE",
        kubernetes_version="1.31",
        platform_version="eks.12",
        addon=addon_facts(),
        api=api_access(),
        kube=cluster_objects(),
    )
    return _replace(base, **overrides)


# ------------------------------------------------------------------- publishing's builders
def described_cluster(
    region: str,
    name: str,
    *,
    config: str | None = ENABLED_CONFIG,
    addon: bool = True,
    tags: dict[str, str] | None = None,
) -> ClusterFacts:
    """A described ACTIVE cluster with fixed, realistic facts (no sandbox values in it), so
    what is built from it is the same on every run."""
    arn = f"arn:aws:eks:{region}:{ACCOUNT}:cluster/{name}"
    return ClusterFacts(
        account=ACCOUNT,
        partition="aws",
        region=region,
        name=name,
        arn=arn,
        kubernetes_version="1.31",
        platform_version="eks.12",
        tags=tags if tags is not None else {"team": name},
        addon=AddonFacts("v1.19.0-eksbuild.1", "ACTIVE", configuration_values=config)
        if addon
        else None,
        details={
            "Arn": arn,
            "ClusterStatus": "ACTIVE",
            "Endpoint": f"https://0123456789ABCDEF.gr7.{region}.eks.amazonaws.com",
            "Name": name,
            "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/eks",
            "Version": "1.31",
        },
    )


def in_cluster_verdict(
    status: ComplianceStatus = ComplianceStatus.FAILED,
    reason: InClusterReason = InClusterReason.NAMESPACES_WITHOUT_POLICY,
    message: str | None = None,
    *,
    namespaces: tuple[str, ...] = ("shop", "web"),
    pods_not_selected: int | None = 7,
    enforcing_mode: str | None = "standard",
) -> InClusterVerdict:
    """The second control's verdict as `incluster.verdict` returns it, built directly so the
    publisher's tests need no Kubernetes API."""
    if message is None:
        message = (
            f"{len(namespaces)} namespaces have pods and no NetworkPolicy: "
            f"{', '.join(namespaces)} ({pods_not_selected} pods not selected)."
            if status is ComplianceStatus.FAILED
            else "Every namespace with pods has a NetworkPolicy."
        )
    return InClusterVerdict(
        status,
        reason,
        message,
        enforcing_mode=enforcing_mode,
        namespaces_without_policy=namespaces if status is ComplianceStatus.FAILED else (),
        pods_not_selected=pods_not_selected,
    )
