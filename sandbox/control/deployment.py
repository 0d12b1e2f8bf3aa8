"""Control endpoints for what a deployed auditor stack leaves in an account, read by
`doctor`: the CloudFormation stack, CloudWatch datapoints and CloudTrail trails.

Every endpoint takes an optional ``account`` (body field, or query parameter); without
it, the default account 123456789012.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.control.eks import account_of
from sandbox.control.inputs import ControlError, boolean, str_map, string
from sandbox.services.cloudtrail.backend import DEFAULT_SELECTORS, TrailState

if TYPE_CHECKING:
    from sandbox.control.backends import Backends

Result = tuple[int, Any]
Args = tuple[str, ...]
Body = dict[str, Any]
Query = dict[str, str]


def get_stacks(backends: Backends, a: Args, b: Body, q: Query) -> Result:
    stacks = backends.cloudformation.stacks(account_of(backends, b, q), a[0])
    return 200, {"stacks": [s.to_dict() for s in stacks]}


def put_stack(backends: Backends, a: Args, b: Body, q: Query) -> Result:
    stack = backends.cloudformation.put_stack(
        account_of(backends, b, q),
        a[0],
        a[1],
        status=string(b, "status", "CREATE_COMPLETE"),
        reason=string(b, "reason", ""),
        parameters=str_map(b, "parameters"),
        outputs=str_map(b, "outputs"),
    )
    return 200, stack.to_dict()


def delete_stack(backends: Backends, a: Args, b: Body, q: Query) -> Result:
    backends.cloudformation.delete_stack(account_of(backends, b, q), a[0], a[1])
    return 200, {"deleted": True}


def add_datapoints(backends: Backends, _a: Args, b: Body, q: Query) -> Result:
    """{region, namespace, metric, dimensions: {Name: Value}, points: [[epoch, value]]}"""
    points = b.get("points")
    if not isinstance(points, list) or not all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(x, (int, float)) for x in p)
        for p in points
    ):
        raise ControlError(400, "points must be a list of [epoch seconds, value] pairs")
    count = backends.cloudwatch.put(
        account_of(backends, b, q),
        string(b, "region", ""),
        (string(b, "namespace", ""), string(b, "metric", "")),
        str_map(b, "dimensions"),
        [(float(t), float(v)) for t, v in points],
    )
    return 200, {"datapoints": count}


def _selectors(body: Body, key: str) -> tuple[dict[str, Any], ...] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ControlError(400, f"{key} must be a list of objects")
    return tuple(value)


def put_trail(backends: Backends, a: Args, b: Body, q: Query) -> Result:
    advanced = _selectors(b, "advanced_event_selectors") or ()
    basic = _selectors(b, "event_selectors")
    trail = TrailState(
        account=account_of(backends, b, q),
        name=a[0],
        home_region=string(b, "home_region", "us-east-1"),
        multi_region=boolean(b, "multi_region", True),
        organization=boolean(b, "organization", False),
        logging=boolean(b, "logging", True),
        event_selectors=basic if basic is not None else (() if advanced else DEFAULT_SELECTORS),
        advanced_event_selectors=advanced,
    )
    return 200, backends.cloudtrail.put(trail).to_dict()


def delete_trail(backends: Backends, a: Args, b: Body, q: Query) -> Result:
    backends.cloudtrail.delete(account_of(backends, b, q), a[0])
    return 200, {"deleted": True}


# The handlers of this module's rows in the route table (sandbox/routes.py), by name.
HANDLERS = {
    "get_stacks": get_stacks,
    "put_stack": put_stack,
    "delete_stack": delete_stack,
    "add_datapoints": add_datapoints,
    "put_trail": put_trail,
    "delete_trail": delete_trail,
}
