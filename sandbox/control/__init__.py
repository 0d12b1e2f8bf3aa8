"""The sandbox control API: JSON over HTTP under ``/_sandbox/``.

Why HTTP rather than Python calls: the benchmark and ``make demo`` run the sandbox in
another process; tests in the same process use the same API through ``SandboxClient`` so
there is exactly one way to drive it.

The endpoints are the rows of the route table, ``sandbox/routes.py``; each module here
holds the ``HANDLERS`` of its rows, by the row's name, and talks only to the backends
(``backends.Backends``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from sandbox.control import deployment, eks, general, kubernetes, securityhub
from sandbox.control.inputs import ControlError
from sandbox.routes import ROUTES

if TYPE_CHECKING:
    from sandbox.control.backends import Backends

Handler = Callable[["Backends", tuple[str, ...], dict[str, Any], dict[str, str]], tuple[int, Any]]

__all__ = ["ControlApi", "ControlError"]


class ControlApi:
    """Dispatches ``/_sandbox/...`` requests to the handlers of ``general``, ``eks``,
    ``securityhub`` and ``deployment``."""

    def __init__(self, backends: Backends) -> None:
        self.backends = backends
        handlers: dict[str, Handler] = {
            **general.HANDLERS,
            **eks.HANDLERS,
            **securityhub.HANDLERS,
            **deployment.HANDLERS,
            **kubernetes.HANDLERS,
        }
        unrouted = set(handlers) - {route.name for route in ROUTES}
        if unrouted:
            raise RuntimeError(f"control handlers without a route: {sorted(unrouted)}")
        # KeyError here: a route in the table that no module handles.
        self._routes = [(route.method, route.regex(), handlers[route.name]) for route in ROUTES]

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
