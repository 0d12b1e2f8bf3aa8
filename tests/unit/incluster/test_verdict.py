"""Every row of the second control's table (docs/in-cluster.md), one case each, through the
pure rules (builders in tests/builders.py); the sandbox's Kubernetes API pins them end to end."""

from __future__ import annotations

import shlex
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eks_netpol_auditor.incluster.access import access_entry_principal
from eks_netpol_auditor.incluster.model import (
    DEFAULT_EXCLUDED_NAMESPACES,
    ClusterObjects,
    FailureKind,
    InClusterReason,
    ReadFailure,
)
from eks_netpol_auditor.incluster.verdict import (
    DEFAULT_DENY_MANIFEST,
    coverage_remediation,
    evaluate_in_cluster,
)
from eks_netpol_auditor.model import ClusterFacts, ComplianceStatus
from tests.builders import (
    STRICT_CONFIG,
    addon_facts,
    api_access,
    aws_node,
    cluster_facts,
    cluster_objects,
    namespace,
    network_policy,
    pod,
)

R = InClusterReason
S = ComplianceStatus
EXCLUDED = DEFAULT_EXCLUDED_NAMESPACES
ROLE_SESSION = "arn:aws:sts::123456789012:assumed-role/eks-netpol-auditor-role/fn-session"
ROLE = "arn:aws:iam::123456789012:role/eks-netpol-auditor-role"


def objects(**overrides: Any) -> ClusterFacts:
    return cluster_facts(kube=cluster_objects(**overrides))


def failure(kind: FailureKind, message: str = "boom", status: int | None = None) -> ReadFailure:
    return ReadFailure(kind, message, status)


STRICT = addon_facts(configuration_values=STRICT_CONFIG)
UNCOVERED = (pod("shop", "web-1", app="web"), pod("blog", "wp-1", app="wp"))
NAMESPACES = (namespace("kube-system"), namespace("shop"), namespace("blog"))
CNP_DENY_ALL: dict[str, Any] = {
    "apiVersion": "networking.k8s.aws/v1alpha1",
    "kind": "ClusterNetworkPolicy",
    "metadata": {"name": "baseline-deny"},
    "spec": {
        "tier": "Baseline",
        "priority": 100,
        "subject": {"namespaces": {}},
        "ingress": [{"name": "deny-all", "action": "Deny", "from": [{"namespaces": {}}]}],
    },
}

CASES: list[tuple[str, ClusterFacts, S, R]] = [
    (
        "DescribeCluster failed",
        cluster_facts(error="AccessDenied", kube=None),
        S.NOT_AVAILABLE,
        R.EVALUATION_ERROR,
    ),
    (
        "cluster UPDATING",
        cluster_facts(status="UPDATING", kube=None),
        S.NOT_AVAILABLE,
        R.CLUSTER_NOT_READY,
    ),
    (
        "cluster CREATING",
        cluster_facts(status="CREATING", kube=None),
        S.NOT_AVAILABLE,
        R.CLUSTER_NOT_READY,
    ),
    (
        "exempt tag wins over every fact",
        cluster_facts(tags={"eks-netpol-auditor:exempt": "cilium"}, kube=None),
        S.WARNING,
        R.EXEMPTED,
    ),
    (
        "private-only endpoint",
        cluster_facts(api=api_access(public_access=False), kube=None),
        S.NOT_AVAILABLE,
        R.ENDPOINT_PRIVATE,
    ),
    (
        "connection refused / timeout / TLS",
        cluster_facts(kube=failure(FailureKind.UNREACHABLE, "certificate verify failed")),
        S.NOT_AVAILABLE,
        R.ENDPOINT_UNREACHABLE,
    ),
    (
        "CONFIG_MAP authentication and 403",
        cluster_facts(
            api=api_access(authentication_mode="CONFIG_MAP"),
            kube=failure(FailureKind.UNAUTHORIZED, "HTTP 403", 403),
        ),
        S.NOT_AVAILABLE,
        R.ACCESS_ENTRIES_UNAVAILABLE,
    ),
    (
        "401 on a required read",
        cluster_facts(kube=failure(FailureKind.UNAUTHORIZED, "HTTP 401", 401)),
        S.NOT_AVAILABLE,
        R.NOT_ENROLLED,
    ),
    (
        "response over the byte cap",
        cluster_facts(kube=failure(FailureKind.INCOMPLETE, "response over 8 MiB")),
        S.NOT_AVAILABLE,
        R.READ_INCOMPLETE,
    ),
    ("objects not read", cluster_facts(kube=None), S.NOT_AVAILABLE, R.READ_INCOMPLETE),
    (
        "controller off",
        objects(vpc_cni_config={"enable-network-policy-controller": "false"}),
        S.FAILED,
        R.ENFORCEMENT_NOT_RUNNING,
    ),
    (
        "no node agent container",
        objects(aws_node=aws_node(agent=False)),
        S.FAILED,
        R.ENFORCEMENT_NOT_RUNNING,
    ),
    (
        "agent without --enable-network-policy=true",
        objects(aws_node=aws_node(args=("--enable-network-policy=false",))),
        S.FAILED,
        R.ENFORCEMENT_NOT_RUNNING,
    ),
    (
        "agent pods not all ready",
        objects(aws_node=aws_node(ready=2)),
        S.FAILED,
        R.ENFORCEMENT_NOT_RUNNING,
    ),
    (
        "strict mode, agent running (even with uncovered namespaces)",
        cluster_facts(
            addon=STRICT, kube=cluster_objects(aws_node=aws_node(mode="strict"), pods=UNCOVERED)
        ),
        S.PASSED,
        R.DEFAULT_DENY,
    ),
    (
        "namespace with pods and no policy",
        objects(pods=UNCOVERED),
        S.FAILED,
        R.NAMESPACES_WITHOUT_POLICY,
    ),
    ("every namespace has a policy", objects(), S.PASSED, R.NAMESPACES_COVERED),
]


@pytest.mark.parametrize(
    ("facts", "status", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_verdict_table(facts: ClusterFacts, status: S, reason: R) -> None:
    verdict = evaluate_in_cluster(facts, EXCLUDED)
    assert (verdict.status, verdict.reason) == (status, reason)
    assert verdict.message


def test_the_table_covers_every_reason() -> None:
    assert {case[3] for case in CASES} == set(InClusterReason)


# ---------------------------------------------------------------------------- messages


def test_unreachable_says_the_cause_and_when_public_cidrs_exclude_everyone() -> None:
    kube = failure(FailureKind.UNREACHABLE, "connect timeout after 3 s")
    open_to_all = evaluate_in_cluster(cluster_facts(kube=kube), EXCLUDED).message
    assert "connect timeout after 3 s" in open_to_all and "publicAccessCidrs" not in open_to_all
    limited = cluster_facts(api=api_access(public_access_cidrs=("203.0.113.0/24",)), kube=kube)
    message = evaluate_in_cluster(limited, EXCLUDED).message
    assert "203.0.113.0/24" in message and "publicAccessCidrs" in message


def test_not_enrolled_carries_the_exact_commands_with_the_role_arn() -> None:
    facts = cluster_facts(kube=failure(FailureKind.UNAUTHORIZED, "HTTP 403", 403))
    message = evaluate_in_cluster(facts, EXCLUDED, principal_arn=ROLE_SESSION).message
    create, associate = message[message.index("aws eks create-access-entry") :].split(" && ")
    for command in (shlex.split(create), shlex.split(associate)):
        assert command[command.index("--principal-arn") + 1] == ROLE
        assert command[command.index("--cluster-name") + 1] == "prod"
        assert command[command.index("--region") + 1] == "eu-west-1"
    assert shlex.split(create)[:3] == ["aws", "eks", "create-access-entry"]
    assert "--type" in create and "STANDARD" in create
    words = shlex.split(associate)
    assert words[:3] == ["aws", "eks", "associate-access-policy"]
    assert words[words.index("--policy-arn") + 1] == (
        "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
    )
    assert words[words.index("--access-scope") + 1] == "type=cluster"


def test_the_access_entry_names_the_role_not_the_session() -> None:
    """CreateAccessEntry: "You can't use the STS session principal type"."""
    assert access_entry_principal(ROLE_SESSION) == ROLE
    assert access_entry_principal(ROLE) == ROLE
    gov = "arn:aws-us-gov:sts::123456789012:assumed-role/r/s"
    assert access_entry_principal(gov) == "arn:aws-us-gov:iam::123456789012:role/r"


def test_access_entries_unavailable_says_how_to_switch_the_mode() -> None:
    facts = cluster_facts(
        api=api_access(authentication_mode="CONFIG_MAP"),
        kube=failure(FailureKind.UNAUTHORIZED, "HTTP 403", 403),
    )
    message = evaluate_in_cluster(facts, EXCLUDED).message
    assert "authenticationMode=API_AND_CONFIG_MAP" in message and "update-cluster-config" in message


@pytest.mark.parametrize(
    ("kube", "said"),
    [
        (
            cluster_objects(vpc_cni_config=None),
            "ConfigMap kube-system/amazon-vpc-cni does not exist",
        ),
        (cluster_objects(vpc_cni_config={"enable-network-policy-controller": "TRUE"}), "'TRUE'"),
        (cluster_objects(aws_node=None), "DaemonSet kube-system/aws-node does not exist"),
        (cluster_objects(aws_node=aws_node(agent=False)), "no aws-eks-nodeagent container"),
        (
            cluster_objects(aws_node=aws_node(image="example.com/other-agent:v1")),
            "not aws-network-policy-agent",
        ),
        (
            cluster_objects(aws_node=aws_node(args=())),
            "lacks the argument --enable-network-policy=true",
        ),
        (cluster_objects(aws_node=aws_node(desired=3, ready=1)), "only 1 of 3 aws-node pods"),
    ],
)
def test_enforcement_not_running_says_which_part(kube: ClusterObjects, said: str) -> None:
    verdict = evaluate_in_cluster(cluster_facts(kube=kube), EXCLUDED)
    assert verdict.reason is R.ENFORCEMENT_NOT_RUNNING
    assert said in verdict.message


def test_enforcement_lists_every_part_that_failed() -> None:
    kube = cluster_objects(vpc_cni_config={}, aws_node=aws_node(ready=0))
    message = evaluate_in_cluster(cluster_facts(kube=kube), EXCLUDED).message
    assert "no enable-network-policy-controller key" in message and "only 0 of 3" in message


def test_an_image_digest_or_registry_does_not_hide_the_agent() -> None:
    image = "602401143452.dkr.ecr.us-east-1.amazonaws.com/amazon/aws-network-policy-agent@sha256:ab"
    kube = cluster_objects(aws_node=aws_node(image=image))
    assert evaluate_in_cluster(cluster_facts(kube=kube), EXCLUDED).reason is R.NAMESPACES_COVERED


def test_auto_mode_needs_only_the_config_map() -> None:
    """On Auto Mode the node agent is not the aws-node DaemonSet (auto-net-pol.html)."""
    facts = cluster_facts(auto_mode=True, addon=None, kube=cluster_objects(aws_node=None))
    assert evaluate_in_cluster(facts, EXCLUDED).reason is R.NAMESPACES_COVERED
    off = replace(facts, kube=cluster_objects(aws_node=None, vpc_cni_config={}))
    assert evaluate_in_cluster(off, EXCLUDED).reason is R.ENFORCEMENT_NOT_RUNNING


@pytest.mark.parametrize(
    ("addon_mode", "running"),
    [("strict", "standard"), ("strict", None), (None, "strict")],
)
def test_default_deny_needs_strict_in_the_add_on_and_on_the_nodes(
    addon_mode: str | None, running: str | None
) -> None:
    """Stricter reading: the add-on's setting and what aws-node runs with must agree."""
    addon = STRICT if addon_mode else addon_facts()
    kube = cluster_objects(aws_node=aws_node(mode=running), pods=UNCOVERED)
    verdict = evaluate_in_cluster(cluster_facts(addon=addon, kube=kube), EXCLUDED)
    assert verdict.reason is R.NAMESPACES_WITHOUT_POLICY
    assert ("not taken as default-deny" in verdict.message) == (addon_mode == "strict")


def test_strict_mode_is_read_as_the_agent_reads_it() -> None:
    kube = cluster_objects(aws_node=aws_node(mode="STRICT"), pods=UNCOVERED)
    assert (
        evaluate_in_cluster(cluster_facts(addon=STRICT, kube=kube), EXCLUDED).reason
        is R.DEFAULT_DENY
    )


def test_every_verdict_carries_the_enforcing_mode() -> None:
    """Issue 18 point 1: `enforcing_mode` in the `in_cluster` JSON, from the one reading."""
    for facts in (
        cluster_facts(addon=STRICT),
        cluster_facts(addon=STRICT, kube=None, status="UPDATING"),
    ):
        verdict = evaluate_in_cluster(facts, EXCLUDED)
        assert verdict.enforcing_mode == "strict"
        assert verdict.to_json()["enforcing_mode"] == "strict"
    assert evaluate_in_cluster(cluster_facts(), EXCLUDED).enforcing_mode is None


# ---------------------------------------------------------------------------- coverage


def test_uncovered_namespaces_are_counted_named_and_their_pods_counted() -> None:
    pods = (
        pod("shop", "web-1", app="web"),  # covered by the shop policy
        *(pod(f"team-{i}", f"p-{i}") for i in range(7)),
        pod("team-0", "p-extra"),
        pod("kube-system", "coredns", **{"k8s-app": "kube-dns"}),  # excluded
    )
    verdict = evaluate_in_cluster(objects(pods=pods), EXCLUDED)
    assert verdict.reason is R.NAMESPACES_WITHOUT_POLICY
    assert verdict.namespaces_without_policy == tuple(f"team-{i}" for i in range(7))
    assert verdict.pods_not_selected == 8
    assert "7 namespaces with pods have no NetworkPolicy" in verdict.message
    assert "team-0, team-1, team-2, team-3, team-4 and 2 more" in verdict.message
    assert "8 pods" in verdict.message
    assert verdict.to_json()["namespaces_without_policy"] == [f"team-{i}" for i in range(7)]


def test_the_user_exclusion_list_is_honoured() -> None:
    verdict = evaluate_in_cluster(objects(pods=UNCOVERED), EXCLUDED | {"blog"})
    assert verdict.namespaces_without_policy == ()
    assert verdict.reason is R.NAMESPACES_COVERED


def test_namespaces_without_pods_need_no_policy() -> None:
    facts = objects(namespaces=(namespace("shop"), namespace("empty")))
    assert evaluate_in_cluster(facts, EXCLUDED).reason is R.NAMESPACES_COVERED


def test_covered_counts_the_pods_no_policy_selects() -> None:
    """A namespace with a policy is covered (CIS 4.3.2); its unselected pods are counted."""
    policy = network_policy("shop", "db-only", {"matchLabels": {"role": "db"}})
    pods = (pod("shop", "db-0", role="db"), pod("shop", "web-0", role="web"), pod("shop", "web-1"))
    verdict = evaluate_in_cluster(objects(network_policies=(policy,), pods=pods), EXCLUDED)
    assert verdict.reason is R.NAMESPACES_COVERED
    assert verdict.pods_not_selected == 2
    assert "2 pods outside the exclusion list are selected by no policy" in verdict.message


def test_a_policy_in_another_namespace_does_not_cover() -> None:
    facts = objects(network_policies=(network_policy("other"),), pods=(pod("shop", "web-1"),))
    verdict = evaluate_in_cluster(facts, EXCLUDED)
    assert verdict.namespaces_without_policy == ("shop",) and verdict.pods_not_selected == 1


def test_a_cluster_wide_deny_covers_namespaces_without_a_policy() -> None:
    facts = objects(
        namespaces=NAMESPACES, network_policies=(), pods=UNCOVERED, cluster_policies=(CNP_DENY_ALL,)
    )
    verdict = evaluate_in_cluster(facts, EXCLUDED)
    assert verdict.reason is R.NAMESPACES_COVERED and verdict.pods_not_selected == 0


def test_a_namespace_missing_from_the_listing_is_not_taken_as_covered() -> None:
    """Its labels are unknown, so no cluster-wide selector is assumed to match it."""
    facts = objects(network_policies=(), pods=UNCOVERED, cluster_policies=(CNP_DENY_ALL,))
    assert evaluate_in_cluster(facts, EXCLUDED).namespaces_without_policy == ("blog",)


@pytest.mark.parametrize(
    "change",
    [
        {"ingress": [{"name": "x", "action": "Accept", "from": [{"namespaces": {}}]}]},
        # First match wins inside a policy: an accept-all before the deny makes it dead.
        {
            "ingress": [
                {"name": "a", "action": "Accept", "from": [{"namespaces": {"matchLabels": {}}}]},
                {"name": "d", "action": "Deny", "from": [{"namespaces": {}}]},
            ]
        },
        # A deny limited to some ports or some sources is not a default deny.
        {
            "ingress": [
                {
                    "name": "d",
                    "action": "Deny",
                    "from": [{"namespaces": {}}],
                    "ports": [{"portNumber": {"protocol": "TCP", "port": 80}}],
                }
            ]
        },
        {
            "ingress": [
                {
                    "name": "d",
                    "action": "Deny",
                    "from": [{"namespaces": {"matchLabels": {"a": "b"}}}],
                }
            ]
        },
        # Subject elsewhere.
        {"subject": {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "other"}}}},
        {
            "subject": {
                "pods": {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "db"}}}
            }
        },
    ],
)
def test_only_a_deny_of_all_traffic_over_the_namespace_covers_it(change: dict[str, Any]) -> None:
    cnp = {**CNP_DENY_ALL, "spec": {**CNP_DENY_ALL["spec"], **change}}
    facts = objects(
        namespaces=NAMESPACES, network_policies=(), pods=UNCOVERED, cluster_policies=(cnp,)
    )
    assert evaluate_in_cluster(facts, EXCLUDED).reason is R.NAMESPACES_WITHOUT_POLICY


@pytest.mark.parametrize(
    "spec",
    [
        {"subject": {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}}},
        {"subject": {"pods": {"namespaceSelector": {}, "podSelector": {}}}},
        {
            "subject": {"namespaces": {}},
            "ingress": [],
            "egress": [
                {
                    "name": "dns",
                    "action": "Accept",
                    "to": [
                        {
                            "pods": {
                                "namespaceSelector": {},
                                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                            }
                        }
                    ],
                },
                {"name": "rest", "action": "Deny", "to": [{"networks": ["0.0.0.0/0"]}]},
            ],
        },
    ],
)
def test_the_documented_cluster_deny_shapes_cover(spec: dict[str, Any]) -> None:
    cnp = {**CNP_DENY_ALL, "spec": {**CNP_DENY_ALL["spec"], **spec}}
    facts = objects(network_policies=(), pods=(pod("shop", "web-1"),), cluster_policies=(cnp,))
    assert evaluate_in_cluster(facts, EXCLUDED).reason is R.NAMESPACES_COVERED


def test_unreadable_cluster_policies_never_cover_and_say_so() -> None:
    facts = objects(
        namespaces=NAMESPACES, network_policies=(), pods=UNCOVERED, cluster_policies=None
    )
    verdict = evaluate_in_cluster(facts, EXCLUDED)
    assert verdict.reason is R.NAMESPACES_WITHOUT_POLICY
    assert "ClusterNetworkPolicy objects could not be read" in verdict.message


# ---------------------------------------------------------------------------- remediation


def test_the_remediation_text_gives_the_manifest_and_a_command_per_namespace() -> None:
    text = coverage_remediation(["shop", "a b"])
    assert DEFAULT_DENY_MANIFEST in text
    lines = [shlex.split(line) for line in text.splitlines() if line.startswith("kubectl")]
    assert [line[line.index("-n") + 1] for line in lines] == ["shop", "a b"]
    assert all(
        line[:2] == ["kubectl", "apply"] and "default-deny-all.yaml" in line for line in lines
    )


def test_the_documented_manifest_is_the_one_the_finding_gives() -> None:
    """docs/in-cluster.md includes docs/snippets/default-deny-all.yaml; it must not drift."""
    snippet = Path(__file__).resolve().parents[3] / "docs" / "snippets" / "default-deny-all.yaml"
    assert snippet.read_text() == DEFAULT_DENY_MANIFEST


@pytest.mark.parametrize(
    ("status", "said"),
    [(401, "it has no access entry"), (403, "its access entry does not grant")],
)
def test_not_enrolled_tells_a_missing_entry_from_a_missing_policy(status: int, said: str) -> None:
    facts = cluster_facts(kube=failure(FailureKind.UNAUTHORIZED, f"HTTP {status}", status))
    assert said in evaluate_in_cluster(facts, EXCLUDED, principal_arn=ROLE).message


NAMESPACE_NAMES = st.sampled_from(["kube-system", "shop", "blog", "team-a", "team-b"])
PODS = st.lists(
    st.builds(
        lambda ns, i, app: pod(ns, f"p-{i}", **({"app": app} if app else {})),
        NAMESPACE_NAMES,
        st.integers(0, 99),
        st.sampled_from(["", "web", "db"]),
    ),
    max_size=20,
)


@settings(max_examples=150, deadline=None)
@given(PODS, st.lists(NAMESPACE_NAMES, max_size=5), st.sampled_from([None, "web", "db"]))
def test_coverage_properties(pods: list[Any], with_policy: list[str], app: str | None) -> None:
    """Uncovered = namespaces with counted pods and no policy; unselected pods never exceed
    the counted pods; a policy that selects all in every namespace leaves none open."""
    selector = {} if app is None else {"matchLabels": {"app": app}}
    policies = tuple(network_policy(ns, pod_selector=selector) for ns in set(with_policy))
    namespaces = tuple(namespace(n) for n in ("kube-system", "shop", "blog", "team-a", "team-b"))
    kube = cluster_objects(namespaces=namespaces, network_policies=policies, pods=tuple(pods))
    verdict = evaluate_in_cluster(cluster_facts(kube=kube), EXCLUDED)
    counted = [p for p in pods if p.namespace not in EXCLUDED]
    assert verdict.namespaces_without_policy == tuple(
        sorted({p.namespace for p in counted} - set(with_policy))
    )
    assert verdict.pods_not_selected is not None
    assert 0 <= verdict.pods_not_selected <= len(counted)
    everywhere = tuple(network_policy(n.name) for n in namespaces)
    full = evaluate_in_cluster(
        cluster_facts(kube=replace(kube, network_policies=everywhere)), EXCLUDED
    )
    assert (full.reason, full.pods_not_selected) == (R.NAMESPACES_COVERED, 0)
