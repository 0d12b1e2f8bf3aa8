"""Control endpoints for the sandbox as a whole: health, reset, settings, accounts and
their regions, faults, latency, call counters, the CloudTrail journal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.control.eks import account_of
from sandbox.control.inputs import (
    ControlError,
    boolean,
    integer,
    num_map,
    number,
    opt_str,
    str_list,
    string,
)
from sandbox.faults import FaultRule, LatencyModel

if TYPE_CHECKING:
    from sandbox.control.backends import Backends

Result = tuple[int, Any]
Args = tuple[str, ...]
Body = dict[str, Any]
Query = dict[str, str]

_FAULT_FIELDS = frozenset(
    {
        "kind",
        "service",
        "operation",
        "region",
        "cluster",
        "account",
        "when",
        "probability",
        "count",
        "seed",
        "message",
        "seconds",
    }
)


def health(backends: Backends, _a: Args, _b: Body, _q: Query) -> Result:
    return 200, {"ok": True, "account": backends.account, "securityhub": True}


def reset(backends: Backends, _a: Args, _b: Body, _q: Query) -> Result:
    backends.reset()
    return 200, {"ok": True}


def get_settings(backends: Backends, _a: Args, _b: Body, _q: Query) -> Result:
    return 200, {
        "auto_settle_seconds": backends.eks.auto_settle_seconds,
        "enforce_enabled_regions": backends.enforce_enabled_regions,
    }


def put_settings(backends: Backends, a: Args, b: Body, q: Query) -> Result:
    if "auto_settle_seconds" in b:
        value = number(b, "auto_settle_seconds", None)
        if value is not None and value < 0:
            raise ControlError(400, "auto_settle_seconds must be >= 0 or null")
        backends.eks.auto_settle_seconds = value
    if "enforce_enabled_regions" in b:
        backends.enforce_enabled_regions = boolean(b, "enforce_enabled_regions", True)
    return get_settings(backends, a, b, q)


# ---------------------------------------------------------------------- accounts/regions
def list_accounts(backends: Backends, _a: Args, _b: Body, _q: Query) -> Result:
    return 200, {"accounts": [account.to_dict() for account in backends.accounts.all()]}


def create_account(backends: Backends, _a: Args, b: Body, _q: Query) -> Result:
    account = backends.accounts.create(
        string(b, "account", ""),
        string(b, "access_key_id", ""),
        string(b, "secret_access_key", ""),
        principal_arn=opt_str(b, "principal_arn"),
        enabled_regions=str_list(b, "enabled_regions"),
    )
    return 201, account.to_dict()


def get_account(backends: Backends, a: Args, _b: Body, _q: Query) -> Result:
    return 200, backends.accounts.get(a[0]).to_dict()


def get_regions(backends: Backends, _a: Args, b: Body, q: Query) -> Result:
    return 200, {"enabled": backends.accounts.get(account_of(backends, b, q)).regions.enabled()}


def put_regions(backends: Backends, a: Args, b: Body, q: Query) -> Result:
    enabled = str_list(b, "enabled")
    if enabled is None:
        raise ControlError(400, "enabled must be a list of region names")
    backends.accounts.get(account_of(backends, b, q)).regions.set_enabled(enabled)
    return get_regions(backends, a, b, q)


# ---------------------------------------------------------------------- faults/latency
def get_faults(backends: Backends, _a: Args, _b: Body, _q: Query) -> Result:
    return 200, {"faults": backends.faults.rules()}


def add_fault(backends: Backends, _a: Args, b: Body, _q: Query) -> Result:
    unknown = set(b) - _FAULT_FIELDS
    if unknown:
        raise ControlError(400, f"unknown fault fields {sorted(unknown)}")
    rule = FaultRule(
        kind=string(b, "kind", ""),  # type: ignore[arg-type]  # FaultRule validates it
        service=opt_str(b, "service"),
        operation=opt_str(b, "operation"),
        region=opt_str(b, "region"),
        cluster=opt_str(b, "cluster"),
        account=opt_str(b, "account"),
        when=opt_str(b, "when"),
        probability=number(b, "probability", 1.0) or 0.0,
        count=integer(b, "count", None),
        seed=integer(b, "seed", 0) or 0,
        message=opt_str(b, "message"),
        seconds=number(b, "seconds", None),
    )
    return 201, backends.faults.add(rule).to_dict()


def clear_faults(backends: Backends, _a: Args, _b: Body, _q: Query) -> Result:
    backends.faults.clear()
    return 200, {"faults": []}


def delete_fault(backends: Backends, a: Args, _b: Body, _q: Query) -> Result:
    if not a[0].isdigit() or not backends.faults.remove(int(a[0])):
        raise KeyError(f"no fault rule {a[0]}")
    return 200, {"deleted": True}


def get_latency(backends: Backends, _a: Args, _b: Body, _q: Query) -> Result:
    return 200, backends.faults.latency.to_dict()


def put_latency(backends: Backends, a: Args, b: Body, q: Query) -> Result:
    backends.faults.latency = LatencyModel(
        base_ms=number(b, "base_ms", 0.0) or 0.0,
        region_ms=num_map(b, "region_ms"),
        service_ms=num_map(b, "service_ms"),
    )
    return get_latency(backends, a, b, q)


def clear_latency(backends: Backends, a: Args, b: Body, q: Query) -> Result:
    backends.faults.latency = LatencyModel()
    return get_latency(backends, a, b, q)


def get_calls(backends: Backends, _a: Args, _b: Body, _q: Query) -> Result:
    return 200, backends.recorder.snapshot()


def reset_calls(backends: Backends, _a: Args, _b: Body, _q: Query) -> Result:
    backends.recorder.reset()
    return 200, backends.recorder.snapshot()


# The handlers of this module's rows in the route table (sandbox/routes.py), by name.
HANDLERS = {
    "health": health,
    "reset": reset,
    "get_settings": get_settings,
    "put_settings": put_settings,
    "list_accounts": list_accounts,
    "create_account": create_account,
    "get_account": get_account,
    "get_regions": get_regions,
    "put_regions": put_regions,
    "get_faults": get_faults,
    "add_fault": add_fault,
    "clear_faults": clear_faults,
    "delete_fault": delete_fault,
    "get_latency": get_latency,
    "put_latency": put_latency,
    "clear_latency": clear_latency,
    "get_calls": get_calls,
    "reset_calls": reset_calls,
}
