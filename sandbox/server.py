"""HTTP front end of the AWS sandbox: a threaded WSGI server speaking AWS wire protocols.

Why: the product must be tested with unmodified boto3 (``AWS_ENDPOINT_URL`` + dummy
credentials), so the sandbox decodes requests the way AWS does. Per request:

1. region and service from the SigV4 credential scope
   (``Credential=AKID/20261126/us-east-1/eks/aws4_request``);
2. operation from the botocore model (``routing.py``);
3. count the call, apply latency, reject regions that are not enabled, apply faults;
4. dispatch to the service emulator (``eks``, ``ec2``, ``sts``, ``securityhub``).

``/_sandbox/...`` is the control API (``control.py``), never counted or delayed.
"""

from __future__ import annotations

import http
import importlib
import json
import re
import socket
import sys
import threading
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from sandbox.control import ControlApi
from sandbox.ec2sts import Ec2Emulator, StsEmulator
from sandbox.eks import EksEmulator
from sandbox.errors import AwsError
from sandbox.faults import Call, CallRecorder, FaultInjector, fault_error
from sandbox.protocols import encode_error, error_response
from sandbox.regions import RegionState
from sandbox.routing import router_for
from sandbox.wire import SandboxRequest, SandboxResponse, ServiceEmulator, aws_error

DEFAULT_ACCOUNT = "123456789012"  # moto's default account id
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request")

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class SecurityHubLike(ServiceEmulator, Protocol):
    """What the front end needs from ``sandbox.securityhub.SecurityHubEmulator``."""

    def set_enabled(self, region: str, enabled: bool) -> None: ...

    def findings(self, region: str) -> list[dict[str, Any]]: ...


def _status_line(status: int) -> str:
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


@dataclass(frozen=True)
class _Incoming:
    """A decoded AWS request on its way to fault injection and the emulator."""

    call: Call
    protocol: str
    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    raw: bytes


class SandboxApp:
    """The WSGI application: AWS requests plus the control API, sharing one state."""

    def __init__(self, account: str = DEFAULT_ACCOUNT) -> None:
        self.account = account
        self.regions = RegionState()
        self.eks = EksEmulator(account)
        self.ec2 = Ec2Emulator(self.regions)
        self.sts = StsEmulator()
        self.faults = FaultInjector()
        self.recorder = CallRecorder()
        self.enforce_enabled_regions = True
        self.control = ControlApi(self)
        self._securityhub: SecurityHubLike | None = None
        self._securityhub_lock = threading.Lock()

    # ------------------------------------------------------------------ state
    def securityhub(self) -> SecurityHubLike | None:
        """The Security Hub emulator, imported lazily: it is written separately and the
        sandbox must work (without Security Hub) before it exists."""
        if self._securityhub is not None:
            return self._securityhub
        with self._securityhub_lock:
            if self._securityhub is None:
                try:
                    module = importlib.import_module("sandbox.securityhub")
                    self._securityhub = module.SecurityHubEmulator()
                except ImportError:
                    return None
        return self._securityhub

    def emulator(self, service: str) -> ServiceEmulator | None:
        if service == "eks":
            return self.eks
        if service == "ec2":
            return self.ec2
        if service == "sts":
            return self.sts
        if service == "securityhub":
            return self.securityhub()
        return None

    def reset(self) -> None:
        """Back to a fresh sandbox: no clusters, default regions, no faults, no latency."""
        self.eks.reset()
        self.regions.reset()
        self.faults.reset()
        self.recorder.reset()
        self.enforce_enabled_regions = True
        securityhub = self.securityhub()
        if securityhub is not None:
            securityhub.reset()

    # ------------------------------------------------------------------ WSGI
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method: str = environ["REQUEST_METHOD"]
        path: str = environ.get("PATH_INFO") or "/"
        raw = self._read_body(environ)
        if path.startswith(ControlApi.PREFIX + "/"):
            status, payload = self.control.handle(
                method, path, environ.get("QUERY_STRING", ""), raw
            )
            data = json.dumps(payload).encode()
            start_response(
                _status_line(status),
                [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
            )
            return [data]
        response = self._aws(environ, method, path, raw)
        data = response.encode()
        headers = {"Content-Type": "application/json", **response.headers}
        headers["x-amzn-RequestId"] = str(uuid.uuid4())
        headers["Content-Length"] = str(len(data))
        start_response(_status_line(response.status), list(headers.items()))
        return [data]

    @staticmethod
    def _read_body(environ: dict[str, Any]) -> bytes:
        """Read the whole body (keep-alive depends on it): Content-Length or chunked."""
        if environ.get("wsgi.input_terminated"):
            data: bytes = environ["wsgi.input"].read()
            return data
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        return environ["wsgi.input"].read(length) if length > 0 else b""

    def _aws(self, environ: dict[str, Any], method: str, path: str, raw: bytes) -> SandboxResponse:
        scope = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        if scope is None:
            return aws_error(
                403, "MissingAuthenticationTokenException", "Missing Authentication Token"
            )
        region, service = scope.group(3), scope.group(4)
        router = router_for(service)
        if router is None:
            return aws_error(
                400, "UnknownServiceException", f"The sandbox does not know service {service!r}"
            )
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        content_type = environ.get("CONTENT_TYPE", "")
        form = (
            parse_qs(raw.decode(), keep_blank_values=True)
            if content_type.startswith("application/x-www-form-urlencoded")
            else {}
        )
        headers = {"x-amz-target": environ.get("HTTP_X_AMZ_TARGET", "")}
        resolved = router.resolve(method, path, query, headers, form)
        if resolved is None:
            return error_response(
                router.protocol,
                404,
                "UnknownOperationException",
                f"No {service} operation matches {method} {path}",
            )
        eks = service == "eks"
        call = Call(
            service,
            resolved.operation,
            region,
            resolved.labels.get("name") if eks else None,
            resolved.labels.get("addonName") if eks else None,
            self.account,
        )
        incoming = _Incoming(call, router.protocol, method, path, query, form, raw)
        self.recorder.enter()
        status = 500
        try:
            response = self._dispatch(incoming)
            status = response.status
            return response
        finally:
            self.recorder.leave(call, status)

    def _dispatch(self, incoming: _Incoming) -> SandboxResponse:
        call, protocol, raw = incoming.call, incoming.protocol, incoming.raw
        self.faults.sleep(call)
        if self.enforce_enabled_regions and not self.regions.is_enabled(call.region):
            # Calls into a region the account has not enabled fail authentication.
            status, code, message = fault_error("unrecognized_client", call.service)
            return error_response(protocol, status, code, message)
        rule = self.faults.pick(call, lambda condition: self._holds(condition, call))
        if rule is not None:
            status, code, message = fault_error(rule.kind, call.service)
            if rule.kind == "access_denied" and rule.message is None:
                message = self._denial_message(call, rule.when)
            return error_response(protocol, status, code, rule.message or message)
        emulator = self.emulator(call.service)
        if emulator is None:
            return error_response(
                protocol, 501, "NotImplemented", f"The sandbox does not emulate {call.service}"
            )
        if protocol.startswith("rest") or protocol == "json":
            try:
                body = json.loads(raw) if raw.strip() else {}
            except (json.JSONDecodeError, UnicodeDecodeError):
                return aws_error(400, "SerializationException", "Request body is not JSON")
        else:
            body = {k: v[0] for k, v in incoming.form.items()}
        request = SandboxRequest(
            operation=call.operation,
            method=incoming.method,
            path=incoming.path,
            query=incoming.query,
            account=self.account,
            region=call.region,
            body=body if isinstance(body, dict) else {},
        )
        try:
            return emulator.handle(request)
        except AwsError as error:
            return encode_error(protocol, error)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            status, code, message = fault_error("server_error", call.service)
            return error_response(protocol, status, code, f"sandbox emulator crashed: {message}")

    def _holds(self, condition: str, call: Call) -> bool:
        """Whether a fault rule's ``when`` condition holds for this call (``faults.py``)."""
        if condition == "addon_missing":
            return bool(call.cluster and call.addon) and not self.eks.has_addon(
                call.region, call.cluster or "", call.addon or ""
            )
        return False

    def _denial_message(self, call: Call, when: str | None) -> str:
        """AccessDenied text as IAM words it (IAM user guide, "Troubleshoot access denied
        error messages": "User: ARN is not authorized to perform: ACTION on resource: ARN
        because no identity-based policy allows..." / "...with an explicit deny in a
        service control policy")."""
        principal = f"arn:aws:iam::{self.account}:user/sandbox"
        action = f"{call.service}:{call.operation}"
        if when == "addon_missing":
            # The resource form public reports show for add-on calls (faults.py).
            resource = (
                f"arn:aws:eks:{call.region}:{self.account}:/clusters/{call.cluster}"
                f"/addons/{call.addon}"
            )
            return (
                f"User: {principal} is not authorized to perform: {action} on resource: "
                f"{resource} because no identity-based policy allows the {action} action"
            )
        return (
            f"User: {principal} is not authorized to perform: {action} with an explicit "
            "deny in a service control policy"
        )


class QuietHandler(WSGIRequestHandler):
    """Keep-alive WSGI handler without a per-request access log.

    Why not werkzeug's stock ``run_wsgi``: it always answers ``Connection: close`` and then
    waits to drain the socket, so every boto3 call would pay a new TCP connection and a new
    server thread. Our app always consumes the whole request body and returns a single
    body with Content-Length, which is all HTTP/1.1 keep-alive needs.
    """

    protocol_version = "HTTP/1.1"
    timeout = 120  # idle keep-alive connections release their thread eventually

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as separate writes; without TCP_NODELAY, Nagle plus the
        # client's delayed ACK adds ~40 ms to every response on a kept-alive connection.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        environ = self.make_environ()
        started: list[tuple[str, list[tuple[str, str]]]] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            started.append((status, headers))
            return _no_write

        try:
            chunks = self.server.app(environ, start_response)
            body = b"".join(chunks)
            status, headers = started[-1]
        except Exception:
            traceback.print_exc(file=sys.stderr)
            status, headers, body = "500 Internal Server Error", [], b"sandbox crashed"
            self.close_connection = True
        code, _, message = status.partition(" ")
        self.send_response(int(code), message)
        names = set()
        for key, value in headers:
            self.send_header(key, value)
            names.add(key.lower())
        if "content-length" not in names:
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return

    def log(self, type: str, message: str, *args: Any) -> None:
        if type == "error":
            super().log(type, message, *args)


def _no_write(_data: bytes) -> None:
    raise RuntimeError("the sandbox app returns its body; WSGI write() is not supported")


class SandboxHTTPServer(ThreadedWSGIServer):
    """Threaded server with a deep listen backlog: ~32 client threads open connections in
    bursts; socketserver's default backlog of 5 makes the kernel drop SYNs (1 s retries)."""

    request_queue_size = 1024
    daemon_threads = True


class SandboxServer:
    """The sandbox running on a background thread of this process (tests' fixture)."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, account: str = DEFAULT_ACCOUNT
    ) -> None:
        self.app = SandboxApp(account)
        self._server = SandboxHTTPServer(host, port, self.app, handler=QuietHandler)
        self.host = host
        self.port: int = self._server.socket.getsockname()[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"aws-sandbox-{self.port}", daemon=True
        )

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SandboxServer:
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve on the calling thread until interrupted (``python -m sandbox``)."""
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
