"""The sandbox clusters' Kubernetes API applies the latency model as wire time: the
cluster's region round trip per request and two more per new connection (TCP and TLS 1.3
handshakes), which is what `make bench`'s in-cluster case measures against."""

from __future__ import annotations

import time

import urllib3

from sandbox.client import AddonSeed, SandboxClient
from tests.integration.sandbox.kube_support import DEFAULT_PRINCIPAL, client_for

RTT_MS = 150.0


def test_a_new_connection_pays_two_handshake_round_trips_then_one_per_request(
    sandbox: SandboxClient,
) -> None:
    sandbox.add_cluster("eu-west-1", "far", addon=AddonSeed())
    sandbox.put_access_entry("eu-west-1", "far", DEFAULT_PRINCIPAL)
    kube = client_for("far", region="eu-west-1")
    # Kubernetes pays the round trip alone; an AWS call would pay base_ms on top.
    sandbox.set_latency(base_ms=25.0, region_ms={"eu-west-1": RTT_MS}, service_ms={"kubernetes": 0})
    http = urllib3.PoolManager(ca_certs=kube.ca_file, cert_reqs="CERT_REQUIRED", maxsize=1)
    headers = {"Authorization": f"Bearer {kube.token}"}

    def timed_get() -> float:
        started = time.monotonic()
        response = http.request("GET", kube.endpoint + "/api/v1/namespaces", headers=headers)
        assert response.status == 200
        return time.monotonic() - started

    first, second = timed_get(), timed_get()  # the second reuses the kept-alive connection

    rtt = RTT_MS / 1000
    assert first >= 3 * rtt  # handshakes (2) + the request (1)
    assert rtt <= second < first - rtt
