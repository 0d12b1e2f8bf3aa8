"""Control endpoints for the Security Hub emulator (``sandbox/securityhub/``): enablement
per account and region, stored findings, ingestion counts, retention, the organization.

Kept apart from the other control modules so the Security Hub emulator's owner can extend
it without touching the rest. ``account`` is passed through unvalidated: Security Hub
state may name accounts the account registry does not hold (emulator unit tests).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.control.inputs import ControlError, opt_str, str_list, str_map

if TYPE_CHECKING:
    from sandbox.control.backends import Backends

Result = tuple[int, Any]
Args = tuple[str, ...]
Body = dict[str, Any]
Query = dict[str, str]


def put_enabled(backends: Backends, a: Args, b: Body, q: Query) -> Result:
    enabled = b.get("enabled")
    if not isinstance(enabled, bool):
        raise ControlError(400, "enabled must be true or false")
    account = opt_str(b, "account") or q.get("account")
    backends.securityhub.set_enabled(a[0], enabled, account=account)
    return 200, {"region": a[0], "enabled": enabled}


def findings(backends: Backends, a: Args, _b: Body, q: Query) -> Result:
    return 200, {"findings": backends.securityhub.findings(a[0], account=q.get("account"))}


def ingestion(backends: Backends, _a: Args, _b: Body, _q: Query) -> Result:
    return 200, {"ingestion": backends.securityhub.ingestion_events()}


def reset_ingestion(backends: Backends, a: Args, b: Body, q: Query) -> Result:
    backends.securityhub.reset_ingestion_events()
    return ingestion(backends, a, b, q)


def expire(backends: Backends, _a: Args, b: Body, _q: Query) -> Result:
    as_of = opt_str(b, "as_of")
    if as_of is None:
        raise ControlError(400, "as_of (an ISO 8601 timestamp) is required")
    return 200, {"expired": backends.securityhub.expire_findings(as_of)}


def get_organization(backends: Backends, _a: Args, _b: Body, _q: Query) -> Result:
    return 200, backends.securityhub.organization()


def put_organization(backends: Backends, _a: Args, b: Body, _q: Query) -> Result:
    members = str_list(b, "members") or []
    linked = str_list(b, "linked_regions") or []
    return 200, backends.securityhub.set_organization(
        opt_str(b, "administrator"),
        members,
        opt_str(b, "aggregation_region"),
        linked,
        str_map(b, "member_statuses"),
    )


def delete_organization(backends: Backends, _a: Args, _b: Body, _q: Query) -> Result:
    return 200, backends.securityhub.set_organization(None)


# The handlers of this module's rows in the route table (sandbox/routes.py), by name.
HANDLERS = {
    "put_enabled": put_enabled,
    "findings": findings,
    "ingestion": ingestion,
    "reset_ingestion": reset_ingestion,
    "expire": expire,
    "get_organization": get_organization,
    "put_organization": put_organization,
    "delete_organization": delete_organization,
}
