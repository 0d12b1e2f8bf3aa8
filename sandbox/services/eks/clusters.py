"""EKS cluster and tagging operations as state methods: they return the response body or
raise ``AwsError``; the wire format is ``responses.py``'s business.

* https://docs.aws.amazon.com/eks/latest/APIReference/API_ListClusters.html
* https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeCluster.html
* https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateCluster.html
* https://docs.aws.amazon.com/eks/latest/APIReference/API_DeleteCluster.html
* https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateClusterConfig.html (EKS
  Auto Mode only: see ``update_cluster_config``)
* https://docs.aws.amazon.com/eks/latest/APIReference/API_TagResource.html (and Untag,
  ListTagsForResource); tag limits from the botocore model (``TagMap`` 1-50 pairs, key
  1-128, value <= 256) and "Tagging your Amazon EKS resources" (keys starting ``aws:``
  are reserved).

Callers hold ``store.lock``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from sandbox.errors import AwsError
from sandbox.services.eks.backend import EksBackend
from sandbox.services.eks.models import Addon, Cluster, Update

DEFAULT_KUBERNETES_VERSION = "1.31"  # sandbox choice for CreateCluster without a version
_CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$")  # model: name pattern
_EKS_ARN = re.compile(r"^arn:aws:eks:([a-z0-9-]+):(\d{12}):(cluster|addon)/(.+)$")


@dataclass(frozen=True)
class Caller:
    """Where a call lands: the caller's account and the region of its credential scope,
    and who calls (the principal ARN; None in emulator unit tests)."""

    account: str
    region: str
    principal: str | None = None


def not_found(message: str, **fields: str) -> AwsError:
    """ResourceNotFoundException 404; EKS also returns the resource names in the body."""
    return AwsError(404, "ResourceNotFoundException", message, fields)


def invalid(message: str, **fields: str) -> AwsError:
    return AwsError(400, "InvalidParameterException", message, fields)


def no_cluster(name: str) -> AwsError:
    return not_found(f"No cluster found for name: {name}.", clusterName=name)


def require_cluster(store: EksBackend, caller: Caller, name: str) -> Cluster:
    cluster = store.cluster(caller.account, caller.region, name)
    if cluster is None:
        raise no_cluster(name)
    return cluster


def _encode_token(after: str) -> str:
    return base64.urlsafe_b64encode(f"v1:{after}".encode()).decode()


def _decode_token(token: str) -> str | None:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return text[3:] if text.startswith("v1:") else None


def paginate(key: str, names: list[str], params: dict[str, Any]) -> dict[str, Any]:
    """A ``{key: [...], nextToken}`` page: maxResults 1..100 (default 100) and an opaque
    nextToken, per ListClusters/ListAddons.

    botocore validates only the minimum client-side; the maximum is enforced here (the API
    reference gives the valid range 1-100; the exact server message is unknown).
    """
    max_results = params.get("maxResults", 100)
    if not 1 <= max_results <= 100:
        raise invalid("maxResults must be between 1 and 100")
    names = sorted(names)
    token = params.get("nextToken")
    if token:
        after = _decode_token(token)
        if after is None:
            raise invalid("The nextToken provided is invalid")
        names = [n for n in names if n > after]
    page = names[:max_results]
    body: dict[str, Any] = {key: page}
    if len(names) > max_results:
        body["nextToken"] = _encode_token(page[-1])
    return body


def list_clusters(store: EksBackend, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    include = params.get("include", [])
    unknown = [v for v in include if v != "all"]
    if unknown:
        # The model types include as a free list of strings; only "all" is documented.
        raise invalid(f"Invalid include value: {unknown[0]}")
    clusters = store.region_clusters(caller.account, caller.region)
    names = [c.name for c in clusters if "all" in include or not c.connector]
    return paginate("clusters", names, params)


def describe_cluster(store: EksBackend, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    cluster = require_cluster(store, caller, params.get("name", ""))
    api = store.endpoint_of(cluster) if cluster.status != "CREATING" else None
    return {"cluster": cluster.to_wire(api)}


def create_cluster(store: EksBackend, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """A new cluster in CREATING; ``settle()`` makes it ACTIVE. Only what the auditor reads
    is kept (version, tags, roleArn, computeConfig.enabled); the rest of the request is
    accepted and not modelled."""
    name = str(params.get("name", ""))
    if not _CLUSTER_NAME.match(name):
        raise invalid(f"Cluster name {name!r} does not match ^[0-9A-Za-z][A-Za-z0-9\\-_]*")
    if store.cluster(caller.account, caller.region, name) is not None:
        raise AwsError(
            409,
            "ResourceInUseException",
            f"Cluster already exists with name: {name}",
            {"clusterName": name},
        )
    tags = validated_tags(params.get("tags") or {}, {})
    compute = params.get("computeConfig") or {}
    store.put_cluster(
        caller.region,
        name,
        account=caller.account,
        status="CREATING",
        version=str(params.get("version") or DEFAULT_KUBERNETES_VERSION),
        tags=tags,
        auto_mode=bool(compute.get("enabled", False)),
    )
    cluster = require_cluster(store, caller, name)
    cluster.role_arn = params.get("roleArn")
    store.pending[(caller.account, caller.region, name, "")] = store.clock()
    return {"cluster": cluster.to_wire()}


def delete_cluster(store: EksBackend, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """The cluster goes DELETING; ``settle()`` removes it (DescribeCluster then answers
    ResourceNotFoundException)."""
    cluster = require_cluster(store, caller, params.get("name", ""))
    cluster.status = "DELETING"
    store.pending[(caller.account, caller.region, cluster.name, "")] = store.clock()
    return {"cluster": cluster.to_wire()}


# The three EKS Auto Mode capabilities of UpdateClusterConfig (botocore eks model:
# computeConfig.enabled, storageConfig.blockStorage.enabled,
# kubernetesNetworkConfig.elasticLoadBalancing.enabled), with the UpdateParamType each
# appears under in the update's params.
_AUTO_MODE = (
    ("computeConfig", ("computeConfig", "enabled"), "ComputeConfig"),
    ("storageConfig", ("storageConfig", "blockStorage", "enabled"), "StorageConfig"),
    (
        "kubernetesNetworkConfig",
        ("kubernetesNetworkConfig", "elasticLoadBalancing", "enabled"),
        "KubernetesNetworkConfig",
    ),
)


def _flag(params: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = params
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def update_cluster_config(
    store: EksBackend, caller: Caller, params: dict[str, Any]
) -> dict[str, Any]:
    """Switch EKS Auto Mode on or off: an AutoModeUpdate InProgress, the cluster UPDATING
    until ``settle()`` ("During an update, the cluster status moves to UPDATING ... When
    the update is complete (either Failed or Successful), the cluster status moves to
    Active", botocore eks model).

    Only Auto Mode is emulated, because it is the only setting a verdict depends on; any
    other setting fails loudly (InvalidRequestException), never silently. The sandbox
    models Auto Mode as one flag, so the three capabilities must be given together and
    agree; what EKS answers otherwise, and its exact texts for a cluster that is not
    ACTIVE, are undocumented: the stricter reading rejects both. The params' values
    (UpdateParamType ComputeConfig, ...) are the request's objects as JSON text, a
    sandbox choice.
    """
    cluster = require_cluster(store, caller, str(params.get("name", "")))
    others = sorted(set(params) - {"name", "clientRequestToken", *(k for k, _, _ in _AUTO_MODE)})
    if others:
        raise AwsError(
            400,
            "InvalidRequestException",
            f"The sandbox emulates UpdateClusterConfig only for EKS Auto Mode, not {others}",
        )
    flags = [_flag(params, path) for _, path, _ in _AUTO_MODE]
    if any(not isinstance(flag, bool) for flag in flags) or len(set(flags)) != 1:
        raise invalid(
            "computeConfig.enabled, storageConfig.blockStorage.enabled and "
            "kubernetesNetworkConfig.elasticLoadBalancing.enabled must be given together "
            "with the same value",
            clusterName=cluster.name,
        )
    token = params.get("clientRequestToken")
    key = (caller.account, caller.region, cluster.name, "", str(token))
    if token and (previous := store.tokens.get(key)) is not None:
        return {"update": store.updates[previous].to_wire()}  # idempotent retry
    if cluster.status != "ACTIVE":
        raise AwsError(
            409,
            "ResourceInUseException",
            f"Cluster {cluster.name} cannot be updated as it is currently in "
            f"{cluster.status} state",
            {"clusterName": cluster.name},
        )
    update = Update(
        id=str(uuid.uuid4()),
        account=caller.account,
        region=caller.region,
        cluster=cluster.name,
        addon_name="",
        status="InProgress",
        params=[
            {"type": kind, "value": json.dumps(params[key], sort_keys=True)}
            for key, _, kind in _AUTO_MODE
        ],
        created_at=store.clock(),
        token=token,
        fingerprint=tuple(flags),
        target_version="",
        target_config=None,
        target_role_arn=None,
        kind="AutoModeUpdate",
        target_auto_mode=flags[0],
    )
    store.updates[update.id] = update
    if token:
        store.tokens[key] = update.id
    cluster.status = "UPDATING"
    return {"update": update.to_wire()}


# ---------------------------------------------------------------------- tagging
def validated_tags(tags: Any, existing: dict[str, str]) -> dict[str, str]:
    """``existing`` merged with ``tags``; BadRequestException-style InvalidParameter on
    CreateCluster, the caller maps it per operation."""
    if not isinstance(tags, dict):
        raise invalid("tags must be a map of strings")
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or len(str(value)) > 256:
            raise invalid(f"Tag {key!r} exceeds the key (128) or value (256) length limit")
        if key.lower().startswith("aws:"):
            raise invalid(f"Tag keys starting with 'aws:' are reserved: {key}")
    merged = {**existing, **{str(k): str(v) for k, v in tags.items()}}
    if len(merged) > 50:
        raise invalid("A resource can have at most 50 tags")
    return merged


def _tagged(store: EksBackend, caller: Caller, arn: str) -> Cluster | Addon:
    match = _EKS_ARN.match(arn)
    if match is None:
        raise AwsError(400, "BadRequestException", f"Invalid resource ARN: {arn}")
    region, account, kind, rest = match.groups()
    if (account, region) != (caller.account, caller.region):
        # Unknown what EKS answers for another account's/region's ARN; stricter: not found.
        raise AwsError(404, "NotFoundException", f"Resource {arn} not found")
    cluster = store.cluster(account, region, rest.split("/")[0])
    if kind == "cluster" and cluster is not None and cluster.arn == arn:
        return cluster
    if kind == "addon" and cluster is not None:
        for addon in cluster.addons.values():
            if addon.arn == arn:
                return addon
    raise AwsError(404, "NotFoundException", f"Resource {arn} not found")


def tag_resource(store: EksBackend, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    resource = _tagged(store, caller, str(params.get("resourceArn", "")))
    try:
        resource.tags = validated_tags(params.get("tags") or {}, resource.tags)
    except AwsError as exc:
        raise AwsError(400, "BadRequestException", exc.message) from None
    return {}


def untag_resource(store: EksBackend, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    resource = _tagged(store, caller, str(params.get("resourceArn", "")))
    keys = params.get("tagKeys") or []
    if not 1 <= len(keys) <= 50:
        raise AwsError(400, "BadRequestException", "tagKeys must name 1 to 50 keys")
    resource.tags = {k: v for k, v in resource.tags.items() if k not in keys}
    return {}


def list_tags(store: EksBackend, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    return {"tags": dict(_tagged(store, caller, str(params.get("resourceArn", ""))).tags)}
