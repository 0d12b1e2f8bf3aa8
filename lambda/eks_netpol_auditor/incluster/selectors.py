"""Kubernetes label selectors and which pods a NetworkPolicy selects (pure).

Semantics, from the Kubernetes documentation:
* LabelSelector (API reference, "LabelSelector", meta/v1): "The result of matchLabels and
  matchExpressions are ANDed. An empty label selector matches all objects. A null label
  selector matches no objects." A matchLabels pair is "equivalent to an element of
  matchExpressions, whose key field is "key", the operator is "In", and the values array
  contains only "value"."
* LabelSelectorRequirement: "Valid operators are In, NotIn, Exists and DoesNotExist ... If the
  operator is In or NotIn, the values array must be non-empty. If the operator is Exists or
  DoesNotExist, the values array must be empty."
* "Labels and Selectors", set-based requirement: `environment notin (frontend)` "selects all
  resources with key equal to environment and value other than frontend, and all resources
  without a label with the environment key"; `partition` (Exists) "selects all resources
  including a label with key partition; no values are checked"; `!partition`
  (DoesNotExist) "selects all resources without a label with key partition".
* "Network Policies": a policy's podSelector selects pods of the policy's own namespace; "An
  empty podSelector selects all pods in the namespace". NetworkPolicySpec (API reference):
  podSelector "is optional. If it is not specified, it defaults to an empty selector."

A selector the API server would have refused (unknown operator, values where none belong)
cannot select anything here: the stricter reading never counts a pod as covered by a
selector whose meaning is in doubt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .model import PodMeta


class SelectorError(ValueError):
    """A selector the Kubernetes API would refuse; it selects nothing."""


class Operator(StrEnum):
    IN = "In"
    NOT_IN = "NotIn"
    EXISTS = "Exists"
    DOES_NOT_EXIST = "DoesNotExist"


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: Operator
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.operator is Operator.IN:
            return present and labels[self.key] in self.values
        if self.operator is Operator.NOT_IN:
            return not present or labels[self.key] not in self.values
        if self.operator is Operator.EXISTS:
            return present
        return not present


@dataclass(frozen=True)
class LabelSelector:
    """A parsed, valid selector: every requirement must hold (none: matches all)."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(requirement.matches(labels) for requirement in self.requirements)


def _requirement(raw: object) -> Requirement:
    if not isinstance(raw, Mapping):
        raise SelectorError("a matchExpressions entry is not an object")
    key, operator, values = raw.get("key"), raw.get("operator"), raw.get("values")
    if not isinstance(key, str) or not key:
        raise SelectorError("a matchExpressions entry has no key")
    if operator not in set(Operator):
        raise SelectorError(f"unknown operator {operator!r}")
    op = Operator(operator)
    if values is None:
        values = []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise SelectorError(f"values of {key!r} are not a list of strings")
    if op in (Operator.IN, Operator.NOT_IN) and not values:
        raise SelectorError(f"{op.value} on {key!r} needs values")
    if op in (Operator.EXISTS, Operator.DOES_NOT_EXIST) and values:
        raise SelectorError(f"{op.value} on {key!r} takes no values")
    return Requirement(key, op, frozenset(values))


def parse_selector(raw: object) -> LabelSelector | None:
    """The selector as the API defines it; None for a null selector (matches nothing).

    SelectorError for anything the API would refuse.
    """
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise SelectorError("a label selector must be an object")
    match_labels = raw.get("matchLabels")
    expressions = raw.get("matchExpressions")
    match_labels = {} if match_labels is None else match_labels
    expressions = [] if expressions is None else expressions
    if not isinstance(match_labels, Mapping) or not isinstance(expressions, list):
        raise SelectorError("matchLabels must be an object and matchExpressions a list")
    requirements: list[Requirement] = []
    for key, value in match_labels.items():
        if not isinstance(key, str) or not key or not isinstance(value, str):
            raise SelectorError("matchLabels must map label keys to string values")
        requirements.append(Requirement(key, Operator.IN, frozenset({value})))
    requirements.extend(_requirement(item) for item in expressions)
    return LabelSelector(tuple(requirements))


def selects(raw: object, labels: Mapping[str, str]) -> bool:
    """Whether a raw selector (as the API returns it) matches these labels; a null or invalid
    selector matches nothing."""
    try:
        selector = parse_selector(raw)
    except SelectorError:
        return False
    return selector is not None and selector.matches(labels)


def policy_pod_selector(policy: Mapping[str, Any]) -> LabelSelector | None:
    """A NetworkPolicy's podSelector, an absent one being empty (select all); None when the
    policy or its selector cannot be read (selects nothing)."""
    spec = policy.get("spec")
    if not isinstance(spec, Mapping):
        return None
    try:
        return parse_selector(spec.get("podSelector", {}))
    except SelectorError:
        return None


def policy_namespace(policy: Mapping[str, Any]) -> str | None:
    metadata = policy.get("metadata")
    namespace = metadata.get("namespace") if isinstance(metadata, Mapping) else None
    return namespace if isinstance(namespace, str) else None


def policy_selects(policy: Mapping[str, Any], pod: PodMeta) -> bool:
    """Whether a NetworkPolicy applies to a pod: same namespace, podSelector matches."""
    if policy_namespace(policy) != pod.namespace:
        return False
    selector = policy_pod_selector(policy)
    return selector is not None and selector.matches(pod.labels)
