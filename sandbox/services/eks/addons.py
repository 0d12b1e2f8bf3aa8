"""EKS add-on operations as state methods: they return the response body or raise
``AwsError``.

* https://docs.aws.amazon.com/eks/latest/APIReference/API_ListAddons.html
* https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeAddon.html
* https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeAddonConfiguration.html
* https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateAddon.html
* https://docs.aws.amazon.com/eks/latest/APIReference/API_DeleteAddon.html
* https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateAddon.html
* https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeUpdate.html

Where the real behaviour is not documented the code says "unknown" and picks the stricter
reading (reject rather than accept). Callers hold ``store.lock``.
"""

from __future__ import annotations

import uuid
from typing import Any

from sandbox.errors import AwsError
from sandbox.services.eks import vpccni
from sandbox.services.eks.backend import EksBackend
from sandbox.services.eks.clusters import (
    Caller,
    invalid,
    not_found,
    paginate,
    require_cluster,
    validated_tags,
)
from sandbox.services.eks.models import RESOLVE_CONFLICTS, Addon, AddonSpec, Cluster, Update

# Add-on states from which UpdateAddon is accepted. ACTIVE/DEGRADED/UPDATE_FAILED are
# documented as updatable (updating is how a degraded add-on is repaired); for the failed
# create/delete states the behaviour is unknown, so the stricter reading rejects them.
_UPDATABLE_ADDON = ("ACTIVE", "DEGRADED", "UPDATE_FAILED")
# Add-ons CreateAddon accepts besides vpc-cni, with the version installed when none is
# given. The sandbox has no configuration schema for them, so it refuses
# configurationValues for them (stricter than EKS, which validates against their schema).
OTHER_ADDONS = {
    "coredns": "v1.11.4-eksbuild.2",
    "kube-proxy": "v1.31.3-eksbuild.2",
    "eks-pod-identity-agent": "v1.3.4-eksbuild.1",
}
_DEFAULT_VPC_CNI = "v1.19.0-eksbuild.1"


def no_addon(cluster: str, addon: str) -> AwsError:
    return not_found(
        f"No addon: {addon} found in cluster: {cluster}", clusterName=cluster, addonName=addon
    )


def _require_addon(cluster: Cluster, addon_name: str) -> Addon:
    addon = cluster.addons.get(addon_name)
    if addon is None:
        raise no_addon(cluster.name, addon_name)
    return addon


def _require_active(cluster: Cluster) -> None:
    if cluster.status != "ACTIVE":
        # Unknown exact error for a non-ACTIVE cluster; stricter: reject.
        raise AwsError(
            400,
            "InvalidRequestException",
            f"Cluster {cluster.name} is in {cluster.status} state; add-ons can only be "
            "changed on ACTIVE clusters",
            {"clusterName": cluster.name},
        )


def list_addons(store: EksBackend, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    cluster = require_cluster(store, caller, params.get("clusterName", ""))
    return paginate("addons", list(cluster.addons), params)


def describe_addon(store: EksBackend, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    cluster = require_cluster(store, caller, params.get("clusterName", ""))
    addon = _require_addon(cluster, params.get("addonName", ""))
    return {"addon": addon.to_wire(cluster.name)}


def describe_addon_configuration(
    _store: EksBackend, _caller: Caller, params: dict[str, Any]
) -> dict[str, Any]:
    addon_name, version = params.get("addonName", ""), params.get("addonVersion", "")
    if not addon_name or not version:
        raise invalid("addonName and addonVersion are required")
    # Unknown which error EKS returns for an unknown add-on name or version; we answer
    # ResourceNotFoundException (the call fails either way, which is what matters).
    if addon_name != vpccni.ADDON_NAME:
        raise not_found(f"Addon {addon_name} not found", addonName=addon_name)
    if not vpccni.is_known_version(version):
        raise not_found(
            f"Addon version {version} not found for addon {addon_name}", addonName=addon_name
        )
    return {
        "addonName": addon_name,
        "addonVersion": version,
        "configurationSchema": vpccni.configuration_schema_text(version),
        "podIdentityConfiguration": [],
    }


def _checked_version(addon_name: str, version: str, fields: dict[str, str]) -> None:
    known = (
        vpccni.is_known_version(version)
        if addon_name == vpccni.ADDON_NAME
        else vpccni.parse_version(version) is not None
    )
    if not known:
        raise invalid("Addon version specified is not supported", **fields)


def _checked_config(addon_name: str, config: Any, version: str, fields: dict[str, str]) -> None:
    if config is None:
        return
    if addon_name != vpccni.ADDON_NAME:
        raise invalid(f"The sandbox has no configuration schema for {addon_name}", **fields)
    try:
        vpccni.validate_configuration(str(config), version)
    except vpccni.ConfigurationError as exc:
        raise invalid(str(exc), **fields) from None


def create_addon(store: EksBackend, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """A new add-on in CREATING; ``settle()`` makes it ACTIVE."""
    cluster = require_cluster(store, caller, params.get("clusterName", ""))
    addon_name = str(params.get("addonName", ""))
    fields = {"clusterName": cluster.name, "addonName": addon_name}
    if addon_name != vpccni.ADDON_NAME and addon_name not in OTHER_ADDONS:
        raise invalid(f"Addon {addon_name} is not supported", **fields)
    if addon_name in cluster.addons:
        # The message EKS returns (seen in aws-samples/amazon-eks-security-immersion-day#53).
        raise AwsError(409, "ResourceInUseException", "Addon already exists.", fields)
    _require_active(cluster)
    resolve = params.get("resolveConflicts")
    if resolve is not None and resolve not in RESOLVE_CONFLICTS:
        raise invalid(f"resolveConflicts must be one of {', '.join(RESOLVE_CONFLICTS)}", **fields)
    version = str(params.get("addonVersion") or OTHER_ADDONS.get(addon_name, _DEFAULT_VPC_CNI))
    _checked_version(addon_name, version, fields)
    _checked_config(addon_name, params.get("configurationValues"), version, fields)
    spec = AddonSpec(
        version=version,
        status="CREATING",
        configuration_values=params.get("configurationValues"),
        service_account_role_arn=params.get("serviceAccountRoleArn"),
        tags=validated_tags(params.get("tags") or {}, {}),
    )
    addon = store.install(cluster, spec, addon_name)
    store.pending[(caller.account, caller.region, cluster.name, addon_name)] = store.clock()
    return {"addon": addon.to_wire(cluster.name)}


def delete_addon(store: EksBackend, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """The add-on goes DELETING; ``settle()`` removes it. ``preserve`` (keep the add-on's
    resources in the cluster) does not change what the EKS API shows afterwards."""
    cluster = require_cluster(store, caller, params.get("clusterName", ""))
    addon = _require_addon(cluster, params.get("addonName", ""))
    addon.status, addon.modified_at = "DELETING", store.clock()
    store.pending[(caller.account, caller.region, cluster.name, addon.name)] = store.clock()
    return {"addon": addon.to_wire(cluster.name)}


def _resource_in_use(cluster: str, addon: Addon) -> AwsError:
    return AwsError(
        409,
        "ResourceInUseException",
        f"Addon {addon.name} cannot be updated as it is currently in {addon.status} state",
        {"clusterName": cluster, "addonName": addon.name},
    )


def _fingerprint(params: dict[str, Any]) -> tuple[Any, ...]:
    keys = ("addonVersion", "serviceAccountRoleArn", "resolveConflicts", "configurationValues")
    return tuple(params.get(k) for k in keys)


def _replayed(store: EksBackend, key: tuple[str, ...], params: dict[str, Any]) -> Update | None:
    """The update an earlier call with the same clientRequestToken started, if any."""
    previous = store.tokens.get(key)
    if previous is None:
        return None
    update = store.updates[previous]
    if update.fingerprint != _fingerprint(params):
        # Unknown what EKS does on token reuse with other parameters; the stricter
        # reading (as in EC2's IdempotentParameterMismatch) rejects it.
        raise AwsError(
            400,
            "InvalidRequestException",
            "The client request token has already been used with different request parameters",
        )
    return update


def update_addon(store: EksBackend, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """Start an AddonUpdate (InProgress; the add-on goes UPDATING until settled).

    ``configurationValues`` replaces the whole configuration when given, and is kept when
    absent (UpdateAddon reference). A repeated clientRequestToken returns the same update.
    """
    cluster = require_cluster(store, caller, params.get("clusterName", ""))
    addon = _require_addon(cluster, params.get("addonName", ""))
    fields = {"clusterName": cluster.name, "addonName": addon.name}
    token = params.get("clientRequestToken")
    key = (caller.account, caller.region, cluster.name, addon.name, str(token))
    if token and (update := _replayed(store, key, params)) is not None:
        return {"update": update.to_wire()}  # idempotent retry: no second update
    _require_active(cluster)
    if addon.status not in _UPDATABLE_ADDON:
        raise _resource_in_use(cluster.name, addon)
    resolve = params.get("resolveConflicts")
    if resolve is not None and resolve not in RESOLVE_CONFLICTS:
        raise invalid(f"resolveConflicts must be one of {', '.join(RESOLVE_CONFLICTS)}", **fields)
    target = str(params.get("addonVersion") or addon.version)
    _checked_version(addon.name, target, fields)
    old, new = vpccni.parse_version(addon.version), vpccni.parse_version(target)
    if old and new and new < old:
        # EKS does not support downgrading a managed add-on (EKS user guide, "Update an
        # Amazon EKS add-on").
        raise invalid(
            f"Updating addon {addon.name} from {addon.version} to {target} is not supported "
            "(downgrade)",
            **fields,
        )
    config = params.get("configurationValues")
    _checked_config(addon.name, config, target, fields)
    update = _new_update(store, caller, cluster, addon, params, target)
    if token:
        store.tokens[key] = update.id
    addon.status, addon.modified_at = "UPDATING", update.created_at
    return {"update": update.to_wire()}


def _new_update(
    store: EksBackend,
    caller: Caller,
    cluster: Cluster,
    addon: Addon,
    params: dict[str, Any],
    target: str,
) -> Update:
    resolve, config = params.get("resolveConflicts"), params.get("configurationValues")
    role = params.get("serviceAccountRoleArn")
    update_params = [{"type": "AddonVersion", "value": target}]
    if resolve is not None:
        update_params.append({"type": "ResolveConflicts", "value": resolve})
    if role is not None:
        update_params.append({"type": "ServiceAccountRoleArn", "value": str(role)})
    if config is not None:
        update_params.append({"type": "ConfigurationValues", "value": str(config)})
    update = Update(
        id=str(uuid.uuid4()),
        account=caller.account,
        region=caller.region,
        cluster=cluster.name,
        addon_name=addon.name,
        status="InProgress",
        params=update_params,
        created_at=store.clock(),
        token=params.get("clientRequestToken"),
        fingerprint=_fingerprint(params),
        target_version=target,
        target_config=None if config is None else str(config),
        target_role_arn=role,
    )
    store.updates[update.id] = update
    return update


def describe_update(store: EksBackend, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    name, update_id = params.get("name", ""), params.get("updateId", "")
    require_cluster(store, caller, name)
    update = store.updates.get(update_id)
    # An add-on update is only found when addonName names its add-on (API reference:
    # "addonName ... Required if the update is an add-on update"); a cluster update
    # (UpdateClusterConfig) only without one.
    if (
        update is None
        or (update.account, update.region, update.cluster) != (caller.account, caller.region, name)
        or (params.get("addonName") or "") != update.addon_name
    ):
        raise not_found(f"No update found for ID: {update_id}", clusterName=name)
    return {"update": update.to_wire()}
