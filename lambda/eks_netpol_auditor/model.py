"""Plain data passed between the pure core and the I/O shell.

Everything here is immutable and boto3-free so the rules can be tested without AWS.
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from .incluster.model import ClusterObjects, InClusterVerdict, ReadFailure
from .names import PRODUCT
from .status import ComplianceStatus as ComplianceStatus  # noqa: PLC0414 - re-exported

CONTROL_ID = "CIS-EKS-5.4.4"
EXEMPT_TAG = f"{PRODUCT}:exempt"
AUTO_REMEDIATE_TAG = f"{PRODUCT}:auto-remediate"
VPC_CNI_ADDON = "vpc-cni"
# EKS API reference, Cluster.status: CREATING and PENDING clusters cannot be described yet
# (discovery skips their add-on call; evaluate reports them NOT_AVAILABLE).
NOT_READY_CLUSTER_STATUSES = frozenset({"CREATING", "PENDING"})


class Reason(StrEnum):
    """Stable machine codes; users filter and alert on these, never rename one."""

    NETWORK_POLICY_ENABLED = "NETWORK_POLICY_ENABLED"
    ADDON_UNHEALTHY = "ADDON_UNHEALTHY"
    NETWORK_POLICY_DISABLED = "NETWORK_POLICY_DISABLED"
    ADDON_VERSION_UNSUPPORTED = "ADDON_VERSION_UNSUPPORTED"
    KUBERNETES_VERSION_UNSUPPORTED = "KUBERNETES_VERSION_UNSUPPORTED"
    ADDON_NOT_INSTALLED = "ADDON_NOT_INSTALLED"
    AUTO_MODE_NOT_VERIFIABLE = "AUTO_MODE_NOT_VERIFIABLE"
    # EKS Auto Mode with the in-cluster check on: the ConfigMap decides (evaluate._auto_mode).
    AUTO_MODE_NETWORK_POLICY_ENABLED = "AUTO_MODE_NETWORK_POLICY_ENABLED"
    AUTO_MODE_NETWORK_POLICY_DISABLED = "AUTO_MODE_NETWORK_POLICY_DISABLED"
    EXEMPTED = "EXEMPTED"
    CLUSTER_NOT_READY = "CLUSTER_NOT_READY"
    EVALUATION_ERROR = "EVALUATION_ERROR"


@dataclass(frozen=True)
class AddonFacts:
    """What DescribeAddon told us about the cluster's managed vpc-cni add-on."""

    version: str
    status: str
    configuration_values: str | None = None
    arn: str | None = None
    health_issues: tuple[str, ...] = ()
    # DescribeAddon `modifiedAt` ("the last modification to the object", EKS API reference,
    # Addon): when the add-on last changed, by anyone. Event runs' remediation cooldown.
    modified_at: datetime | None = None


@dataclass(frozen=True)
class ApiAccess:
    """How the cluster's Kubernetes API can be reached, from DescribeCluster (EKS API
    reference, Cluster): `endpoint`, `certificateAuthority.data` (base64 PEM of the CA the
    API server's certificate chains to), `resourcesVpcConfig.endpointPublicAccess` and
    `publicAccessCidrs`, and `accessConfig.authenticationMode`."""

    endpoint: str | None
    certificate_authority: str | None
    public_access: bool
    public_access_cidrs: tuple[str, ...] = ()
    authentication_mode: str | None = None


@dataclass(frozen=True)
class ClusterFacts:
    """Everything the rules need about one cluster, gathered by discovery.

    `addon` is None when the cluster has no managed vpc-cni add-on
    (DescribeAddon answered ResourceNotFoundException). `error` is set instead of
    the other facts when describing the cluster failed after retries.
    """

    account: str
    partition: str
    region: str
    name: str
    arn: str
    status: str = "ACTIVE"
    kubernetes_version: str | None = None
    platform_version: str | None = None
    auto_mode: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)
    addon: AddonFacts | None = None
    error: str | None = None
    # Raw DescribeCluster fields the finding's Details.AwsEksCluster needs.
    details: Mapping[str, Any] = field(default_factory=dict)
    # How to reach the Kubernetes API (None when DescribeCluster was not read).
    api: ApiAccess | None = None
    # The in-cluster read: None when not attempted (check off, private endpoint, not
    # ready), else what the cluster's Kubernetes API gave, or why it gave nothing.
    kube: ClusterObjects | ReadFailure | None = None


# ---------------------------------------------------------------------------- remediation
# What remediation decided for a cluster. The types live here, below both the remediation
# package that decides and the shell that writes results, so neither imports the other.

# UpdateAddon resolveConflicts (EKS API reference): PRESERVE keeps in-cluster changes, as in
# AWS's own network-policy examples; OVERWRITE could silently revert someone's hotfix.
RESOLVE_CONFLICTS = "PRESERVE"


class Action(StrEnum):
    """What remediation did for one cluster; users filter and alert on these values."""

    APPLIED = "applied"
    DRY_RUN = "dry_run"
    SKIPPED = "skipped"
    DEFERRED = "deferred"
    FAILED = "failed"
    IN_PROGRESS = "in_progress"


class Guard(StrEnum):
    """The guard that kept a cluster from being changed; stable names, never rename one."""

    ACCOUNT = "account"
    NOT_EVALUATED = "not_evaluated"
    CLUSTER_STATUS = "cluster_status"
    EXEMPT_TAG = "exempt_tag"
    OPT_OUT_TAG = "opt_out_tag"
    TAG_VALUE = "tag_value"
    REQUIRE_TAG = "require_tag"
    AUTO_MODE = "auto_mode"
    ADDON_MISSING = "addon_missing"
    KUBERNETES_VERSION = "kubernetes_version"
    ADDON_VERSION = "addon_version"
    ADDON_STATUS = "addon_status"
    VERDICT = "verdict"
    CONFIGURATION = "configuration"
    SCHEMA_UNAVAILABLE = "schema_unavailable"
    SCHEMA_LACKS_KEY = "schema_lacks_key"
    SCHEMA_REJECTS_CONFIG = "schema_rejects_config"
    # Event runs only (docs/events.md): never act on our own change's echo,
    # never change an add-on that anyone changed within the cooldown (event_targets.in_cooldown).
    OWN_UPDATE = "own_update"
    COOLDOWN = "cooldown"


# Prefix and version of the token scheme, so a future scheme can never collide with this one.
TOKEN_PREFIX = "enp1-"  # noqa: S105 - an idempotency token prefix, not a secret
TOKEN_DIGEST_CHARS = 40


def client_request_token(
    cluster_arn: str, addon_version: str, payload: str, modified_at: datetime | None
) -> str:
    """A deterministic UpdateAddon clientRequestToken (45 characters, [a-z0-9-]).

    Same cluster, add-on version, merged document and add-on `modifiedAt` -> same token,
    so a call retried by botocore, a re-invoked Lambda or an overlapping run (each read
    the same DescribeAddon) gets the update already started instead of a second one
    (UpdateAddon, clientRequestToken). Any change to the inputs gives a new token.

    `modifiedAt` (DescribeAddon; "the last modification to the object") is in the seed
    because EKS answers a reused token with the earlier update for a period no document
    gives: without it, a cluster reverted to exactly its pre-remediation configuration
    would get back the old (finished) update and could never be remediated again. Any
    change to the add-on, the revert included, moves `modifiedAt`.

    Length: EKS rejects a token outside 33-126 characters ("The client request token
    parameter must be between 33 and 126 characters", InvalidParameterException, as
    reported in ansible-collections/community.aws#817 and #844), although neither the
    botocore model nor the API reference (Type: String) states a limit. 45 is inside.
    """
    document_hash = hashlib.sha256(payload.encode()).hexdigest()
    changed = "" if modified_at is None else modified_at.isoformat()
    seed = "\n".join((cluster_arn, addon_version, document_hash, changed))
    return TOKEN_PREFIX + hashlib.sha256(seed.encode()).hexdigest()[:TOKEN_DIGEST_CHARS]


@dataclass(frozen=True)
class UpdateRequest:
    """The exact UpdateAddon parameters; `to_kwargs` is what boto3 receives, byte for byte."""

    cluster_name: str
    configuration_values: str
    client_request_token: str

    def to_kwargs(self) -> dict[str, str]:
        return {
            "clusterName": self.cluster_name,
            "addonName": VPC_CNI_ADDON,
            "configurationValues": self.configuration_values,
            "resolveConflicts": RESOLVE_CONFLICTS,
            "clientRequestToken": self.client_request_token,
        }


@dataclass(frozen=True)
class Fix:
    """The exact change that fixes a NETWORK_POLICY_DISABLED verdict, computed once by
    `evaluate` from the exact reading (addon_config.enable_change): the merged document (for
    the schema check), the UpdateAddon request remediation sends, and the command the CLI
    and the finding show, rendered from that same request."""

    region: str
    addon_version: str
    merged: Mapping[str, Any] = field(compare=False)
    request: UpdateRequest

    @property
    def command(self) -> str:
        """The copy-pasteable `aws eks update-addon` command that sends `request`."""
        request = self.request
        return (
            f"aws eks update-addon --region {self.region} --cluster-name "
            f"{shlex.quote(request.cluster_name)} --addon-name {VPC_CNI_ADDON} "
            f"--resolve-conflicts {RESOLVE_CONFLICTS} "
            f"--configuration-values {shlex.quote(request.configuration_values)}"
        )


@dataclass(frozen=True)
class NoFix:
    """Why no change can be computed for a NETWORK_POLICY_DISABLED verdict: the
    configuration cannot be read, or not exactly enough to re-send it."""

    why: str


@dataclass(frozen=True)
class Outcome:
    """A decided action for one cluster (anything but "go ahead")."""

    action: Action
    reason: str
    guard: Guard | None = None
    request: UpdateRequest | None = None
    update_id: str | None = None
    update_status: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The JSON form of a result's `remediation` (schema: docs/remediation.md)."""
        out: dict[str, Any] = {"action": self.action.value}
        if self.guard is not None:
            out["guard"] = self.guard.value
        out["reason"] = self.reason
        if self.request is not None:
            out["request"] = self.request.to_kwargs()
        if self.update_id is not None:
            out["update_id"] = self.update_id
        if self.update_status is not None:
            out["update_status"] = self.update_status
        out.update(self.details)
        return out


@dataclass(frozen=True)
class Verdict:
    """One cluster's verdict and, for NETWORK_POLICY_DISABLED, its `fix`: the exact change
    (`Fix`) or why none can be computed (`NoFix`). Everything that shows or sends a fix (the
    CLI, the finding, remediation) uses this one; none re-reads the configuration."""

    status: ComplianceStatus
    reason: Reason
    message: str
    fix: Fix | NoFix | None = None
    # What a pod that no NetworkPolicy selects gets, from the add-on's configuration
    # (addon_config.enforcing_mode): "strict" (default deny), "standard" (default allow), or
    # None when not set (vpc-cni default, standard), unreadable, or there is no add-on.
    # Set by `evaluate` from evaluate.enforcing_mode, which the in-cluster verdict also uses.
    enforcing_mode: str | None = None

    @property
    def command(self) -> str | None:
        """The enabling command, when a fix could be computed."""
        return self.fix.command if isinstance(self.fix, Fix) else None


@dataclass(frozen=True)
class ClusterResult:
    """One cluster's outcome. Later stages never change one: `AuditResult.with_remediation`
    and `with_publishing` build a new one from their stage's report (`dataclasses.replace`).

    `remediation` is the typed outcome; it becomes JSON only in `to_json`, where output
    is written.
    """

    facts: ClusterFacts
    verdict: Verdict
    remediation: Outcome | None = None
    # The second control's verdict; None when the in-cluster check is off.
    in_cluster: InClusterVerdict | None = None
    finding_region: str | None = None
    publish_error: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        """(region, cluster name): unique within the audited account."""
        return (self.facts.region, self.facts.name)

    def to_json(self) -> dict[str, Any]:
        addon = self.facts.addon
        return {
            "cluster": self.facts.name,
            "region": self.facts.region,
            "arn": self.facts.arn,
            "status": self.verdict.status.value,
            "reason": self.verdict.reason.value,
            "message": self.verdict.message,
            "addon_version": addon.version if addon else None,
            "enforcing_mode": self.verdict.enforcing_mode,
            "kubernetes_version": self.facts.kubernetes_version,
            "remediation": None if self.remediation is None else self.remediation.to_json(),
            "finding_region": self.finding_region,
            "publish_error": self.publish_error,
            # The second control (CIS-EKS-4.3.2); null when the in-cluster check is off.
            "in_cluster": None if self.in_cluster is None else self.in_cluster.to_json(),
        }


@dataclass(frozen=True)
class AuditError:
    """A region or cluster the run could not account for; `cluster` None means whole region."""

    region: str
    cluster: str | None
    error: str

    def to_json(self) -> dict[str, Any]:
        return {"region": self.region, "cluster": self.cluster, "error": self.error}


@dataclass(frozen=True)
class StageSeconds:
    """Wall and CPU time of one stage of a run, so a profiler or the benchmark can say which
    stage costs what without wrapping the engine. CPU is the whole process's
    (`time.process_time`): every thread, which in a run is the stage's own workers."""

    wall: float
    cpu: float


@dataclass(frozen=True)
class RemediationReport:
    """What the remediation stage decided: an outcome per (region, cluster) it held back or
    acted on, and the run errors its failures are (a failed UpdateAddon)."""

    outcomes: Mapping[tuple[str, str], Outcome] = field(default_factory=dict)
    errors: Sequence[AuditError] = ()


@dataclass(frozen=True)
class PublishReport:
    """What the publishing stage did: its counters, where each cluster's finding went or why
    it could not go, and the run errors it found (failed deliveries, archives, reads)."""

    published: int = 0
    failed: int = 0
    archived: int = 0
    # Unchanged findings not re-imported because their last import is recent (ingestion cost).
    unchanged_skipped: int = 0
    finding_regions: Mapping[tuple[str, str], str] = field(default_factory=dict)
    publish_errors: Mapping[tuple[str, str], str] = field(default_factory=dict)
    errors: Sequence[AuditError] = ()


@dataclass(frozen=True)
class AuditResult:
    """One run's outcome, never changed once built: each stage returns a report and
    `with_remediation` / `with_publishing` fold it into a new result.

    The sequences are typed read-only so no stage can append to a result it was handed.
    """

    account: str
    partition: str
    regions: Sequence[str]
    results: Sequence[ClusterResult] = field(default_factory=list)
    errors: Sequence[AuditError] = field(default_factory=list)
    # Regions whose ListClusters completed: only these may have stale findings archived.
    listed_regions: Sequence[str] = field(default_factory=list)
    # (region, cluster name) that DescribeCluster confirmed deleted (the cluster is gone):
    # their findings are archived, also by a narrowed run that listed nothing.
    confirmed_deleted: Sequence[tuple[str, str]] = field(default_factory=list)
    # A run limited to some clusters (an event run, a manual run naming clusters) looked for
    # nothing else: it never archives a finding because its cluster was not seen.
    narrowed: bool = False
    api_calls: Mapping[str, int] = field(default_factory=dict)
    duration_seconds: float = 0.0
    # Stages that ran, in order: "discover", then "remediate" and "publish" when enabled.
    stage_seconds: Mapping[str, StageSeconds] = field(default_factory=dict)
    # Filled by the publishing stage (Security Hub); zero when not publishing.
    findings_published: int = 0
    findings_failed: int = 0
    findings_archived: int = 0
    # Unchanged findings not re-imported because their last import is recent (ingestion cost).
    findings_unchanged_skipped: int = 0

    def with_remediation(self, report: RemediationReport) -> AuditResult:
        """This result with each cluster's remediation outcome and the stage's errors."""
        results = [
            cluster
            if (outcome := report.outcomes.get(cluster.key)) is None
            else replace(cluster, remediation=outcome)
            for cluster in self.results
        ]
        return replace(self, results=results, errors=[*self.errors, *report.errors])

    def with_publishing(self, report: PublishReport) -> AuditResult:
        """This result with where each finding went (or why not), the counters and errors."""
        results = [
            cluster
            if cluster.key not in report.finding_regions
            and cluster.key not in report.publish_errors
            else replace(
                cluster,
                finding_region=report.finding_regions.get(cluster.key, cluster.finding_region),
                publish_error=report.publish_errors.get(cluster.key, cluster.publish_error),
            )
            for cluster in self.results
        ]
        return replace(
            self,
            results=results,
            errors=[*self.errors, *report.errors],
            findings_published=self.findings_published + report.published,
            findings_failed=self.findings_failed + report.failed,
            findings_archived=self.findings_archived + report.archived,
            findings_unchanged_skipped=self.findings_unchanged_skipped + report.unchanged_skipped,
        )

    def summary(self) -> dict[str, int]:
        counts = {status.value: 0 for status in ComplianceStatus}
        for result in self.results:
            counts[result.verdict.status.value] += 1
        return counts

    def in_cluster_summary(self) -> dict[str, int] | None:
        """Clusters per status of the second control; None when the in-cluster check is off."""
        verdicts = [r.in_cluster for r in self.results if r.in_cluster is not None]
        if not verdicts:
            return None
        counts = {status.value: 0 for status in ComplianceStatus}
        for verdict in verdicts:
            counts[verdict.status.value] += 1
        return counts

    def exit_code(self) -> int:
        """0 all PASSED/WARNING; 1 any FAILED; 3 something could not be read and none FAILED.

        Both controls count alike: a FAILED from either is exit 1, and a NOT_AVAILABLE from
        either (the in-cluster check's ENDPOINT_PRIVATE or NOT_ENROLLED too) is exit 3. A
        cluster still being created (CLUSTER_NOT_READY) was read fine: it is reported
        NOT_AVAILABLE but is no reason for exit 3 (tests/integration/test_cli_integration.py).
        """
        verdicts: list[tuple[ComplianceStatus, str]] = [
            (r.verdict.status, r.verdict.reason.value) for r in self.results
        ]
        verdicts += [
            (r.in_cluster.status, r.in_cluster.reason.value)
            for r in self.results
            if r.in_cluster is not None
        ]
        if any(status is ComplianceStatus.FAILED for status, _ in verdicts):
            return 1
        unread = any(
            status is ComplianceStatus.NOT_AVAILABLE and reason != Reason.CLUSTER_NOT_READY
            for status, reason in verdicts
        )
        if self.errors or unread:
            return 3
        return 0

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "regions": self.regions,
            "results": [r.to_json() for r in self.results],
            "errors": [e.to_json() for e in self.errors],
            "summary": self.summary(),
            "findings": self.findings_json(),
        }

    def findings_json(self) -> dict[str, int]:
        """The publishing counters, as the JSON output and the Lambda summary report them."""
        return {
            "published": self.findings_published,
            "failed": self.findings_failed,
            "archived": self.findings_archived,
            "unchanged_skipped": self.findings_unchanged_skipped,
        }
