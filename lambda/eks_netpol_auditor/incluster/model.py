"""Plain data of the in-cluster check (CIS Amazon EKS Benchmark 4.3.2, "Ensure that all
Namespaces have Network Policies defined"), passed between the reader (I/O) and the rules.

Immutable and boto3-free, like `..model`. The reader turns what the cluster's Kubernetes
API answered into `ClusterObjects`, or into a `ReadFailure` that says why it could not;
the rules (`verdict.py`) turn either into one `InClusterVerdict`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..status import ComplianceStatus

# The second control's identity, beside the first control's CONTROL_ID.
IN_CLUSTER_CONTROL_ID = "CIS-EKS-4.3.2"

# Namespaces never counted as uncovered unless a user removes them from the exclusion list:
# the control plane's own (Kubernetes documentation, "Namespaces", initial namespaces).
DEFAULT_EXCLUDED_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})


class InClusterReason(StrEnum):
    """Stable machine codes of the second control; users filter on these, never rename."""

    # DescribeCluster failed after retries (as the first control's EVALUATION_ERROR).
    EVALUATION_ERROR = "EVALUATION_ERROR"
    EXEMPTED = "EXEMPTED"
    CLUSTER_NOT_READY = "CLUSTER_NOT_READY"
    ENDPOINT_PRIVATE = "ENDPOINT_PRIVATE"
    ENDPOINT_UNREACHABLE = "ENDPOINT_UNREACHABLE"
    ACCESS_ENTRIES_UNAVAILABLE = "ACCESS_ENTRIES_UNAVAILABLE"
    NOT_ENROLLED = "NOT_ENROLLED"
    # A read answered but could not be completed within its bounds: a response over the
    # byte cap, more pages than the cap, a continue token still stale after the restart,
    # 429 past its retries, a body that is not the Kubernetes object it should be.
    READ_INCOMPLETE = "READ_INCOMPLETE"
    ENFORCEMENT_NOT_RUNNING = "ENFORCEMENT_NOT_RUNNING"
    DEFAULT_DENY = "DEFAULT_DENY"
    NAMESPACES_WITHOUT_POLICY = "NAMESPACES_WITHOUT_POLICY"
    NAMESPACES_COVERED = "NAMESPACES_COVERED"


class FailureKind(StrEnum):
    """Why the reader has no objects; `verdict.py` maps each to its reason."""

    UNREACHABLE = "unreachable"  # refused, reset, timeout, TLS verification failure
    UNAUTHORIZED = "unauthorized"  # HTTP 401 or 403 on a required read
    INCOMPLETE = "incomplete"  # see InClusterReason.READ_INCOMPLETE


@dataclass(frozen=True)
class ReadFailure:
    """The in-cluster read stopped; `message` names the cause (never the token)."""

    kind: FailureKind
    message: str
    http_status: int | None = None
    # Kubernetes API requests made before it stopped, for the run's call counts.
    requests: int = 0


# slots: a read holds one PodMeta per pod of every cluster until the run ends (no
# per-instance __dict__).
@dataclass(frozen=True, slots=True)
class PodMeta:
    """A pod as PartialObjectMetadata gives it: where it is and its labels, nothing else."""

    namespace: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NamespaceMeta:
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ClusterObjects:
    """Everything the second control reads, as the Kubernetes API returned it.

    `vpc_cni_config` is the data of ConfigMap kube-system/amazon-vpc-cni (None: it does
    not exist). `aws_node` is DaemonSet kube-system/aws-node as returned (None: it does
    not exist). `network_policies` are whole NetworkPolicy objects. `cluster_policies` are
    EKS's ClusterNetworkPolicy objects, or None when they could not be read (403/404):
    "not readable", which never counts as coverage.
    """

    vpc_cni_config: Mapping[str, str] | None
    aws_node: Mapping[str, Any] | None
    namespaces: tuple[NamespaceMeta, ...]
    network_policies: tuple[Mapping[str, Any], ...]
    pods: tuple[PodMeta, ...]
    cluster_policies: tuple[Mapping[str, Any], ...] | None
    # Kubernetes API requests made (pages included), for the run's call counts.
    requests: int = 0


@dataclass(frozen=True)
class InClusterVerdict:
    """The second control's verdict for one cluster (its own finding)."""

    status: ComplianceStatus
    reason: InClusterReason
    message: str
    enforcing_mode: str | None = None
    namespaces_without_policy: tuple[str, ...] = ()
    pods_not_selected: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON form of a result's `in_cluster` (docs/cli.md names every key)."""
        return {
            "status": self.status.value,
            "reason": self.reason.value,
            "message": self.message,
            "enforcing_mode": self.enforcing_mode,
            "namespaces_without_policy": list(self.namespaces_without_policy),
            "pods_not_selected": self.pods_not_selected,
        }
