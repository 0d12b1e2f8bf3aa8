"""The sandbox application: one shared state for AWS requests and the control API.

Per AWS request (``handle_aws``):

1. caller from the SigV4 credential (``Credential=AKID/20261126/us-east-1/eks/aws4_request``):
   the access key id selects the account (``accounts.py``), whose secret must have made
   the signature (``sigv4.py``; not checked for the default account), the scope gives
   region and service;
2. operation and input from the botocore model (``routing.py``);
3. count the call, apply latency, reject regions the account has not enabled, apply faults;
4. dispatch to the service emulator; an ``AwsError`` it raises is spelled for the service's
   protocol (``protocols.encode_error``);
5. hand the answered call to a service that journals its calls (EKS: the CloudTrail
   events EventBridge would deliver, ``services/eks/journal.py``).

The services and their state come from ``services/registry.py``.
"""

from __future__ import annotations

import json
import re
import sys
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs

from sandbox.accounts import DEFAULT_ACCOUNT, Identity
from sandbox.control import ControlApi
from sandbox.errors import AwsError
from sandbox.faults import Call, CallRecorder, FaultInjector, fault_error
from sandbox.protocols import encode_error, error_response
from sandbox.routing import BOTOCORE_NAMES, InputError, ServiceRouter, router_for
from sandbox.services.kubernetes.responses import KubernetesApi
from sandbox.services.kubernetes.server import KubernetesApiServer
from sandbox.services.registry import SERVICES, Backends
from sandbox.sigv4 import MISMATCH_MESSAGE, signature_matches
from sandbox.wire import Journaled, SandboxRequest, SandboxResponse, ServiceEmulator, aws_error

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request")


@dataclass(frozen=True)
class Incoming:
    """An AWS request as the WSGI layer hands it over."""

    method: str
    raw_path: str  # still percent-encoded (labels such as an ARN carry encoded "/")
    query_string: str
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True)
class _Decoded:
    call: Call
    protocol: str
    request: SandboxRequest
    query_codes: Mapping[str, str] | None = None


class SandboxApp(Backends):
    """AWS services plus the control API over one state (the backends it inherits)."""

    def __init__(self) -> None:
        super().__init__()
        self.faults = FaultInjector()
        self.recorder = CallRecorder()
        self.enforce_enabled_regions = True
        self.handlers: dict[str, ServiceEmulator] = {
            name: make(self) for name, make in SERVICES.items()
        }
        # Each cluster's Kubernetes API (HTTPS on loopback), started by DescribeCluster.
        self.kubernetes_api = KubernetesApiServer(
            KubernetesApi(self.accounts, self.eks, self.kubernetes, self.faults, self.recorder),
            self.faults,
        )
        self.eks.api_endpoint = self.kubernetes_api.endpoint
        self.control = ControlApi(self)

    @property
    def account(self) -> str:
        """The default account (callers with unknown access keys land here)."""
        return DEFAULT_ACCOUNT

    def reset(self) -> None:
        """Back to a fresh sandbox: one account, no clusters, default regions, no faults."""
        self.reset_backends()
        self.kubernetes_api.close_listeners()
        self.faults.reset()
        self.recorder.reset()
        self.enforce_enabled_regions = True

    # ------------------------------------------------------------------ AWS requests
    def handle_aws(self, incoming: Incoming) -> SandboxResponse:
        scope = _CREDENTIAL.search(incoming.headers.get("authorization", ""))
        if scope is None:
            return aws_error(
                403, "MissingAuthenticationTokenException", "Missing Authentication Token"
            )
        access_key, region, service = scope.group(1), scope.group(3), scope.group(4)
        router = router_for(service)
        if router is None:
            return aws_error(
                400, "UnknownServiceException", f"The sandbox does not know service {service!r}"
            )
        account = self.accounts.for_access_key(access_key)
        if account.verifies_signatures and not signature_matches(
            incoming.method,
            incoming.raw_path,
            incoming.query_string,
            incoming.headers,
            incoming.body,
            account.secret_access_key,
        ):
            return encode_error(
                router.protocol,
                AwsError(403, "SignatureDoesNotMatch", MISMATCH_MESSAGE),
                query_codes=router.query_codes,
            )
        caller = Identity(account.id, access_key, account.identity.arn)
        try:
            decoded = self._decode(incoming, router, caller, region, service)
        except AwsError as error:
            return encode_error(router.protocol, error, query_codes=router.query_codes)
        window = self.recorder.enter()
        status = 500
        try:
            response = self._dispatch(decoded)
            status = response.status
        finally:
            self.recorder.leave(decoded.call, status, window)
        request_id = str(uuid.uuid4())
        self._journal(decoded, response, request_id, incoming.headers.get("user-agent", ""))
        return replace(response, headers={**response.headers, "x-amzn-RequestId": request_id})

    def _journal(
        self, decoded: _Decoded, response: SandboxResponse, request_id: str, user_agent: str
    ) -> None:
        """Hand the call to its service's journal (EKS: CloudTrail), unless it failed
        authentication (region not enabled for the account)."""
        request, call = decoded.request, decoded.call
        handler: object = self.handlers.get(call.service)
        if not isinstance(handler, Journaled):
            return
        regions = self.accounts.get(request.account).regions
        if self.enforce_enabled_regions and not regions.is_enabled(call.region):
            return
        handler.journal(request, response, request_id, user_agent)

    def _decode(
        self,
        incoming: Incoming,
        router: ServiceRouter,
        caller: Identity,
        region: str,
        service: str,
    ) -> _Decoded:
        path = incoming.raw_path.split("?", 1)[0] or "/"
        query = parse_qs(incoming.query_string, keep_blank_values=True)
        form = (
            parse_qs(incoming.body.decode(errors="replace"), keep_blank_values=True)
            if incoming.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"
            )
            else {}
        )
        resolved = router.resolve(incoming.method, path, query, incoming.headers, form)
        if resolved is None:
            raise AwsError(
                404,
                "UnknownOperationException",
                f"No {service} operation matches {incoming.method} {path}",
            )
        body = self._body(router.protocol, incoming.body, form)
        try:
            params = (
                router.input_params(resolved.operation, resolved.labels, query, body)
                if router.protocol.startswith("rest")
                else dict(body)
            )
        except InputError as exc:
            # Smithy restJson1: input that cannot be deserialised is a SerializationException.
            raise AwsError(400, "SerializationException", str(exc)) from None
        labels = resolved.labels if service == "eks" else {}
        call = Call(
            service,
            resolved.operation,
            region,
            labels.get("name"),
            labels.get("addonName"),
            caller.account,
        )
        request = SandboxRequest(
            operation=resolved.operation,
            method=incoming.method,
            path=path,
            query=query,
            account=caller.account,
            region=region,
            body=body,
            params=params,
            caller=caller,
        )
        return _Decoded(call, router.protocol, request, router.query_codes)

    @staticmethod
    def _body(protocol: str, raw: bytes, form: dict[str, list[str]]) -> dict[str, Any]:
        if protocol.startswith("rest") or protocol == "json":
            try:
                body = json.loads(raw) if raw.strip() else {}
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise AwsError(400, "SerializationException", "Request body is not JSON") from None
            return body if isinstance(body, dict) else {}
        return {k: v[0] for k, v in form.items()}

    def _dispatch(self, decoded: _Decoded) -> SandboxResponse:
        call, protocol, request = decoded.call, decoded.protocol, decoded.request
        spelled = {"query_codes": decoded.query_codes}
        self.faults.sleep(call)
        regions = self.accounts.get(request.account).regions
        if self.enforce_enabled_regions and not regions.is_enabled(call.region):
            # Calls into a region the account has not enabled fail authentication.
            status, code, message = fault_error("unrecognized_client", call.service)
            return error_response(protocol, status, code, message, **spelled)
        rule = self.faults.pick(call, lambda condition: self._holds(condition, call))
        if rule is not None:
            status, code, message = fault_error(rule.kind, call.service)
            if rule.kind == "access_denied" and rule.message is None:
                message = _denial_message(call, request.caller, rule.when)
            return error_response(protocol, status, code, rule.message or message, **spelled)
        emulator = self.handlers.get(call.service)
        if emulator is None:
            return error_response(
                protocol,
                501,
                "NotImplemented",
                f"The sandbox does not emulate {call.service}",
                **spelled,
            )
        try:
            response = emulator.handle(request)
        except AwsError as error:
            response = encode_error(protocol, error, **spelled)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            status, code, message = fault_error("server_error", call.service)
            crashed = f"sandbox emulator crashed: {message}"
            return error_response(protocol, status, code, crashed, **spelled)
        return response

    def _holds(self, condition: str, call: Call) -> bool:
        """Whether a fault rule's ``when`` condition holds for this call (``faults.py``)."""
        if condition == "addon_missing":
            return bool(call.cluster and call.addon) and not self.eks.has_addon(
                call.account or DEFAULT_ACCOUNT, call.region, call.cluster or "", call.addon or ""
            )
        return False


def _denial_message(call: Call, caller: Identity | None, when: str | None) -> str:
    """AccessDenied text as IAM words it (IAM user guide, "Troubleshoot access denied error
    messages": "User: ARN is not authorized to perform: ACTION on resource: ARN because no
    identity-based policy allows..." / "...with an explicit deny in a service control
    policy")."""
    principal = caller.arn if caller else f"arn:aws:iam::{DEFAULT_ACCOUNT}:user/sandbox"
    account = caller.account if caller else DEFAULT_ACCOUNT
    action = f"{BOTOCORE_NAMES.get(call.service, call.service)}:{call.operation}"
    if when == "addon_missing":
        # The resource form public reports show for add-on calls (faults.py).
        resource = (
            f"arn:aws:eks:{call.region}:{account}:/clusters/{call.cluster}/addons/{call.addon}"
        )
        return (
            f"User: {principal} is not authorized to perform: {action} on resource: "
            f"{resource} because no identity-based policy allows the {action} action"
        )
    return (
        f"User: {principal} is not authorized to perform: {action} with an explicit deny "
        "in a service control policy"
    )
