"""Amazon EKS emulator: clusters, the vpc-cni managed add-on, add-on updates.

Why our own: moto has no add-on API and cannot represent ``computeConfig``, add-on
``status``/``health`` or ``configurationValues`` exactly as stored. Behaviour follows the
EKS API reference and the botocore ``eks`` model (``botocore/data/eks/*/service-2.json``):

* https://docs.aws.amazon.com/eks/latest/APIReference/API_ListClusters.html
* https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeCluster.html
* https://docs.aws.amazon.com/eks/latest/APIReference/API_ListAddons.html
* https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeAddon.html
* https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeAddonConfiguration.html
* https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateAddon.html
* https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeUpdate.html

Where the real behaviour is not documented the code says "unknown" and picks the stricter
reading (reject rather than accept). Pending add-on updates settle only via ``settle()``
unless ``auto_settle_seconds`` is set, in which case they settle lazily on the next call
after the delay (no background thread).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox import vpccni
from sandbox.routing import router_for
from sandbox.wire import SandboxRequest, SandboxResponse, aws_error

CLUSTER_STATUSES = ("CREATING", "ACTIVE", "DELETING", "FAILED", "UPDATING", "PENDING")
ADDON_STATUSES = (
    "CREATING",
    "ACTIVE",
    "CREATE_FAILED",
    "UPDATING",
    "DELETING",
    "DELETE_FAILED",
    "DEGRADED",
    "UPDATE_FAILED",
)
# Add-on states from which UpdateAddon is accepted. ACTIVE/DEGRADED/UPDATE_FAILED are
# documented as updatable (updating is how a degraded add-on is repaired); for the failed
# create/delete states the behaviour is unknown, so the stricter reading rejects them.
_UPDATABLE_ADDON = ("ACTIVE", "DEGRADED", "UPDATE_FAILED")
RESOLVE_CONFLICTS = ("NONE", "OVERWRITE", "PRESERVE")


@dataclass
class AddonSpec:
    """How the control API describes an add-on to install on a cluster."""

    version: str = "v1.19.0-eksbuild.1"
    status: str = "ACTIVE"
    configuration_values: str | None = None
    health_issues: list[dict[str, Any]] = field(default_factory=list)
    service_account_role_arn: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class Addon:
    name: str
    version: str
    status: str
    configuration_values: str | None
    health_issues: list[dict[str, Any]]
    service_account_role_arn: str | None
    tags: dict[str, str]
    arn: str
    created_at: float
    modified_at: float


@dataclass
class Cluster:
    region: str
    name: str
    status: str
    version: str
    platform_version: str
    tags: dict[str, str]
    auto_mode: bool
    omit_compute_config: bool
    connector: bool
    created_at: float
    addons: dict[str, Addon] = field(default_factory=dict)


@dataclass
class Update:
    id: str
    region: str
    cluster: str
    addon_name: str
    status: str
    params: list[dict[str, str]]
    created_at: float
    token: str | None
    fingerprint: tuple[Any, ...]
    target_version: str
    target_config: str | None  # None: configurationValues not provided, keep the current
    target_role_arn: str | None
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "type": "AddonUpdate",
            "params": [dict(p) for p in self.params],
            "createdAt": self.created_at,
            "errors": [dict(e) for e in self.errors],
        }


def _hex(*parts: str, length: int = 32) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length].upper()


def _not_found(message: str, **fields: str) -> SandboxResponse:
    """ResourceNotFoundException 404; EKS also returns the resource names in the body."""
    error = aws_error(404, "ResourceNotFoundException", message)
    return SandboxResponse(error.status, {**error.body, **fields}, error.headers)


def _invalid(message: str, **fields: str) -> SandboxResponse:
    error = aws_error(400, "InvalidParameterException", message)
    return SandboxResponse(error.status, {**error.body, **fields}, error.headers)


def _encode_token(after: str) -> str:
    return base64.urlsafe_b64encode(f"v1:{after}".encode()).decode()


def _decode_token(token: str) -> str | None:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return text[3:] if text.startswith("v1:") else None


def _paginate(key: str, names: list[str], query: dict[str, list[str]]) -> SandboxResponse:
    """A `{key: [...], nextToken}` page: maxResults 1..100 (default 100) and an opaque
    nextToken, per ListClusters/ListAddons.

    botocore validates only the minimum client-side; the maximum is enforced here (the API
    reference gives the valid range 1-100; the exact server message is unknown).
    """
    raw = (query.get("maxResults") or ["100"])[0]
    try:
        max_results = int(raw)
    except ValueError:
        return _invalid(f"maxResults must be an integer between 1 and 100, got {raw!r}")
    if not 1 <= max_results <= 100:
        return _invalid("maxResults must be between 1 and 100")
    names = sorted(names)
    token = next(iter(query.get("nextToken", [])), None)
    if token:
        after = _decode_token(token)
        if after is None:
            return _invalid("The nextToken provided is invalid")
        names = [n for n in names if n > after]
    page = names[:max_results]
    body: dict[str, Any] = {key: page}
    if len(names) > max_results:
        body["nextToken"] = _encode_token(page[-1])
    return SandboxResponse(200, body)


class EksEmulator:
    """State and wire handlers for the EKS operations the auditor uses."""

    def __init__(self, account: str, clock: Callable[[], float] = time.time) -> None:
        self.account = account
        self._clock = clock
        self._lock = threading.RLock()
        self._clusters: dict[str, dict[str, Cluster]] = {}
        self._updates: dict[str, Update] = {}
        self._tokens: dict[tuple[str, str, str, str], str] = {}
        self.auto_settle_seconds: float | None = None
        self._handlers: dict[str, Callable[[SandboxRequest, dict[str, str]], SandboxResponse]]
        self._handlers = {
            "ListClusters": self._list_clusters,
            "DescribeCluster": self._describe_cluster,
            "ListAddons": self._list_addons,
            "DescribeAddon": self._describe_addon,
            "DescribeAddonConfiguration": self._describe_addon_configuration,
            "UpdateAddon": self._update_addon,
            "DescribeUpdate": self._describe_update,
        }

    # ------------------------------------------------------------------ protocol
    def reset(self) -> None:
        with self._lock:
            self._clusters = {}
            self._updates = {}
            self._tokens = {}
            self.auto_settle_seconds = None

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        handler = self._handlers.get(request.operation)
        if handler is None:
            # A real EKS operation the sandbox does not emulate: fail loudly, not silently.
            return aws_error(
                400,
                "InvalidRequestException",
                f"The sandbox does not emulate eks:{request.operation}",
            )
        router = router_for("eks")
        labels = router.labels(request.operation, request.method, request.path) if router else {}
        with self._lock:
            self._settle_due()
            return handler(request, labels)

    # ------------------------------------------------------------------ rendering
    def _cluster_arn(self, c: Cluster) -> str:
        return f"arn:aws:eks:{c.region}:{self.account}:cluster/{c.name}"

    def _cluster_wire(self, c: Cluster) -> dict[str, Any]:
        vpc_hex = _hex(c.region, c.name, length=17).lower()
        out: dict[str, Any] = {
            "name": c.name,
            "arn": self._cluster_arn(c),
            "createdAt": c.created_at,
            "status": c.status,
            "tags": dict(c.tags),
        }
        if c.connector:
            # EKS Connector clusters (listed only with include=all) carry no control plane.
            out["connectorConfig"] = {"provider": "OTHER", "roleArn": self._role("connector")}
            return out
        out.update(
            {
                "version": c.version,
                "platformVersion": c.platform_version,
                "roleArn": self._role("eks-cluster-role"),
                "resourcesVpcConfig": {
                    "subnetIds": [f"subnet-{vpc_hex[:16]}a", f"subnet-{vpc_hex[:16]}b"],
                    "securityGroupIds": [],
                    "clusterSecurityGroupId": f"sg-{vpc_hex}",
                    "vpcId": f"vpc-{vpc_hex}",
                    "endpointPublicAccess": True,
                    "endpointPrivateAccess": True,
                    "publicAccessCidrs": ["0.0.0.0/0"],
                },
                "kubernetesNetworkConfig": {
                    "serviceIpv4Cidr": "172.20.0.0/16",
                    "ipFamily": "ipv4",
                    "elasticLoadBalancing": {"enabled": c.auto_mode},
                },
                "logging": {
                    "clusterLogging": [
                        {
                            "types": [
                                "api",
                                "audit",
                                "authenticator",
                                "controllerManager",
                                "scheduler",
                            ],
                            "enabled": False,
                        }
                    ]
                },
                "health": {"issues": []},
                "accessConfig": {"authenticationMode": "API_AND_CONFIG_MAP"},
                "upgradePolicy": {"supportType": "EXTENDED"},
            }
        )
        if c.status != "CREATING":
            # While CREATING, EKS has not assigned the endpoint/CA/OIDC issuer yet.
            host = f"{_hex(c.region, c.name)}.gr7.{c.region}.eks.amazonaws.com"
            out["endpoint"] = f"https://{host}"
            out["certificateAuthority"] = {"data": base64.b64encode(b"sandbox-ca").decode()}
            out["identity"] = {
                "oidc": {
                    "issuer": f"https://oidc.eks.{c.region}.amazonaws.com/id/"
                    f"{_hex(c.name, c.region)}"
                }
            }
        else:
            out["certificateAuthority"] = {}
        if not c.omit_compute_config:
            if c.auto_mode:
                out["computeConfig"] = {
                    "enabled": True,
                    "nodePools": ["general-purpose", "system"],
                    "nodeRoleArn": self._role("eks-auto-node-role"),
                }
                out["storageConfig"] = {"blockStorage": {"enabled": True}}
            else:
                out["computeConfig"] = {"enabled": False}
                out["storageConfig"] = {"blockStorage": {"enabled": False}}
        return out

    def _role(self, name: str) -> str:
        return f"arn:aws:iam::{self.account}:role/{name}"

    @staticmethod
    def _addon_wire(c: Cluster, a: Addon) -> dict[str, Any]:
        out: dict[str, Any] = {
            "addonName": a.name,
            "clusterName": c.name,
            "status": a.status,
            "addonVersion": a.version,
            "health": {"issues": [dict(i) for i in a.health_issues]},
            "addonArn": a.arn,
            "createdAt": a.created_at,
            "modifiedAt": a.modified_at,
            "tags": dict(a.tags),
            "podIdentityAssociations": [],
        }
        if a.service_account_role_arn:
            out["serviceAccountRoleArn"] = a.service_account_role_arn
        if a.configuration_values is not None:
            # Returned exactly as stored: JSON or YAML text, untouched.
            out["configurationValues"] = a.configuration_values
        return out

    # ------------------------------------------------------------------ lookups
    def _cluster(self, region: str, name: str) -> Cluster | None:
        return self._clusters.get(region, {}).get(name)

    @staticmethod
    def _no_cluster(name: str) -> SandboxResponse:
        return _not_found(f"No cluster found for name: {name}.", clusterName=name)

    @staticmethod
    def _no_addon(cluster: str, addon: str) -> SandboxResponse:
        return _not_found(
            f"No addon: {addon} found in cluster: {cluster}",
            clusterName=cluster,
            addonName=addon,
        )

    # ------------------------------------------------------------------ handlers
    def _list_clusters(self, req: SandboxRequest, _labels: dict[str, str]) -> SandboxResponse:
        include = req.query.get("include", [])
        unknown = [v for v in include if v != "all"]
        if unknown:
            # The model types include as a free list of strings; only "all" is documented.
            return _invalid(f"Invalid include value: {unknown[0]}")
        clusters = self._clusters.get(req.region, {}).values()
        names = [c.name for c in clusters if "all" in include or not c.connector]
        return _paginate("clusters", names, req.query)

    def _describe_cluster(self, req: SandboxRequest, labels: dict[str, str]) -> SandboxResponse:
        cluster = self._cluster(req.region, labels.get("name", ""))
        if cluster is None:
            return self._no_cluster(labels.get("name", ""))
        return SandboxResponse(200, {"cluster": self._cluster_wire(cluster)})

    def _list_addons(self, req: SandboxRequest, labels: dict[str, str]) -> SandboxResponse:
        cluster = self._cluster(req.region, labels.get("name", ""))
        if cluster is None:
            return self._no_cluster(labels.get("name", ""))
        return _paginate("addons", list(cluster.addons), req.query)

    def _describe_addon(self, req: SandboxRequest, labels: dict[str, str]) -> SandboxResponse:
        name, addon_name = labels.get("name", ""), labels.get("addonName", "")
        cluster = self._cluster(req.region, name)
        if cluster is None:
            return self._no_cluster(name)
        addon = cluster.addons.get(addon_name)
        if addon is None:
            return self._no_addon(name, addon_name)
        return SandboxResponse(200, {"addon": self._addon_wire(cluster, addon)})

    def _describe_addon_configuration(
        self, req: SandboxRequest, _labels: dict[str, str]
    ) -> SandboxResponse:
        addon_name = (req.query.get("addonName") or [""])[0]
        version = (req.query.get("addonVersion") or [""])[0]
        if not addon_name or not version:
            return _invalid("addonName and addonVersion are required")
        # Unknown which error EKS returns for an unknown add-on name or version; we answer
        # ResourceNotFoundException (the call fails either way, which is what matters).
        if addon_name != vpccni.ADDON_NAME:
            return _not_found(f"Addon {addon_name} not found", addonName=addon_name)
        if not vpccni.is_known_version(version):
            return _not_found(
                f"Addon version {version} not found for addon {addon_name}",
                addonName=addon_name,
            )
        return SandboxResponse(
            200,
            {
                "addonName": addon_name,
                "addonVersion": version,
                "configurationSchema": vpccni.configuration_schema_text(version),
                "podIdentityConfiguration": [],
            },
        )

    def _update_addon(self, req: SandboxRequest, labels: dict[str, str]) -> SandboxResponse:
        name, addon_name = labels.get("name", ""), labels.get("addonName", "")
        body = req.body
        cluster = self._cluster(req.region, name)
        if cluster is None:
            return self._no_cluster(name)
        addon = cluster.addons.get(addon_name)
        if addon is None:
            return self._no_addon(name, addon_name)

        token = body.get("clientRequestToken")
        fingerprint = tuple(
            body.get(k)
            for k in (
                "addonVersion",
                "serviceAccountRoleArn",
                "resolveConflicts",
                "configurationValues",
            )
        )
        if token:
            previous = self._tokens.get((req.region, name, addon_name, token))
            if previous is not None:
                update = self._updates[previous]
                if update.fingerprint != fingerprint:
                    # Unknown what EKS does on token reuse with other parameters; the
                    # stricter reading (as in EC2's IdempotentParameterMismatch) rejects it.
                    return aws_error(
                        400,
                        "InvalidRequestException",
                        "The client request token has already been used with different "
                        "request parameters",
                    )
                # Idempotent retry: the same update, no second update is started.
                return SandboxResponse(200, {"update": update.to_wire()})

        if cluster.status != "ACTIVE":
            # Unknown exact error for a non-ACTIVE cluster; stricter: reject.
            return aws_error(
                400,
                "InvalidRequestException",
                f"Cluster {name} is in {cluster.status} state; add-ons can only be updated "
                "on ACTIVE clusters",
            )
        if addon.status not in _UPDATABLE_ADDON:
            return SandboxResponse(
                409,
                {
                    **aws_error(
                        409,
                        "ResourceInUseException",
                        f"Addon {addon_name} cannot be updated as it is currently in "
                        f"{addon.status} state",
                    ).body,
                    "clusterName": name,
                    "addonName": addon_name,
                },
                {"X-Amzn-ErrorType": "ResourceInUseException"},
            )
        resolve = body.get("resolveConflicts")
        if resolve is not None and resolve not in RESOLVE_CONFLICTS:
            return _invalid(
                f"resolveConflicts must be one of {', '.join(RESOLVE_CONFLICTS)}",
                clusterName=name,
                addonName=addon_name,
            )
        target_version = body.get("addonVersion") or addon.version
        if not vpccni.is_known_version(target_version):
            return _invalid(
                "Addon version specified is not supported", clusterName=name, addonName=addon_name
            )
        old, new = vpccni.parse_version(addon.version), vpccni.parse_version(target_version)
        if old and new and new < old:
            # EKS does not support downgrading a managed add-on (EKS user guide,
            # "Update an Amazon EKS add-on").
            return _invalid(
                f"Updating addon {addon_name} from {addon.version} to {target_version} is "
                "not supported (downgrade)",
                clusterName=name,
                addonName=addon_name,
            )
        config = body.get("configurationValues")
        if config is not None:
            try:
                vpccni.validate_configuration(str(config), target_version)
            except vpccni.ConfigurationError as exc:
                return _invalid(str(exc), clusterName=name, addonName=addon_name)

        params = [{"type": "AddonVersion", "value": target_version}]
        if resolve is not None:
            params.append({"type": "ResolveConflicts", "value": resolve})
        if body.get("serviceAccountRoleArn") is not None:
            params.append(
                {"type": "ServiceAccountRoleArn", "value": str(body["serviceAccountRoleArn"])}
            )
        if config is not None:
            params.append({"type": "ConfigurationValues", "value": str(config)})
        now = self._clock()
        update = Update(
            id=str(uuid.uuid4()),
            region=req.region,
            cluster=name,
            addon_name=addon_name,
            status="InProgress",
            params=params,
            created_at=now,
            token=token,
            fingerprint=fingerprint,
            target_version=target_version,
            target_config=None if config is None else str(config),
            target_role_arn=body.get("serviceAccountRoleArn"),
        )
        self._updates[update.id] = update
        if token:
            self._tokens[(req.region, name, addon_name, token)] = update.id
        addon.status = "UPDATING"
        addon.modified_at = now
        return SandboxResponse(200, {"update": update.to_wire()})

    def _describe_update(self, req: SandboxRequest, labels: dict[str, str]) -> SandboxResponse:
        name, update_id = labels.get("name", ""), labels.get("updateId", "")
        if self._cluster(req.region, name) is None:
            return self._no_cluster(name)
        addon_name = next(iter(req.query.get("addonName", [])), None)
        update = self._updates.get(update_id)
        # An add-on update is only found when addonName names its add-on (API reference:
        # "addonName ... Required if the update is an add-on update").
        if (
            update is None
            or update.region != req.region
            or update.cluster != name
            or addon_name != update.addon_name
        ):
            return _not_found(f"No update found for ID: {update_id}", clusterName=name)
        return SandboxResponse(200, {"update": update.to_wire()})

    # ------------------------------------------------------------------ settling
    def _settle_due(self) -> None:
        delay = self.auto_settle_seconds
        if delay is None:
            return
        now = self._clock()
        for update in list(self._updates.values()):
            if update.status == "InProgress" and now - update.created_at >= delay:
                self._settle_one(update, "Successful")

    def _settle_one(self, update: Update, outcome: str) -> None:
        cluster = self._cluster(update.region, update.cluster)
        addon = cluster.addons.get(update.addon_name) if cluster else None
        update.status = outcome
        if addon is None:
            return
        addon.modified_at = self._clock()
        if outcome == "Successful":
            addon.version = update.target_version
            if update.target_config is not None:
                addon.configuration_values = update.target_config
            if update.target_role_arn is not None:
                addon.service_account_role_arn = update.target_role_arn
            addon.status = "ACTIVE"
            addon.health_issues = []
        else:
            error = {
                "errorCode": "ConfigurationConflict",
                "errorMessage": "Conflicts found when trying to apply. Will not continue due "
                "to resolve conflicts mode.",
                "resourceIds": [],
            }
            update.errors = [error]
            addon.status = "UPDATE_FAILED"
            addon.health_issues = [
                {
                    "code": "ConfigurationConflict",
                    "message": error["errorMessage"],
                    "resourceIds": [],
                }
            ]

    # ------------------------------------------------------------------ control API
    def put_cluster(
        self,
        region: str,
        name: str,
        *,
        status: str = "ACTIVE",
        version: str = "1.31",
        platform_version: str | None = None,
        tags: dict[str, str] | None = None,
        auto_mode: bool = False,
        omit_compute_config: bool = False,
        connector: bool = False,
        addon: AddonSpec | None = None,
    ) -> dict[str, Any]:
        """Create or replace a cluster (and its vpc-cni add-on, or none)."""
        if status not in CLUSTER_STATUSES:
            raise ValueError(f"status must be one of {CLUSTER_STATUSES}")
        with self._lock:
            now = self._clock()
            cluster = Cluster(
                region=region,
                name=name,
                status=status,
                version=version,
                platform_version=platform_version or "eks.10",
                tags=dict(tags or {}),
                auto_mode=auto_mode,
                omit_compute_config=omit_compute_config,
                connector=connector,
                created_at=now,
            )
            self._clusters.setdefault(region, {})[name] = cluster
            if addon is not None:
                self._install(cluster, addon)
            return self.cluster_state(region, name) or {}

    def has_addon(self, region: str, cluster_name: str, addon_name: str) -> bool:
        """Whether ``addon_name`` is installed on the cluster (False when no such cluster)."""
        with self._lock:
            cluster = self._cluster(region, cluster_name)
            return cluster is not None and addon_name in cluster.addons

    def update_cluster(self, region: str, name: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change status/version/platform_version/tags/auto_mode of an existing cluster."""
        allowed = {
            "status",
            "version",
            "platform_version",
            "tags",
            "auto_mode",
            "omit_compute_config",
        }
        bad = set(changes) - allowed
        if bad:
            raise ValueError(f"cannot change {sorted(bad)}; allowed: {sorted(allowed)}")
        if "status" in changes and changes["status"] not in CLUSTER_STATUSES:
            raise ValueError(f"status must be one of {CLUSTER_STATUSES}")
        with self._lock:
            cluster = self._require(region, name)
            for key, value in changes.items():
                setattr(cluster, key, dict(value) if key == "tags" else value)
            return self.cluster_state(region, name) or {}

    def delete_cluster(self, region: str, name: str) -> bool:
        with self._lock:
            return self._clusters.get(region, {}).pop(name, None) is not None

    def set_addon(self, region: str, cluster_name: str, spec: AddonSpec | None) -> dict[str, Any]:
        """Install/replace the vpc-cni add-on (spec) or remove it (None)."""
        with self._lock:
            cluster = self._require(region, cluster_name)
            if spec is None:
                cluster.addons.pop(vpccni.ADDON_NAME, None)
            else:
                self._install(cluster, spec)
            return self.cluster_state(region, cluster_name) or {}

    def settle(
        self,
        region: str | None = None,
        cluster: str | None = None,
        outcome: str = "Successful",
    ) -> list[str]:
        """Complete pending updates (``Successful`` or ``Failed``); returns their ids."""
        if outcome not in ("Successful", "Failed"):
            raise ValueError("outcome must be 'Successful' or 'Failed'")
        settled = []
        with self._lock:
            for update in self._updates.values():
                if update.status != "InProgress":
                    continue
                if region is not None and update.region != region:
                    continue
                if cluster is not None and update.cluster != cluster:
                    continue
                self._settle_one(update, outcome)
                settled.append(update.id)
        return settled

    def updates(
        self, region: str | None = None, cluster: str | None = None
    ) -> list[dict[str, Any]]:
        """Every UpdateAddon accepted so far, with where it applies (for assertions)."""
        with self._lock:
            self._settle_due()
            return [
                {
                    **u.to_wire(),
                    "region": u.region,
                    "clusterName": u.cluster,
                    "addonName": u.addon_name,
                    "clientRequestToken": u.token,
                }
                for u in sorted(self._updates.values(), key=lambda u: u.created_at)
                if (region is None or u.region == region)
                and (cluster is None or u.cluster == cluster)
            ]

    def cluster_state(self, region: str, name: str) -> dict[str, Any] | None:
        """DescribeCluster shape plus ``addons`` (DescribeAddon shapes) for assertions."""
        with self._lock:
            self._settle_due()
            cluster = self._cluster(region, name)
            if cluster is None:
                return None
            out = self._cluster_wire(cluster)
            out["region"] = region
            out["addons"] = {n: self._addon_wire(cluster, a) for n, a in cluster.addons.items()}
            return out

    def list_state(self, region: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            regions = [region] if region else sorted(self._clusters)
            return [
                state
                for r in regions
                for n in sorted(self._clusters.get(r, {}))
                if (state := self.cluster_state(r, n)) is not None
            ]

    def _require(self, region: str, name: str) -> Cluster:
        cluster = self._cluster(region, name)
        if cluster is None:
            raise KeyError(f"no cluster {name!r} in {region}")
        return cluster

    def _install(self, cluster: Cluster, spec: AddonSpec) -> None:
        if spec.status not in ADDON_STATUSES:
            raise ValueError(f"addon status must be one of {ADDON_STATUSES}")
        vpccni.register_version(spec.version)
        now = self._clock()
        addon_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{cluster.region}/{cluster.name}/{now}")
        cluster.addons[vpccni.ADDON_NAME] = Addon(
            name=vpccni.ADDON_NAME,
            version=spec.version,
            status=spec.status,
            configuration_values=spec.configuration_values,
            health_issues=[dict(i) for i in spec.health_issues],
            service_account_role_arn=spec.service_account_role_arn,
            tags=dict(spec.tags),
            arn=f"arn:aws:eks:{cluster.region}:{self.account}:addon/{cluster.name}/"
            f"{vpccni.ADDON_NAME}/{addon_id}",
            created_at=now,
            modified_at=now,
        )
