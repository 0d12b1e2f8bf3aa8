"""The Kubernetes API of a sandbox cluster: one HTTP request in, one answer out.

Spelled as kube-apiserver spells it (Kubernetes API concepts, "API concepts"; API
reference, "Status"):

* paths ``/api/v1/...`` and ``/apis/GROUP/VERSION/...``: a collection (cluster-wide, or
  ``namespaces/NS/RESOURCE``) is a ``list``, an object a ``get``;
* errors are ``Status`` objects: ``{"kind": "Status", "apiVersion": "v1", "metadata": {},
  "status": "Failure", "message", "reason", "code"}`` (+ ``details``);
* ``Accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1`` answers a
  list as metadata only ("Receiving resources as metadata only"); an Accept the server
  cannot satisfy is 406 NotAcceptable;
* ``limit``/``continue`` as in ``backend.KubernetesBackend.list``; 429 TooManyRequests
  carries ``Retry-After`` (API Priority and Fairness).

Authentication (``authn.py``) then authorization (``backend.authorize``) come first, as
in the API server's filter chain. Read-only: writes are authorised, then refused with 405.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from sandbox.accounts import Accounts
from sandbox.faults import KUBERNETES, OVERSIZED_BYTES, Call, CallRecorder, FaultInjector
from sandbox.services.eks.backend import EksBackend
from sandbox.services.eks.models import Cluster
from sandbox.services.kubernetes import objects
from sandbox.services.kubernetes.authn import TokenRejected, verify_token
from sandbox.services.kubernetes.backend import (
    EXPIRED_MESSAGE,
    RESOURCES,
    ClusterKey,
    ContinueError,
    KubernetesBackend,
    Resource,
    authorize,
    forbidden_message,
)

PARTIAL_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
REQUEST_FAULTS = frozenset(
    {
        "slow",
        "reset",
        "expired_token",
        "oversized",
        "stale_continue",
        "throttle",
        "server_error",
        "access_denied",
    }
)
_WRITE_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
_UNSUPPORTED_QUERY = ("watch", "labelSelector", "fieldSelector", "resourceVersion")


@dataclass(frozen=True)
class KubeRequest:
    method: str
    path: str
    query_string: str
    headers: dict[str, str]  # lower-case names


@dataclass
class KubeResponse:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    reset: bool = False  # drop the connection (TCP RST) instead of answering


def status_response(
    code: int, reason: str, message: str, details: dict[str, Any] | None = None
) -> KubeResponse:
    """A ``Status`` error body (API reference, "Status"; API conventions, "Response
    Status Kind")."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return KubeResponse(code, json.dumps(body).encode(), {"Content-Type": "application/json"})


@dataclass(frozen=True)
class _Route:
    resource: Resource
    namespace: str | None
    name: str | None


def _route(path: str) -> _Route | None:
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    if not 1 <= len(rest) <= 2:
        return None
    resource = RESOURCES.get((group, version, rest[0]))
    if resource is None or (namespace is not None and not resource.namespaced):
        return None
    return _Route(resource, namespace, rest[1] if len(rest) == 2 else None)


def _wants_partial(accept: str, is_list: bool) -> bool | None:
    """True: metadata only; False: whole objects; None: nothing acceptable (406)."""
    if not accept.strip():
        return False
    for media in accept.split(","):
        params = [p.strip() for p in media.split(";")]
        kind = params[0].lower()
        extra = dict(p.split("=", 1) for p in params[1:] if "=" in p)
        extra.pop("q", None)
        if kind in ("*/*", "application/*") or (kind == "application/json" and not extra):
            return False
        if kind == "application/json" and extra.get("g") == "meta.k8s.io":
            wanted = "PartialObjectMetadataList" if is_list else "PartialObjectMetadata"
            if extra.get("as") == wanted and extra.get("v") in ("v1", "v1beta1"):
                return True
    return None


class KubernetesApi:
    """Answers the requests of every cluster's listener (``server.py``)."""

    def __init__(
        self,
        accounts: Accounts,
        eks: EksBackend,
        backend: KubernetesBackend,
        faults: FaultInjector,
        recorder: CallRecorder,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.accounts, self.eks, self.backend = accounts, eks, backend
        self.faults, self.recorder, self.clock = faults, recorder, clock

    def handle(self, key: ClusterKey, request: KubeRequest) -> KubeResponse:
        route = _route(request.path)
        verb = _WRITE_VERBS.get(request.method, "get")
        if route is not None and route.name is None and verb == "get":
            verb = "list"
        operation = f"{verb}:{route.resource.plural}" if route else f"{verb}:unknown"
        account, region, cluster_name = key
        call = Call(KUBERNETES, operation, region, cluster_name, None, account)
        window = self.recorder.enter()
        response = status_response(500, "InternalError", "sandbox crashed")
        try:
            response = self._answer(key, request, route, verb, call)
        except Exception:
            # A sandbox bug answers 500 (and shows), as the AWS front end does.
            traceback.print_exc(file=sys.stderr)
        finally:
            self.recorder.leave(call, response.status if not response.reset else 0, window)
        return response

    def _answer(
        self, key: ClusterKey, request: KubeRequest, route: _Route | None, verb: str, call: Call
    ) -> KubeResponse:
        self.faults.sleep(call)
        rule = self.faults.pick(call, kinds=REQUEST_FAULTS)
        kind = rule.kind if rule else None
        if rule is not None and kind == "slow":
            time.sleep(30.0 if rule.seconds is None else rule.seconds)
        if kind == "reset":
            return KubeResponse(0, reset=True)
        if rule is not None and kind == "throttle":
            retry = int(rule.seconds if rule.seconds is not None else 1)
            response = status_response(
                429,
                "TooManyRequests",
                "Too many requests, please try again later.",
                {"retryAfterSeconds": retry},
            )
            response.headers["Retry-After"] = str(retry)
            return response
        if kind == "server_error":
            return status_response(500, "InternalError", "Internal error occurred")
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            # Kubernetes "Authenticating", anonymous requests: no credentials at all makes
            # system:anonymous, which the authorizer then forbids.
            target = route.resource if route else None
            message = (
                forbidden_message("system:anonymous", verb, target, route.namespace, route.name)
                if route and target
                else f'forbidden: User "system:anonymous" cannot get path "{request.path}"'
            )
            return status_response(403, "Forbidden", message)
        try:
            caller = verify_token(
                auth[len("Bearer ") :].strip(),
                key[2],  # the cluster's name, its x-k8s-aws-id
                self.accounts,
                datetime.fromtimestamp(self.clock(), UTC),
                expired=kind == "expired_token",
            )
        except TokenRejected:
            return status_response(401, "Unauthorized", "Unauthorized")
        if route is None:
            return status_response(
                404, "NotFound", "the server could not find the requested resource"
            )
        # Only the access decision holds the EKS lock; reads and JSON happen outside it.
        with self.eks.lock:
            cluster = self.eks.cluster(*key)
            if cluster is None:
                return status_response(503, "ServiceUnavailable", "the cluster no longer exists")
            decision = authorize(
                cluster,
                caller.identity.arn,
                caller.session_name,
                verb,
                route.resource,
                route.namespace,
            )
        if decision.status == 401:
            return status_response(401, "Unauthorized", "Unauthorized")
        if decision.status == 403 or kind == "access_denied":
            message = forbidden_message(
                decision.username or caller.identity.arn,
                verb,
                route.resource,
                route.namespace,
                route.name,
            )
            details = {"kind": route.resource.plural}
            if route.name:
                details["name"] = route.name
            return status_response(403, "Forbidden", message, details)
        if verb not in ("get", "list"):
            return status_response(
                405, "MethodNotAllowed", "the sandbox's Kubernetes API is read-only"
            )
        return self._read(key, cluster, request, route, kind)

    def _read(
        self,
        key: ClusterKey,
        cluster: Cluster,
        request: KubeRequest,
        route: _Route,
        kind: str | None,
    ) -> KubeResponse:
        query = {k: v[-1] for k, v in parse_qs(request.query_string).items()}
        partial = _wants_partial(request.headers.get("accept", ""), route.name is None)
        if partial is None:
            return status_response(
                406,
                "NotAcceptable",
                "only the following media types are accepted: application/json, " + PARTIAL_LIST,
            )
        resource = route.resource
        if route.name is not None:
            obj = self.backend.get(cluster, key, resource, route.namespace, route.name)
            if obj is None:
                return status_response(
                    404,
                    "NotFound",
                    f'{resource.plural} "{route.name}" not found',
                    {"name": route.name, "kind": resource.plural},
                )
            body = objects.partial_metadata(obj) if partial else obj
            return _json(body, partial=False)
        unsupported = [q for q in _UNSUPPORTED_QUERY if q in query]
        if unsupported:
            return status_response(
                400, "BadRequest", f"the sandbox does not emulate {unsupported[0]}"
            )
        limit_text = query.get("limit", "0")
        if not limit_text.lstrip("-").isdigit():
            return status_response(400, "BadRequest", f"invalid limit: {limit_text!r}")
        token = query.get("continue") or None
        if token and kind == "stale_continue":
            return status_response(410, "Expired", EXPIRED_MESSAGE)
        limit = int(limit_text)

        def render() -> dict[str, Any]:
            return self._list_body(cluster, key, route, limit, token, partial=partial)

        try:
            if kind == "oversized":
                answer = _oversized(render())
            else:
                answer = self.backend.list_answer(
                    cluster,
                    key,
                    (resource.plural, route.namespace, partial, limit, token),
                    lambda: json.dumps(render()).encode(),
                )
        except ContinueError as exc:
            reason = "Expired" if exc.status == 410 else "BadRequest"
            return status_response(exc.status, reason, str(exc))
        return _answer(answer, partial=partial)

    def _list_body(
        self,
        cluster: Cluster,
        key: ClusterKey,
        route: _Route,
        limit: int,
        token: str | None,
        *,
        partial: bool,
    ) -> dict[str, Any]:
        """One page of a list as kube-apiserver spells it (ContinueError on a bad token)."""
        resource = route.resource
        page = self.backend.list_page(cluster, key, resource, route.namespace, limit, token)
        items = [objects.partial_metadata(o) if partial else o for o in page.items]
        metadata: dict[str, Any] = {"resourceVersion": page.resource_version}
        if page.continue_token:
            metadata["continue"] = page.continue_token
            metadata["remainingItemCount"] = page.remaining
        return {
            "kind": "PartialObjectMetadataList" if partial else f"{resource.kind}List",
            "apiVersion": "meta.k8s.io/v1" if partial else resource.api_version,
            "metadata": metadata,
            "items": items,
        }


def _oversized(body: dict[str, Any]) -> bytes:
    """The list padded with copies of its first item (or a namespace) to OVERSIZED_BYTES,
    spelled straight to JSON text: building 10 MiB of objects first is too slow to answer
    within a client's read timeout."""
    items = body["items"]
    template = items[0] if items else objects.namespace("filler", {}, 0, 1)
    marker = "@@FILLER@@"
    text = json.dumps({**template, "metadata": {**template["metadata"], "name": marker}})
    head, tail = text.split(marker, 1)
    count = OVERSIZED_BYTES // (len(text) + 2) + 1
    fillers = ",".join(f"{head}filler-{i:07d}{tail}" for i in range(count))
    listed = json.dumps(items)[1:-1]
    joined = f"{listed},{fillers}" if listed else fillers
    rest = json.dumps({k: v for k, v in body.items() if k != "items"})[:-1]
    return f'{rest}, "items": [{joined}]}}'.encode()


def _json(body: dict[str, Any], *, partial: bool) -> KubeResponse:
    return _answer(json.dumps(body).encode(), partial=partial)


def _answer(data: bytes, *, partial: bool) -> KubeResponse:
    content_type = PARTIAL_LIST if partial else "application/json"
    return KubeResponse(200, data, {"Content-Type": content_type})
