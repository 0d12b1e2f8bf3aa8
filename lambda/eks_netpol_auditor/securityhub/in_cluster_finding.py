"""The second control's finding (CIS Amazon EKS Benchmark 4.3.2, "Ensure that all Namespaces
have Network Policies defined"), pure and boto3-free.

One finding per cluster whose in-cluster check ran (`ClusterResult.in_cluster`), beside the
first control's: its own GeneratorId and Id (`asff.finding_id(..., IN_CLUSTER_CONTROL_ID)`),
built in the same envelope (`asff.assemble`), so identity, timestamps, resource, size and
digest follow the same rules and the publisher gives it the same lifecycle.

Field limits: the ASFF syntax page and the botocore model, as in `asff`. Every text field
is one line (the model's `.*\\S.*` pattern) and Recommendation.Text holds 512 characters.
A command or manifest cut or flattened to fit would break when pasted, so, as for the first
control's command, each is published whole or not at all: the default-deny manifest of a
FAILED coverage verdict (`verdict.DEFAULT_DENY_MANIFEST`, as one-line JSON, which kubectl
accepts as YAML) and its kubectl commands (`verdict.coverage_remediation`) go to
ProductFields, and a message too long for the Recommendation goes whole to ProductFields
`Message` while the Recommendation says what to do and where the rest is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..addon_config import read_exact
from ..evaluate import USER_GUIDE_URL
from ..incluster.model import IN_CLUSTER_CONTROL_ID, InClusterReason, InClusterVerdict
from ..incluster.verdict import DEFAULT_DENY_MANIFEST, coverage_remediation
from ..model import ClusterResult, ComplianceStatus
from .asff import (
    MAX_PRODUCT_FIELD_VALUE,
    MAX_RECOMMENDATION_TEXT,
    PRODUCT_FIELD_PREFIX,
    Content,
    assemble,
    clip,
    named_fields,
)

IN_CLUSTER_REQUIREMENTS = ("CIS Amazon EKS Benchmark/4.3.2",)
IN_CLUSTER_TITLE = "EKS cluster {name} should have a NetworkPolicy in every namespace"
IN_CLUSTER_CONTEXT = (
    "CIS Amazon EKS Benchmark 4.3.2: every namespace should have NetworkPolicies, because a "
    "pod that no policy selects accepts traffic from every other pod; checked read-only "
    "from inside the cluster through its Kubernetes API."
)
# Kubernetes documentation, "Network Policies", section "Default policies" (the default-deny
# manifests); EKS user guide, "Grant IAM users access to Kubernetes with EKS access entries"
# and "Cluster API server endpoint".
NETWORK_POLICIES_URL = (
    "https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-policies"
)
ACCESS_ENTRIES_URL = "https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html"
ENDPOINT_URL = "https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html"
URL_BY_REASON = {
    InClusterReason.NOT_ENROLLED: ACCESS_ENTRIES_URL,
    InClusterReason.ACCESS_ENTRIES_UNAVAILABLE: ACCESS_ENTRIES_URL,
    InClusterReason.ENDPOINT_PRIVATE: ENDPOINT_URL,
    InClusterReason.ENDPOINT_UNREACHABLE: ENDPOINT_URL,
    InClusterReason.ENFORCEMENT_NOT_RUNNING: USER_GUIDE_URL,
}
# What to do, by reason, when the verdict's message does not fit the Recommendation.
SHORT_ADVICE = {
    InClusterReason.NOT_ENROLLED: (
        "Grant the auditor's role read-only access: an EKS access entry with "
        "AmazonEKSViewPolicy at cluster scope (aws eks create-access-entry, then aws eks "
        "associate-access-policy)."
    ),
    InClusterReason.ACCESS_ENTRIES_UNAVAILABLE: (
        "Switch the cluster's authentication mode to API_AND_CONFIG_MAP, then enrol the "
        "auditor with an access entry."
    ),
    InClusterReason.ENDPOINT_UNREACHABLE: (
        "Let the auditor reach the cluster's public Kubernetes API endpoint."
    ),
}
MESSAGE_FIELD = f"{PRODUCT_FIELD_PREFIX}Message"
MANIFEST_FIELD = f"{PRODUCT_FIELD_PREFIX}RemediationManifest"
COMMAND_FIELD = f"{PRODUCT_FIELD_PREFIX}RemediationCommand"
# The rules' default-deny manifest (one home: incluster/verdict.py) as one line of JSON, read
# by the package's one YAML reader in its exact mode (the same document under every reading).
DEFAULT_DENY_JSON = json.dumps(read_exact(DEFAULT_DENY_MANIFEST), separators=(",", ":"))
COVERAGE_ADVICE = (
    "First add NetworkPolicies that allow what each application needs (including DNS to "
    "kube-system), then save the default-deny NetworkPolicy in ProductFields "
    f"{MANIFEST_FIELD} as default-deny-all.yaml and apply it to every namespace without a "
    "policy"
)


def _whole(text: str) -> str | None:
    """A ProductFields value published whole or not at all (a cut command is harmful)."""
    return text if len(text) <= MAX_PRODUCT_FIELD_VALUE and "\n" not in text else None


def coverage_commands(verdict: InClusterVerdict) -> str | None:
    """The rules' kubectl commands for the uncovered namespaces, joined into one line."""
    lines = coverage_remediation(verdict.namespaces_without_policy).splitlines()
    return _whole(" && ".join(line for line in lines if line.startswith("kubectl ")))


def in_cluster_severity(verdict: InClusterVerdict) -> str:
    """As for the first control (asff.SEVERITY_BY_STATUS and its reasons): FAILED MEDIUM,
    a hardening gap rather than an exploit; WARNING LOW; a cluster not yet created
    INFORMATIONAL; any other NOT_AVAILABLE LOW, because a cluster the check could not read
    (private endpoint, not enrolled, unreachable) is a gap someone has to close."""
    if verdict.status is ComplianceStatus.FAILED:
        return "MEDIUM"
    if verdict.status is ComplianceStatus.PASSED:
        return "INFORMATIONAL"
    if verdict.reason is InClusterReason.CLUSTER_NOT_READY:
        return "INFORMATIONAL"
    return "LOW"


def in_cluster_description(verdict: InClusterVerdict) -> str:
    """The control, then the verdict's message (one line; clipped at 1,024 characters)."""
    return f"{IN_CLUSTER_CONTEXT} {verdict.message}"


def _coverage_failed(verdict: InClusterVerdict) -> bool:
    return (
        verdict.status is ComplianceStatus.FAILED
        and verdict.reason is InClusterReason.NAMESPACES_WITHOUT_POLICY
    )


def _fits(verdict: InClusterVerdict) -> bool:
    return len(_plain_text(verdict)) <= MAX_RECOMMENDATION_TEXT and "\n" not in verdict.message


def _plain_text(verdict: InClusterVerdict) -> str:
    prefix = "No action needed: " if verdict.status is ComplianceStatus.PASSED else ""
    return prefix + verdict.message.strip()


def in_cluster_recommendation(verdict: InClusterVerdict, region: str) -> dict[str, str]:
    """Remediation.Recommendation, within 512 characters and never a cut command: the
    default-deny steps for uncovered namespaces (the manifest and commands in
    ProductFields), else the message when it fits, else what to do and where the whole
    message is (ProductFields Message; the JSON result's in_cluster.message)."""
    url = URL_BY_REASON.get(verdict.reason, NETWORK_POLICIES_URL)
    if _coverage_failed(verdict):
        commands = coverage_commands(verdict)
        text = f"{COVERAGE_ADVICE}: {commands}" if commands else ""
        if not commands or len(text) > MAX_RECOMMENDATION_TEXT:
            text = f"{COVERAGE_ADVICE} (the commands are in ProductFields {COMMAND_FIELD})."
        return {"Text": clip(text, MAX_RECOMMENDATION_TEXT), "Url": url}
    if _fits(verdict):
        return {"Text": _plain_text(verdict), "Url": url}
    advice = SHORT_ADVICE.get(verdict.reason, "")
    where = (
        f"The whole message, with any commands, is in ProductFields {MESSAGE_FIELD} and in "
        f"`eks-netpol-audit scan --regions {region} --in-cluster --format json` "
        "(in_cluster.message)."
    )
    return {"Text": clip(f"{advice} {where}".strip(), MAX_RECOMMENDATION_TEXT), "Url": url}


def in_cluster_fields(result: ClusterResult, verdict: InClusterVerdict) -> dict[str, str]:
    """ProductFields users filter on: the reason, the enforcing mode and the coverage."""
    facts = result.facts
    namespaces = verdict.namespaces_without_policy
    return named_fields(
        {
            "Control": IN_CLUSTER_CONTROL_ID,
            "Reason": verdict.reason.value,
            "ClusterName": facts.name,
            "ClusterRegion": facts.region,
            "ClusterStatus": facts.status,
            "KubernetesVersion": facts.kubernetes_version,
            "EnforcingMode": verdict.enforcing_mode,
            # Clipped with "..." past 2,048 characters; the count is always whole.
            "NamespacesWithoutPolicy": ", ".join(namespaces) if namespaces else None,
            "NamespacesWithoutPolicyCount": str(len(namespaces)),
            "PodsNotSelected": (
                None if verdict.pods_not_selected is None else str(verdict.pods_not_selected)
            ),
            "RemediationManifest": DEFAULT_DENY_JSON if _coverage_failed(verdict) else None,
            "RemediationCommand": coverage_commands(verdict) if _coverage_failed(verdict) else None,
            # Only when the Recommendation cannot hold the message (whole, or not at all).
            "Message": None if _fits(verdict) else _whole(verdict.message.strip()),
        }
    )


def in_cluster_content(result: ClusterResult, verdict: InClusterVerdict) -> Content:
    return Content(
        control=IN_CLUSTER_CONTROL_ID,
        title=IN_CLUSTER_TITLE,
        description=in_cluster_description(verdict),
        severity=in_cluster_severity(verdict),
        recommendation=in_cluster_recommendation(verdict, result.facts.region),
        fields=in_cluster_fields(result, verdict),
        status=verdict.status,
        requirements=IN_CLUSTER_REQUIREMENTS,
    )


def build_in_cluster_finding(
    result: ClusterResult,
    *,
    delivery_region: str,
    now: datetime,
    existing: Mapping[str, Any] | None = None,
    newest_updated_at: object = None,
) -> dict[str, Any]:
    """The second control's finding for one cluster (see `asff.build_finding` for the
    arguments); only for a cluster whose in-cluster check ran."""
    verdict = result.in_cluster
    if verdict is None:
        raise ValueError(f"{result.facts.name}: the in-cluster check did not run")
    return assemble(
        result.facts,
        in_cluster_content(result, verdict),
        delivery_region=delivery_region,
        now=now,
        existing=existing,
        newest_updated_at=newest_updated_at,
    )
