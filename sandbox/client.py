"""Typed Python client for the sandbox control API (``/_sandbox/...``).

Why stdlib only (``urllib``): the client runs in test processes, the benchmark driver and
``make demo``; it must not depend on botocore or on the server being in-process.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sandbox.faults import FaultKind
from sandbox.routes import ROUTE


class SandboxError(RuntimeError):
    """The control API refused a request (bad arguments, unknown cluster...)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"sandbox control API {status}: {message}")
        self.status = status


@dataclass(frozen=True)
class AddonSeed:
    """The vpc-cni add-on to install. ``configuration_values`` is stored verbatim."""

    version: str = "v1.19.0-eksbuild.1"
    status: str = "ACTIVE"
    configuration_values: str | None = None
    health_issues: tuple[Mapping[str, Any], ...] = ()
    service_account_role_arn: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "status": self.status,
            "configuration_values": self.configuration_values,
            "health_issues": [dict(i) for i in self.health_issues],
            "service_account_role_arn": self.service_account_role_arn,
            "tags": dict(self.tags),
        }


DEFAULT_ADDON = AddonSeed()


@dataclass(frozen=True)
class ClusterSeed:
    """One cluster for ``SandboxClient.add_clusters`` (same fields as ``add_cluster``)."""

    region: str
    name: str
    status: str = "ACTIVE"
    version: str = "1.31"
    addon: AddonSeed | None = DEFAULT_ADDON
    tags: Mapping[str, str] = field(default_factory=dict)
    auto_mode: bool = False
    platform_version: str | None = None
    omit_compute_config: bool = False
    connector: bool = False
    account: str | None = None  # None: the default account 123456789012
    # DescribeCluster accessConfig.authenticationMode and resourcesVpcConfig.
    authentication_mode: str = "API_AND_CONFIG_MAP"
    endpoint_public_access: bool = True
    public_access_cidrs: tuple[str, ...] = ("0.0.0.0/0",)

    def to_dict(self) -> dict[str, Any]:
        return {
            "authentication_mode": self.authentication_mode,
            "endpoint_public_access": self.endpoint_public_access,
            "public_access_cidrs": list(self.public_access_cidrs),
            "account": self.account,
            "region": self.region,
            "name": self.name,
            "status": self.status,
            "version": self.version,
            "platform_version": self.platform_version,
            "tags": dict(self.tags),
            "auto_mode": self.auto_mode,
            "omit_compute_config": self.omit_compute_config,
            "connector": self.connector,
            "addon": self.addon.to_dict() if self.addon is not None else None,
        }


@dataclass(frozen=True)
class SandboxAccount:
    """An account of the sandbox with the credentials that select it."""

    account: str
    access_key_id: str
    secret_access_key: str
    principal_arn: str
    enabled_regions: tuple[str, ...]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SandboxAccount:
        return cls(
            account=str(data["account"]),
            access_key_id=str(data["access_key_id"]),
            secret_access_key=str(data["secret_access_key"]),
            principal_arn=str(data["principal_arn"]),
            enabled_regions=tuple(data["enabled_regions"]),
        )


@dataclass(frozen=True)
class CallStats:
    """Snapshot of the sandbox's call counters."""

    calls: tuple[Mapping[str, Any], ...]
    total: int
    in_flight: int
    peak_concurrency: int

    def count(
        self,
        service: str | None = None,
        operation: str | None = None,
        region: str | None = None,
        cluster: str | None = None,
        status: int | None = None,
    ) -> int:
        """Number of recorded calls matching every given field."""
        wanted = {
            "service": service,
            "operation": operation,
            "region": region,
            "cluster": cluster,
            "status": status,
        }
        return sum(
            int(c["count"])
            for c in self.calls
            if all(v is None or c[k] == v for k, v in wanted.items())
        )


class SandboxClient:
    """Drive a running sandbox: accounts, clusters, faults/latency, counters, CloudTrail
    events, Security Hub switches.

    Longer than our usual class limit on purpose: it is a facade with one thin, typed
    method per control endpoint (``sandbox/control/``), and a single place to find them is
    what its users (tests, bench, demo) need.
    """

    def __init__(self, endpoint: str, timeout: float = 30.0) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout
        # Never route loopback control calls through an HTTP(S)_PROXY from the environment.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # ------------------------------------------------------------------ transport
    def _request(
        self,
        route: str,
        body: Mapping[str, Any] | None = None,
        query: Mapping[str, str | None] | None = None,
        **labels: str,
    ) -> Any:
        """Call the control endpoint named ``route`` in the route table (``routes.py``)."""
        endpoint = ROUTE[route]
        method = endpoint.method
        url = self.endpoint + endpoint.path(**labels)
        params = {k: v for k, v in (query or {}).items() if v is not None}
        if params:
            url += "?" + urlencode(params)
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            url, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("error", exc.reason)
            except ValueError:
                message = str(exc.reason)
            raise SandboxError(exc.code, str(message)) from None

    # ------------------------------------------------------------------ general
    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = self._request("health")
        return result

    def reset(self) -> None:
        """Everything back to defaults: no clusters, 17 regions, no faults/latency/counts,
        and the settle delay the sandbox started with."""
        self._request("reset")

    # ------------------------------------------------------------------ EKS state
    def add_cluster(
        self,
        region: str,
        name: str,
        *,
        status: str = "ACTIVE",
        version: str = "1.31",
        addon: AddonSeed | None = DEFAULT_ADDON,
        tags: Mapping[str, str] | None = None,
        auto_mode: bool = False,
        platform_version: str | None = None,
        omit_compute_config: bool = False,
        connector: bool = False,
        account: str | None = None,
        authentication_mode: str = "API_AND_CONFIG_MAP",
        endpoint_public_access: bool = True,
        public_access_cidrs: tuple[str, ...] = ("0.0.0.0/0",),
    ) -> dict[str, Any]:
        """Create (or replace) a cluster; ``addon=None`` means no vpc-cni add-on.

        ``omit_compute_config`` drops ``computeConfig`` from DescribeCluster (older
        clusters/responses); ``connector`` makes an EKS Connector cluster, listed only
        with ``include=all``; ``authentication_mode`` (API, API_AND_CONFIG_MAP,
        CONFIG_MAP), ``endpoint_public_access`` and ``public_access_cidrs`` are
        DescribeCluster's. Returns the cluster state (DescribeCluster shape + addons).
        """
        seed = ClusterSeed(
            region=region,
            name=name,
            status=status,
            version=version,
            addon=addon,
            tags=dict(tags or {}),
            auto_mode=auto_mode,
            platform_version=platform_version,
            omit_compute_config=omit_compute_config,
            connector=connector,
            account=account,
            authentication_mode=authentication_mode,
            endpoint_public_access=endpoint_public_access,
            public_access_cidrs=public_access_cidrs,
        )
        result: dict[str, Any] = self._request("add_cluster", seed.to_dict())
        return result

    def add_clusters(self, seeds: list[ClusterSeed]) -> int:
        """Create many clusters in one control call (benchmark seeding); returns the count."""
        count: int = self._request("add_clusters", {"clusters": [s.to_dict() for s in seeds]})[
            "created"
        ]
        return count

    def update_cluster(
        self, region: str, name: str, *, account: str | None = None, **changes: Any
    ) -> dict[str, Any]:
        """Change ``status``, ``version``, ``platform_version``, ``tags``, ``auto_mode`` or
        ``omit_compute_config`` of an existing cluster."""
        result: dict[str, Any] = self._request(
            "patch_cluster", changes, {"account": account}, region=region, name=name
        )
        return result

    def delete_cluster(self, region: str, name: str, *, account: str | None = None) -> None:
        self._request("delete_cluster", query={"account": account}, region=region, name=name)

    def cluster(self, region: str, name: str, *, account: str | None = None) -> dict[str, Any]:
        """State of one cluster: DescribeCluster fields + ``addons`` {name: DescribeAddon}."""
        result: dict[str, Any] = self._request(
            "get_cluster", query={"account": account}, region=region, name=name
        )
        return result

    def clusters(
        self, region: str | None = None, *, account: str | None = None
    ) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._request(
            "list_clusters", query={"region": region, "account": account}
        )["clusters"]
        return result

    # ------------------------------------------------------------------ inside clusters
    def put_kube_objects(
        self,
        region: str,
        cluster: str,
        manifests: list[Mapping[str, Any]],
        *,
        account: str | None = None,
    ) -> list[dict[str, Any]]:
        """Create or replace objects inside the cluster (Namespace, ConfigMap, DaemonSet,
        NetworkPolicy, ClusterNetworkPolicy manifests); returns them as served. A stored
        kube-system/amazon-vpc-cni or aws-node replaces the one derived from the add-on."""
        body = {"objects": [dict(m) for m in manifests], "account": account}
        result: list[dict[str, Any]] = self._request(
            "put_kube_objects", body, region=region, name=cluster
        )["objects"]
        return result

    def delete_kube_object(
        self,
        region: str,
        cluster: str,
        kind: str,
        name: str,
        *,
        namespace: str | None = None,
        account: str | None = None,
    ) -> None:
        """Remove an object (also the add-on's ConfigMap or DaemonSet)."""
        query = {"kind": kind, "name": name, "namespace": namespace, "account": account}
        self._request("delete_kube_object", query=query, region=region, name=cluster)

    def add_pods(
        self,
        region: str,
        cluster: str,
        namespace: str,
        *,
        names: list[str] | None = None,
        prefix: str | None = None,
        count: int = 0,
        labels: Mapping[str, str] | None = None,
        account: str | None = None,
    ) -> int:
        """Running pods with ``labels`` in an existing namespace: ``names``, or ``count``
        pods named ``PREFIX-00000``..."""
        body: dict[str, Any] = {
            "namespace": namespace,
            "prefix": prefix,
            "count": count,
            "labels": dict(labels or {}),
            "account": account,
        }
        if names is not None:
            body["names"] = list(names)
        added: int = self._request("add_pods", body, region=region, name=cluster)["added"]
        return added

    def compact_kube(self, region: str, cluster: str, *, account: str | None = None) -> None:
        """etcd compaction: continue tokens issued so far answer 410 Expired."""
        self._request("compact_kube", {"account": account}, region=region, name=cluster)

    def put_access_entry(
        self,
        region: str,
        cluster: str,
        principal_arn: str,
        *,
        policies: list[Mapping[str, Any]] | None = None,
        account: str | None = None,
    ) -> dict[str, Any]:
        """Seed an EKS access entry with policies ({policy_arn, namespaces?}); default:
        AmazonEKSViewPolicy at cluster scope."""
        view = {"policy_arn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"}
        body = {
            "principal_arn": principal_arn,
            "policies": [dict(p) for p in (policies if policies is not None else [view])],
            "account": account,
        }
        result: dict[str, Any] = self._request(
            "put_access_entry", body, region=region, name=cluster
        )
        return result

    def set_addon(
        self, region: str, cluster: str, addon: AddonSeed | None, *, account: str | None = None
    ) -> dict[str, Any]:
        """Install/replace the vpc-cni add-on, or remove it with ``None``."""
        query = {"account": account}
        if addon is None:
            result: dict[str, Any] = self._request(
                "delete_addon", query=query, region=region, name=cluster
            )
        else:
            result = self._request("put_addon", addon.to_dict(), query, region=region, name=cluster)
        return result

    def addon(
        self, region: str, cluster: str, *, account: str | None = None
    ) -> dict[str, Any] | None:
        """DescribeAddon-shaped vpc-cni state, or None when the cluster has none."""
        addons = self.cluster(region, cluster, account=account)["addons"]
        addon: dict[str, Any] | None = addons.get("vpc-cni")
        return addon

    def updates(
        self,
        region: str | None = None,
        cluster: str | None = None,
        *,
        account: str | None = None,
    ) -> list[dict[str, Any]]:
        """Every UpdateAddon the sandbox accepted (update fields + account/region/
        clusterName/...); all accounts unless ``account`` is given."""
        result: list[dict[str, Any]] = self._request(
            "updates", query={"region": region, "cluster": cluster, "account": account}
        )["updates"]
        return result

    def settle(
        self,
        region: str | None = None,
        cluster: str | None = None,
        outcome: str = "Successful",
        *,
        account: str | None = None,
    ) -> list[str]:
        """Finish pending add-on updates (``Successful`` or ``Failed``) and pending
        cluster/add-on creations and deletions; returns the settled update ids."""
        body = {"region": region, "cluster": cluster, "outcome": outcome, "account": account}
        result: list[str] = self._request("settle", body)["settled"]
        return result

    def set_auto_settle(self, seconds: float | None) -> None:
        """Settle updates automatically ``seconds`` after UpdateAddon (None: manual only)."""
        self._request("put_settings", {"auto_settle_seconds": seconds})

    def auto_settle(self) -> float | None:
        """After how many seconds pending EKS work finishes on its own (None: manual only)."""
        value: float | None = self._request("get_settings")["auto_settle_seconds"]
        return value

    def set_enforce_enabled_regions(self, enforce: bool) -> None:
        """When on (default), calls into regions that are not enabled fail authentication."""
        self._request("put_settings", {"enforce_enabled_regions": enforce})

    # ------------------------------------------------------------------ accounts, regions
    def create_account(
        self,
        account: str,
        access_key_id: str,
        secret_access_key: str,
        *,
        principal_arn: str | None = None,
        enabled_regions: list[str] | None = None,
    ) -> SandboxAccount:
        """Add an account. Requests signed with ``access_key_id`` act in it; the caller is
        ``principal_arn`` (default ``arn:aws:iam::ACCOUNT:user/sandbox``; an
        ``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`` makes it a role session);
        ``enabled_regions`` defaults to the 17 regions enabled in every account."""
        body = {
            "account": account,
            "access_key_id": access_key_id,
            "secret_access_key": secret_access_key,
            "principal_arn": principal_arn,
            "enabled_regions": enabled_regions,
        }
        return SandboxAccount.from_dict(self._request("create_account", body))

    def accounts(self) -> list[SandboxAccount]:
        """Every account, the default 123456789012 included."""
        return [SandboxAccount.from_dict(a) for a in self._request("list_accounts")["accounts"]]

    def account(self, account: str) -> SandboxAccount:
        """One account (SandboxError 404 when the sandbox does not hold it)."""
        return SandboxAccount.from_dict(self._request("get_account", account=account))

    def set_enabled_regions(self, regions: list[str], *, account: str | None = None) -> list[str]:
        result: list[str] = self._request(
            "put_regions", {"enabled": list(regions)}, {"account": account}
        )["enabled"]
        return result

    def enabled_regions(self, *, account: str | None = None) -> list[str]:
        result: list[str] = self._request("get_regions", query={"account": account})["enabled"]
        return result

    # ------------------------------------------------------------------ faults
    def add_fault(
        self,
        kind: FaultKind,
        *,
        service: str | None = None,
        operation: str | None = None,
        region: str | None = None,
        cluster: str | None = None,
        account: str | None = None,
        when: str | None = None,
        probability: float = 1.0,
        count: int | None = None,
        seed: int = 0,
        message: str | None = None,
        seconds: float | None = None,
    ) -> int:
        """Fail matching calls with ``kind``; returns the rule id. None fields match all.

        Kinds: ``throttle``, ``server_error``, ``access_denied``, ``unrecognized_client``;
        the error code/status is the one the target service uses (see ``faults.py``).
        The clusters' Kubernetes APIs are ``service="kubernetes"`` (a rule without a
        service never reaches them), with ``slow`` (``seconds``), ``reset``, ``wrong_ca``,
        ``expired_token``, ``oversized``, ``stale_continue`` besides ``throttle``
        (``seconds`` = Retry-After), ``server_error`` and ``access_denied``; operations
        there are ``VERB:RESOURCE`` (``list:pods``, ``get:configmaps``).
        ``account`` limits the rule to one caller account; ``when="addon_missing"`` to
        calls naming an add-on the cluster does not have.
        """
        body = {
            "kind": kind,
            "service": service,
            "operation": operation,
            "region": region,
            "cluster": cluster,
            "account": account,
            "when": when,
            "probability": probability,
            "count": count,
            "seed": seed,
            "message": message,
            "seconds": seconds,
        }
        rule_id: int = self._request("add_fault", body)["id"]
        return rule_id

    def deny_region(self, region: str, service: str | None = None) -> int:
        """An SCP denying everything (or one service) in ``region``: AccessDenied."""
        return self.add_fault("access_denied", region=region, service=service)

    def deny_describe_addon(self, region: str, cluster: str) -> int:
        """AccessDenied for eks:DescribeAddon on one cluster only."""
        return self.add_fault(
            "access_denied",
            service="eks",
            operation="DescribeAddon",
            region=region,
            cluster=cluster,
        )

    def deny_describe_missing_addon(
        self, region: str | None = None, cluster: str | None = None, account: str | None = None
    ) -> int:
        """IAM as it behaves when the policy grants eks:DescribeAddon on
        ``addon/*/vpc-cni/*`` only: DescribeAddon of an add-on the cluster does *not* have
        answers AccessDeniedException (403) naming
        ``arn:aws:eks:REGION:ACCOUNT:/clusters/NAME/addons/vpc-cni`` instead of
        ResourceNotFoundException; installed add-ons are still described (issue 10 item 8).
        """
        return self.add_fault(
            "access_denied",
            service="eks",
            operation="DescribeAddon",
            region=region,
            cluster=cluster,
            account=account,
            when="addon_missing",
        )

    def faults(self) -> list[dict[str, Any]]:
        """Active rules, each with ``fired`` (how often it has failed a call)."""
        result: list[dict[str, Any]] = self._request("get_faults")["faults"]
        return result

    def remove_fault(self, rule_id: int) -> None:
        self._request("delete_fault", id=str(rule_id))

    def clear_faults(self) -> None:
        self._request("clear_faults")

    # ------------------------------------------------------------------ latency
    def set_latency(
        self,
        base_ms: float = 0.0,
        region_ms: Mapping[str, float] | None = None,
        service_ms: Mapping[str, float] | None = None,
    ) -> None:
        """Per-call delay: ``service_ms.get(service, base_ms) + region_ms.get(region, 0)``."""
        self._request(
            "put_latency",
            {
                "base_ms": base_ms,
                "region_ms": dict(region_ms or {}),
                "service_ms": dict(service_ms or {}),
            },
        )

    def latency(self) -> dict[str, Any]:
        """The latency model: ``base_ms``, ``region_ms``, ``service_ms``."""
        result: dict[str, Any] = self._request("get_latency")
        return result

    def clear_latency(self) -> None:
        self._request("clear_latency")

    # ------------------------------------------------------------------ counters
    def calls(self) -> CallStats:
        data = self._request("get_calls")
        return CallStats(
            calls=tuple(data["calls"]),
            total=int(data["total"]),
            in_flight=int(data["in_flight"]),
            peak_concurrency=int(data["peak_concurrency"]),
        )

    def reset_calls(self) -> None:
        """Zero the counters and the peak-concurrency gauge."""
        self._request("reset_calls")

    # ------------------------------------------------------------------ CloudTrail
    def events(
        self,
        account: str | None = None,
        region: str | None = None,
        event_name: str | None = None,
    ) -> list[dict[str, Any]]:
        """The "AWS API Call via CloudTrail" events EventBridge would deliver for every
        mutating EKS call so far (CreateCluster, DeleteCluster, CreateAddon, UpdateAddon,
        DeleteAddon, TagResource, UntagResource), failed calls included, in call order;
        filtered by ``account``, ``region`` and ``event_name`` (see ``services/eks/journal.py``)."""
        query = {"account": account, "region": region, "event_name": event_name}
        result: list[dict[str, Any]] = self._request("get_events", query=query)["events"]
        return result

    def clear_events(self) -> None:
        self._request("clear_events")

    # ------------------------------------------------------------------ Security Hub
    def set_securityhub_enabled(
        self, region: str, enabled: bool, *, account: str | None = None
    ) -> None:
        """Turn Security Hub on or off in ``region`` for ``account`` (None: every account)."""
        self._request("put_enabled", {"enabled": enabled}, {"account": account}, region=region)

    def findings(self, region: str, *, account: str | None = None) -> list[dict[str, Any]]:
        """Findings stored by the Security Hub emulator in ``region`` (ASFF dicts); every
        account's unless ``account`` is given. Stored copies only: what an administrator or
        an aggregation Region sees is GetFindings' business."""
        result: list[dict[str, Any]] = self._request(
            "findings", query={"account": account}, region=region
        )["findings"]
        return result

    def set_securityhub_organization(
        self,
        administrator: str,
        members: list[str],
        *,
        aggregation_region: str | None = None,
        linked_regions: list[str] | None = None,
        member_statuses: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Make ``administrator`` the Security Hub administrator of ``members`` (in every
        Region), optionally with cross-Region aggregation into ``aggregation_region`` from
        ``linked_regions``. Findings that already exist in a Region when it is linked reach
        the aggregation Region only once they are updated, as in Security Hub.
        ``member_statuses`` gives members a MemberStatus other than Enabled (Invited,
        Removed, ...): the administrator then neither sees their findings nor, by default,
        lists them (ListMembers OnlyAssociated)."""
        body = {
            "administrator": administrator,
            "members": list(members),
            "aggregation_region": aggregation_region,
            "linked_regions": list(linked_regions or []),
            "member_statuses": dict(member_statuses or {}),
        }
        result: dict[str, Any] = self._request("put_organization", body)
        return result

    def securityhub_organization(self) -> dict[str, Any]:
        """``{administrator, members, aggregation_region, linked_regions}``."""
        result: dict[str, Any] = self._request("get_organization")
        return result

    def clear_securityhub_organization(self) -> None:
        self._request("delete_organization")

    def ingestion_events(self, account: str | None = None, region: str | None = None) -> int:
        """Finding ingestion events (findings BatchImportFindings accepted, new or updated)
        matching ``account`` and ``region`` (None matches all): what Security Hub CSPM bills."""
        rows = self._request("ingestion")["ingestion"]
        return sum(
            int(row["count"])
            for row in rows
            if account in (None, row["account"]) and region in (None, row["region"])
        )

    def reset_ingestion_events(self) -> None:
        self._request("reset_ingestion")

    def expire_securityhub_findings(self, as_of: str) -> list[dict[str, str]]:
        """Delete the findings Security Hub's retention would have deleted by ``as_of`` (ISO
        8601): active ones 90 days, archived ones 30 days after their last UpdatedAt. Returns
        ``{account, region, id}`` of each."""
        result: list[dict[str, str]] = self._request("expire", {"as_of": as_of})["expired"]
        return result

    # ------------------------------------------------------------------ deployment (doctor)
    def put_stack(
        self,
        region: str,
        name: str,
        *,
        status: str = "CREATE_COMPLETE",
        reason: str = "",
        parameters: Mapping[str, str] | None = None,
        outputs: Mapping[str, str] | None = None,
        account: str | None = None,
    ) -> dict[str, Any]:
        """A CloudFormation stack as a deployment left it (DescribeStacks reads it)."""
        body = {
            "status": status,
            "reason": reason,
            "parameters": dict(parameters or {}),
            "outputs": dict(outputs or {}),
            "account": account,
        }
        result: dict[str, Any] = self._request("put_stack", body, region=region, name=name)
        return result

    def delete_stack(self, region: str, name: str, *, account: str | None = None) -> None:
        self._request("delete_stack", query={"account": account}, region=region, name=name)

    def stacks(self, region: str, *, account: str | None = None) -> list[dict[str, Any]]:
        """The stacks placed in ``region`` (``put_stack``'s fields plus ``stack_id``)."""
        result: list[dict[str, Any]] = self._request(
            "get_stacks", query={"account": account}, region=region
        )["stacks"]
        return result

    def add_datapoints(
        self,
        region: str,
        namespace: str,
        metric: str,
        dimensions: Mapping[str, str],
        points: list[tuple[float, float]],
        *,
        account: str | None = None,
    ) -> int:
        """CloudWatch datapoints ``(epoch seconds, value)`` as the service published them."""
        body = {
            "region": region,
            "namespace": namespace,
            "metric": metric,
            "dimensions": dict(dimensions),
            "points": [[t, v] for t, v in points],
            "account": account,
        }
        count: int = self._request("add_datapoints", body)["datapoints"]
        return count

    def put_trail(
        self,
        name: str,
        *,
        home_region: str = "us-east-1",
        multi_region: bool = True,
        logging: bool = True,
        event_selectors: Sequence[Mapping[str, Any]] | None = None,
        advanced_event_selectors: Sequence[Mapping[str, Any]] | None = None,
        account: str | None = None,
    ) -> dict[str, Any]:
        """A CloudTrail trail; without selectors it logs all management events (AWS's
        default for a new trail)."""
        body: dict[str, Any] = {
            "home_region": home_region,
            "multi_region": multi_region,
            "logging": logging,
            "account": account,
        }
        if event_selectors is not None:
            body["event_selectors"] = [dict(s) for s in event_selectors]
        if advanced_event_selectors is not None:
            body["advanced_event_selectors"] = [dict(s) for s in advanced_event_selectors]
        result: dict[str, Any] = self._request("put_trail", body, name=name)
        return result

    def delete_trail(self, name: str, *, account: str | None = None) -> None:
        self._request("delete_trail", query={"account": account}, name=name)
