"""The second control's verdict: CIS Amazon EKS Benchmark 4.3.2, "Ensure that all Namespaces
have Network Policies defined" (pure, boto3-free).

The table (docs/in-cluster.md), first matching row wins: what stops the check before any
object is seen (cluster state, the owner's exemption, reachability, access), then whether
enforcement runs at all (a NetworkPolicy nobody enforces protects nothing), then strict mode
(every unselected pod is already default-deny), then namespace coverage.

Why a namespace with pods and no NetworkPolicy fails: "By default, a pod is non-isolated for
egress ... [and] for ingress" until a NetworkPolicy selects it (Kubernetes documentation,
"Network Policies", The two sorts of pod isolation). The rationale of CIS 4.3.2 says the same.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..addon_config import STRICT_MODE
from ..evaluate import enforcing_mode_of
from ..model import EXEMPT_TAG, ClusterFacts
from ..status import ComplianceStatus
from .access import VIEW_POLICY_NAME, access_entry_principal, enrolment_commands
from .enforcement import agent_problem, controller_problem, running_enforcing_mode
from .model import (
    ClusterObjects,
    FailureKind,
    InClusterReason,
    InClusterVerdict,
    NamespaceMeta,
    PodMeta,
    ReadFailure,
)
from .selectors import (
    LabelSelector,
    SelectorError,
    parse_selector,
    policy_namespace,
    policy_pod_selector,
)

# How many uncovered namespaces a message names; the JSON lists them all.
NAMES_SHOWN = 5
# The access policy the auditor needs (EKS user guide, "Review access policy permissions",
# AmazonEKSViewPolicy: get/list/watch on namespaces, pods, configmaps, daemonsets and
# networkpolicies, no secrets), at cluster scope.
ACCESS_ENTRIES_GUIDE = "https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html"


def evaluate_in_cluster(
    facts: ClusterFacts, excluded: frozenset[str], *, principal_arn: str | None = None
) -> InClusterVerdict:
    """The second control's verdict for one cluster.

    `excluded`: namespaces never counted (DEFAULT_EXCLUDED_NAMESPACES plus the user's).
    `principal_arn`: the auditor's identity as GetCallerIdentity returns it (a role session
    is turned into its role ARN), for the enrolment commands of NOT_ENROLLED.
    """
    mode = enforcing_mode_of(facts)
    verdict = _before_reading(facts, principal_arn)
    if isinstance(verdict, ClusterObjects):
        verdict = _with_objects(facts, verdict, excluded, mode)
    return InClusterVerdict(
        verdict.status,
        verdict.reason,
        verdict.message,
        enforcing_mode=mode,
        namespaces_without_policy=verdict.namespaces_without_policy,
        pods_not_selected=verdict.pods_not_selected,
    )


def _verdict(status: ComplianceStatus, reason: InClusterReason, message: str) -> InClusterVerdict:
    return InClusterVerdict(status, reason, message)


def _before_reading(
    facts: ClusterFacts, principal_arn: str | None
) -> InClusterVerdict | ClusterObjects:
    """The rows decided without cluster objects, or the objects that decide the rest."""
    na = ComplianceStatus.NOT_AVAILABLE
    if facts.error is not None:
        return _verdict(
            na,
            InClusterReason.EVALUATION_ERROR,
            f"Could not read the cluster after retries: {facts.error}. Check the auditor's "
            "IAM permissions and retry.",
        )
    if facts.status != "ACTIVE":
        return _verdict(
            na,
            InClusterReason.CLUSTER_NOT_READY,
            f"Cluster is {facts.status}; its namespaces are checked once it is ACTIVE.",
        )
    exemption = facts.tags.get(EXEMPT_TAG)
    if exemption is not None:
        return _verdict(
            ComplianceStatus.WARNING,
            InClusterReason.EXEMPTED,
            f"Exempted by tag {EXEMPT_TAG}={exemption!r}; namespace coverage is not verified "
            "by this auditor. Remove the tag to audit the cluster.",
        )
    api = facts.api
    if api is not None and not api.public_access:
        return _verdict(
            na,
            InClusterReason.ENDPOINT_PRIVATE,
            "The cluster's API server endpoint is private only (endpointPublicAccess false) "
            "and the auditor runs outside its VPC, so no connection was attempted. Check from "
            "inside the VPC (kubectl get networkpolicy -A), or enable the public endpoint.",
        )
    kube = facts.kube
    if isinstance(kube, ReadFailure):
        return _read_failure(facts, kube, principal_arn)
    if kube is None:
        return _verdict(
            na,
            InClusterReason.READ_INCOMPLETE,
            "The cluster's Kubernetes objects were not read this run; nothing is concluded.",
        )
    return kube


def _read_failure(
    facts: ClusterFacts, failure: ReadFailure, principal_arn: str | None
) -> InClusterVerdict:
    na = ComplianceStatus.NOT_AVAILABLE
    if failure.kind is FailureKind.UNREACHABLE:
        cidrs = facts.api.public_access_cidrs if facts.api is not None else ()
        limited = ""
        if cidrs and "0.0.0.0/0" not in cidrs:
            limited = (
                f" Its public endpoint admits only {', '.join(cidrs)} (publicAccessCidrs); "
                "the auditor's Lambda has no fixed egress address, so it is likely refused."
            )
        return _verdict(
            na,
            InClusterReason.ENDPOINT_UNREACHABLE,
            f"Could not reach the cluster's Kubernetes API: {failure.message}.{limited}",
        )
    if failure.kind is FailureKind.UNAUTHORIZED:
        mode = facts.api.authentication_mode if facts.api is not None else None
        if mode == "CONFIG_MAP":
            return _verdict(na, InClusterReason.ACCESS_ENTRIES_UNAVAILABLE, _config_map(facts))
        return _verdict(
            na, InClusterReason.NOT_ENROLLED, _not_enrolled(facts, failure, principal_arn)
        )
    return _verdict(
        na,
        InClusterReason.READ_INCOMPLETE,
        f"The in-cluster read did not complete: {failure.message}. Nothing is concluded from "
        "a partial read; the next run reads again.",
    )


def _not_enrolled(facts: ClusterFacts, failure: ReadFailure, principal_arn: str | None) -> str:
    principal = (
        access_entry_principal(principal_arn)
        if principal_arn
        else "<the auditor role ARN (stack Output)>"
    )
    create, associate = enrolment_commands(
        principal, facts.name, facts.region, partition=facts.partition
    )
    # EKS answers 401 to a principal it cannot map (no access entry) and 403 when the entry's
    # policies do not allow the read (Kubernetes documentation, "Authenticating" and
    # "Authorization": 401 for an unauthenticated request, 403 for a denied one).
    why = (
        f"its access entry does not grant {VIEW_POLICY_NAME} at cluster scope"
        if failure.http_status == 403
        else f"it has no access entry with {VIEW_POLICY_NAME}"
    )
    return (
        f"The auditor may not read this cluster ({failure.message}): {why}. Grant it "
        f"read-only access at cluster scope (skip the first command if the entry exists): "
        f"{create} && {associate}"
    )


def _config_map(facts: ClusterFacts) -> str:
    return (
        "The cluster's authentication mode is CONFIG_MAP, which has no access entries, so the "
        "auditor cannot be granted access the supported way. Switch it to API_AND_CONFIG_MAP "
        "(one-way; existing aws-auth mappings keep working): aws eks update-cluster-config "
        f"--region {facts.region} --name {shlex.quote(facts.name)} --access-config "
        "authenticationMode=API_AND_CONFIG_MAP, then create the access entry "
        f"({ACCESS_ENTRIES_GUIDE})."
    )


# ---------------------------------------------------------------------------- with objects


def _with_objects(
    facts: ClusterFacts, kube: ClusterObjects, excluded: frozenset[str], mode: str | None
) -> InClusterVerdict:
    # On EKS Auto Mode the node agent is not the aws-node DaemonSet (AWS runs networking on
    # the nodes): the ConfigMap alone says whether enforcement is on (auto-net-pol.html).
    problems = [controller_problem(kube.vpc_cni_config)]
    if not facts.auto_mode:
        problems.append(agent_problem(kube.aws_node))
    found = [problem for problem in problems if problem is not None]
    if found:
        return _verdict(
            ComplianceStatus.FAILED,
            InClusterReason.ENFORCEMENT_NOT_RUNNING,
            f"Network policy is not enforced: {'; '.join(found)}. No NetworkPolicy has any "
            "effect until it is; fix this first (see the first control's finding).",
        )
    running = None if facts.auto_mode else running_enforcing_mode(kube.aws_node)
    if mode == STRICT_MODE and running == STRICT_MODE:
        return _verdict(
            ComplianceStatus.PASSED,
            InClusterReason.DEFAULT_DENY,
            "Strict enforcing mode, node agent running: every pod that no NetworkPolicy "
            "selects is denied all traffic (host-network pods excepted).",
        )
    mismatch = ""
    if mode == STRICT_MODE:
        mismatch = (
            f" The add-on sets strict mode but aws-node runs with {running or 'no mode set'}, "
            "so unselected pods are not taken as default-deny."
        )
    return _coverage(kube, excluded, mismatch)


@dataclass(frozen=True)
class _Coverage:
    namespaces_without_policy: tuple[str, ...]
    pods_not_selected: int


def _pods(count: int) -> str:
    return f"{count} pod{'' if count == 1 else 's'}"


def _coverage(kube: ClusterObjects, excluded: frozenset[str], note: str) -> InClusterVerdict:
    coverage = namespace_coverage(kube, excluded)
    if kube.cluster_policies is None:
        note += " ClusterNetworkPolicy objects could not be read, so none was counted."
    uncovered = coverage.namespaces_without_policy
    unselected = (
        f"{_pods(coverage.pods_not_selected)} outside the exclusion list "
        f"{'is' if coverage.pods_not_selected == 1 else 'are'} selected by no policy and "
        "accept all traffic."
    )
    if uncovered:
        shown = ", ".join(uncovered[:NAMES_SHOWN])
        more = f" and {len(uncovered) - NAMES_SHOWN} more" if len(uncovered) > NAMES_SHOWN else ""
        count = (
            "1 namespace with pods has"
            if len(uncovered) == 1
            else (f"{len(uncovered)} namespaces with pods have")
        )
        return InClusterVerdict(
            ComplianceStatus.FAILED,
            InClusterReason.NAMESPACES_WITHOUT_POLICY,
            f"{count} no NetworkPolicy: {shown}{more}. {unselected} Add a default-deny "
            f"NetworkPolicy to each (kubectl apply -n {shlex.quote(uncovered[0])} -f "
            "default-deny-all.yaml; the manifest is in the finding's remediation), after "
            f"policies that allow what each application needs.{note}",
            namespaces_without_policy=uncovered,
            pods_not_selected=coverage.pods_not_selected,
        )
    return InClusterVerdict(
        ComplianceStatus.PASSED,
        InClusterReason.NAMESPACES_COVERED,
        f"Every namespace with pods outside the exclusion list has a NetworkPolicy. {unselected}"
        f"{note}",
        pods_not_selected=coverage.pods_not_selected,
    )


def namespace_coverage(kube: ClusterObjects, excluded: frozenset[str]) -> _Coverage:
    """Namespaces outside `excluded` with pods and neither a NetworkPolicy nor a cluster-wide
    Deny over all their pods, and how many of their pods no policy selects.

    CIS 4.3.2 asks that each namespace *has* a NetworkPolicy; which pods its policies select
    is counted separately (pods_not_selected), since a policy may select only some.
    """
    labels = {ns.name: ns for ns in kube.namespaces}
    selectors: dict[str | None, list[LabelSelector | None]] = {}
    for policy in kube.network_policies:
        selectors.setdefault(policy_namespace(policy), []).append(policy_pod_selector(policy))
    denies = [deny for cnp in kube.cluster_policies or () if (deny := ClusterDeny.of(cnp))]
    pods_by_namespace: dict[str, list[PodMeta]] = {}
    for pod in kube.pods:
        if pod.namespace not in excluded:
            pods_by_namespace.setdefault(pod.namespace, []).append(pod)
    uncovered: list[str] = []
    not_selected = 0
    for name, pods in sorted(pods_by_namespace.items()):
        namespace = labels.get(name)  # unknown namespace: no cluster-wide selector can match
        own = selectors.get(name, [])
        all_denied = True
        for pod in pods:
            denied = namespace is not None and any(d.covers(namespace, pod) for d in denies)
            all_denied = all_denied and denied
            if not denied and not any(s is not None and s.matches(pod.labels) for s in own):
                not_selected += 1
        if name not in selectors and not all_denied:
            uncovered.append(name)
    return _Coverage(tuple(uncovered), not_selected)


# ---------------------------------------------------------------------------- cluster policies


@dataclass(frozen=True)
class ClusterDeny:
    """An EKS ClusterNetworkPolicy (networking.k8s.aws/v1alpha1; EKS user guide, "Limit Pod
    traffic with Kubernetes network policies", admin network policies; the shape is the one
    aws-network-policy-agent's yamls/clusternetworkpolicy.yaml and test manifests use) that
    denies all traffic of its subject: `spec.subject` is `namespaces` (a label selector) or
    `pods` (`namespaceSelector` + `podSelector`), and the first rule, in order, whose peers
    are every pod of the cluster (an empty `namespaces` selector, or `pods` with both
    selectors empty) or every address (`networks` 0.0.0.0/0 or ::/0) and no `ports` has
    action `Deny` (rules are evaluated top to bottom within a policy, first match wins).

    Not weighed (documented in docs/in-cluster.md): another ClusterNetworkPolicy of a higher
    tier or priority that accepts or passes the same traffic first.
    """

    namespace_selector: Any
    pod_selector: Any

    @classmethod
    def of(cls, policy: Mapping[str, Any]) -> ClusterDeny | None:
        spec = policy.get("spec")
        if not isinstance(spec, Mapping):
            return None
        subject = spec.get("subject")
        if not isinstance(subject, Mapping) or not _denies_everything(spec):
            return None
        try:
            if "namespaces" in subject:
                return cls(parse_selector(subject["namespaces"]), parse_selector({}))
            pods = subject.get("pods")
            if isinstance(pods, Mapping):
                return cls(
                    parse_selector(pods.get("namespaceSelector")),
                    parse_selector(pods.get("podSelector")),
                )
        except SelectorError:
            return None
        return None

    def covers(self, namespace: NamespaceMeta, pod: PodMeta) -> bool:
        ns, pods = self.namespace_selector, self.pod_selector
        return (
            ns is not None
            and pods is not None
            and ns.matches(namespace.labels)
            and pods.matches(pod.labels)
        )


_EVERY_ADDRESS = frozenset({"0.0.0.0/0", "::/0"})


def _selects_all(raw: object) -> bool:
    """An empty selector (`{}`, `matchLabels: {}`): it matches every object."""
    try:
        selector = parse_selector(raw)
    except SelectorError:
        return False
    return selector is not None and not selector.requirements


def _everyone(peer: object) -> bool:
    if not isinstance(peer, Mapping):
        return False
    if "namespaces" in peer and _selects_all(peer["namespaces"]):
        return True
    pods = peer.get("pods")
    if isinstance(pods, Mapping) and all(
        _selects_all(pods.get(key)) for key in ("namespaceSelector", "podSelector")
    ):
        return True
    networks = peer.get("networks")
    return isinstance(networks, list) and bool(_EVERY_ADDRESS & set(networks))


def _first_catch_all(rules: object, peers_key: str) -> str | None:
    """The action of the first rule that applies to all traffic of its direction."""
    if not isinstance(rules, list):
        return None
    for rule in rules:
        if not isinstance(rule, Mapping) or rule.get("ports"):
            continue
        peers = rule.get(peers_key)
        if isinstance(peers, list) and any(_everyone(peer) for peer in peers):
            action = rule.get("action")
            return action if isinstance(action, str) else None
    return None


def _denies_everything(spec: Mapping[str, Any]) -> bool:
    """An ingress or egress catch-all whose first match is Deny (either direction isolates,
    as a default-deny NetworkPolicy for one direction does)."""
    return "Deny" in (
        _first_catch_all(spec.get("ingress"), "from"),
        _first_catch_all(spec.get("egress"), "to"),
    )


# ---------------------------------------------------------------------------- remediation

# Kubernetes documentation, "Network Policies", "Default deny all ingress and all egress
# traffic": an empty podSelector selects every pod of the namespace; no rules allow anything.
DEFAULT_DENY_MANIFEST = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-all
spec:
  podSelector: {}
  policyTypes:
  - Ingress
  - Egress
"""


def coverage_remediation(namespaces: Iterable[str]) -> str:
    """The FAILED finding's remediation text: the manifest and the kubectl commands. No tool
    writes it for the user: a default deny written blindly can break an application."""
    names = list(namespaces)[:NAMES_SHOWN] or ["<namespace>"]
    commands = "\n".join(
        f"kubectl apply -n {shlex.quote(name)} -f default-deny-all.yaml" for name in names
    )
    return (
        "Save this default-deny NetworkPolicy as default-deny-all.yaml (Kubernetes "
        'documentation, "Network Policies", default deny all ingress and all egress traffic):\n'
        f"{DEFAULT_DENY_MANIFEST}"
        "First add policies that allow what each application needs (including DNS to "
        "kube-system), then apply it to every namespace without a policy:\n"
        f"{commands}"
    )
