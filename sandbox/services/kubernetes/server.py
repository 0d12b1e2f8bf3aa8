"""HTTPS listeners of the sandbox clusters' Kubernetes APIs, on loopback.

Why this design: a real cluster endpoint is ``https://HOST`` with no path, served with a
certificate from the cluster's own CA (DescribeCluster ``endpoint`` and
``certificateAuthority.data``). So each cluster gets its own port and its own CA
(``trustme``: a CA and a leaf certificate for ``127.0.0.1``). ``make bench`` runs 1,000
clusters, so listeners must be cheap:

* lazily created: a cluster's CA and socket are made the first time DescribeCluster names
  it (``endpoint``, about 1 ms), never for clusters nobody describes; its serving
  certificate and TLS context on the first connection;
* one selector thread accepts on every listening socket; each accepted connection gets
  a daemon thread (TLS handshake, then HTTP/1.1 keep-alive with an idle timeout), so an
  idle cluster costs one socket and one TLS context, no thread.

Reachability: the public endpoint admits only ``resourcesVpcConfig.publicAccessCidrs``,
and none when ``endpointPublicAccess`` is false (EKS user guide, "Control network access
to cluster API server endpoint", cluster-endpoint.html). What a refused client sees is not
documented; the sandbox takes the harder case for the client: the connection is accepted
and never answered (no TLS handshake) until the client gives up or ``HOLD_SECONDS`` pass,
as when packets are dropped. The sandbox's clients are all 127.0.0.1.

Faults (``faults.py``, service "kubernetes"): ``wrong_ca`` is decided per connection at
accept time (a certificate from another CA, the "impostor"); ``reset`` closes the
connection with SO_LINGER 0 (a TCP RST) after reading a request; the others are answers
(``responses.py``).

Latency (``SandboxClient.set_latency``; ``service_ms={"kubernetes": 0}`` makes it the
region's round trip alone): every request sleeps it once (``responses.py``) and every new
connection ``HANDSHAKE_ROUND_TRIPS`` times, as wire time the client waits for.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import selectors
import socket
import ssl
import struct
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any, cast

import trustme

from sandbox.faults import KUBERNETES, Call, FaultInjector
from sandbox.services.eks.models import ApiEndpoint, Cluster
from sandbox.services.kubernetes.backend import ClusterKey
from sandbox.services.kubernetes.responses import KubeRequest, KubernetesApi

IDLE_SECONDS = 15.0  # a kept-alive connection's thread ends after this long idle
HOLD_SECONDS = 60.0  # how long a refused connection is held unanswered
# Round trips before a new connection's first request: TCP's three-way handshake (RFC 9293
# section 3.5) and TLS 1.3's full handshake, "1-RTT" (RFC 8446 section 2; kube-apiserver,
# built with Go's crypto/tls, offers TLS 1.3). TLS 1.2 would be two; the stricter reading
# for the client's wall time would be three, the one taken here is the usual case.
HANDSHAKE_ROUND_TRIPS = 2
CLIENT_ADDRESS = ipaddress.ip_address("127.0.0.1")
# Names a cluster's serving certificate carries besides 127.0.0.1 (kube-apiserver's
# defaults: the kubernetes Service's DNS names).
_SERVING_NAMES = (
    "127.0.0.1",
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)


def _server_context(ca: trustme.CA) -> ssl.SSLContext:
    """A server context with a fresh certificate from ``ca`` (no client certificates, and
    no system trust store to load: a server context does not verify anyone)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    ca.issue_cert(*_SERVING_NAMES, common_name="kube-apiserver").configure_cert(context)
    return context


@dataclass
class _Listener:
    key: ClusterKey
    sock: socket.socket
    ca: trustme.CA
    endpoint: ApiEndpoint
    context: ssl.SSLContext | None = None  # made on the first connection


class KubernetesApiServer:
    """Every cluster's HTTPS listener, over one ``KubernetesApi``."""

    def __init__(self, api: KubernetesApi, faults: FaultInjector, host: str = "127.0.0.1") -> None:
        self.api, self.faults, self.host = api, faults, host
        self._lock = threading.Lock()
        self._listeners: dict[ClusterKey, _Listener] = {}
        self._selector = selectors.DefaultSelector()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._impostor: ssl.SSLContext | None = None

    # ------------------------------------------------------------------ endpoints
    def endpoint(self, cluster: Cluster) -> ApiEndpoint:
        """The cluster's ``(https://127.0.0.1:PORT, base64 CA PEM)``; starts its listener."""
        key = (cluster.account, cluster.region, cluster.name)
        with self._lock:
            listener = self._listeners.get(key)
            if listener is None:
                listener = self._listen(key)
                self._listeners[key] = listener
            return listener.endpoint

    def _listen(self, key: ClusterKey) -> _Listener:
        # Only the CA here (DescribeCluster waits for it, under the EKS lock): the serving
        # certificate and TLS context wait for the first connection.
        ca = trustme.CA(organization_name="kubernetes")
        sock = socket.create_server((self.host, 0), backlog=128)
        sock.setblocking(False)
        port = sock.getsockname()[1]
        ca_data = base64.b64encode(ca.cert_pem.bytes()).decode()
        listener = _Listener(key, sock, ca, (f"https://{self.host}:{port}", ca_data))
        self._selector.register(sock, selectors.EVENT_READ, listener)
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(
                target=self._accept_loop, name="kubernetes-api-accept", daemon=True
            )
            self._thread.start()
        return listener

    def close_listeners(self) -> None:
        """Forget every cluster's listener (sandbox reset: new clusters, new CAs)."""
        with self._lock:
            for listener in self._listeners.values():
                self._selector.unregister(listener.sock)
                listener.sock.close()
            self._listeners = {}

    def stop(self) -> None:
        self.close_listeners()
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def listener_count(self) -> int:
        with self._lock:
            return len(self._listeners)

    # ------------------------------------------------------------------ serving
    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                events = self._selector.select(timeout=0.2)
            except OSError:
                continue
            for selected, _mask in events:
                listener: _Listener = selected.data
                try:
                    conn, _addr = listener.sock.accept()
                except (BlockingIOError, OSError):
                    continue
                threading.Thread(
                    target=self._serve, args=(conn, listener), name="kubernetes-api", daemon=True
                ).start()

    def _impostor_context(self) -> ssl.SSLContext:
        with self._lock:
            if self._impostor is None:
                self._impostor = _server_context(trustme.CA(organization_name="impostor"))
            return self._impostor

    def _context(self, listener: _Listener) -> ssl.SSLContext:
        with self._lock:
            if listener.context is None:
                listener.context = _server_context(listener.ca)
            return listener.context

    def _admits(self, key: ClusterKey) -> bool:
        """Whether the cluster's public endpoint lets the (loopback) client in."""
        with self.api.eks.lock:
            cluster = self.api.eks.cluster(*key)
            if cluster is None or not cluster.endpoint_public_access:
                return False
            cidrs = list(cluster.public_access_cidrs)
        return any(CLIENT_ADDRESS in ipaddress.ip_network(c, strict=False) for c in cidrs)

    def _handshake_latency(self, connect: Call) -> None:
        """Wire time of a new connection (the latency model, service "kubernetes"): the
        bench's in-cluster case pays the cluster's region round trip per request
        (``responses.py``) and ``HANDSHAKE_ROUND_TRIPS`` more per connection, slept before
        the TLS handshake because the kernel has already completed TCP's."""
        delay = self.faults.latency.delay_seconds(connect)
        if delay > 0:
            time.sleep(HANDSHAKE_ROUND_TRIPS * delay)

    @staticmethod
    def _hold(conn: socket.socket) -> None:
        """Accept but never answer: the client's own timeout ends it."""
        conn.setblocking(True)
        conn.settimeout(HOLD_SECONDS)
        with contextlib.suppress(OSError):
            while conn.recv(4096):
                pass
        conn.close()

    def _serve(self, conn: socket.socket, listener: _Listener) -> None:
        if not self._admits(listener.key):
            self._hold(conn)
            return
        account, region, name = listener.key
        connect = Call(KUBERNETES, "connect", region, name, None, account)
        wrong_ca = self.faults.pick(connect, kinds=frozenset({"wrong_ca"})) is not None
        context = self._impostor_context() if wrong_ca else self._context(listener)
        self._handshake_latency(connect)
        conn.setblocking(True)
        conn.settimeout(IDLE_SECONDS)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            tls = context.wrap_socket(conn, server_side=True)
        except (OSError, ssl.SSLError):
            conn.close()  # the client refused our certificate, or went away
            return
        try:
            handler_context = _HandlerContext(self.api, listener.key)
            _Handler(tls, ("127.0.0.1", 0), cast(Any, handler_context))
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError):
                tls.close()


@dataclass(frozen=True)
class _HandlerContext:
    api: KubernetesApi
    key: ClusterKey


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive over one TLS connection; every method goes to the API."""

    protocol_version = "HTTP/1.1"
    server: Any  # _HandlerContext (BaseHTTPRequestHandler only stores it)

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        path, _, query = self.path.partition("?")
        headers = {k.lower(): v for k, v in self.headers.items()}
        context: _HandlerContext = self.server
        response = context.api.handle(context.key, KubeRequest(self.command, path, query, headers))
        if response.reset:
            # SO_LINGER on, 0 s: close() sends RST instead of FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    def finish(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        return  # no access log (and never the Authorization header)
