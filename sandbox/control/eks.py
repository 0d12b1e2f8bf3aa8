"""Control endpoints for EKS state: clusters, the vpc-cni add-on, updates, settling.

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
)
from sandbox.eks import AddonSpec

if TYPE_CHECKING:
    from sandbox.control.backends import Backends

Result = tuple[int, Any]


def account_of(app: Backends, body: dict[str, Any], query: dict[str, str]) -> str:
    """The account a control request names (KeyError -> 404 when unknown)."""
    account = opt_str(body, "account") or query.get("account")
    return app.accounts.get(account).id


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


def list_clusters(
    app: Backends, _a: tuple[str, ...], b: dict[str, Any], q: dict[str, str]
) -> Result:
    return 200, {"clusters": app.eks_store.list_state(q.get("region"), account_of(app, b, q))}


def add_cluster(app: Backends, _a: tuple[str, ...], b: dict[str, Any], q: dict[str, str]) -> Result:
    for key in ("region", "name"):
        if not b.get(key):
            raise ControlError(400, f"{key} is required")
    addon = b.get("addon")
    if addon is not None and not isinstance(addon, dict):
        raise ControlError(400, "addon must be an object or null")
    state = app.eks_store.put_cluster(
        string(b, "region", ""),
        string(b, "name", ""),
        account=account_of(app, b, q),
        status=string(b, "status", "ACTIVE"),
        version=string(b, "version", "1.31"),
        platform_version=opt_str(b, "platform_version"),
        tags=str_map(b, "tags"),
        auto_mode=boolean(b, "auto_mode", False),
        omit_compute_config=boolean(b, "omit_compute_config", False),
        connector=boolean(b, "connector", False),
        addon=None if addon is None else addon_spec(addon),
    )
    return 201, state


def add_clusters(app: Backends, a: tuple[str, ...], b: dict[str, Any], q: dict[str, str]) -> Result:
    specs = b.get("clusters")
    if not isinstance(specs, list) or not all(isinstance(c, dict) for c in specs):
        raise ControlError(400, "clusters must be a list of cluster objects")
    for spec in specs:
        add_cluster(app, a, spec, q)
    return 201, {"created": len(specs)}


def get_cluster(app: Backends, a: tuple[str, ...], b: dict[str, Any], q: dict[str, str]) -> Result:
    state = app.eks_store.cluster_state(a[0], a[1], account_of(app, b, q))
    if state is None:
        raise KeyError(f"no cluster {a[1]!r} in {a[0]}")
    return 200, state


def patch_cluster(
    app: Backends, a: tuple[str, ...], b: dict[str, Any], q: dict[str, str]
) -> Result:
    account = account_of(app, {}, q)
    changes: dict[str, Any] = {}
    for key in b:
        if key == "tags":
            changes[key] = str_map(b, key)
        elif key in ("auto_mode", "omit_compute_config"):
            changes[key] = boolean(b, key, False)
        else:
            changes[key] = string(b, key, "")  # unknown keys are refused by update_cluster
    return 200, app.eks_store.update_cluster(a[0], a[1], changes, account)


def delete_cluster(
    app: Backends, a: tuple[str, ...], b: dict[str, Any], q: dict[str, str]
) -> Result:
    if not app.eks_store.delete_cluster(a[0], a[1], account_of(app, b, q)):
        raise KeyError(f"no cluster {a[1]!r} in {a[0]}")
    return 200, {"deleted": True}


def put_addon(app: Backends, a: tuple[str, ...], b: dict[str, Any], q: dict[str, str]) -> Result:
    account = account_of(app, {}, q)
    return 200, app.eks_store.set_addon(a[0], a[1], addon_spec(b), account)


def delete_addon(app: Backends, a: tuple[str, ...], b: dict[str, Any], q: dict[str, str]) -> Result:
    return 200, app.eks_store.set_addon(a[0], a[1], None, account_of(app, b, q))


def updates(app: Backends, _a: tuple[str, ...], b: dict[str, Any], q: dict[str, str]) -> Result:
    account = account_of(app, b, q) if "account" in q else None
    return 200, {"updates": app.eks_store.update_list(q.get("region"), q.get("cluster"), account)}


def settle(app: Backends, _a: tuple[str, ...], b: dict[str, Any], q: dict[str, str]) -> Result:
    account = account_of(app, b, q) if b.get("account") else None
    settled = app.eks_store.settle(
        opt_str(b, "region"), opt_str(b, "cluster"), string(b, "outcome", "Successful"), account
    )
    return 200, {"settled": settled}


SEG = r"([^/]+)"
ROUTES = [
    ("GET", "/clusters", list_clusters),
    ("POST", "/clusters", add_cluster),
    ("POST", "/clusters:batch", add_clusters),
    ("GET", f"/clusters/{SEG}/{SEG}", get_cluster),
    ("PATCH", f"/clusters/{SEG}/{SEG}", patch_cluster),
    ("DELETE", f"/clusters/{SEG}/{SEG}", delete_cluster),
    ("PUT", f"/clusters/{SEG}/{SEG}/addon", put_addon),
    ("DELETE", f"/clusters/{SEG}/{SEG}/addon", delete_addon),
    ("GET", "/updates", updates),
    ("POST", "/settle", settle),
]
