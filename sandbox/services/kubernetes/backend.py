"""The objects inside each sandbox cluster, how a list is paged, and who may read what.

Why apart from the HTTP layer: the control API seeds objects here and tests assert on
them without TLS; ``responses.py`` only spells requests and answers.

Objects (Kubernetes API reference shapes, built in ``objects.py``):

* every cluster has the four initial namespaces (Kubernetes documentation, "Namespaces");
* ``kube-system/amazon-vpc-cni`` (ConfigMap) and ``kube-system/aws-node`` (DaemonSet) are
  derived from the cluster's vpc-cni add-on as the chart renders them, unless the control
  API stored its own (``put_objects``) or removed them;
* pods are stored compactly (namespace, name, labels) and rendered on read, so 1,000
  clusters x 300 pods stay small; other objects are stored whole.

Lists follow the Kubernetes API concepts page, "Retrieving large results sets in chunks":
items in key order (etcd ``/registry/<resource>/<namespace>/<name>``), ``limit`` gives at
most that many, ``metadata.continue`` an opaque token (base64url JSON ``{"v", "rv",
"start"}`` as kube-apiserver's ``storage/continue.go``), ``remainingItemCount`` the rest;
a token older than the last compaction answers 410 Gone, reason ``Expired``.

Access (EKS user guide, "Grant IAM users access to Kubernetes with EKS access entries",
"Review access policy permissions"): see ``authorize``.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sandbox.services.eks import vpccni
from sandbox.services.eks.access import CLUSTER_ADMIN_POLICY, VIEW_POLICY, canonical_principal
from sandbox.services.eks.models import AccessEntry, Cluster
from sandbox.services.kubernetes import objects
from sandbox.services.kubernetes.objects import Obj

ClusterKey = tuple[str, str, str]  # (account, region, cluster name)


@dataclass(frozen=True)
class Resource:
    """One API resource (Kubernetes API reference; EKS for ClusterNetworkPolicy)."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


RESOURCES: dict[tuple[str, str, str], Resource] = {
    (r.group, r.version, r.plural): r
    for r in (
        Resource("", "v1", "namespaces", "Namespace", False),
        Resource("", "v1", "pods", "Pod", True),
        Resource("", "v1", "configmaps", "ConfigMap", True),
        Resource("apps", "v1", "daemonsets", "DaemonSet", True),
        Resource("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True),
        # EKS admin network policies (EKS user guide, "Limit Pod traffic with Kubernetes
        # network policies", admin network policies): cluster-scoped CRD
        # ``networking.k8s.aws/v1alpha1`` kind ClusterNetworkPolicy.
        Resource(
            "networking.k8s.aws",
            "v1alpha1",
            "clusternetworkpolicies",
            "ClusterNetworkPolicy",
            False,
        ),
    )
}
BY_KIND = {r.kind: r for r in RESOURCES.values()}

# AmazonEKSViewPolicy ("Review access policy permissions"): get/list/watch on these
# resources, among others; no secrets, and no networking.k8s.aws CRDs (aws-facts.md).
VIEW_RESOURCES = frozenset(
    {("", "namespaces"), ("", "pods"), ("", "configmaps")}
    | {("apps", "daemonsets"), ("networking.k8s.io", "networkpolicies")}
)
READ_VERBS = frozenset({"get", "list", "watch"})


class ContinueError(Exception):
    """A continue token the server cannot use: ``status`` 400 (malformed) or 410 (too old)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class ListPage:
    items: list[Obj]
    resource_version: str
    continue_token: str | None
    remaining: int | None


@dataclass
class KubeState:
    """One cluster's objects: whole objects by resource and key, compact pods."""

    created: float
    objects: dict[str, dict[str, Obj]] = field(default_factory=dict)  # plural -> key -> obj
    pods: dict[str, tuple[dict[str, str], float, int]] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)  # derived vpc-cni objects deleted
    revision: int = 1
    compacted: int = 0
    # Rendered list answers by request, valid while `answers_stamp` holds (`list_answer`).
    answers: dict[tuple[Any, ...], bytes] = field(default_factory=dict)
    answers_stamp: tuple[Any, ...] = ()


def key_of(namespace: str | None, name: str) -> str:
    return f"{namespace}/{name}" if namespace else name


def encode_continue(revision: int, last_key: str) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": revision, "start": last_key + "\x00"})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_continue(token: str) -> tuple[int, str]:
    """(revision, first key) of a continue token; ContinueError 400 when malformed."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if data.get("v") != "meta.k8s.io/v1":
            raise ValueError("unknown version")
        return int(data["rv"]), str(data["start"])
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError):
        raise ContinueError(400, "continue key is not valid: incorrect encoded start") from None


class KubernetesBackend:
    """The Kubernetes objects of every sandbox cluster; thread-safe through ``lock``."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.states: dict[ClusterKey, KubeState] = {}

    def reset(self) -> None:
        with self.lock:
            self.states = {}

    def state(self, key: ClusterKey) -> KubeState:
        """The cluster's objects, created with the initial namespaces on first use."""
        with self.lock:
            state = self.states.get(key)
            if state is None:
                state = KubeState(created=self.clock())
                for name in objects.INITIAL_NAMESPACES:
                    self._store(state, BY_KIND["Namespace"], name, None, {"metadata": {}})
                self.states[key] = state
            return state

    # ------------------------------------------------------------------ seeding
    def _store(
        self, state: KubeState, resource: Resource, name: str, ns: str | None, body: Obj
    ) -> Obj:
        state.revision += 1
        if resource.kind == "Namespace":
            labels = dict((body.get("metadata") or {}).get("labels") or {})
            obj = objects.namespace(name, labels, state.created, state.revision)
        else:
            obj = objects.stored(
                resource.kind, resource.api_version, body, self.clock(), state.revision
            )
        state.objects.setdefault(resource.plural, {})[key_of(ns, name)] = obj
        state.removed.discard(f"{resource.plural}/{key_of(ns, name)}")
        return obj

    def put_objects(self, key: ClusterKey, manifests: Iterable[Obj]) -> list[Obj]:
        """Create or replace whole objects (any resource of ``RESOURCES`` but pods)."""
        with self.lock:
            state = self.state(key)
            out = []
            for manifest in manifests:
                resource = BY_KIND.get(str(manifest.get("kind")))
                if resource is None or resource.kind == "Pod":
                    raise ValueError(
                        f"kind must be one of {sorted(set(BY_KIND) - {'Pod'})} (pods: add_pods)"
                    )
                meta = manifest.get("metadata") or {}
                name, ns = str(meta.get("name") or ""), meta.get("namespace")
                if not name or (ns is None) == resource.namespaced:
                    raise ValueError(
                        f"{resource.kind} needs metadata.name and, if namespaced, "
                        "metadata.namespace (and only then)"
                    )
                out.append(self._store(state, resource, name, ns, manifest))
            return out

    def delete_object(self, key: ClusterKey, kind: str, namespace: str | None, name: str) -> bool:
        """Remove an object (also a derived vpc-cni one); False when it was not there."""
        resource = BY_KIND[kind]
        with self.lock:
            state = self.state(key)
            k = key_of(namespace, name)
            existed = state.objects.get(resource.plural, {}).pop(k, None) is not None
            if resource.plural in ("configmaps", "daemonsets") and namespace == "kube-system":
                existed = existed or f"{resource.plural}/{k}" not in state.removed
                state.removed.add(f"{resource.plural}/{k}")
            state.revision += 1
            return existed

    def add_pods(
        self, key: ClusterKey, namespace: str, names: list[str], labels: dict[str, str]
    ) -> int:
        """Add running pods ``names`` with ``labels`` in ``namespace`` (which must exist)."""
        with self.lock:
            state = self.state(key)
            if namespace not in state.objects.get("namespaces", {}):
                raise ValueError(f"namespace {namespace!r} does not exist")
            now, shared = self.clock(), dict(labels)  # one labels dict for the batch (memory)
            for name in names:
                state.revision += 1
                state.pods[key_of(namespace, name)] = (shared, now, state.revision)
            return len(names)

    def compact(self, key: ClusterKey) -> int:
        """What etcd compaction does to lists in progress: every continue token issued so
        far becomes too old (410 Expired). Returns the compacted revision."""
        with self.lock:
            state = self.state(key)
            state.revision += 1
            state.compacted = state.revision
            return state.compacted

    # ------------------------------------------------------------------ reads
    def list_answer(
        self,
        cluster: Cluster,
        key: ClusterKey,
        request: tuple[Any, ...],
        render: Callable[[], bytes],
    ) -> bytes:
        """The bytes of a list answer, rendered once per state of the cluster's objects.

        Why: ``make bench`` lists 1,000 clusters x 300 pods several times over, and
        rendering a page was most of the sandbox's CPU per cluster read (a test double's
        CPU shares the machine with the auditor it measures). An answer depends only on
        ``request`` (everything of the request that shapes it) and on the cluster's
        objects: the stored ones, whose every change bumps ``revision`` (compaction too),
        and the vpc-cni add-on the derived ones come from (``_addon_inputs``). When
        either changes the cached answers are dropped, so a list after a change sees it.
        """
        with self.lock:
            state = self.state(key)
            stamp = (state.revision, _addon_inputs(cluster))
            if state.answers_stamp != stamp:
                state.answers, state.answers_stamp = {}, stamp
            body = state.answers.get(request)
            if body is None:
                body = render()  # raises ContinueError: nothing cached
                state.answers[request] = body
            return body

    def _derived(self, cluster: Cluster, state: KubeState) -> dict[str, dict[str, Obj]]:
        """The vpc-cni objects the add-on installs (chart templates, see ``objects``).
        Reads nothing of the add-on but what ``_addon_inputs`` returns (the list cache)."""
        addon = cluster.addons.get(vpccni.ADDON_NAME)
        if addon is None or addon.status == "CREATING":
            return {}
        try:
            config = vpccni.parse_configuration(addon.configuration_values or "")
        except vpccni.ConfigurationError:
            config = {}
        enabled = str(config.get("enableNetworkPolicy", "false"))
        env = config.get("env") if isinstance(config.get("env"), dict) else {}
        version = vpccni.parse_version(addon.version) or (0, 0, 0, 0)
        agent = version >= (1, 14, 0, 0)
        data = {"enable-windows-ipam": "false", "enable-network-policy-controller": enabled}
        created, rv = state.created, 1
        out: dict[str, dict[str, Obj]] = {
            "configmaps": {
                "kube-system/amazon-vpc-cni": objects.vpc_cni_configmap(
                    data if agent else {"enable-windows-ipam": "false"}, created, rv
                )
            },
            "daemonsets": {
                "kube-system/aws-node": objects.aws_node_daemonset(
                    version=addon.version,
                    created=created,
                    rv=rv,
                    agent=agent,
                    network_policy=enabled,
                    enforcing_mode=(env or {}).get("NETWORK_POLICY_ENFORCING_MODE"),
                )
            },
        }
        return {
            plural: {k: o for k, o in objs.items() if f"{plural}/{k}" not in state.removed}
            for plural, objs in out.items()
        }

    def _keyed(self, cluster: Cluster, key: ClusterKey, resource: Resource) -> dict[str, Obj]:
        """Whole objects of a resource but pods: stored ones over the derived ones."""
        state = self.state(key)
        stored = state.objects.get(resource.plural, {})
        derived = self._derived(cluster, state).get(resource.plural, {})
        return {**derived, **stored}

    @staticmethod
    def _pod(k: str, entry: tuple[dict[str, str], float, int]) -> Obj:
        ns, name = k.split("/", 1)
        labels, created, rv = entry
        return objects.pod(ns, name, labels, created, rv, node=len(name))

    def _objects(self, cluster: Cluster, key: ClusterKey, resource: Resource) -> dict[str, Any]:
        """Key -> object (pods: key -> compact entry, rendered by ``_pod``)."""
        if resource.plural == "pods":
            return self.state(key).pods
        return self._keyed(cluster, key, resource)

    def _render(self, resource: Resource, k: str, value: Any) -> Obj:
        return self._pod(k, value) if resource.plural == "pods" else dict(value)

    def get(
        self, cluster: Cluster, key: ClusterKey, resource: Resource, ns: str | None, name: str
    ) -> Obj | None:
        with self.lock:
            k = key_of(ns, name)
            value = self._objects(cluster, key, resource).get(k)
            return None if value is None else self._render(resource, k, value)

    def list_page(
        self,
        cluster: Cluster,
        key: ClusterKey,
        resource: Resource,
        namespace: str | None,
        limit: int,
        continue_token: str | None,
    ) -> ListPage:
        """One page of a list (all namespaces when ``namespace`` is None)."""
        with self.lock:
            state = self.state(key)
            revision, start = state.revision, ""
            if continue_token:
                revision, start = decode_continue(continue_token)
                if revision < state.compacted:
                    raise ContinueError(410, EXPIRED_MESSAGE)
            source = self._objects(cluster, key, resource)
            prefix = "" if namespace is None else namespace + "/"
            keys = sorted(k for k in source if k >= start and k.startswith(prefix))
            page = keys[:limit] if limit > 0 else keys
            more = len(keys) - len(page)
            items = [self._render(resource, k, source[k]) for k in page]
            token = encode_continue(revision, page[-1]) if more else None
            return ListPage(items, str(revision), token, more if more else None)


def _addon_inputs(cluster: Cluster) -> tuple[str, str, str | None] | None:
    """What ``KubernetesBackend._derived`` reads of the cluster's vpc-cni add-on."""
    addon = cluster.addons.get(vpccni.ADDON_NAME)
    if addon is None:
        return None
    return (addon.status, addon.version, addon.configuration_values)


# kube-apiserver's text for a continue token older than the compaction (410, Expired).
EXPIRED_MESSAGE = (
    "The provided continue parameter is too old to display a consistent list result. You "
    "can start a new list without the continue parameter, or use the continue token in "
    "this response to retrieve the remainder of the results. Continuing with the provided "
    "token results in an inconsistent list - objects that were created, modified, or "
    "deleted between the time the first chunk was returned and now may show up in the list."
)


# ---------------------------------------------------------------------- access decisions
@dataclass(frozen=True)
class Decision:
    """401 (not authenticated as anyone the cluster knows), 403 (known, not allowed) or
    200 (allowed); ``username`` is what Forbidden messages name."""

    status: int
    username: str = ""


def _username(entry: AccessEntry, session: str | None) -> str:
    return entry.username.replace("{{SessionName}}", session or "")


def authorize(
    cluster: Cluster,
    caller_arn: str,
    session: str | None,
    verb: str,
    resource: Resource,
    namespace: str | None,
) -> Decision:
    """Whether the cluster lets the caller ``verb`` the resource (in ``namespace``, or
    cluster-wide when None), as EKS decides it:

    * authentication: the caller must be known to the cluster. With ``CONFIG_MAP`` only
      the ``aws-auth`` ConfigMap maps principals (the sandbox seeds no mapping; the
      creator of a cluster made by CreateCluster is admin), otherwise
      an access entry for the caller's canonical principal; an unknown principal gets 401
      Unauthorized ("You must be logged in to the server (Unauthorized)", AWS re:Post
      "How do I resolve the 'Unauthorized' error ... Amazon EKS",
      knowledge-center/eks-api-server-unauthorized-error);
    * authorization: an entry's access policies (cluster scope, or namespace scope for
      requests inside one of its namespaces) allow what the policy grants; Kubernetes
      groups would need RBAC objects the sandbox does not model; otherwise 403 Forbidden.
    """
    principal = canonical_principal(caller_arn)
    if cluster.creator_admin == principal and cluster.authentication_mode == "CONFIG_MAP":
        # The creator, mapped by EKS outside aws-auth (username kubernetes-admin, group
        # system:masters, as the re:Post article above shows in the authenticator log).
        return Decision(200, "kubernetes-admin")
    if cluster.authentication_mode == "CONFIG_MAP":
        return Decision(401)
    entry = cluster.access_entries.get(principal)
    if entry is None or entry.kind != "STANDARD":
        return Decision(401)
    username = _username(entry, session)
    for policy in entry.policies.values():
        in_scope = policy.scope_type == "cluster" or (
            namespace is not None and namespace in policy.namespaces
        )
        if not in_scope:
            continue
        if policy.policy_arn == CLUSTER_ADMIN_POLICY:
            return Decision(200, username)
        if (
            policy.policy_arn == VIEW_POLICY
            and verb in READ_VERBS
            and (resource.group, resource.plural) in VIEW_RESOURCES
        ):
            return Decision(200, username)
    return Decision(403, username)


def forbidden_message(
    username: str, verb: str, resource: Resource, namespace: str | None, name: str | None
) -> str:
    """kube-apiserver's Forbidden text (RBAC authorizer), e.g. ``pods is forbidden: User
    "..." cannot list resource "pods" in API group "" at the cluster scope``."""
    what = f'{resource.plural} "{name}"' if name else resource.plural
    where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    return (
        f'{what} is forbidden: User "{username}" cannot {verb} resource "{resource.plural}" '
        f'in API group "{resource.group}" {where}'
    )
