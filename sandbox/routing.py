"""Resolve (service, HTTP request) to a botocore operation name, generically.

Why: hand-kept path tables drift from what botocore actually sends. The botocore service
model already says, per operation, how a request is serialised:

* ``rest-json`` / ``rest-xml``: ``http.method`` + ``http.requestUri`` template
  (``/clusters/{name}/addons/{addonName}``; ``{Key+}`` is a greedy label);
* ``query`` / ``ec2``: the ``Action`` parameter (query string or form body);
* ``json``: the ``X-Amz-Target`` header, ``<targetPrefix>.<Operation>``.

Routers are built once per service and cached; route regexes are compiled once.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import botocore.session

_LABEL = re.compile(r"\{([A-Za-z0-9_]+)(\+?)\}")


@dataclass(frozen=True)
class Route:
    """One rest-protocol operation: its method, compiled path regex and required query keys."""

    operation: str
    method: str
    regex: re.Pattern[str]
    required_query: frozenset[str]
    specificity: tuple[int, int, int]


@dataclass(frozen=True)
class Resolved:
    """The operation a request maps to, plus URI labels (e.g. ``{"name": "prod"}``)."""

    operation: str
    labels: dict[str, str]


@dataclass(frozen=True)
class _Member:
    """Where one input member travels in a rest request (botocore ``serialization``)."""

    member: str
    type_name: str


class InputError(ValueError):
    """A query-string value that does not parse as its model type (answered with 400)."""


def _scalar(type_name: str, raw: str, name: str) -> Any:
    if type_name in ("integer", "long"):
        try:
            return int(raw)
        except ValueError:
            raise InputError(f"{name} must be an integer, got {raw!r}") from None
    if type_name == "boolean":
        if raw not in ("true", "false"):
            raise InputError(f"{name} must be true or false, got {raw!r}")
        return raw == "true"
    return raw


def _compile_template(template: str) -> tuple[re.Pattern[str], frozenset[str], tuple[int, int]]:
    path, _, query = template.partition("?")
    pattern = ["^"]
    pos = 0
    literal_chars = 0
    for match in _LABEL.finditer(path):
        literal = path[pos : match.start()]
        literal_chars += len(literal)
        pattern.append(re.escape(literal))
        name, greedy = match.group(1), match.group(2)
        pattern.append(f"(?P<{name}>.+)" if greedy else f"(?P<{name}>[^/]+)")
        pos = match.end()
    tail = path[pos:]
    literal_chars += len(tail)
    pattern.append(re.escape(tail))
    pattern.append("$")
    required = frozenset(q.split("=", 1)[0] for q in query.split("&") if q)
    segments = path.count("/")
    return re.compile("".join(pattern)), required, (literal_chars, segments)


class ServiceRouter:
    """Maps requests of one service to operation names using its botocore model."""

    def __init__(self, model: Any) -> None:
        self.service_name: str = model.service_name
        # The protocol botocore speaks, not the model's first choice: CloudWatch's model
        # lists smithy-rpc-v2-cbor, json and query, and botocore 1.44.5 picks json
        # (botocore.model.ServiceModel.resolved_protocol, in the order of
        # botocore.utils.PRIORITY_ORDERED_SUPPORTED_PROTOCOLS).
        self.protocol: str = model.resolved_protocol
        # awsQueryCompatible services (CloudWatch, SQS) also send each error's query code
        # (the error shape's ``error.code``) in an x-amzn-query-error header, which
        # botocore prefers to __type. None: not query-compatible.
        self.query_codes: dict[str, str] | None = (
            {
                shape.name: shape.metadata["error"].get("code", shape.name)
                for shape in model.error_shapes
                if shape.metadata.get("error")
            }
            if "awsQueryCompatible" in model.metadata
            else None
        )
        self.target_prefix: str | None = model.metadata.get("targetPrefix")
        self._operations: frozenset[str] = frozenset(model.operation_names)
        self._routes: dict[str, list[Route]] = {}
        self._uri: dict[str, dict[str, _Member]] = {}
        self._querystring: dict[str, dict[str, _Member]] = {}
        if self.protocol.startswith("rest"):
            for name in model.operation_names:
                operation = model.operation_model(name)
                self._index_members(name, operation.input_shape)
                http = operation.http
                regex, required, (literal_chars, segments) = _compile_template(http["requestUri"])
                route = Route(
                    operation=name,
                    method=http["method"].upper(),
                    regex=regex,
                    required_query=required,
                    specificity=(len(required), literal_chars, segments),
                )
                self._routes.setdefault(route.method, []).append(route)
            for routes in self._routes.values():
                # Most specific first: literal query keys, then more literal path text.
                routes.sort(key=lambda r: r.specificity, reverse=True)

    def _index_members(self, operation: str, shape: Any) -> None:
        uri: dict[str, _Member] = {}
        querystring: dict[str, _Member] = {}
        for member, member_shape in shape.members.items() if shape is not None else ():
            location = member_shape.serialization.get("location")
            wire_name = member_shape.serialization.get("name", member)
            if location == "uri":
                uri[wire_name] = _Member(member, member_shape.type_name)
            elif location == "querystring":
                item = member_shape.member if member_shape.type_name == "list" else member_shape
                querystring[wire_name] = _Member(
                    member, f"{member_shape.type_name}:{item.type_name}"
                )
        self._uri[operation] = uri
        self._querystring[operation] = querystring

    def uri_members(self, operation: str) -> dict[str, str]:
        """{botocore member name: URI label} of the operation's path parameters."""
        return {m.member: wire for wire, m in self._uri.get(operation, {}).items()}

    def input_params(
        self,
        operation: str,
        labels: dict[str, str],
        query: dict[str, list[str]],
        body: dict[str, Any],
    ) -> dict[str, Any]:
        """The request's input by botocore member name (rest protocols), as a server sees
        it: URI labels (``{name}`` -> ``clusterName`` for add-on operations), typed query
        members and the JSON body. Raises InputError for an unparseable query value."""
        params = dict(body)
        for wire_name, value in labels.items():
            uri_member = self._uri.get(operation, {}).get(wire_name)
            params[uri_member.member if uri_member else wire_name] = value
        for wire_name, member in self._querystring.get(operation, {}).items():
            values = query.get(wire_name)
            if not values:
                continue
            outer, _, item = member.type_name.partition(":")
            if outer == "list":
                params[member.member] = [_scalar(item, v, wire_name) for v in values]
            else:
                params[member.member] = _scalar(item, values[0], wire_name)
        return params

    def resolve(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        form: dict[str, list[str]],
    ) -> Resolved | None:
        """Return the operation for this request, or None when nothing in the model matches."""
        if self.protocol.startswith("rest"):
            for route in self._routes.get(method.upper(), ()):
                if route.required_query and not route.required_query <= query.keys():
                    continue
                match = route.regex.match(path)
                if match:
                    # ``path`` is the raw (still percent-encoded) path: a label such as
                    # TagResource's {resourceArn} carries an encoded "/" (botocore quotes
                    # non-greedy labels with safe=""), decoded only after matching.
                    labels = {k: unquote(v) for k, v in match.groupdict().items()}
                    return Resolved(route.operation, labels)
            return None
        if self.protocol == "json":
            target = headers.get("x-amz-target", "")
            prefix, _, operation = target.rpartition(".")
            if operation in self._operations and prefix == (self.target_prefix or prefix):
                return Resolved(operation, {})
            return None
        # query and ec2 protocols: Action in the form body (botocore POSTs) or query string.
        action = (form.get("Action") or query.get("Action") or [""])[0]
        return Resolved(action, {}) if action in self._operations else None


_lock = threading.Lock()
_session: Any = None
# SigV4 credential-scope names that differ from the botocore service name: the scope
# carries the model's signingName, else its endpointPrefix (cloudwatch: "monitoring").
BOTOCORE_NAMES = {"monitoring": "cloudwatch"}
_routers: dict[str, ServiceRouter | None] = {}


def router_for(service: str) -> ServiceRouter | None:
    """Router for a SigV4 service name (``eks``, ``ec2``, ``sts``, ``securityhub``...).

    The credential-scope name equals the botocore service name for every service the
    sandbox serves but CloudWatch (``BOTOCORE_NAMES``); unknown names return None (the
    front end answers UnknownService).
    """
    router = _routers.get(service)
    if router is not None or service in _routers:
        return router
    global _session
    with _lock:
        if service in _routers:
            return _routers[service]
        if _session is None:
            _session = botocore.session.get_session()
        try:
            model = _session.get_service_model(BOTOCORE_NAMES.get(service, service))
        except Exception:  # botocore raises UnknownServiceError / DataNotFoundError
            _routers[service] = None
            return None
        router = ServiceRouter(model)
        _routers[service] = router
        return router
