"""EKS state of every sandbox account: clusters, add-ons, updates, how pending work
settles, and the CloudTrail journal of the calls that changed it.

Why one backend for the wire operations and the control API: the control API seeds and
inspects state directly (any account, any status, no validation of API rules), while the
wire operations (``clusters``, ``addons``) go through the rules of the EKS API. Both share
this backend and its one lock.

State is keyed by (account, region): a cluster exists in exactly one account and region,
as in AWS. Pending transitions (add-on updates, CreateCluster, CreateAddon, DeleteCluster,
DeleteAddon) complete only through ``settle()``, or lazily ``auto_settle_seconds`` after
they started (no background thread): real EKS finishes these minutes later, so tests
decide when. Callers of the settling functions below hold ``lock``.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from sandbox.accounts import DEFAULT_ACCOUNT
from sandbox.services.eks import vpccni
from sandbox.services.eks.journal import CloudTrailJournal
from sandbox.services.eks.models import (
    ADDON_STATUSES,
    CLUSTER_STATUSES,
    Addon,
    AddonSpec,
    ApiEndpoint,
    Cluster,
    Update,
)

_CLUSTER_FIELDS = (
    "status",
    "version",
    "platform_version",
    "tags",
    "auto_mode",
    "omit_compute_config",
    "authentication_mode",
    "endpoint_public_access",
    "public_access_cidrs",
)
AUTHENTICATION_MODES = ("API", "API_AND_CONFIG_MAP", "CONFIG_MAP")  # botocore enum


class EksBackend:
    """Clusters per (account, region), add-on updates, idempotency tokens, the CloudTrail
    journal; thread-safe through ``lock`` (re-entrant; wire operations hold it for a whole
    call)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.clusters: dict[tuple[str, str], dict[str, Cluster]] = {}
        self.updates: dict[str, Update] = {}
        self.tokens: dict[tuple[str, ...], str] = {}
        self.pending: dict[tuple[str, str, str, str], float] = {}  # (acct, region, name, addon)
        # None: pending work completes only through settle(). The in-process test server
        # keeps None (tests decide when); `python -m sandbox` sets a short delay.
        self.default_auto_settle_seconds: float | None = None
        self.auto_settle_seconds: float | None = None
        # Every mutating EKS call, as the CloudTrail event EventBridge delivers (journal.py).
        self.journal = CloudTrailJournal()
        # Gives a cluster's Kubernetes API endpoint and CA (DescribeCluster), starting its
        # listener on first use; set by the app that runs the Kubernetes API server.
        self.api_endpoint: Callable[[Cluster], ApiEndpoint] | None = None

    def endpoint_of(self, cluster: Cluster) -> ApiEndpoint | None:
        """The cluster's Kubernetes API (None without a server: a made-up host)."""
        return self.api_endpoint(cluster) if self.api_endpoint is not None else None

    def set_default_auto_settle(self, seconds: float | None) -> None:
        """The delay this sandbox starts with, and returns to on ``reset()``."""
        with self.lock:
            self.default_auto_settle_seconds = self.auto_settle_seconds = seconds

    def reset(self) -> None:
        with self.lock:
            self.clusters, self.updates, self.tokens, self.pending = {}, {}, {}, {}
            self.auto_settle_seconds = self.default_auto_settle_seconds
        self.journal.reset()

    # ------------------------------------------------------------------ lookups
    def cluster(self, account: str, region: str, name: str) -> Cluster | None:
        return self.clusters.get((account, region), {}).get(name)

    def region_clusters(self, account: str, region: str) -> list[Cluster]:
        return list(self.clusters.get((account, region), {}).values())

    def has_addon(self, account: str, region: str, cluster_name: str, addon_name: str) -> bool:
        """Whether ``addon_name`` is installed on the cluster (False when no such cluster)."""
        with self.lock:
            cluster = self.cluster(account, region, cluster_name)
            return cluster is not None and addon_name in cluster.addons

    def _require(self, account: str, region: str, name: str) -> Cluster:
        cluster = self.cluster(account, region, name)
        if cluster is None:
            raise KeyError(f"no cluster {name!r} in {region} of account {account}")
        return cluster

    # ------------------------------------------------------------------ seeding
    def put_cluster(
        self,
        region: str,
        name: str,
        *,
        account: str = DEFAULT_ACCOUNT,
        status: str = "ACTIVE",
        version: str = "1.31",
        platform_version: str | None = None,
        tags: dict[str, str] | None = None,
        auto_mode: bool = False,
        omit_compute_config: bool = False,
        connector: bool = False,
        addon: AddonSpec | None = None,
        authentication_mode: str = "API_AND_CONFIG_MAP",
        endpoint_public_access: bool = True,
        public_access_cidrs: list[str] | None = None,
    ) -> dict[str, Any]:
        """Create or replace a cluster (and its vpc-cni add-on, or none)."""
        if authentication_mode not in AUTHENTICATION_MODES:
            raise ValueError(f"authentication_mode must be one of {AUTHENTICATION_MODES}")
        if status not in CLUSTER_STATUSES:
            raise ValueError(f"status must be one of {CLUSTER_STATUSES}")
        if not region or not name:
            raise ValueError("region and name are required")
        with self.lock:
            cluster = Cluster(
                account=account,
                region=region,
                name=name,
                status=status,
                version=version,
                platform_version=platform_version or "eks.10",
                tags=dict(tags or {}),
                auto_mode=auto_mode,
                omit_compute_config=omit_compute_config,
                connector=connector,
                created_at=self.clock(),
                authentication_mode=authentication_mode,
                endpoint_public_access=endpoint_public_access,
                public_access_cidrs=list(public_access_cidrs or ["0.0.0.0/0"]),
            )
            self.clusters.setdefault((account, region), {})[name] = cluster
            if addon is not None:
                self.install(cluster, addon)
            return self.cluster_state(region, name, account) or {}

    def update_cluster(
        self, region: str, name: str, changes: dict[str, Any], account: str = DEFAULT_ACCOUNT
    ) -> dict[str, Any]:
        """Change status/version/platform_version/tags/auto_mode of an existing cluster."""
        bad = set(changes) - set(_CLUSTER_FIELDS)
        if bad:
            raise ValueError(f"cannot change {sorted(bad)}; allowed: {sorted(_CLUSTER_FIELDS)}")
        if "status" in changes and changes["status"] not in CLUSTER_STATUSES:
            raise ValueError(f"status must be one of {CLUSTER_STATUSES}")
        mode = changes.get("authentication_mode", AUTHENTICATION_MODES[0])
        if mode not in AUTHENTICATION_MODES:
            raise ValueError(f"authentication_mode must be one of {AUTHENTICATION_MODES}")
        with self.lock:
            cluster = self._require(account, region, name)
            for key, value in changes.items():
                copy = {"tags": dict, "public_access_cidrs": list}.get(key)
                setattr(cluster, key, copy(value) if copy else value)
            return self.cluster_state(region, name, account) or {}

    def delete_cluster(self, region: str, name: str, account: str = DEFAULT_ACCOUNT) -> bool:
        with self.lock:
            self.pending.pop((account, region, name, ""), None)
            return self.clusters.get((account, region), {}).pop(name, None) is not None

    def set_addon(
        self,
        region: str,
        cluster_name: str,
        spec: AddonSpec | None,
        account: str = DEFAULT_ACCOUNT,
    ) -> dict[str, Any]:
        """Install/replace the vpc-cni add-on (spec) or remove it (None)."""
        with self.lock:
            cluster = self._require(account, region, cluster_name)
            if spec is None:
                cluster.addons.pop(vpccni.ADDON_NAME, None)
            else:
                self.install(cluster, spec)
            return self.cluster_state(region, cluster_name, account) or {}

    def install(self, cluster: Cluster, spec: AddonSpec, name: str = vpccni.ADDON_NAME) -> Addon:
        if spec.status not in ADDON_STATUSES:
            raise ValueError(f"addon status must be one of {ADDON_STATUSES}")
        if name == vpccni.ADDON_NAME:
            vpccni.register_version(spec.version)
        now = self.clock()
        addon_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{cluster.arn}/{name}/{now}")
        addon = Addon(
            name=name,
            version=spec.version,
            status=spec.status,
            configuration_values=spec.configuration_values,
            health_issues=[dict(i) for i in spec.health_issues],
            service_account_role_arn=spec.service_account_role_arn,
            tags=dict(spec.tags),
            # ARN form: arn:aws:eks:REGION:ACCOUNT:addon/CLUSTER/ADDON/UUID (EKS Service
            # Authorization Reference, resource type "addon").
            arn=f"arn:aws:eks:{cluster.region}:{cluster.account}:addon/{cluster.name}/"
            f"{name}/{addon_id}",
            created_at=now,
            modified_at=now,
        )
        cluster.addons[name] = addon
        return addon

    # ------------------------------------------------------------------ settling
    def settle_due(self) -> None:
        """Complete what ``auto_settle_seconds`` says is done by now."""
        _settle_due(self)

    def settle(
        self,
        region: str | None = None,
        cluster: str | None = None,
        outcome: str = "Successful",
        account: str | None = None,
    ) -> list[str]:
        """Complete pending updates (``Successful`` or ``Failed``) and pending cluster and
        add-on creations/deletions; returns the ids of the settled updates."""
        return _settle(self, region, cluster, outcome, account)

    # ------------------------------------------------------------------ views
    def update_list(
        self,
        region: str | None = None,
        cluster: str | None = None,
        account: str | None = None,
    ) -> list[dict[str, Any]]:
        """Every UpdateAddon accepted so far, with where it applies (for assertions)."""
        with self.lock:
            self.settle_due()
            return [
                {
                    **u.to_wire(),
                    "account": u.account,
                    "region": u.region,
                    "clusterName": u.cluster,
                    "addonName": u.addon_name,
                    "clientRequestToken": u.token,
                }
                for u in sorted(self.updates.values(), key=lambda u: u.created_at)
                if (region is None or u.region == region)
                and (cluster is None or u.cluster == cluster)
                and (account is None or u.account == account)
            ]

    def cluster_state(
        self, region: str, name: str, account: str = DEFAULT_ACCOUNT
    ) -> dict[str, Any] | None:
        """DescribeCluster shape plus ``account``, ``region`` and ``addons`` (DescribeAddon
        shapes) for assertions."""
        with self.lock:
            self.settle_due()
            cluster = self.cluster(account, region, name)
            if cluster is None:
                return None
            out = cluster.to_wire()
            out["account"] = account
            out["region"] = region
            out["addons"] = {n: a.to_wire(cluster.name) for n, a in cluster.addons.items()}
            return out

    def list_state(
        self, region: str | None = None, account: str = DEFAULT_ACCOUNT
    ) -> list[dict[str, Any]]:
        with self.lock:
            self.settle_due()
            regions = [region] if region else sorted(r for (a, r) in self.clusters if a == account)
            return [
                state
                for r in regions
                for n in sorted(self.clusters.get((account, r), {}))
                if (state := self.cluster_state(r, n, account)) is not None
            ]


# The health issue a failed update leaves (DescribeAddon ``health.issues`` code
# ConfigurationConflict, as EKS reports a conflict under resolveConflicts NONE).
_CONFLICT = "Conflicts found when trying to apply. Will not continue due to resolve conflicts mode."


def _settle_due(store: EksBackend) -> None:
    delay = store.auto_settle_seconds
    if delay is None:
        return
    now = store.clock()
    for update in list(store.updates.values()):
        if update.status == "InProgress" and now - update.created_at >= delay:
            _settle_update(store, update, "Successful")
    for key, started in list(store.pending.items()):
        if now - started >= delay:
            _settle_transition(store, key)


def _settle(
    store: EksBackend,
    region: str | None,
    cluster: str | None,
    outcome: str,
    account: str | None,
) -> list[str]:
    if outcome not in ("Successful", "Failed"):
        raise ValueError("outcome must be 'Successful' or 'Failed'")

    def wanted(acct: str, reg: str, name: str) -> bool:
        return (
            (account is None or acct == account)
            and (region is None or reg == region)
            and (cluster is None or name == cluster)
        )

    settled = []
    with store.lock:
        for update in store.updates.values():
            if update.status == "InProgress" and wanted(
                update.account, update.region, update.cluster
            ):
                _settle_update(store, update, outcome)
                settled.append(update.id)
        for key in list(store.pending):
            if wanted(*key[:3]):
                _settle_transition(store, key)
    return settled


def _settle_transition(store: EksBackend, key: tuple[str, str, str, str]) -> None:
    """CREATING -> ACTIVE, DELETING -> gone, for a cluster ("" add-on) or an add-on."""
    store.pending.pop(key, None)
    account, region, name, addon_name = key
    cluster = store.cluster(account, region, name)
    if cluster is None:
        return
    if not addon_name:
        if cluster.status == "DELETING":
            store.clusters[(account, region)].pop(name, None)
        elif cluster.status == "CREATING":
            cluster.status = "ACTIVE"
        return
    addon = cluster.addons.get(addon_name)
    if addon is None:
        return
    if addon.status == "DELETING":
        cluster.addons.pop(addon_name, None)
    elif addon.status == "CREATING":
        addon.status, addon.modified_at = "ACTIVE", store.clock()


def _settle_update(store: EksBackend, update: Update, outcome: str) -> None:
    cluster = store.cluster(update.account, update.region, update.cluster)
    if not update.addon_name:
        # UpdateClusterConfig: "When the update is complete (either Failed or
        # Successful), the cluster status moves to Active" (botocore eks model).
        update.status = outcome
        if cluster is not None:
            if outcome == "Successful" and update.target_auto_mode is not None:
                cluster.auto_mode = update.target_auto_mode
            cluster.status = "ACTIVE"
        return
    addon = cluster.addons.get(update.addon_name) if cluster else None
    update.status = outcome
    if addon is None:
        return
    addon.modified_at = store.clock()
    if outcome == "Successful":
        addon.version = update.target_version
        if update.target_config is not None:
            addon.configuration_values = update.target_config
        if update.target_role_arn is not None:
            addon.service_account_role_arn = update.target_role_arn
        addon.status, addon.health_issues = "ACTIVE", []
        return
    update.errors = [
        {"errorCode": "ConfigurationConflict", "errorMessage": _CONFLICT, "resourceIds": []}
    ]
    addon.status = "UPDATE_FAILED"
    addon.health_issues = [
        {"code": "ConfigurationConflict", "message": _CONFLICT, "resourceIds": []}
    ]
