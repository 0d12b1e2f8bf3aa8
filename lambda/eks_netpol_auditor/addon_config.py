"""The one reader of the vpc-cni add-on's configurationValues (pure).

EKS accepts configuration values as JSON or YAML ("Amazon EKS add-ons", advanced
configuration) and DescribeAddon returns the text exactly as provided. Two readings, two
entry points, one module:

* `read_for_verdict` decides the verdict. It reads JSON and YAML with one YAML loader
  (which reads JSON too) and only has to answer "is enforcement on?".
* `read_exact` / `enable_change` serve everything we send to EKS or tell a user to send:
  the UpdateAddon request and the `aws eks update-addon` command in the finding.
  UpdateAddon *replaces* the whole configuration (EKS API reference, UpdateAddon,
  configurationValues), so this reading refuses any text whose meaning is in doubt rather
  than resend a document that differs from the user's in more than one key.

The Helm chart default for enableNetworkPolicy is "false": an absent key means disabled.
"""

from __future__ import annotations

import copy
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import yaml

ENABLE_KEY = "enableNetworkPolicy"
# The vpc-cni schema nests a handful of levels and holds a few hundred values at most. A
# document far beyond that is refused (callers fail closed) before it is copied, walked or
# serialised: deep nesting exhausts Python's recursion limit, and YAML aliases let a few
# hundred bytes stand for billions of values once written out as JSON.
MAX_DEPTH = 64
MAX_VALUES = 100_000
_TOO_DEEP = f"configurationValues is nested more than {MAX_DEPTH} levels deep"


class ConfigurationError(ValueError):
    """configurationValues cannot be read (with the certainty asked for); fail closed."""


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


def _syntax_error(error: yaml.YAMLError, problem: str) -> ConfigurationError:
    mark = getattr(error, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    return ConfigurationError(f"{problem}{where}")


def _mapping(document: object) -> dict[str, Any]:
    """The document if it is a bounded mapping (checked before anything walks or copies it)."""
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigurationError(
            f"configurationValues must be a mapping, found {type(document).__name__}"
        )
    check_bounded(document)
    return document


# ---------------------------------------------------------------------------- the verdict


def read_for_verdict(text: str | None) -> dict[str, Any]:
    """The document as far as the verdict needs it; empty or absent text is {}."""
    if text is None or not text.strip():
        return {}
    try:
        document = yaml.load(text, Loader=_StrictBoolLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        raise _syntax_error(error, "configurationValues is neither JSON nor YAML") from None
    except RecursionError:
        raise ConfigurationError(_TOO_DEEP) from None
    return _mapping(document)


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


# Which values turn enforcement on. The value travels two ways (vpc-cni Helm chart,
# amazon-vpc-cni-k8s charts/aws-vpc-cni/templates/, unchanged since v1.14.0; the managed
# add-on's configuration schema mirrors the chart's values):
# * daemonset.yaml passes it unquoted into the node agent's argument
#   `--enable-network-policy={{ .Values.enableNetworkPolicy }}`. The agent parses it with
#   spf13/pflag BoolVar (aws-network-policy-agent pkg/config/controller_config.go, flag set
#   with ExitOnError), i.e. Go strconv.ParseBool: 1, t, T, TRUE, true, True, nothing
#   trimmed; any other text stops the agent at start-up.
# * configmap.yaml writes `enable-network-policy-controller: {{ .Values.enableNetworkPolicy
#   | quote }}` into ConfigMap amazon-vpc-cni. The network policy controller, which EKS
#   runs in the control plane (user guide, cni-network-policy-configure.html), turns on
#   only when that value *equals* "true" (amazon-network-policy-controller-k8s
#   pkg/utils/configmap/configmap.go); without it no policy is ever translated for the
#   agents, so nothing is enforced.
# Both halves are on only for the string "true", the value the user guide tells users to
# enter, or a JSON/YAML boolean true, which Go templates print as "true" in both places.
# The add-on schema types the key {"type": "string", "format": "boolean"}; which strings
# EKS's validator lets through for that format is undocumented, so we read the value the
# way the controller does, not the way EKS might admit it.
ENABLED_VALUE = "true"
# strconv.ParseBool's other spellings of true: the node agent starts, the controller does not.
_AGENT_ONLY_TRUE = frozenset({"1", "t", "T", "TRUE", "True"})


def network_policy_enabled(document: dict[str, Any]) -> bool:
    """Only the top-level key counts, and only the string "true" or a boolean true."""
    value = document.get(ENABLE_KEY)
    return value is True or (isinstance(value, str) and value == ENABLED_VALUE)


def why_not_enabled(document: dict[str, Any]) -> str:
    """One clause saying why `network_policy_enabled` is False for this document."""
    if ENABLE_KEY not in document:
        return f'{ENABLE_KEY} is absent (the default is "false")'
    value = document[ENABLE_KEY]
    shown = json.dumps(value, ensure_ascii=False, default=str)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    if isinstance(value, str) and value != value.strip() and value.strip():
        return (
            f"{ENABLE_KEY} is {shown}, padded with whitespace: neither the node agent's "
            "--enable-network-policy flag (Go strconv.ParseBool) nor the network policy "
            'controller (which wants exactly "true") trims it'
        )
    if isinstance(value, str) and value in _AGENT_ONLY_TRUE:
        return (
            f"{ENABLE_KEY} is {shown}: the node agent's flag parser would accept it, but the "
            'network policy controller turns on only for exactly "true"'
        )
    return f'{ENABLE_KEY} is {shown}, not "true"'


# ---------------------------------------------------------------------------- the enforcing mode

# What a pod that no NetworkPolicy selects gets: `standard` (default allow) or `strict`
# (default deny). The add-on's configurationValues carry it as env.NETWORK_POLICY_ENFORCING_MODE,
# the environment of the aws-node container (EKS user guide, cni-network-policy-configure.html,
# "Set up policy enforcement at Pod startup"; amazon-vpc-cni-k8s README,
# "NETWORK_POLICY_ENFORCING_MODE (v1.17.1+)", default `standard`: "in the strict mode, a new pod
# will start with a default deny policy ... you must have a network policy defined for every
# pod in your cluster"). ipamd reads the variable (pkg/ipamd/ipamd.go getNetworkPolicyMode) and
# the node agent compares it case-insensitively (aws-network-policy-agent pkg/utils/utils.go
# IsValidNetworkPolicyEnforcingMode / IsStrictMode, strings.ToLower); a pod with no active
# policy gets DEFAULT_DENY only in strict mode (controllers/policyendpoints_controller.go).
ENFORCING_MODE_ENV = "NETWORK_POLICY_ENFORCING_MODE"
STANDARD_MODE = "standard"
STRICT_MODE = "strict"
_ENFORCING_MODES = frozenset({STANDARD_MODE, STRICT_MODE})


def enforcing_mode(text: str | None) -> str | None:
    """`strict` or `standard` as the configuration sets env.NETWORK_POLICY_ENFORCING_MODE,
    lower-cased as the node agent reads it; None when it is not set (the vpc-cni default,
    standard behaviour: unselected pods are allowed).

    Read exactly (`read_exact`): a default-deny claim is made only from a document whose
    meaning is not in doubt. ConfigurationError when it is in doubt or the value is not a mode
    ipamd accepts (ipamd then refuses to start: "invalid Network policy mode").
    """
    env = read_exact(text).get("env")
    if env is None or (isinstance(env, dict) and ENFORCING_MODE_ENV not in env):
        return None
    if not isinstance(env, dict):
        raise ConfigurationError(f"env is a {type(env).__name__}, not a mapping")
    value = env[ENFORCING_MODE_ENV]
    if not isinstance(value, str) or value.lower() not in _ENFORCING_MODES:
        shown = json.dumps(value, ensure_ascii=False, default=str)[:40]
        raise ConfigurationError(
            f"env.{ENFORCING_MODE_ENV} is {shown}, neither {STANDARD_MODE!r} nor {STRICT_MODE!r}"
        )
    return value.lower()


# ---------------------------------------------------------------------------- the exact reading

# JSON's number grammar (RFC 8259 section 6). A plain YAML scalar that is a number must look
# like this, or YAML 1.1 (PyYAML), YAML 1.2 and JSON may read it differently (010, 1e5,
# 0x1F, 1_000, 1:30, .5).
_JSON_NUMBER = re.compile(r"^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$")
_JSON_SCALARS = (str, int, float, bool, type(None))
# NEL, LS and PS are line breaks in YAML 1.1 but ordinary characters in YAML 1.2.
_YAML_VERSION_LINE_BREAKS = ("\x85", "\u2028", "\u2029")


def read_exact(text: str | None) -> dict[str, Any]:
    """The document exactly as EKS holds it, or ConfigurationError when that is in doubt.

    JSON text is read with JSON semantics (no duplicate keys, no NaN); YAML text must mean
    the same under every YAML reading. Anything else is refused so we never send (or tell
    anyone to send) a document that differs from the user's in more than the one key.
    """
    if text is None or not text.strip():
        return {}
    try:
        try:
            document: Any = json.loads(
                text, object_pairs_hook=_mark_duplicates, parse_constant=_NonFinite
            )
        except json.JSONDecodeError:
            document = _read_yaml(text)
    except RecursionError:
        raise ConfigurationError(_TOO_DEEP) from None
    if document is None:  # a JSON `null` or a YAML comment: not a mapping either way
        raise ConfigurationError("configurationValues must be a mapping, found NoneType")
    mapping = _mapping(document)
    _check_json_exact(mapping)
    return mapping


def _ambiguous_yaml_scalars(text: str) -> list[str]:
    """Plain scalars whose type depends on the YAML version or parser reading them.

    EKS's own YAML parser is undocumented. Where YAML 1.1 (`yes`, `on`, timestamps, `010`)
    and YAML 1.2/JSON disagree we cannot know which value EKS stored, so re-sending the
    document as JSON could change a setting: the caller fails closed instead.
    """
    node = yaml.compose(text, Loader=_StrictBoolLoader)
    strict = _StrictBoolLoader("")
    yaml11 = yaml.SafeLoader("")
    found: list[str] = []
    stack = [node] if node is not None else []
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:  # aliases share nodes: visit each once
            continue
        seen.add(id(current))
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                stack.extend((key, value))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
        elif isinstance(current, yaml.ScalarNode) and current.style is None:
            value = current.value
            ours = strict.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
            theirs = yaml11.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
            numeric = ours in {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
            if ours != theirs or numeric != bool(_JSON_NUMBER.match(value)):
                found.append(value)
    return sorted(found)


class _Duplicates(dict[str, Any]):
    """A JSON object that repeated a key; refused once the text is known to be JSON."""


@dataclass(frozen=True)
class _NonFinite:
    """NaN/Infinity in JSON text; refused once the text is known to be JSON.

    Raising inside json.loads would also refuse YAML text that merely starts with `NaN:`,
    so the markers are built during parsing and judged afterwards.
    """

    name: str


def _mark_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    return _Duplicates(pairs) if len(keys) != len(set(keys)) else dict(pairs)


def _check_json_exact(value: Any, path: str = "$") -> None:
    """Only what JSON can carry unchanged: string keys, finite numbers, no YAML-only types."""
    if isinstance(value, _Duplicates):
        raise ConfigurationError(f"{path} repeats a key")
    if isinstance(value, _NonFinite):
        raise ConfigurationError(f"{path} is {value.name}, which JSON cannot carry")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ConfigurationError(f"{path} has a non-string key {key!r}")
            _check_json_exact(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json_exact(item, f"{path}[{index}]")
    elif not isinstance(value, _JSON_SCALARS):
        raise ConfigurationError(f"{path} is a {type(value).__name__}, which JSON cannot carry")
    elif isinstance(value, float) and not math.isfinite(value):
        raise ConfigurationError(f"{path} is not a finite number")


class _NoDuplicatesLoader(_StrictBoolLoader):
    """PyYAML keeps the last of two equal keys silently; which one EKS kept is unknown."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise ConfigurationError(f"configurationValues repeats the key {key!r}")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read_yaml(text: str) -> Any:
    if any(ch in text for ch in _YAML_VERSION_LINE_BREAKS):
        raise ConfigurationError(
            "configurationValues has NEL/LS/PS characters, which YAML 1.1 and 1.2 read "
            "differently; write the configuration as JSON"
        )
    try:
        ambiguous = _ambiguous_yaml_scalars(text)
        if ambiguous:
            shown = ", ".join(repr(v) for v in ambiguous[:5])
            raise ConfigurationError(
                f"configurationValues has YAML values whose type depends on the YAML version "
                f"({shown}); quote them to make the meaning explicit"
            )
        return yaml.load(text, Loader=_NoDuplicatesLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as error:
        raise _syntax_error(
            error,
            "configurationValues is not plain JSON or YAML (syntax errors, `<<` merge keys "
            "and custom tags are refused)",
        ) from None


def strictly_equal(left: Any, right: Any) -> bool:
    """Equality that also compares types (Python says 1 == 1.0 == True; JSON does not)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return list(left) == list(right) and all(strictly_equal(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(
            strictly_equal(a, b) for a, b in zip(left, right, strict=True)
        )
    return bool(left == right)


# ---------------------------------------------------------------------------- the change


@dataclass(frozen=True)
class EnableChange:
    """What UpdateAddon must receive: the user's document plus enableNetworkPolicy "true".

    `payload` is the exact JSON text sent (and shown in the enable command); `merged` is
    the same document as data, for the schema check.
    """

    merged: dict[str, Any]
    payload: str


def enable_change(text: str | None) -> EnableChange:
    """The exact reading of `text`, merged; ConfigurationError when it is in doubt.

    The JSON is read back and compared with the merged document, type for type, so what
    EKS receives is provably the user's configuration with one key set.
    """
    original = read_exact(text)
    if network_policy_enabled(original):
        # The verdict said disabled, this stricter reading says enabled: in doubt, no change.
        raise ConfigurationError(f"{ENABLE_KEY} already reads as enabled")
    merged = merge_enable_network_policy(original)
    payload = to_json(merged)
    if not strictly_equal(json.loads(payload), merged):
        raise ConfigurationError("configurationValues does not survive a JSON round trip")
    return EnableChange(merged, payload)


def merge_enable_network_policy(document: dict[str, Any]) -> dict[str, Any]:
    """The original plus enableNetworkPolicy "true", every other key carried over unchanged
    (UpdateAddon replaces the whole configuration)."""
    merged = copy.deepcopy(document)
    merged[ENABLE_KEY] = "true"
    return merged


def to_json(document: dict[str, Any]) -> str:
    """Compact, key-order-preserving JSON, the form we send and show in commands."""
    try:
        return json.dumps(document, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ConfigurationError(f"configurationValues cannot be sent as JSON: {error}") from None
