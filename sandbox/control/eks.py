"""Control endpoints for EKS state: clusters, the vpc-cni add-on, updates, settling and
the CloudTrail events of mutating EKS calls.

Every endpoint takes an optional ``account`` (body field for POST, query parameter
otherwise); without it, the default account 123456789012.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.control.inputs import (
    ControlError,
    boolean,
    opt_str,
    str_map,
    string,
    string_list,
)
from sandbox.services.eks.models import AddonSpec

if TYPE_CHECKING:
    from sandbox.control.backends import Backends

Result = tuple[int, Any]
Args = tuple[str, ...]
Body = dict[str, Any]
Query = dict[str, str]


def account_of(backends: Backends, body: dict[str, Any], query: dict[str, str]) -> str:
    """The account a control request names (KeyError -> 404 when unknown)."""
    account = opt_str(body, "account") or query.get("account")
    return backends.accounts.get(account).id


def addon_spec(body: dict[str, Any]) -> AddonSpec:
    issues = body.get("health_issues") or []
    if not isinstance(issues, list) or not all(isinstance(i, dict) for i in issues):
        raise ControlError(400, "health_issues must be a list of objects")
    return AddonSpec(
        version=string(body, "version", AddonSpec.version),
        status=string(body, "status", AddonSpec.status),
        configuration_values=opt_str(body, "configuration_values"),
        health_issues=[dict(i) for i in issues],
        service_account_role_arn=opt_str(body, "service_account_role_arn"),
        tags=str_map(body, "tags"),
    )


def list_clusters(backends: Backends, _a: Args, b: Body, q: Query) -> Result:
    return 200, {"clusters": backends.eks.list_state(q.get("region"), account_of(backends, b, q))}


def add_cluster(backends: Backends, _a: Args, b: Body, q: Query) -> Result:
    for key in ("region", "name"):
        if not b.get(key):
            raise ControlError(400, f"{key} is required")
    addon = b.get("addon")
    if addon is not None and not isinstance(addon, dict):
        raise ControlError(400, "addon must be an object or null")
    state = backends.eks.put_cluster(
        string(b, "region", ""),
        string(b, "name", ""),
        account=account_of(backends, b, q),
        status=string(b, "status", "ACTIVE"),
        version=string(b, "version", "1.31"),
        platform_version=opt_str(b, "platform_version"),
        tags=str_map(b, "tags"),
        auto_mode=boolean(b, "auto_mode", False),
        omit_compute_config=boolean(b, "omit_compute_config", False),
        connector=boolean(b, "connector", False),
        addon=None if addon is None else addon_spec(addon),
        authentication_mode=string(b, "authentication_mode", "API_AND_CONFIG_MAP"),
        endpoint_public_access=boolean(b, "endpoint_public_access", True),
        public_access_cidrs=string_list(b, "public_access_cidrs", ["0.0.0.0/0"]),
    )
    return 201, state


def add_clusters(backends: Backends, a: Args, b: Body, q: Query) -> Result:
    specs = b.get("clusters")
    if not isinstance(specs, list) or not all(isinstance(c, dict) for c in specs):
        raise ControlError(400, "clusters must be a list of cluster objects")
    for spec in specs:
        add_cluster(backends, a, spec, q)
    return 201, {"created": len(specs)}


def get_cluster(backends: Backends, a: Args, b: Body, q: Query) -> Result:
    state = backends.eks.cluster_state(a[0], a[1], account_of(backends, b, q))
    if state is None:
        raise KeyError(f"no cluster {a[1]!r} in {a[0]}")
    return 200, state


def patch_cluster(backends: Backends, a: Args, b: Body, q: Query) -> Result:
    account = account_of(backends, {}, q)
    changes: dict[str, Any] = {}
    for key in b:
        if key == "tags":
            changes[key] = str_map(b, key)
        elif key in ("auto_mode", "omit_compute_config", "endpoint_public_access"):
            changes[key] = boolean(b, key, False)
        elif key == "public_access_cidrs":
            changes[key] = string_list(b, key, [])
        else:
            changes[key] = string(b, key, "")  # unknown keys are refused by update_cluster
    return 200, backends.eks.update_cluster(a[0], a[1], changes, account)


def delete_cluster(backends: Backends, a: Args, b: Body, q: Query) -> Result:
    if not backends.eks.delete_cluster(a[0], a[1], account_of(backends, b, q)):
        raise KeyError(f"no cluster {a[1]!r} in {a[0]}")
    return 200, {"deleted": True}


def put_addon(backends: Backends, a: Args, b: Body, q: Query) -> Result:
    account = account_of(backends, {}, q)
    return 200, backends.eks.set_addon(a[0], a[1], addon_spec(b), account)


def delete_addon(backends: Backends, a: Args, b: Body, q: Query) -> Result:
    return 200, backends.eks.set_addon(a[0], a[1], None, account_of(backends, b, q))


def updates(backends: Backends, _a: Args, b: Body, q: Query) -> Result:
    account = account_of(backends, b, q) if "account" in q else None
    return 200, {"updates": backends.eks.update_list(q.get("region"), q.get("cluster"), account)}


def settle(backends: Backends, _a: Args, b: Body, q: Query) -> Result:
    account = account_of(backends, b, q) if b.get("account") else None
    settled = backends.eks.settle(
        opt_str(b, "region"), opt_str(b, "cluster"), string(b, "outcome", "Successful"), account
    )
    return 200, {"settled": settled}


def get_events(backends: Backends, _a: Args, _b: Body, q: Query) -> Result:
    """CloudTrail events of mutating EKS calls as EventBridge delivers them, in call order."""
    events = backends.eks.journal.events(q.get("account"), q.get("region"), q.get("event_name"))
    return 200, {"events": events}


def clear_events(backends: Backends, _a: Args, _b: Body, _q: Query) -> Result:
    backends.eks.journal.reset()
    return 200, {"events": []}


# The handlers of this module's rows in the route table (sandbox/routes.py), by name.
HANDLERS = {
    "list_clusters": list_clusters,
    "add_cluster": add_cluster,
    "add_clusters": add_clusters,
    "get_cluster": get_cluster,
    "patch_cluster": patch_cluster,
    "delete_cluster": delete_cluster,
    "put_addon": put_addon,
    "delete_addon": delete_addon,
    "updates": updates,
    "settle": settle,
    "get_events": get_events,
    "clear_events": clear_events,
}
