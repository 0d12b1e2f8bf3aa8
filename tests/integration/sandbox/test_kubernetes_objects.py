"""Every object the sandbox clusters serve has the shape the real API server gives: each
object of the demo estate (plus the add-on-derived ConfigMap and DaemonSet of every
vpc-cni version the demo uses) is validated, strictly (no unknown fields), against the
published OpenAPI schema of its cluster's Kubernetes version with kubernetes-validate.

kubernetes-validate publishes schemas from 1.25: an older cluster (the demo's 1.24) is
validated against 1.25, the closest. EKS's ClusterNetworkPolicy is a CRD without a
published schema there, so its objects are checked by the reader's and rules' tests only.
"""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest

from sandbox.client import SandboxClient
from sandbox.seeds import seed_demo
from sandbox.server import SandboxServer
from sandbox.services.kubernetes.backend import RESOURCES

OLDEST_SCHEMA = (1, 25)


def _schema_version(kubernetes: str) -> str:
    major, minor = (int(p) for p in kubernetes.split(".")[:2])
    major, minor = max((major, minor), OLDEST_SCHEMA)
    return f"{major}.{minor}.0"


def _served(server: SandboxServer, sandbox: SandboxClient) -> list[tuple[str, dict[str, Any]]]:
    """(schema version, object) for every object every demo cluster serves."""
    app = server.app
    out = []
    for state in sandbox.clusters():
        region, name = state["region"], state["name"]
        cluster = app.eks.cluster("123456789012", region, name)
        assert cluster is not None
        key = ("123456789012", region, name)
        for resource in RESOURCES.values():
            if resource.group == "networking.k8s.aws":
                continue
            page = app.kubernetes.list_page(cluster, key, resource, None, 0, None)
            out += [(_schema_version(cluster.version), item) for item in page.items]
    return out


def test_every_demo_object_matches_the_published_schema(
    sandbox: SandboxClient, sandbox_server: SandboxServer
) -> None:
    seed_demo(sandbox)
    served = _served(sandbox_server, sandbox)
    kinds = {obj["kind"] for _, obj in served}
    assert kinds == {"Namespace", "Pod", "ConfigMap", "DaemonSet", "NetworkPolicy"}
    for version, obj in served:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{obj['kind']} {obj['metadata'].get('name')} ({version}): {error}")


def test_an_invalid_object_would_be_caught() -> None:
    """The check above can fail: a Pod without containers is refused."""
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(
            {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "x"}, "spec": {}},
            "1.31.0",
            strict=True,
        )
