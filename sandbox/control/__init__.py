"""The sandbox control API: JSON over HTTP under ``/_sandbox/``.

Why HTTP rather than Python calls: the benchmark and ``make demo`` run the sandbox in
another process; tests in the same process use the same API through ``SandboxClient`` so
there is exactly one way to drive it.

Endpoints (JSON bodies; errors are ``{"error": "..."}`` with 400/404/405; ``account`` is
optional everywhere and defaults to 123456789012)::

    GET    /_sandbox/health
    POST   /_sandbox/reset                               everything back to defaults
    GET    /_sandbox/accounts, GET /_sandbox/accounts/ID
    POST   /_sandbox/accounts     {account, access_key_id, secret_access_key,
                                   principal_arn?, enabled_regions?}
    GET    /_sandbox/clusters[?region=R&account=A]       cluster states (+ add-ons)
    POST   /_sandbox/clusters                            {region, name, account?, ...}
    POST   /_sandbox/clusters:batch                      {clusters: [{...}, ...]}
    GET|PATCH|DELETE /_sandbox/clusters/R/NAME[?account=A]
    PUT|DELETE       /_sandbox/clusters/R/NAME/addon[?account=A]
    GET    /_sandbox/updates[?region=R&cluster=NAME&account=A]  accepted UpdateAddon calls
    POST   /_sandbox/settle                              {region?, cluster?, outcome?, account?}
    GET|PUT /_sandbox/settings                 {auto_settle_seconds, enforce_enabled_regions}
    GET|PUT /_sandbox/regions[?account=A]                {enabled: [...]}
    GET|POST|DELETE /_sandbox/faults, DELETE /_sandbox/faults/ID
    GET|PUT|DELETE /_sandbox/latency                     {base_ms, region_ms, service_ms}
    GET|DELETE /_sandbox/calls                           counts + peak concurrency / reset
    GET|DELETE /_sandbox/events[?account=A&region=R&event_name=N]  CloudTrail events of
                                                         mutating EKS calls (EventBridge shape)
    PUT    /_sandbox/securityhub/R[?account=A]           {enabled: bool} (all accounts without A)
    GET    /_sandbox/securityhub/R/findings[?account=A]
    GET|PUT|DELETE /_sandbox/securityhub:organization    {administrator, members,
                                                          aggregation_region, linked_regions}
    GET|DELETE /_sandbox/securityhub:ingestion            finding ingestion events / reset
    POST   /_sandbox/securityhub:expire                  {as_of}: apply finding retention
    GET    /_sandbox/cloudformation/R/stacks[?account=A]  deployed stacks (doctor)
    PUT|DELETE /_sandbox/cloudformation/R/stacks/NAME    {status, reason, parameters, outputs}
    POST   /_sandbox/cloudwatch/datapoints               {region, namespace, metric,
                                                          dimensions, points: [[epoch, v]]}
    PUT|DELETE /_sandbox/cloudtrail/trails/NAME          {home_region, multi_region, logging,
                                                          event_selectors?,
                                                          advanced_event_selectors?}
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from sandbox.control import deployment, eks, general, securityhub
from sandbox.control.inputs import ControlError

if TYPE_CHECKING:
    from sandbox.control.backends import Backends

Handler = Callable[["Backends", tuple[str, ...], dict[str, Any], dict[str, str]], tuple[int, Any]]

__all__ = ["ControlApi", "ControlError"]


class ControlApi:
    """Dispatches ``/_sandbox/...`` requests to the handlers of ``general``, ``eks``,
    ``securityhub`` and ``deployment``."""

    PREFIX = "/_sandbox"

    def __init__(self, backends: Backends) -> None:
        self.backends = backends
        table: list[tuple[str, str, Handler]] = [
            *general.ROUTES,
            *eks.ROUTES,
            *securityhub.ROUTES,
            *deployment.ROUTES,
        ]
        self._routes = [
            (method, re.compile(f"^{re.escape(self.PREFIX)}{pattern}$"), handler)
            for method, pattern, handler in table
        ]

    def handle(self, method: str, path: str, query_string: str, raw: bytes) -> tuple[int, Any]:
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:  # JSONDecodeError, or UnicodeDecodeError for non-UTF-8
            return 400, {"error": f"invalid JSON body: {exc}"}
        if not isinstance(body, dict):
            return 400, {"error": "JSON body must be an object"}
        query = {k: v[0] for k, v in parse_qs(query_string).items()}
        path_matched = False
        for route_method, regex, handler in self._routes:
            match = regex.match(path)
            if not match:
                continue
            path_matched = True
            if route_method != method:
                continue
            try:
                return handler(self.backends, match.groups(), body, query)
            except ControlError as exc:
                return exc.status, {"error": str(exc)}
            except KeyError as exc:
                return 404, {"error": str(exc.args[0]) if exc.args else "not found"}
            except (TypeError, ValueError) as exc:
                return 400, {"error": str(exc)}
        if path_matched:
            return 405, {"error": f"method {method} not allowed on {path}"}
        return 404, {"error": f"no control endpoint {method} {path}"}
