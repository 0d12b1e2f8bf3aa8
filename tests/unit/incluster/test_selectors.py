"""Label selectors and NetworkPolicy podSelector, as the Kubernetes documentation defines them.

Examples come from "Labels and Selectors" (kubernetes.io/docs/concepts/overview/
working-with-objects/labels/), the LabelSelector API reference and "Network Policies"
(kubernetes.io/docs/concepts/services-networking/network-policies/); the properties
(hypothesis) pin the definitions: matchLabels is In with one value, NotIn and DoesNotExist
are the complements of In and Exists, requirements are ANDed, empty matches all, null none.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eks_netpol_auditor.incluster.selectors import (
    SelectorError,
    parse_selector,
    policy_selects,
    selects,
)
from tests.builders import network_policy, pod

# ---------------------------------------------------------------------------- the documentation

# "Labels and Selectors", Resources that support set-based requirements: the selector of a
# Job/Deployment/ReplicaSet/DaemonSet.
DOC_SELECTOR = {
    "matchLabels": {"component": "redis"},
    "matchExpressions": [
        {"key": "tier", "operator": "In", "values": ["cache"]},
        {"key": "environment", "operator": "NotIn", "values": ["dev"]},
    ],
}


@pytest.mark.parametrize(
    ("labels", "selected"),
    [
        ({"component": "redis", "tier": "cache"}, True),  # no environment label: NotIn holds
        ({"component": "redis", "tier": "cache", "environment": "prod"}, True),
        ({"component": "redis", "tier": "cache", "environment": "dev"}, False),
        ({"component": "redis", "tier": "web"}, False),
        ({"tier": "cache"}, False),  # matchLabels ANDed with the expressions
    ],
)
def test_the_documented_set_based_selector(labels: dict[str, str], selected: bool) -> None:
    assert selects(DOC_SELECTOR, labels) is selected


@pytest.mark.parametrize(
    ("requirement", "labels", "selected"),
    [
        # `environment in (production, qa)`
        (
            {"key": "environment", "operator": "In", "values": ["production", "qa"]},
            {"environment": "qa"},
            True,
        ),
        ({"key": "environment", "operator": "In", "values": ["production", "qa"]}, {}, False),
        # `tier notin (frontend, backend)`: other values and no tier label at all
        (
            {"key": "tier", "operator": "NotIn", "values": ["frontend", "backend"]},
            {"tier": "db"},
            True,
        ),
        ({"key": "tier", "operator": "NotIn", "values": ["frontend", "backend"]}, {}, True),
        (
            {"key": "tier", "operator": "NotIn", "values": ["frontend", "backend"]},
            {"tier": "frontend"},
            False,
        ),
        # `partition`: the key, no values checked
        ({"key": "partition", "operator": "Exists"}, {"partition": ""}, True),
        ({"key": "partition", "operator": "Exists"}, {"other": "x"}, False),
        # `!partition`
        ({"key": "partition", "operator": "DoesNotExist"}, {"other": "x"}, True),
        ({"key": "partition", "operator": "DoesNotExist"}, {"partition": "a"}, False),
    ],
)
def test_the_documented_set_based_requirements(
    requirement: dict[str, Any], labels: dict[str, str], selected: bool
) -> None:
    assert selects({"matchExpressions": [requirement]}, labels) is selected


def test_empty_selects_all_and_null_selects_none() -> None:
    """LabelSelector: "An empty label selector matches all objects. A null label selector
    matches no objects." """
    assert selects({}, {}) and selects({}, {"a": "b"})
    assert selects({"matchLabels": {}, "matchExpressions": []}, {"a": "b"})
    assert not selects(None, {}) and not selects(None, {"a": "b"})


@pytest.mark.parametrize(
    "raw",
    [
        {"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["b"]}]},
        {"matchExpressions": [{"key": "a", "operator": "In", "values": []}]},
        {"matchExpressions": [{"key": "a", "operator": "NotIn"}]},
        {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["b"]}]},
        {"matchExpressions": [{"operator": "Exists"}]},
        {"matchLabels": {"a": 1}},
        {"matchLabels": "a=b"},
        "a=b",
    ],
)
def test_a_selector_the_api_would_refuse_selects_nothing(raw: object) -> None:
    """The stricter reading: a selector in doubt never makes a pod count as covered."""
    with pytest.raises(SelectorError):
        parse_selector(raw)
    assert not selects(raw, {"a": "b"}) and not selects(raw, {})


# "Network Policies": the default deny example (`podSelector: {}`) and the example
# test-network-policy (`podSelector: matchLabels: role: db` in namespace default).


def test_an_empty_pod_selector_selects_every_pod_of_its_namespace_only() -> None:
    deny_all = network_policy("default")
    assert policy_selects(deny_all, pod("default", "a"))
    assert policy_selects(deny_all, pod("default", "b", role="db", app="x"))
    assert not policy_selects(deny_all, pod("other", "c"))


def test_an_absent_pod_selector_is_empty() -> None:
    """NetworkPolicySpec: podSelector "is optional. If it is not specified, it defaults to an
    empty selector"."""
    policy = network_policy("default")
    del policy["spec"]["podSelector"]
    assert policy_selects(policy, pod("default", "a"))


def test_the_documented_role_db_policy() -> None:
    policy = network_policy("default", "test-network-policy", {"matchLabels": {"role": "db"}})
    assert policy_selects(policy, pod("default", "db-0", role="db"))
    assert not policy_selects(policy, pod("default", "web-0", role="frontend"))
    assert not policy_selects(policy, pod("other", "db-0", role="db"))


def test_an_unreadable_policy_selects_nothing() -> None:
    assert not policy_selects({"metadata": {"namespace": "default"}}, pod("default", "a"))
    broken = network_policy("default", pod_selector={"matchExpressions": [{"key": "a"}]})
    assert not policy_selects(broken, pod("default", "a"))


# ---------------------------------------------------------------------------- properties

KEYS = st.sampled_from(["app", "tier", "env", "team"])
VALUES = st.sampled_from(["a", "b", "c", ""])
LABELS = st.dictionaries(KEYS, VALUES, max_size=4)
VALUE_SETS = st.lists(VALUES, min_size=1, max_size=3)


@settings(max_examples=200, deadline=None)
@given(LABELS, KEYS, VALUES)
def test_match_labels_is_in_with_one_value(labels: dict[str, str], key: str, value: str) -> None:
    as_in = {"matchExpressions": [{"key": key, "operator": "In", "values": [value]}]}
    assert selects({"matchLabels": {key: value}}, labels) == selects(as_in, labels)
    assert selects({"matchLabels": {key: value}}, labels) == (labels.get(key) == value)


@settings(max_examples=200, deadline=None)
@given(LABELS, KEYS, VALUE_SETS)
def test_not_in_is_the_complement_of_in(
    labels: dict[str, str], key: str, values: list[str]
) -> None:
    def expr(operator: str) -> dict[str, Any]:
        return {"matchExpressions": [{"key": key, "operator": operator, "values": values}]}

    assert selects(expr("NotIn"), labels) != selects(expr("In"), labels)


@settings(max_examples=200, deadline=None)
@given(LABELS, KEYS)
def test_does_not_exist_is_the_complement_of_exists(labels: dict[str, str], key: str) -> None:
    def expr(operator: str) -> dict[str, Any]:
        return {"matchExpressions": [{"key": key, "operator": operator}]}

    assert selects(expr("DoesNotExist"), labels) != selects(expr("Exists"), labels)
    assert selects(expr("Exists"), labels) == (key in labels)


REQUIREMENTS = st.one_of(
    st.builds(lambda k, v: {"key": k, "operator": "In", "values": v}, KEYS, VALUE_SETS),
    st.builds(lambda k, v: {"key": k, "operator": "NotIn", "values": v}, KEYS, VALUE_SETS),
    st.builds(lambda k: {"key": k, "operator": "Exists"}, KEYS),
    st.builds(lambda k: {"key": k, "operator": "DoesNotExist"}, KEYS),
)


@settings(max_examples=200, deadline=None)
@given(LABELS, st.dictionaries(KEYS, VALUES, max_size=2), st.lists(REQUIREMENTS, max_size=4))
def test_requirements_are_anded(
    labels: dict[str, str], match_labels: dict[str, str], expressions: list[dict[str, Any]]
) -> None:
    whole: dict[str, Any] = {"matchLabels": match_labels, "matchExpressions": expressions}
    parts: list[dict[str, Any]] = [{"matchLabels": {k: v}} for k, v in match_labels.items()]
    parts += [{"matchExpressions": [e]} for e in expressions]
    assert selects(whole, labels) == all(selects(part, labels) for part in parts)


@settings(max_examples=100, deadline=None)
@given(LABELS, st.sampled_from(["ns-a", "ns-b"]))
def test_an_empty_pod_selector_selects_whatever_the_labels(labels: dict[str, str], ns: str) -> None:
    policy = network_policy("ns-a")
    assert policy_selects(policy, pod(ns, "p", **labels)) == (ns == "ns-a")
