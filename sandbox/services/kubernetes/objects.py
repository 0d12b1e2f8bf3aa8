"""Kubernetes objects in the shapes the API server returns them.

Why builders: every object the sandbox serves is made here, so one test
(``tests/unit/sandbox/test_kubernetes_objects.py``) validates all of them against the
published OpenAPI schema of the cluster's Kubernetes version (``kubernetes-validate``).

Shapes: Kubernetes API reference (``v1 Namespace``, ``v1 Pod``, ``v1 ConfigMap``,
``apps/v1 DaemonSet``, ``networking.k8s.io/v1 NetworkPolicy``, ``meta/v1 ObjectMeta``).
The vpc-cni objects follow the amazon-vpc-cni-k8s Helm chart
(``charts/aws-vpc-cni/templates/daemonset.yaml``, ``configmap.yaml``): DaemonSet
``kube-system/aws-node`` with containers ``aws-node`` and, from v1.14, ``aws-eks-nodeagent``
(image ``aws-network-policy-agent``, argument ``--enable-network-policy=<value>``); ConfigMap
``kube-system/amazon-vpc-cni`` with ``enable-network-policy-controller``.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]

# Kubernetes documentation, "Namespaces": the four initial namespaces.
INITIAL_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
NODES = 3  # worker nodes of a sandbox cluster: the DaemonSet's desired count


def timestamp(epoch: float) -> str:
    """RFC 3339 in UTC, whole seconds, as ``metav1.Time`` serialises."""
    return _timestamp(int(epoch))


@functools.lru_cache(maxsize=4096)
def _timestamp(seconds: int) -> str:
    # Cached: the pods of one seeding share their creation second, and a list renders
    # hundreds of them.
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def uid(*parts: str) -> str:
    """A stable object UID (a UUID, as the API server assigns) from its identity."""
    return str(uuid.UUID(hashlib.sha256("/".join(parts).encode()).hexdigest()[:32]))


def metadata(
    name: str,
    namespace: str | None,
    created: float,
    resource_version: int,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> Obj:
    meta: Obj = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["uid"] = uid(namespace or "", name, str(created))
    meta["resourceVersion"] = str(resource_version)
    meta["creationTimestamp"] = timestamp(created)
    if labels:
        meta["labels"] = dict(labels)
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def namespace(name: str, labels: dict[str, str], created: float, rv: int) -> Obj:
    """A Namespace; the API server sets label ``kubernetes.io/metadata.name`` to its name
    (Kubernetes documentation, "Well-Known Labels, Annotations and Taints")."""
    all_labels = {**labels, "kubernetes.io/metadata.name": name}
    return {
        "kind": "Namespace",
        "apiVersion": "v1",
        "metadata": metadata(name, None, created, rv, all_labels),
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def pod(ns: str, name: str, labels: dict[str, str], created: float, rv: int, node: int = 0) -> Obj:
    """A running Pod with one container (only its metadata matters to the auditor)."""
    node_name = f"ip-10-0-{node % NODES}-{10 + node % NODES}.ec2.internal"
    started = timestamp(created)
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": metadata(name, ns, created, rv, labels),
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "public.ecr.aws/nginx/nginx:1.27",
                    "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                    "resources": {},
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                    "imagePullPolicy": "IfNotPresent",
                }
            ],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default",
            "nodeName": node_name,
            "schedulerName": "default-scheduler",
        },
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": started}],
            "podIP": f"10.0.{node % NODES}.{20 + node % 200}",
            "startTime": started,
        },
    }


def partial_metadata(obj: Obj) -> Obj:
    """The item of a PartialObjectMetadataList (Kubernetes API concepts, "Receiving
    resources as metadata only"): kind PartialObjectMetadata, meta.k8s.io/v1, metadata."""
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", **_meta(obj)}


def _meta(obj: Obj) -> Obj:
    return {"metadata": obj["metadata"]}


def vpc_cni_configmap(data: dict[str, str], created: float, rv: int) -> Obj:
    return {
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": metadata("amazon-vpc-cni", "kube-system", created, rv),
        "data": dict(data),
    }


def aws_node_daemonset(
    *,
    version: str,
    created: float,
    rv: int,
    agent: bool,
    network_policy: str,
    enforcing_mode: str | None = None,
    ready: int = NODES,
    desired: int = NODES,
) -> Obj:
    """DaemonSet kube-system/aws-node of vpc-cni ``version`` (``v1.19.0``), with the node
    agent container when ``agent`` (the chart has it from v1.14)."""
    tag = version.split("-", maxsplit=1)[0]
    env = [{"name": "ENABLE_PREFIX_DELEGATION", "value": "false"}]
    if enforcing_mode is not None:
        env.append({"name": "NETWORK_POLICY_ENFORCING_MODE", "value": enforcing_mode})
    containers: list[Obj] = [
        {
            "name": "aws-node",
            "image": f"602401143452.dkr.ecr.us-east-1.amazonaws.com/amazon-k8s-cni:{tag}",
            "env": env,
            "ports": [{"containerPort": 61678, "name": "metrics", "protocol": "TCP"}],
            "resources": {"requests": {"cpu": "25m"}},
        }
    ]
    if agent:
        containers.append(
            {
                "name": "aws-eks-nodeagent",
                "image": "602401143452.dkr.ecr.us-east-1.amazonaws.com/amazon/"
                "aws-network-policy-agent:v1.2.0-eksbuild.1",
                "args": [
                    "--enable-ipv6=false",
                    f"--enable-network-policy={network_policy}",
                    "--enable-cloudwatch-logs=false",
                    "--enable-policy-event-logs=false",
                    "--metrics-bind-addr=:8162",
                    "--health-probe-bind-addr=:8163",
                ],
                "resources": {"requests": {"cpu": "25m"}},
            }
        )
    labels = {"k8s-app": "aws-node"}
    return {
        "kind": "DaemonSet",
        "apiVersion": "apps/v1",
        "metadata": {**metadata("aws-node", "kube-system", created, rv, labels), "generation": 1},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": containers,
                    "hostNetwork": True,
                    "priorityClassName": "system-node-critical",
                    "serviceAccountName": "aws-node",
                },
            },
            "updateStrategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": "10%"},
            },
        },
        "status": {
            "currentNumberScheduled": desired,
            "desiredNumberScheduled": desired,
            "numberAvailable": ready,
            "numberMisscheduled": 0,
            "numberReady": ready,
            "numberUnavailable": desired - ready,
            "observedGeneration": 1,
            "updatedNumberScheduled": desired,
        },
    }


def stored(kind: str, api_version: str, body: Obj, created: float, rv: int) -> Obj:
    """A user-given manifest (NetworkPolicy, ClusterNetworkPolicy...) as the server
    stores it: kind/apiVersion set, server-populated metadata added."""
    meta = body.get("metadata") or {}
    name = str(meta.get("name", ""))
    ns = meta.get("namespace")
    out: Obj = {k: v for k, v in body.items() if k not in ("kind", "apiVersion", "metadata")}
    full_meta = metadata(name, ns, created, rv, meta.get("labels"), meta.get("annotations"))
    if kind in ("NetworkPolicy", "ClusterNetworkPolicy"):
        full_meta["generation"] = 1
    return {"kind": kind, "apiVersion": api_version, "metadata": full_meta, **out}
