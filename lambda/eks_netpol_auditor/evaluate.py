"""The product's promise: one cluster's facts in, one verdict out (pure, no AWS calls).

The only reader of configurationValues for a decision: a NETWORK_POLICY_DISABLED verdict
carries its fix (model.Fix, the merged document and the UpdateAddon request) or why none
can be computed (model.NoFix); remediation and every printed command use that fix.

Rules follow the EKS user guide, "Limit pod traffic with Kubernetes network policies"
(https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy.html) and the CIS
Amazon EKS Benchmark control 5.4.4. The first rule that applies wins; the order below is
deliberate: what we cannot see comes first, then what the owner told us, then facts.
"""

from __future__ import annotations

from dataclasses import replace

from .addon_config import (
    ENFORCING_MODE_ENV,
    STRICT_MODE,
    ConfigurationError,
    enable_change,
    enforcing_mode,
    network_policy_enabled,
    read_for_verdict,
    why_not_enabled,
)
from .incluster.enforcement import CONTROLLER_KEY, controller_problem
from .incluster.model import ClusterObjects, ReadFailure
from .model import (
    EXEMPT_TAG,
    NOT_READY_CLUSTER_STATUSES,
    VPC_CNI_ADDON,
    AddonFacts,
    ClusterFacts,
    ComplianceStatus,
    Fix,
    NoFix,
    Reason,
    UpdateRequest,
    Verdict,
    client_request_token,
)
from .versions import (
    addon_supports_network_policy,
    kubernetes_supports_network_policy,
    parse_platform_version,
    platform_version_required,
)

# Addon.status (EKS API reference, Addon): healthy states in which the configuration applies.
HEALTHY_ADDON_STATUSES = frozenset({"ACTIVE", "UPDATING"})

USER_GUIDE_URL = "https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy.html"
AUTO_MODE_GUIDE_URL = "https://docs.aws.amazon.com/eks/latest/userguide/auto-net-pol.html"


def evaluate(facts: ClusterFacts) -> Verdict:
    """Decide PASSED/FAILED/WARNING/NOT_AVAILABLE for one cluster, with its enforcing mode."""
    return replace(_decide(facts), enforcing_mode=enforcing_mode_of(facts))


def enforcing_mode_of(facts: ClusterFacts) -> str | None:
    """The add-on's enforcing mode (addon_config.enforcing_mode); None when there is no
    add-on, it is not set, or it cannot be read exactly. The one place both controls get it."""
    return _enforcing_mode(facts)[0]


def _enforcing_mode(facts: ClusterFacts) -> tuple[str | None, str | None]:
    """(mode, why it could not be read)."""
    if facts.addon is None or facts.error is not None:
        return None, None
    try:
        return enforcing_mode(facts.addon.configuration_values), None
    except ConfigurationError as error:
        return None, str(error)


def _decide(facts: ClusterFacts) -> Verdict:
    if facts.error is not None:
        return Verdict(
            ComplianceStatus.NOT_AVAILABLE,
            Reason.EVALUATION_ERROR,
            f"Could not read the cluster after retries: {facts.error}. "
            "Check the auditor's IAM permissions and retry.",
        )
    if facts.status in NOT_READY_CLUSTER_STATUSES:
        return Verdict(
            ComplianceStatus.NOT_AVAILABLE,
            Reason.CLUSTER_NOT_READY,
            f"Cluster is {facts.status}; it will be evaluated once it is ACTIVE.",
        )
    exemption = facts.tags.get(EXEMPT_TAG)
    if exemption is not None:
        return Verdict(
            ComplianceStatus.WARNING,
            Reason.EXEMPTED,
            f"Exempted by tag {EXEMPT_TAG}={exemption!r}; network policy enforcement is "
            "not verified by this auditor. Remove the tag to audit the cluster.",
        )
    if facts.auto_mode:
        return _auto_mode(facts.kube)
    addon = facts.addon
    if addon is None:
        return Verdict(
            ComplianceStatus.FAILED,
            Reason.ADDON_NOT_INSTALLED,
            f"No managed {VPC_CNI_ADDON} add-on. If the cluster uses the Amazon VPC CNI, "
            f"install it as a managed add-on with network policy enabled ({USER_GUIDE_URL}); "
            "if another CNI enforces NetworkPolicy (Calico, Cilium), tag the cluster "
            f"{EXEMPT_TAG}=<cni name>.",
        )
    return _with_addon(facts, addon)


def _with_addon(facts: ClusterFacts, addon: AddonFacts) -> Verdict:
    """The rest of the table, for a cluster that has the managed vpc-cni add-on."""
    if not kubernetes_supports_network_policy(facts.kubernetes_version, facts.platform_version):
        unreadable = (
            platform_version_required(facts.kubernetes_version)
            and parse_platform_version(facts.platform_version or "") is None
        )
        return Verdict(
            ComplianceStatus.FAILED,
            Reason.KUBERNETES_VERSION_UNSUPPORTED,
            f"Kubernetes {facts.kubernetes_version} ({facts.platform_version}) cannot enforce "
            "network policy with the VPC CNI"
            + (
                ", or the platform version (not eks.N) cannot show that it can"
                if unreadable
                else ""
            )
            + ": upgrade the cluster to 1.25 or later (platform 1.25 eks.7, 1.26 eks.6, "
            "1.27 eks.5 or later) first.",
        )
    if not addon_supports_network_policy(addon.version):
        return Verdict(
            ComplianceStatus.FAILED,
            Reason.ADDON_VERSION_UNSUPPORTED,
            f"{VPC_CNI_ADDON} {addon.version} cannot enforce network policy: upgrade the "
            "add-on to v1.14.0-eksbuild.3 or later first, then enable enableNetworkPolicy.",
        )
    try:
        document = read_for_verdict(addon.configuration_values)
    except ConfigurationError as error:
        return Verdict(
            ComplianceStatus.FAILED,
            Reason.NETWORK_POLICY_DISABLED,
            f"{error}; network policy cannot be confirmed. Fix the add-on configuration.",
            fix=NoFix(str(error)),
        )
    if not network_policy_enabled(document):
        return _disabled(facts, addon, why_not_enabled(document))
    if addon.status not in HEALTHY_ADDON_STATUSES:
        issues = f" ({', '.join(addon.health_issues)})" if addon.health_issues else ""
        return Verdict(
            ComplianceStatus.WARNING,
            Reason.ADDON_UNHEALTHY,
            f'enableNetworkPolicy is "true" but the {VPC_CNI_ADDON} add-on is '
            f"{addon.status}{issues}: enforcement may not be running. Check the add-on's "
            "health issues and the aws-node pods.",
        )
    return Verdict(
        ComplianceStatus.PASSED,
        Reason.NETWORK_POLICY_ENABLED,
        f"Network policy enforcement is enabled in {VPC_CNI_ADDON} {addon.version}. "
        + _unselected_pods(facts),
    )


def _unselected_pods(facts: ClusterFacts) -> str:
    """What PASSED says about pods that no NetworkPolicy selects, by enforcing mode.

    Standard (or unset): such a pod is non-isolated and accepts all traffic (Kubernetes
    documentation, "Network Policies", the two sorts of pod isolation). Strict: the node agent
    gives it default deny (addon_config.enforcing_mode). Only in-cluster objects, which the
    EKS API cannot show, say which pods are selected.
    """
    mode, unreadable = _enforcing_mode(facts)
    if mode == STRICT_MODE:
        return (
            f"Enforcing mode is strict ({ENFORCING_MODE_ENV}=strict): pods that no "
            "NetworkPolicy selects are default-deny (no traffic in or out until a policy "
            "allows it; host-network pods excepted). This does not show which pods any "
            "NetworkPolicy selects (check with kubectl get networkpolicy -A)."
        )
    why = (
        f"{ENFORCING_MODE_ENV} could not be read exactly ({unreadable}), so standard is assumed"
        if unreadable
        else f"enforcing mode is {mode or 'standard (not set)'}"
    )
    return (
        f"Default-allow: {why}. This does not show that any NetworkPolicy selects the "
        "cluster's pods: pods that no policy selects still accept all traffic (check with "
        "kubectl get networkpolicy -A)."
    )


def _auto_mode(kube: ClusterObjects | ReadFailure | None) -> Verdict:
    """EKS Auto Mode has no vpc-cni add-on: network policy is turned on in-cluster, by ConfigMap
    kube-system/amazon-vpc-cni `enable-network-policy-controller: "true"` and a NodeClass with
    `spec.networkPolicy` (EKS user guide, "Use Network Policies with EKS Auto Mode",
    auto-net-pol.html, Steps 1 and 2; "Create a Node Class", networkPolicy DefaultAllow or
    DefaultDeny). The EKS API shows neither; with the in-cluster check on, the ConfigMap is
    read (incluster.enforcement). NodeClass objects are not: AmazonEKSViewPolicy does not
    cover eks.amazonaws.com resources, so the finding says that half is unseen.
    """
    if not isinstance(kube, ClusterObjects):
        failed = f" The in-cluster read failed: {kube.message}." if kube is not None else ""
        return Verdict(
            ComplianceStatus.WARNING,
            Reason.AUTO_MODE_NOT_VERIFIABLE,
            "EKS Auto Mode cluster: enforcement is configured in-cluster (ConfigMap "
            "amazon-vpc-cni enable-network-policy-controller and NodeClass "
            "spec.networkPolicy), which the EKS API cannot show."
            + failed
            + " Turn on the in-cluster check (IN_CLUSTER_CHECK) or verify it with kubectl.",
        )
    unseen = (
        "Not seen: each NodeClass's spec.networkPolicy (DefaultAllow or DefaultDeny, what "
        "pods no policy selects get), which AmazonEKSViewPolicy cannot read; check with "
        "kubectl get nodeclass -o yaml."
    )
    problem = controller_problem(kube.vpc_cni_config)
    if problem is None:
        return Verdict(
            ComplianceStatus.PASSED,
            Reason.AUTO_MODE_NETWORK_POLICY_ENABLED,
            f'EKS Auto Mode cluster: {CONTROLLER_KEY} is "true" in ConfigMap '
            f"kube-system/amazon-vpc-cni, so the network policy controller is on. {unseen}",
        )
    command = (
        "kubectl create configmap amazon-vpc-cni -n kube-system "
        f"--from-literal={CONTROLLER_KEY}=true"
        if kube.vpc_cni_config is None
        else "kubectl patch configmap amazon-vpc-cni -n kube-system --type merge -p "
        f'\'{{"data":{{"{CONTROLLER_KEY}":"true"}}}}\''
    )
    return Verdict(
        ComplianceStatus.FAILED,
        Reason.AUTO_MODE_NETWORK_POLICY_DISABLED,
        f"EKS Auto Mode cluster: {problem}, so no NetworkPolicy is enforced. Turn the "
        f"controller on in-cluster ({AUTO_MODE_GUIDE_URL}): {command}; then give the "
        f"NodeClass spec.networkPolicy. {unseen}",
    )


def _disabled(facts: ClusterFacts, addon: AddonFacts, why: str) -> Verdict:
    """FAILED, with the fix when the exact reading allows one, else why not."""
    problem = f"{why} in the vpc-cni configuration, so pods can reach every other pod."
    try:
        change = enable_change(addon.configuration_values)
    except ConfigurationError as error:
        return Verdict(
            ComplianceStatus.FAILED,
            Reason.NETWORK_POLICY_DISABLED,
            f"{problem} No command is offered because the configuration cannot be re-sent "
            f'exactly ({error}); set enableNetworkPolicy to "true" by hand, keeping the '
            "existing settings.",
            fix=NoFix(str(error)),
        )
    token = client_request_token(facts.arn, addon.version, change.payload, addon.modified_at)
    fix = Fix(
        region=facts.region,
        addon_version=addon.version,
        merged=change.merged,
        request=UpdateRequest(facts.name, change.payload, token),
    )
    return Verdict(
        ComplianceStatus.FAILED,
        Reason.NETWORK_POLICY_DISABLED,
        f"{problem} Enable it, keeping the existing settings: {fix.command}",
        fix=fix,
    )
