"""Reading and merging the vpc-cni add-on's configurationValues (pure).

EKS accepts configuration values as JSON or YAML ("Amazon EKS add-ons", advanced
configuration) and DescribeAddon returns the text exactly as provided, so we parse with a
YAML loader, which reads JSON too. The Helm chart default for enableNetworkPolicy is
"false": an absent key means disabled.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import yaml

ENABLE_KEY = "enableNetworkPolicy"
# The vpc-cni schema nests a handful of levels and holds a few hundred values at most. A
# document far beyond that is refused (callers fail closed) before it is copied, walked or
# serialised: deep nesting exhausts Python's recursion limit, and YAML aliases let a few
# hundred bytes stand for billions of values once written out as JSON.
MAX_DEPTH = 64
MAX_VALUES = 100_000


class ConfigurationError(ValueError):
    """configurationValues cannot be read as a mapping; callers must fail closed."""


class _StrictBoolLoader(yaml.SafeLoader):
    """SafeLoader that resolves only true/false as booleans and never builds timestamps.

    YAML 1.1 would read `yes`, `on` and `y` as true; whether EKS does is undocumented, so
    we take the stricter reading and treat them as ordinary strings (i.e. not enabled).
    Timestamps stay strings so a merged document re-serialises them exactly as written.
    """


_DROPPED_TAGS = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp"}
_StrictBoolLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _DROPPED_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
_StrictBoolLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def parse_configuration(text: str | None) -> dict[str, Any]:
    """Return the configuration document; empty or absent text is the empty mapping."""
    if text is None or not text.strip():
        return {}
    try:
        document = yaml.load(text, Loader=_StrictBoolLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigurationError(f"configurationValues is neither JSON nor YAML{where}") from None
    except RecursionError:
        raise ConfigurationError(_TOO_DEEP) from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigurationError(
            f"configurationValues must be a mapping, found {type(document).__name__}"
        )
    check_bounded(document)
    return document


_TOO_DEEP = f"configurationValues is nested more than {MAX_DEPTH} levels deep"


def check_bounded(document: object) -> None:
    """ConfigurationError unless the document is at most MAX_DEPTH deep, MAX_VALUES values
    when fully expanded, and free of alias cycles.

    Iterative, and each shared (aliased) node is measured once, so the check itself costs
    time linear in the text however far the aliases would expand.
    """
    measured: dict[int, tuple[int, int]] = {}  # id -> (depth, expanded values)
    open_nodes: set[int] = set()
    stack: list[tuple[object, bool]] = [(document, False)]
    while stack:
        node, children_done = stack.pop()
        if not isinstance(node, dict | list) or (id(node) in measured and not children_done):
            continue
        children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
        nested = [child for child in children if isinstance(child, dict | list)]
        if not children_done:
            open_nodes.add(id(node))
            stack.append((node, True))
            for child in nested:
                if id(child) in open_nodes:
                    raise ConfigurationError("configurationValues refers to itself (YAML alias)")
                stack.append((child, False))
            continue
        open_nodes.discard(id(node))
        depth = 1 + max((measured[id(child)][0] for child in nested), default=0)
        values = len(children) + sum(measured[id(child)][1] for child in nested)
        if depth > MAX_DEPTH:
            raise ConfigurationError(_TOO_DEEP)
        if values > MAX_VALUES:
            raise ConfigurationError(
                f"configurationValues expands to more than {MAX_VALUES} values "
                "(YAML aliases or an oversized document)"
            )
        measured[id(node)] = (depth, values)


def network_policy_enabled(document: dict[str, Any]) -> bool:
    """Only the top-level key counts; "true" in any case, string or boolean."""
    value = document.get(ENABLE_KEY)
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() == "true"


def merge_enable_network_policy(document: dict[str, Any]) -> dict[str, Any]:
    """The document UpdateAddon must receive: the original plus enableNetworkPolicy "true".

    UpdateAddon replaces the whole configuration (EKS API reference, UpdateAddon,
    configurationValues), so every other key is carried over unchanged.
    """
    merged = copy.deepcopy(document)
    merged[ENABLE_KEY] = "true"
    return merged


def to_json(document: dict[str, Any]) -> str:
    """Compact, key-order-preserving JSON, the form we send and show in commands."""
    try:
        return json.dumps(document, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ConfigurationError(f"configurationValues cannot be sent as JSON: {error}") from None
