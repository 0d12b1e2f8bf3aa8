"""Is network policy enforcement running, as the cluster's own objects show it (pure).

One home for reading ConfigMap kube-system/amazon-vpc-cni and DaemonSet kube-system/aws-node:
the second control (`verdict.py`) and, on EKS Auto Mode, the first control (`evaluate.py`)
both decide from these functions.

Sources:
* ConfigMap key `enable-network-policy-controller`: the network policy controller turns on
  only when it *equals* "true" (amazon-network-policy-controller-k8s
  pkg/utils/configmap/configmap.go; addon_config.ENABLED_VALUE); EKS Auto Mode uses the same
  ConfigMap (EKS user guide, "Use Network Policies with EKS Auto Mode", auto-net-pol.html,
  Step 1).
* DaemonSet aws-node: the vpc-cni chart's daemonset template (amazon-vpc-cni-k8s
  charts/aws-vpc-cni/templates/daemonset.yaml) adds container `aws-eks-nodeagent`, image
  `aws-network-policy-agent` (the chart's nodeAgent.image.repository), with argument
  `--enable-network-policy={{ .Values.enableNetworkPolicy }}`, and puts `env` (with
  NETWORK_POLICY_ENFORCING_MODE) on container `aws-node`.
* Readiness: DaemonSetStatus `desiredNumberScheduled` and `numberReady` (Kubernetes API
  reference, DaemonSet v1 apps).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..addon_config import ENABLED_VALUE, ENFORCING_MODE_ENV

CONTROLLER_KEY = "enable-network-policy-controller"
AGENT_CONTAINER = "aws-eks-nodeagent"
AGENT_IMAGE = "aws-network-policy-agent"
AGENT_ARG = f"--enable-network-policy={ENABLED_VALUE}"
CNI_CONTAINER = "aws-node"


def controller_problem(config: Mapping[str, str] | None) -> str | None:
    """Why the network policy controller is off per ConfigMap amazon-vpc-cni, or None if on."""
    if config is None:
        return "ConfigMap kube-system/amazon-vpc-cni does not exist"
    if CONTROLLER_KEY not in config:
        return f"ConfigMap kube-system/amazon-vpc-cni has no {CONTROLLER_KEY} key"
    value = config[CONTROLLER_KEY]
    if value != ENABLED_VALUE:
        shown = repr(value) if len(value) <= 40 else repr(value[:37]) + "..."
        return (
            f"ConfigMap kube-system/amazon-vpc-cni {CONTROLLER_KEY} is {shown}, "
            f'not exactly "{ENABLED_VALUE}"'
        )
    return None


def _containers(daemonset: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    spec = daemonset.get("spec")
    template = spec.get("template") if isinstance(spec, Mapping) else None
    pod_spec = template.get("spec") if isinstance(template, Mapping) else None
    containers = pod_spec.get("containers") if isinstance(pod_spec, Mapping) else None
    if not isinstance(containers, list):
        return []
    return [c for c in containers if isinstance(c, Mapping)]


def _image_repository(image: object) -> str:
    """The last path segment of an image reference, without tag or digest."""
    if not isinstance(image, str):
        return ""
    name = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return name.split(":", 1)[0]


def _container(daemonset: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    return next((c for c in _containers(daemonset) if c.get("name") == name), None)


def agent_problem(daemonset: Mapping[str, Any] | None) -> str | None:
    """Why the node agent is not enforcing per DaemonSet aws-node, or None if it runs."""
    if daemonset is None:
        return "DaemonSet kube-system/aws-node does not exist"
    agent = _container(daemonset, AGENT_CONTAINER)
    if agent is None:
        return f"DaemonSet kube-system/aws-node has no {AGENT_CONTAINER} container (node agent)"
    if _image_repository(agent.get("image")) != AGENT_IMAGE:
        return f"container {AGENT_CONTAINER} runs image {agent.get('image')!r}, not {AGENT_IMAGE}"
    args = agent.get("args")
    if not isinstance(args, list) or AGENT_ARG not in args:
        return f"container {AGENT_CONTAINER} lacks the argument {AGENT_ARG}"
    status = daemonset.get("status")
    status = status if isinstance(status, Mapping) else {}
    desired, ready = status.get("desiredNumberScheduled"), status.get("numberReady")
    if not isinstance(desired, int) or not isinstance(ready, int):
        return "DaemonSet kube-system/aws-node reports no desired/ready pod counts"
    if ready < desired:
        return f"only {ready} of {desired} aws-node pods (node agent) are ready"
    return None


def running_enforcing_mode(daemonset: Mapping[str, Any] | None) -> str | None:
    """NETWORK_POLICY_ENFORCING_MODE on the aws-node container, lower-cased as the node agent
    compares it; None when unset, not a literal value (valueFrom), or listed twice with
    different values (which one the kubelet keeps is not something to rely on)."""
    container = None if daemonset is None else _container(daemonset, CNI_CONTAINER)
    env = container.get("env") if container is not None else None
    if not isinstance(env, list):
        return None
    values = {
        item.get("value")
        for item in env
        if isinstance(item, Mapping) and item.get("name") == ENFORCING_MODE_ENV
    }
    if len(values) != 1:
        return None
    value = values.pop()
    return value.lower() if isinstance(value, str) else None
