"""Control endpoints for what is inside each cluster (its Kubernetes API) and who may
read it (EKS access entries, seeded as an administrator would have made them, without
the EKS API's rules). Rows ``put_access_entry``, ``put_kube_objects``,
``delete_kube_object``, ``add_pods`` and ``compact_kube`` of ``sandbox/routes.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.control.eks import account_of
from sandbox.control.inputs import ControlError, integer, opt_str, str_map, string
from sandbox.services.eks.access import KNOWN_POLICIES, default_username
from sandbox.services.eks.models import AccessEntry, AssociatedPolicy
from sandbox.services.kubernetes.backend import ClusterKey

if TYPE_CHECKING:
    from sandbox.control.backends import Backends

Result = tuple[int, Any]
Args = tuple[str, ...]
Body = dict[str, Any]
Query = dict[str, str]


def _key(backends: Backends, a: Args, b: Body, q: Query) -> ClusterKey:
    account = account_of(backends, b, q)
    if backends.eks.cluster(account, a[0], a[1]) is None:
        raise KeyError(f"no cluster {a[1]!r} in {a[0]}")
    return (account, a[0], a[1])


def put_kube_objects(backends: Backends, a: Args, b: Body, q: Query) -> Result:
    manifests = b.get("objects")
    if not isinstance(manifests, list) or not all(isinstance(m, dict) for m in manifests):
        raise ControlError(400, "objects must be a list of Kubernetes manifests")
    return 200, {"objects": backends.kubernetes.put_objects(_key(backends, a, b, q), manifests)}


def delete_kube_object(backends: Backends, a: Args, b: Body, q: Query) -> Result:
    kind, name = q.get("kind", ""), q.get("name", "")
    if not kind or not name:
        raise ControlError(400, "kind and name are required")
    key = _key(backends, a, b, q)
    if not backends.kubernetes.delete_object(key, kind, q.get("namespace"), name):
        raise KeyError(f"no {kind} {name!r}")
    return 200, {"deleted": True}


def add_pods(backends: Backends, a: Args, b: Body, q: Query) -> Result:
    namespace = string(b, "namespace", "")
    names = b.get("names")
    if names is None:
        prefix, count = string(b, "prefix", ""), integer(b, "count", 0) or 0
        if not prefix or count < 1:
            raise ControlError(400, "give names, or a prefix and a count >= 1")
        names = [f"{prefix}-{i:05d}" for i in range(count)]
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise ControlError(400, "names must be a list of pod names")
    key = _key(backends, a, b, q)
    return 201, {"added": backends.kubernetes.add_pods(key, namespace, names, str_map(b, "labels"))}


def compact_kube(backends: Backends, a: Args, b: Body, q: Query) -> Result:
    return 200, {"compacted": backends.kubernetes.compact(_key(backends, a, b, q))}


def put_access_entry(backends: Backends, a: Args, b: Body, q: Query) -> Result:
    """A STANDARD access entry with its policies (``[{policy_arn, scope?, namespaces?}]``)."""
    principal = string(b, "principal_arn", "")
    if not principal.startswith("arn:aws:iam::"):
        raise ControlError(400, "principal_arn must be an IAM user or role ARN")
    policies = b.get("policies") or []
    if not isinstance(policies, list) or not all(isinstance(p, dict) for p in policies):
        raise ControlError(400, "policies must be a list of objects")
    with backends.eks.lock:
        account = account_of(backends, b, q)
        cluster = backends.eks.cluster(account, a[0], a[1])
        if cluster is None:
            raise KeyError(f"no cluster {a[1]!r} in {a[0]}")
        now = backends.eks.clock()
        entry = AccessEntry(
            principal_arn=principal,
            kind="STANDARD",
            username=default_username(principal),
            kubernetes_groups=[],
            tags={},
            arn=f"arn:aws:eks:{cluster.region}:{account}:access-entry/{cluster.name}/seeded",
            created_at=now,
            modified_at=now,
        )
        for spec in policies:
            policy = string(spec, "policy_arn", "")
            if policy not in KNOWN_POLICIES:
                raise ControlError(400, f"policy_arn must be one of {sorted(KNOWN_POLICIES)}")
            namespaces = [str(n) for n in spec.get("namespaces") or []]
            scope = opt_str(spec, "scope") or ("namespace" if namespaces else "cluster")
            entry.policies[policy] = AssociatedPolicy(policy, scope, namespaces, now, now)
        cluster.access_entries[principal] = entry
        return 201, entry.to_wire(cluster.name)


HANDLERS = {
    "put_access_entry": put_access_entry,
    "put_kube_objects": put_kube_objects,
    "delete_kube_object": delete_kube_object,
    "add_pods": add_pods,
    "compact_kube": compact_kube,
}
