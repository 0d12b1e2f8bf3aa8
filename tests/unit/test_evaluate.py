"""Every row of the evaluation table (docs/verdicts.md), one case each."""

from __future__ import annotations

import json
import shlex
from dataclasses import replace
from typing import Any

import pytest

from eks_netpol_auditor.evaluate import evaluate
from eks_netpol_auditor.incluster.model import ClusterObjects, FailureKind, ReadFailure
from eks_netpol_auditor.model import (
    AddonFacts,
    ClusterFacts,
    ClusterResult,
    ComplianceStatus,
    Reason,
)
from tests import builders

ENABLED_JSON = '{"enableNetworkPolicy":"true"}'
STRICT = builders.STRICT_CONFIG


def cluster(**overrides: Any) -> ClusterFacts:
    base = ClusterFacts(
        account="123456789012",
        partition="aws",
        region="eu-west-1",
        name="prod",
        arn="arn:aws:eks:eu-west-1:123456789012:cluster/prod",
        status="ACTIVE",
        kubernetes_version="1.31",
        platform_version="eks.12",
        addon=AddonFacts(
            version="v1.19.2-eksbuild.1", status="ACTIVE", configuration_values=ENABLED_JSON
        ),
    )
    return replace(base, **overrides)


def addon(**overrides: Any) -> AddonFacts:
    base = AddonFacts(
        version="v1.19.2-eksbuild.1", status="ACTIVE", configuration_values=ENABLED_JSON
    )
    return replace(base, **overrides)


CASES: list[tuple[str, ClusterFacts, ComplianceStatus, Reason]] = [
    ("enabled JSON, ACTIVE", cluster(), ComplianceStatus.PASSED, Reason.NETWORK_POLICY_ENABLED),
    (
        "enabled YAML bool, UPDATING",
        cluster(addon=addon(status="UPDATING", configuration_values="enableNetworkPolicy: true\n")),
        ComplianceStatus.PASSED,
        Reason.NETWORK_POLICY_ENABLED,
    ),
    (
        "YAML boolean True (the chart prints it as true)",
        cluster(addon=addon(configuration_values="enableNetworkPolicy: True\n")),
        ComplianceStatus.PASSED,
        Reason.NETWORK_POLICY_ENABLED,
    ),
    (
        "string True: the agent's flag parser takes it, the controller does not",
        cluster(addon=addon(configuration_values='{"enableNetworkPolicy": "True"}')),
        ComplianceStatus.FAILED,
        Reason.NETWORK_POLICY_DISABLED,
    ),
    (
        "padded value",
        cluster(addon=addon(configuration_values='{"enableNetworkPolicy": " True "}')),
        ComplianceStatus.FAILED,
        Reason.NETWORK_POLICY_DISABLED,
    ),
    (
        "enabled but DEGRADED",
        cluster(addon=addon(status="DEGRADED")),
        ComplianceStatus.WARNING,
        Reason.ADDON_UNHEALTHY,
    ),
    (
        "enabled but UPDATE_FAILED",
        cluster(addon=addon(status="UPDATE_FAILED")),
        ComplianceStatus.WARNING,
        Reason.ADDON_UNHEALTHY,
    ),
    (
        "enabled but CREATE_FAILED",
        cluster(addon=addon(status="CREATE_FAILED")),
        ComplianceStatus.WARNING,
        Reason.ADDON_UNHEALTHY,
    ),
    (
        "key absent",
        cluster(addon=addon(configuration_values='{"env":{"A":"1"}}')),
        ComplianceStatus.FAILED,
        Reason.NETWORK_POLICY_DISABLED,
    ),
    (
        "no configuration at all (default)",
        cluster(addon=addon(configuration_values=None)),
        ComplianceStatus.FAILED,
        Reason.NETWORK_POLICY_DISABLED,
    ),
    (
        "empty configuration",
        cluster(addon=addon(configuration_values="  ")),
        ComplianceStatus.FAILED,
        Reason.NETWORK_POLICY_DISABLED,
    ),
    (
        "explicit false",
        cluster(addon=addon(configuration_values='{"enableNetworkPolicy":"false"}')),
        ComplianceStatus.FAILED,
        Reason.NETWORK_POLICY_DISABLED,
    ),
    (
        "YAML 1.1 yes is not true",
        cluster(addon=addon(configuration_values="enableNetworkPolicy: yes")),
        ComplianceStatus.FAILED,
        Reason.NETWORK_POLICY_DISABLED,
    ),
    (
        "nested key does not count",
        cluster(addon=addon(configuration_values='{"nodeAgent":{"enableNetworkPolicy":"true"}}')),
        ComplianceStatus.FAILED,
        Reason.NETWORK_POLICY_DISABLED,
    ),
    (
        "unparseable configuration",
        cluster(addon=addon(configuration_values="{not: [valid")),
        ComplianceStatus.FAILED,
        Reason.NETWORK_POLICY_DISABLED,
    ),
    (
        "disabled and DEGRADED is still disabled",
        cluster(addon=addon(status="DEGRADED", configuration_values=None)),
        ComplianceStatus.FAILED,
        Reason.NETWORK_POLICY_DISABLED,
    ),
    (
        "add-on too old",
        cluster(addon=addon(version="v1.13.4-eksbuild.1")),
        ComplianceStatus.FAILED,
        Reason.ADDON_VERSION_UNSUPPORTED,
    ),
    (
        "first 1.14 builds predate the managed support",
        cluster(addon=addon(version="v1.14.0-eksbuild.1")),
        ComplianceStatus.FAILED,
        Reason.ADDON_VERSION_UNSUPPORTED,
    ),
    (
        "v1.14.0-eksbuild.3 is enough",
        cluster(addon=addon(version="v1.14.0-eksbuild.3")),
        ComplianceStatus.PASSED,
        Reason.NETWORK_POLICY_ENABLED,
    ),
    (
        "unparseable add-on version",
        cluster(addon=addon(version="latest")),
        ComplianceStatus.FAILED,
        Reason.ADDON_VERSION_UNSUPPORTED,
    ),
    (
        "Kubernetes 1.24",
        cluster(kubernetes_version="1.24"),
        ComplianceStatus.FAILED,
        Reason.KUBERNETES_VERSION_UNSUPPORTED,
    ),
    (
        "Kubernetes 1.25 on an old platform version",
        cluster(kubernetes_version="1.25", platform_version="eks.6"),
        ComplianceStatus.FAILED,
        Reason.KUBERNETES_VERSION_UNSUPPORTED,
    ),
    (
        "Kubernetes 1.25, unreadable platform version: its minimum cannot be shown",
        cluster(kubernetes_version="1.25", platform_version="eks-7"),
        ComplianceStatus.FAILED,
        Reason.KUBERNETES_VERSION_UNSUPPORTED,
    ),
    (
        "Kubernetes 1.27, no platform version",
        cluster(kubernetes_version="1.27", platform_version=None),
        ComplianceStatus.FAILED,
        Reason.KUBERNETES_VERSION_UNSUPPORTED,
    ),
    (
        "Kubernetes 1.28+, unreadable platform version: no minimum platform applies",
        cluster(kubernetes_version="1.28", platform_version="preview"),
        ComplianceStatus.PASSED,
        Reason.NETWORK_POLICY_ENABLED,
    ),
    (
        "Kubernetes 1.25 eks.7",
        cluster(kubernetes_version="1.25", platform_version="eks.7"),
        ComplianceStatus.PASSED,
        Reason.NETWORK_POLICY_ENABLED,
    ),
    ("no managed add-on", cluster(addon=None), ComplianceStatus.FAILED, Reason.ADDON_NOT_INSTALLED),
    (
        "Auto Mode",
        cluster(auto_mode=True, addon=None),
        ComplianceStatus.WARNING,
        Reason.AUTO_MODE_NOT_VERIFIABLE,
    ),
    (
        "exempt tag wins over a failing add-on",
        cluster(tags={"eks-netpol-auditor:exempt": "cilium"}, addon=None),
        ComplianceStatus.WARNING,
        Reason.EXEMPTED,
    ),
    (
        "CREATING cluster",
        cluster(status="CREATING", addon=None),
        ComplianceStatus.NOT_AVAILABLE,
        Reason.CLUSTER_NOT_READY,
    ),
    (
        "PENDING cluster",
        cluster(status="PENDING", addon=None),
        ComplianceStatus.NOT_AVAILABLE,
        Reason.CLUSTER_NOT_READY,
    ),
    (
        "API error",
        cluster(error="AccessDeniedException: denied", addon=None),
        ComplianceStatus.NOT_AVAILABLE,
        Reason.EVALUATION_ERROR,
    ),
]


@pytest.mark.parametrize(
    ("facts", "status", "reason"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_verdict_table(facts: ClusterFacts, status: ComplianceStatus, reason: Reason) -> None:
    verdict = evaluate(facts)
    assert (verdict.status, verdict.reason) == (status, reason)
    assert verdict.message


def test_disabled_message_gives_a_command_that_keeps_existing_settings() -> None:
    facts = cluster(addon=addon(configuration_values="env:\n  WARM_IP_TARGET: '5'\n"))
    message = evaluate(facts).message
    command = message[message.index("aws eks update-addon") :]
    words = shlex.split(command)
    assert words[words.index("--cluster-name") + 1] == "prod"
    assert words[words.index("--region") + 1] == "eu-west-1"
    assert words[words.index("--resolve-conflicts") + 1] == "PRESERVE"
    assert words[words.index("--configuration-values") + 1] == (
        '{"env":{"WARM_IP_TARGET":"5"},"enableNetworkPolicy":"true"}'
    )


def test_command_quotes_hostile_cluster_names() -> None:
    facts = cluster(name="a'b; rm -rf", addon=addon(configuration_values=None))
    message = evaluate(facts).message
    words = shlex.split(message[message.index("aws eks update-addon") :])
    assert words[words.index("--cluster-name") + 1] == "a'b; rm -rf"


def test_unsupported_messages_say_what_to_upgrade_first() -> None:
    assert (
        "v1.14.0-eksbuild.3" in evaluate(cluster(addon=addon(version="v1.12.6-eksbuild.2"))).message
    )
    assert "1.25" in evaluate(cluster(kubernetes_version="1.23")).message
    assert "exempt" in evaluate(cluster(addon=None)).message


def test_the_command_travels_with_the_verdict_and_comes_from_the_exact_reading() -> None:
    facts = cluster(addon=addon(configuration_values='{"env":{"A":"1"},"enableNetworkPolicy":0}'))
    verdict = evaluate(facts)
    assert verdict.command is not None
    assert verdict.message.endswith(verdict.command)
    words = shlex.split(verdict.command)
    assert words[words.index("--configuration-values") + 1] == (
        '{"env":{"A":"1"},"enableNetworkPolicy":"true"}'
    )
    assert evaluate(cluster()).command is None, "PASSED: nothing to run"
    assert evaluate(cluster(addon=None)).command is None


@pytest.mark.parametrize(
    ("text", "why"),
    [
        # YAML 1.1 reads `yes` as true, YAML 1.2 as a string: which did EKS store?
        ("env:\n  ENABLE_POD_ENI: yes\n", "depends on the YAML version"),
        # Which of two equal keys EKS kept is unknown.
        ('{"env":{"A":"1","A":"2"}}', "repeats a key"),
    ],
)
def test_no_command_when_the_configuration_cannot_be_resent_exactly(text: str, why: str) -> None:
    """A command built from a guess would rewrite the user's settings: say why, print none."""
    verdict = evaluate(cluster(addon=addon(configuration_values=text)))
    assert (verdict.status, verdict.reason) == (
        ComplianceStatus.FAILED,
        Reason.NETWORK_POLICY_DISABLED,
    )
    assert verdict.command is None
    assert why in verdict.message and "No command is offered" in verdict.message
    assert "update-addon" not in verdict.message


def test_an_unreadable_platform_version_says_so() -> None:
    message = evaluate(cluster(kubernetes_version="1.26", platform_version="eks.x")).message
    assert "(eks.x)" in message and "cannot show" in message and "1.26 eks.6" in message


def test_a_padded_value_fails_with_the_reason_and_the_fix() -> None:
    verdict = evaluate(cluster(addon=addon(configuration_values='{"enableNetworkPolicy":" true"}')))
    assert "padded with whitespace" in verdict.message
    assert verdict.command is not None
    words = shlex.split(verdict.command)
    assert words[words.index("--configuration-values") + 1] == '{"enableNetworkPolicy":"true"}'


def test_passed_says_what_it_does_not_prove() -> None:
    """Enforcement on is half the control: pods no NetworkPolicy selects accept all traffic."""
    message = evaluate(cluster()).message
    assert "does not show that any NetworkPolicy selects" in message
    assert "accept all traffic" in message


# ---------------------------------------------------------------------------- enforcing mode


def test_passed_in_strict_mode_says_unselected_pods_are_default_deny() -> None:
    """Issue 18 point 1: the same verdict, a message that tells the two modes apart."""
    verdict = evaluate(
        builders.cluster_facts(addon=builders.addon_facts(configuration_values=STRICT))
    )
    assert (verdict.status, verdict.reason) == (
        ComplianceStatus.PASSED,
        Reason.NETWORK_POLICY_ENABLED,
    )
    assert verdict.enforcing_mode == "strict"
    assert "default-deny" in verdict.message and "default-allow" not in verdict.message


@pytest.mark.parametrize(
    ("config", "mode", "said"),
    [
        (ENABLED_JSON, None, "standard (not set)"),
        (
            '{"enableNetworkPolicy":"true","env":{"NETWORK_POLICY_ENFORCING_MODE":"standard"}}',
            "standard",
            "enforcing mode is standard",
        ),
        (
            '{"enableNetworkPolicy":"true","env":{"NETWORK_POLICY_ENFORCING_MODE":"nope"}}',
            None,
            "could not be read exactly",
        ),
    ],
)
def test_passed_in_standard_mode_says_unselected_pods_are_default_allow(
    config: str, mode: str | None, said: str
) -> None:
    verdict = evaluate(cluster(addon=addon(configuration_values=config)))
    assert verdict.status is ComplianceStatus.PASSED
    assert verdict.enforcing_mode == mode
    assert "Default-allow" in verdict.message and said in verdict.message
    assert "accept all traffic" in verdict.message


def test_the_enforcing_mode_is_reported_whatever_the_verdict() -> None:
    """A disabled add-on that would be strict says so in the JSON; no add-on, no mode."""
    disabled_strict = '{"env":{"NETWORK_POLICY_ENFORCING_MODE":"strict"}}'
    verdict = evaluate(cluster(addon=addon(configuration_values=disabled_strict)))
    assert verdict.reason is Reason.NETWORK_POLICY_DISABLED
    assert verdict.enforcing_mode == "strict"
    assert evaluate(cluster(addon=None)).enforcing_mode is None


def test_the_json_result_carries_the_enforcing_mode() -> None:
    facts = cluster(addon=addon(configuration_values=STRICT))
    assert ClusterResult(facts, evaluate(facts)).to_json()["enforcing_mode"] == "strict"
    plain = cluster()
    assert ClusterResult(plain, evaluate(plain)).to_json()["enforcing_mode"] is None


# ---------------------------------------------------------------------------- Auto Mode


def auto(kube: ClusterObjects | ReadFailure | None) -> ClusterFacts:
    return builders.cluster_facts(auto_mode=True, addon=None, kube=kube)


def test_auto_mode_with_the_controller_on_passes_and_says_what_was_not_seen() -> None:
    """Issue 18: with the in-cluster check, the ConfigMap decides instead of a WARNING."""
    verdict = evaluate(auto(builders.cluster_objects(aws_node=None)))
    assert (verdict.status, verdict.reason) == (
        ComplianceStatus.PASSED,
        Reason.AUTO_MODE_NETWORK_POLICY_ENABLED,
    )
    assert "NodeClass" in verdict.message and "AmazonEKSViewPolicy cannot read" in verdict.message


@pytest.mark.parametrize(
    ("config", "why", "command"),
    [
        (None, "does not exist", "kubectl create configmap amazon-vpc-cni"),
        ({}, "has no enable-network-policy-controller key", "kubectl patch configmap"),
        ({"enable-network-policy-controller": "True"}, "'True', not exactly", "kubectl patch"),
        ({"enable-network-policy-controller": "false"}, "'false', not exactly", "kubectl patch"),
    ],
)
def test_auto_mode_with_the_controller_off_fails_with_the_reason_and_the_fix(
    config: dict[str, str] | None, why: str, command: str
) -> None:
    verdict = evaluate(auto(builders.cluster_objects(vpc_cni_config=config)))
    assert (verdict.status, verdict.reason) == (
        ComplianceStatus.FAILED,
        Reason.AUTO_MODE_NETWORK_POLICY_DISABLED,
    )
    assert why in verdict.message and command in verdict.message
    assert verdict.fix is None and verdict.command is None  # no update-addon on Auto Mode


def test_auto_mode_patch_command_is_valid_json() -> None:
    verdict = evaluate(auto(builders.cluster_objects(vpc_cni_config={})))
    patch = shlex.split(verdict.message[verdict.message.index("kubectl patch") :].split(";")[0])
    assert json.loads(patch[patch.index("-p") + 1]) == {
        "data": {"enable-network-policy-controller": "true"}
    }


@pytest.mark.parametrize(
    "kube",
    [None, ReadFailure(FailureKind.UNAUTHORIZED, "HTTP 403 listing pods", 403)],
    ids=["check off", "read failed"],
)
def test_auto_mode_without_objects_stays_not_verifiable(kube: ReadFailure | None) -> None:
    verdict = evaluate(auto(kube))
    assert (verdict.status, verdict.reason) == (
        ComplianceStatus.WARNING,
        Reason.AUTO_MODE_NOT_VERIFIABLE,
    )
    assert (kube is not None) == ("HTTP 403 listing pods" in verdict.message)
