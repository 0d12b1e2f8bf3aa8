"""The vpc-cni add-on's versions, configuration schemas and schema validation.

Why: the auditor reads ``DescribeAddonConfiguration`` to learn whether the installed
version supports ``enableNetworkPolicy`` (v1.14.0+) and remediation must not send keys the
schema rejects. The schemas below mirror the *shape* EKS returns for vpc-cni (a draft-06
document whose root is ``{"$ref": "#/definitions/VpcCni"}``, ``additionalProperties:
false`` on the root and on ``nodeAgent``); key lists are an approximation of the real
chart values for each version range, not a byte-for-byte copy.

Validation follows the networknt json-schema-validator messages EKS surfaces, e.g.
``[$.X: is not defined in the schema and the schema does not allow additional
properties]`` (aws/amazon-vpc-cni-k8s#2173). Where real EKS behaviour is unknown we are
stricter: string-typed ``format: boolean`` values must be exactly "true" or "false".
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

ADDON_NAME = "vpc-cni"

# Versions EKS has published for vpc-cni (subset). Versions used by seeds are registered
# on the fly (``register_version``) so anything installed on a cluster is describable.
_KNOWN_VERSIONS: set[str] = {
    "v1.12.6-eksbuild.2",
    "v1.13.4-eksbuild.1",
    "v1.14.0-eksbuild.3",
    "v1.14.1-eksbuild.1",
    "v1.15.5-eksbuild.1",
    "v1.16.4-eksbuild.2",
    "v1.18.3-eksbuild.3",
    "v1.19.0-eksbuild.1",
    "v1.19.2-eksbuild.1",
    "v1.20.4-eksbuild.2",
}
_VERSION = re.compile(r"^v(\d+)\.(\d+)\.(\d+)-eksbuild\.(\d+)$")
# First managed build with network policy: v1.14.0-eksbuild.3 (EKS user guide,
# cni-network-policy.html). Whether .1/.2 existed as managed builds is unknown; stricter
# reading: their schema lacks enableNetworkPolicy.
NETWORK_POLICY_MIN = (1, 14, 0, 3)


def parse_version(version: str) -> tuple[int, int, int, int] | None:
    """``v1.19.0-eksbuild.1`` -> ``(1, 19, 0, 1)``; None when malformed."""
    m = _VERSION.match(version)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4))) if m else None


def register_version(version: str) -> None:
    """Make a well-formed version known (seeding may use versions not listed above)."""
    if parse_version(version) is None:
        raise ValueError(f"not a vpc-cni add-on version: {version!r} (want vX.Y.Z-eksbuild.N)")
    _KNOWN_VERSIONS.add(version)


def is_known_version(version: str) -> bool:
    return version in _KNOWN_VERSIONS


def known_versions() -> list[str]:
    return sorted(_KNOWN_VERSIONS, key=lambda v: (parse_version(v), v))


_BOOL_STR: dict[str, Any] = {"type": "string", "format": "boolean"}
_INT_STR: dict[str, Any] = {"type": "string", "format": "integer"}

_ENV_KEYS_BOOL = (
    "AWS_VPC_CNI_NODE_PORT_SUPPORT",
    "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG",
    "AWS_VPC_K8S_CNI_EXTERNALSNAT",
    "AWS_VPC_K8S_CNI_RANDOMIZESNAT",
    "AWS_VPC_K8S_PLUGIN_LOG_LEVEL",
    "DISABLE_INTROSPECTION",
    "DISABLE_METRICS",
    "DISABLE_NETWORK_RESOURCE_PROVISIONING",
    "ENABLE_POD_ENI",
    "ENABLE_PREFIX_DELEGATION",
    "ENABLE_V4_EGRESS",
    "ENABLE_V6_EGRESS",
    "POD_SECURITY_GROUP_ENFORCING_MODE",
)
_ENV_KEYS_INT = (
    "MAX_ENI",
    "MINIMUM_IP_TARGET",
    "WARM_ENI_TARGET",
    "WARM_IP_TARGET",
    "WARM_PREFIX_TARGET",
)
_ENV_KEYS_STR = (
    "ADDITIONAL_ENI_TAGS",
    "AWS_VPC_ENI_MTU",
    "AWS_VPC_K8S_CNI_LOGLEVEL",
    "AWS_VPC_K8S_CNI_LOG_FILE",
    "AWS_VPC_K8S_CNI_VETHPREFIX",
    "AWS_VPC_K8S_PLUGIN_LOG_FILE",
    "CLUSTER_ENDPOINT",
    "ENI_CONFIG_ANNOTATION_DEF",
    "ENI_CONFIG_LABEL_DEF",
    "INTROSPECTION_BIND_ADDRESS",
)


def _resources() -> dict[str, Any]:
    quantity = {
        "type": "object",
        "properties": {"cpu": {"type": "string"}, "memory": {"type": "string"}},
    }
    return {
        "type": "object",
        "title": "Resources",
        "properties": {"limits": quantity, "requests": quantity},
    }


def configuration_schema(version: str) -> dict[str, Any]:
    """The JSON schema document for ``version`` (a dict; serialise with ``json.dumps``).

    Long because it is mostly the schema literal, kept whole so it reads like the document
    EKS returns."""
    parsed = parse_version(version) or (0, 0, 0, 0)
    env_props: dict[str, Any] = dict.fromkeys(_ENV_KEYS_BOOL, _BOOL_STR)
    env_props.update(dict.fromkeys(_ENV_KEYS_INT, _INT_STR))
    env_props.update({k: {"type": "string"} for k in _ENV_KEYS_STR})
    root: dict[str, Any] = {
        "affinity": {"$ref": "#/definitions/Affinity"},
        "env": {"$ref": "#/definitions/Env"},
        "eniConfig": {"$ref": "#/definitions/EniConfig"},
        "init": {"$ref": "#/definitions/Init"},
        "livenessProbeTimeoutSeconds": {"type": "integer"},
        "readinessProbeTimeoutSeconds": {"type": "integer"},
        "resources": {"$ref": "#/definitions/Resources"},
        "tolerations": {"type": "array", "items": {}},
    }
    definitions: dict[str, Any] = {
        "Affinity": {"type": "object", "title": "Affinity"},
        "EniConfig": {
            "type": "object",
            "title": "EniConfig",
            "additionalProperties": False,
            "properties": {
                "create": {"type": "boolean"},
                "region": {"type": "string"},
                "subnets": {"type": "object"},
            },
        },
        "Env": {
            "type": "object",
            "title": "Env",
            "additionalProperties": False,
            "properties": env_props,
        },
        "Init": {
            "type": "object",
            "title": "Init",
            "additionalProperties": False,
            "properties": {
                "env": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "DISABLE_TCP_EARLY_DEMUX": _BOOL_STR,
                        "ENABLE_V6_EGRESS": _BOOL_STR,
                    },
                }
            },
        },
        "Resources": _resources(),
    }
    if parsed >= (1, 13, 0, 0):
        root["enableWindowsIpam"] = _BOOL_STR
    if parsed >= NETWORK_POLICY_MIN:
        node_agent: dict[str, Any] = {
            "enableCloudWatchLogs": _BOOL_STR,
            "enablePolicyEventLogs": _BOOL_STR,
            "healthProbeBindAddr": _INT_STR,
            "metricsBindAddr": _INT_STR,
        }
        if parsed >= (1, 16, 0, 0):
            node_agent["enableIpv6"] = _BOOL_STR
            node_agent["resources"] = {"$ref": "#/definitions/Resources"}
            root["podAnnotations"] = {"type": "object"}
            root["podLabels"] = {"type": "object"}
        if parsed >= (1, 19, 0, 0):
            node_agent["conntrackCacheCleanupPeriod"] = {"type": "integer"}
            node_agent["networkPolicyAgentLogLevel"] = {"type": "string"}
        root["enableNetworkPolicy"] = _BOOL_STR
        root["nodeAgent"] = {"$ref": "#/definitions/NodeAgent"}
        definitions["NodeAgent"] = {
            "type": "object",
            "title": "NodeAgent",
            "additionalProperties": False,
            "properties": node_agent,
        }
    definitions["VpcCni"] = {
        "type": "object",
        "title": "VpcCni",
        "additionalProperties": False,
        "properties": dict(sorted(root.items())),
    }
    return {
        "$ref": "#/definitions/VpcCni",
        "$schema": "http://json-schema.org/draft-06/schema#",
        "definitions": dict(sorted(definitions.items())),
    }


def configuration_schema_text(version: str) -> str:
    return json.dumps(configuration_schema(version), separators=(",", ":"))


class ConfigurationError(ValueError):
    """configurationValues failed validation; ``str()`` is the EKS-style message."""


def parse_configuration(text: str) -> dict[str, Any]:
    """Parse configurationValues (JSON or YAML; YAML 1.1 loader reads JSON too)."""
    if not text.strip():
        # Unknown how EKS treats an all-blank string; stricter reading: reject it.
        raise ConfigurationError(
            "ConfigurationValue provided in request is not supported "
            "[$: null found, object expected]"
        )
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(
            f"ConfigurationValue provided in request is not valid JSON or YAML: {exc}"
        ) from exc
    if not isinstance(value, dict):
        kind = type(value).__name__
        raise ConfigurationError(
            f"ConfigurationValue provided in request is not supported "
            f"[$: {kind} found, object expected]"
        )
    return value


_TYPE_NAMES = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    type(None): "null",
}


def _type_of(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _resolve(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/definitions/"):
        resolved: dict[str, Any] = doc["definitions"][ref.removeprefix("#/definitions/")]
        return resolved
    return schema


def _validate(
    value: Any, schema: dict[str, Any], doc: dict[str, Any], path: str, errors: list[str]
) -> None:
    schema = _resolve(schema, doc)
    expected = schema.get("type")
    actual = _type_of(value)
    if expected and not (actual == expected or (expected == "number" and actual == "integer")):
        errors.append(f"{path}: {actual} found, {expected} expected")
        return
    if (
        expected == "string"
        and schema.get("format") == "boolean"
        and value not in ("true", "false")
    ):
        errors.append(f"{path}: does not match the boolean pattern")
    if isinstance(value, dict):
        props: dict[str, Any] = schema.get("properties", {})
        for key, sub in value.items():
            if key in props:
                _validate(sub, props[key], doc, f"{path}.{key}", errors)
            elif schema.get("additionalProperties") is False:
                errors.append(
                    f"{path}.{key}: is not defined in the schema and the schema "
                    "does not allow additional properties"
                )


def validate_configuration(text: str, version: str) -> dict[str, Any]:
    """Parse and validate configurationValues against ``version``'s schema; return the dict.

    Raises ``ConfigurationError`` with the message EKS puts in InvalidParameterException.
    """
    value = parse_configuration(text)
    doc = configuration_schema(version)
    errors: list[str] = []
    _validate(value, doc, doc, "$", errors)
    if errors:
        raise ConfigurationError(
            "ConfigurationValue provided in request is not supported [" + ", ".join(errors) + "]"
        )
    return value
