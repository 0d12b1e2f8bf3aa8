"""EKS state objects and how DescribeCluster/DescribeAddon/DescribeUpdate render them.

Shapes follow the botocore ``eks`` model (``Cluster``, ``Addon``, ``Update``) and the EKS
API reference pages named in ``sandbox/eks/__init__.py``. Times are epoch seconds (the
model's ``Timestamp``, which restJson1 sends as epoch numbers).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

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

    def to_wire(self, cluster_name: str) -> dict[str, Any]:
        """The ``Addon`` shape (DescribeAddon, CreateAddon, DeleteAddon)."""
        out: dict[str, Any] = {
            "addonName": self.name,
            "clusterName": cluster_name,
            "status": self.status,
            "addonVersion": self.version,
            "health": {"issues": [dict(i) for i in self.health_issues]},
            "addonArn": self.arn,
            "createdAt": self.created_at,
            "modifiedAt": self.modified_at,
            "tags": dict(self.tags),
            "podIdentityAssociations": [],
        }
        if self.service_account_role_arn:
            out["serviceAccountRoleArn"] = self.service_account_role_arn
        if self.configuration_values is not None:
            # Returned exactly as stored: JSON or YAML text, untouched.
            out["configurationValues"] = self.configuration_values
        return out


def _hex(*parts: str, length: int = 32) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length].upper()


@dataclass
class AssociatedPolicy:
    """An access policy associated with an access entry (``AssociatedAccessPolicy``)."""

    policy_arn: str
    scope_type: str  # "cluster" | "namespace"
    namespaces: list[str]
    associated_at: float
    modified_at: float

    def to_wire(self) -> dict[str, Any]:
        return {
            "policyArn": self.policy_arn,
            "accessScope": {"type": self.scope_type, "namespaces": list(self.namespaces)},
            "associatedAt": self.associated_at,
            "modifiedAt": self.modified_at,
        }


@dataclass
class AccessEntry:
    """An EKS access entry (``AccessEntry`` shape) and its associated policies."""

    principal_arn: str
    kind: str
    username: str
    kubernetes_groups: list[str]
    tags: dict[str, str]
    arn: str
    created_at: float
    modified_at: float
    policies: dict[str, AssociatedPolicy] = field(default_factory=dict)

    def to_wire(self, cluster_name: str) -> dict[str, Any]:
        return {
            "clusterName": cluster_name,
            "principalArn": self.principal_arn,
            "kubernetesGroups": list(self.kubernetes_groups),
            "accessEntryArn": self.arn,
            "createdAt": self.created_at,
            "modifiedAt": self.modified_at,
            "tags": dict(self.tags),
            "username": self.username,
            "type": self.kind,
        }


# How the cluster's Kubernetes API is reached (DescribeCluster ``endpoint`` and
# ``certificateAuthority.data``): given by the sandbox's Kubernetes API server
# (``services/kubernetes/server.py``), started lazily on first use.
ApiEndpoint = tuple[str, str]  # (https://127.0.0.1:PORT, base64 of the CA's PEM)


@dataclass
class Cluster:
    account: str
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
    role_arn: str | None = None  # None: the sandbox's default cluster role
    addons: dict[str, Addon] = field(default_factory=dict)
    # accessConfig.authenticationMode (botocore AuthenticationMode enum).
    authentication_mode: str = "API_AND_CONFIG_MAP"
    endpoint_public_access: bool = True
    endpoint_private_access: bool = True
    public_access_cidrs: list[str] = field(default_factory=lambda: ["0.0.0.0/0"])
    access_entries: dict[str, AccessEntry] = field(default_factory=dict)
    # CreateCluster's bootstrapClusterCreatorAdminPermissions: the creator's IAM principal,
    # cluster admin whatever the authentication mode (None: seeded, or not bootstrapped).
    creator_admin: str | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:eks:{self.region}:{self.account}:cluster/{self.name}"

    def _role(self, name: str) -> str:
        return f"arn:aws:iam::{self.account}:role/{name}"

    def to_wire(self, api: ApiEndpoint | None = None) -> dict[str, Any]:
        """The ``Cluster`` shape (DescribeCluster, CreateCluster, DeleteCluster).

        ``api``: the endpoint and CA of the cluster's sandbox Kubernetes API; without it
        (no server attached) a made-up EKS host name and CA text stand in.
        """
        out: dict[str, Any] = {
            "name": self.name,
            "arn": self.arn,
            "createdAt": self.created_at,
            "status": self.status,
            "tags": dict(self.tags),
        }
        if self.connector:
            # EKS Connector clusters (listed only with include=all) carry no control plane.
            out["connectorConfig"] = {"provider": "OTHER", "roleArn": self._role("connector")}
            return out
        out.update(self._control_plane())
        if self.status != "CREATING":
            # While CREATING, EKS has not assigned the endpoint/CA/OIDC issuer yet.
            if api is None:
                host = f"{_hex(self.region, self.name)}.gr7.{self.region}.eks.amazonaws.com"
                api = (f"https://{host}", base64.b64encode(b"sandbox-ca").decode())
            out["endpoint"], ca_data = api
            out["certificateAuthority"] = {"data": ca_data}
            out["identity"] = {
                "oidc": {
                    "issuer": f"https://oidc.eks.{self.region}.amazonaws.com/id/"
                    f"{_hex(self.name, self.region)}"
                }
            }
        else:
            out["certificateAuthority"] = {}
        if not self.omit_compute_config:
            out["computeConfig"] = (
                {
                    "enabled": True,
                    "nodePools": ["general-purpose", "system"],
                    "nodeRoleArn": self._role("eks-auto-node-role"),
                }
                if self.auto_mode
                else {"enabled": False}
            )
            out["storageConfig"] = {"blockStorage": {"enabled": self.auto_mode}}
        return out

    def _control_plane(self) -> dict[str, Any]:
        vpc_hex = _hex(self.region, self.name, length=17).lower()
        log_types = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
        return {
            "version": self.version,
            "platformVersion": self.platform_version,
            "roleArn": self.role_arn or self._role("eks-cluster-role"),
            "resourcesVpcConfig": {
                "subnetIds": [f"subnet-{vpc_hex[:16]}a", f"subnet-{vpc_hex[:16]}b"],
                "securityGroupIds": [],
                "clusterSecurityGroupId": f"sg-{vpc_hex}",
                "vpcId": f"vpc-{vpc_hex}",
                "endpointPublicAccess": self.endpoint_public_access,
                "endpointPrivateAccess": self.endpoint_private_access,
                "publicAccessCidrs": list(self.public_access_cidrs),
            },
            "kubernetesNetworkConfig": {
                "serviceIpv4Cidr": "172.20.0.0/16",
                "ipFamily": "ipv4",
                "elasticLoadBalancing": {"enabled": self.auto_mode},
            },
            "logging": {"clusterLogging": [{"types": log_types, "enabled": False}]},
            "health": {"issues": []},
            "accessConfig": {"authenticationMode": self.authentication_mode},
            "upgradePolicy": {"supportType": "EXTENDED"},
        }


@dataclass
class Update:
    """One update (``Update`` shape) and what it will apply: an add-on update (type
    AddonUpdate), or an EKS Auto Mode change of the cluster (``addon_name`` "", type
    AutoModeUpdate, ``target_auto_mode`` set)."""

    id: str
    account: str
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
    kind: str = "AddonUpdate"  # botocore UpdateType
    target_auto_mode: bool | None = None

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "type": self.kind,
            "params": [dict(p) for p in self.params],
            "createdAt": self.created_at,
            "errors": [dict(e) for e in self.errors],
        }
