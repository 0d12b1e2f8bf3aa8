"""HTTP front end of the AWS sandbox: a threaded WSGI server on loopback.

Why: the product must be tested with unmodified boto3 (``AWS_ENDPOINT_URL`` + dummy
credentials). This module only speaks HTTP: ``WsgiApp`` hands ``/_sandbox/...`` (the route
table's prefix, ``sandbox/routes.py``) to the control API (``sandbox.control``, never
counted or delayed) and every other request to
``SandboxApp.handle_aws`` (``app.py``), which decodes it the way AWS does.
"""

from __future__ import annotations

import http
import json
import socket
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from sandbox.app import Incoming, SandboxApp
from sandbox.routes import PREFIX

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def _status_line(status: int) -> str:
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


class WsgiApp:
    """WSGI adapter: ``/_sandbox/...`` to the control API, everything else to AWS."""

    def __init__(self, app: SandboxApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method: str = environ["REQUEST_METHOD"]
        path: str = environ.get("PATH_INFO") or "/"
        raw = _read_body(environ)
        if path.startswith(PREFIX + "/"):
            status, payload = self.app.control.handle(
                method, path, environ.get("QUERY_STRING", ""), raw
            )
            data = json.dumps(payload).encode()
            start_response(
                _status_line(status),
                [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
            )
            return [data]
        headers = {
            key[5:].replace("_", "-").lower(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        if environ.get("CONTENT_LENGTH"):
            headers["content-length"] = str(environ["CONTENT_LENGTH"])
        incoming = Incoming(
            method=method,
            # werkzeug keeps the undecoded request target in RAW_URI / REQUEST_URI.
            raw_path=environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(path),
            query_string=environ.get("QUERY_STRING", ""),
            headers=headers,
            body=raw,
        )
        response = self.app.handle_aws(incoming)
        data = response.encode()
        out = {"Content-Type": "application/json", **response.headers}
        out["Content-Length"] = str(len(data))
        start_response(_status_line(response.status), list(out.items()))
        return [data]


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

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Binds at once; a port in use raises OSError (EADDRINUSE) for the caller to explain.

        The socket is bound here, not by werkzeug, because werkzeug answers a bind error by
        printing two lines and calling sys.exit(1) (werkzeug/serving.py, BaseWSGIServer).
        ``socket.create_server`` sets SO_REUSEADDR on POSIX, as werkzeug's server does.
        """
        self.app = SandboxApp()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.create_server(
            (host, port), family=family, backlog=SandboxHTTPServer.request_queue_size
        ) as listener:
            # werkzeug serves a duplicate of the descriptor (socket.fromfd); ours closes here.
            self._server = SandboxHTTPServer(
                host, port, WsgiApp(self.app), handler=QuietHandler, fd=listener.fileno()
            )
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
        self.app.kubernetes_api.stop()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
