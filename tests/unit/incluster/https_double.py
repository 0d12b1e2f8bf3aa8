"""A small scripted HTTPS server for the Kubernetes client's transport tests.

Why not the sandbox's Kubernetes API: these tests need answers no faithful API server
gives on purpose (hang, trickle, 10 MB, redirect, wrong certificate), each in isolation.
Each test scripts `handler`; the server records every request it received, so a test can
also prove what was never sent (the token to a server whose certificate failed).
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import trustme

from eks_netpol_auditor.model import ApiAccess


@dataclass
class Seen:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    client: tuple[str, int]


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Behaviours a real API server would not choose.
    hang: bool = False  # never answer
    trickle: float = 0.0  # seconds between single body bytes
    no_length: bool = False  # close-delimited body (no Content-Length)


def json_reply(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return Reply(
        status, json.dumps(obj).encode(), {"Content-Type": "application/json", **(headers or {})}
    )


def status_reply(
    code: int, reason: str, message: str, headers: dict[str, str] | None = None
) -> Reply:
    """A Kubernetes `Status` error body (API reference, Status v1)."""
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    return json_reply(body, code, headers)


def k8s_list(items: list[dict[str, Any]], continue_token: str = "", kind: str = "List") -> Reply:
    metadata: dict[str, Any] = {"resourceVersion": "1"}
    if continue_token:
        metadata["continue"] = continue_token
    return json_reply({"kind": kind, "apiVersion": "v1", "metadata": metadata, "items": items})


class HttpsDouble:
    def __init__(self, *, cert_for: str = "127.0.0.1") -> None:
        self.ca = trustme.CA()
        self.requests: list[Seen] = []
        self.trickled = 0  # body bytes a trickling reply got out before the client left
        self.handler: Callable[[Seen], Reply] = lambda _seen: json_reply({})
        self._release = threading.Event()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert(cert_for).configure_cert(context)
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                seen = Seen(
                    parts.path,
                    dict(parse_qsl(parts.query)),
                    {k.lower(): v for k, v in self.headers.items()},
                    self.client_address[:2],
                )
                double.requests.append(seen)
                reply = double.handler(seen)
                if reply.hang:
                    double._release.wait(10)
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.no_length:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                else:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                try:
                    if reply.trickle:
                        for byte in reply.body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            double.trickled += 1
                            if double._release.wait(reply.trickle):
                                return
                    else:
                        self.wfile.write(reply.body)
                except OSError:  # the client stopped reading: what the test wanted
                    self.close_connection = True

            def log_message(self, *_: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, *_: Any) -> None:
                pass  # refused handshakes and dropped clients are the tests' point

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.socket = context.wrap_socket(
            self._server.socket, server_side=True, do_handshake_on_connect=False
        )
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def endpoint(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def ca_data(self, ca: trustme.CA | None = None) -> str:
        """DescribeCluster's certificateAuthority.data: base64 of the PEM."""
        return base64.b64encode((ca or self.ca).cert_pem.bytes()).decode()

    def api(self, *, ca: str | None = None, cidrs: tuple[str, ...] = ("0.0.0.0/0",)) -> ApiAccess:
        return ApiAccess(
            endpoint=self.endpoint,
            certificate_authority=self.ca_data() if ca is None else ca,
            public_access=True,
            public_access_cidrs=cidrs,
            authentication_mode="API",
        )

    def start(self) -> HttpsDouble:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()


def serve(**kwargs: Any) -> Iterator[HttpsDouble]:
    double = HttpsDouble(**kwargs).start()
    try:
        yield double
    finally:
        double.stop()


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
