"""The organization report as data: rows, totals and gaps from GetFindings' findings.

Pure and boto3-free. Input is what Security Hub CSPM returned (ASFF dicts), the accounts
(the administrator and every ListMembers member with its MemberStatus), which regions
GetFindings covered and which controls were asked for (`--control`); output is a `Report`
whose JSON shape is the documented contract (docs/report.md): `{"accounts", "controls",
"results": [{"account", "region", "cluster", "control", "status", "reason", "workflow",
"updated_at"}], "summary": {CONTROL: {...}}, "by_account", ...}`. One row per finding, so
per cluster and control: a cluster checked in-cluster has two (CIS 5.4.4 and 4.3.2).

A member without findings whose relationship is Enabled is listed, not an error: it may
simply have no EKS cluster. A member whose relationship is anything else (Invited, Removed,
Resigned, ...; API_ListMembers, MemberStatus) cannot be read by the administrator: that
is what makes the report incomplete (exit 3).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..incluster.model import IN_CLUSTER_CONTROL_ID, InClusterReason
from ..model import CONTROL_ID, ComplianceStatus, Reason
from ..securityhub.asff import CONTROLS, PRODUCT_FIELD_PREFIX, finding_control, parse_finding_id

NO_FINDINGS = "no auditor findings"
NOT_READABLE = "not readable"
ADMINISTRATOR = "Administrator"  # the caller's own relationship: always readable
ENABLED = "Enabled"  # MemberStatus of a member whose findings the administrator sees

# `report --control`: the CIS Amazon EKS Benchmark numbers users know, or both.
ALL_CONTROLS = "all"
CONTROL_CHOICES: dict[str, tuple[str, ...]] = {
    ALL_CONTROLS: CONTROLS,
    "5.4.4": (CONTROL_ID,),
    "4.3.2": (IN_CLUSTER_CONTROL_ID,),
}
# How the table heads each control's columns.
SHORT_NAMES = {CONTROL_ID: "5.4.4", IN_CLUSTER_CONTROL_ID: "4.3.2"}


@dataclass(frozen=True)
class Coverage:
    """Which regions' findings the report holds (GetFindings in `region`)."""

    region: str
    aggregation_region: str | None = None  # None: no finding aggregator
    linking_mode: str = ""
    linked: tuple[str, ...] = ()
    error: str | None = None  # the aggregator could not be read

    @property
    def this_region_only(self) -> bool:
        return (
            self.aggregation_region != self.region
            or self.linking_mode == "NO_REGIONS"
            or (self.linking_mode == "SPECIFIED_REGIONS" and not self.linked)
        )

    def describe(self) -> str:
        """One line: the regions covered and why (API_GetFindingAggregator)."""
        if self.error is not None:
            return (
                f"{self.region}, and linked regions if cross-Region aggregation is on: the "
                f"finding aggregator could not be read ({self.error})"
            )
        if self.aggregation_region is None:
            return (
                f"{self.region} only: there is no Security Hub CSPM finding aggregator "
                "(cross-Region aggregation is off), so clusters of other regions are not shown"
            )
        if self.aggregation_region != self.region:
            return (
                f"{self.region} only: the aggregation region is {self.aggregation_region}; "
                f"run the report there (--region {self.aggregation_region}) to see every "
                "linked region"
            )
        linked = ", ".join(self.linked)
        mode = self.linking_mode
        if mode == "ALL_REGIONS":
            return f"{self.region} and every region linked to it (aggregation: ALL_REGIONS)"
        if mode == "ALL_REGIONS_EXCEPT_SPECIFIED":
            return f"{self.region} and every region except {linked or 'none'} (aggregation)"
        if self.this_region_only:
            return f"{self.region} only: the finding aggregator links no region ({mode})"
        return f"{self.region} and its linked regions {linked} (aggregation: {mode})"

    def to_json(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "aggregation_region": self.aggregation_region,
            "linking_mode": self.linking_mode or None,
            "linked_regions": list(self.linked),
            "this_region_only": self.this_region_only,
            "note": self.describe(),
        }


@dataclass(frozen=True)
class Row:
    """One cluster's current finding of one control, as an administrator sees it."""

    account: str
    region: str
    cluster: str
    status: str
    reason: str
    workflow: str
    updated_at: str
    control: str = CONTROL_ID

    @property
    def cluster_key(self) -> tuple[str, str, str]:
        return (self.account, self.region, self.cluster)

    @property
    def unread(self) -> bool:
        """The auditor could not evaluate the cluster for this control: the first control's
        evaluation error, or the second control's NOT_AVAILABLE for any reason but a cluster
        still being created (private endpoint, not enrolled, unreachable...), as for scan."""
        if self.control == IN_CLUSTER_CONTROL_ID:
            return (
                self.status == ComplianceStatus.NOT_AVAILABLE
                and self.reason != InClusterReason.CLUSTER_NOT_READY
            )
        return self.reason == Reason.EVALUATION_ERROR

    def to_json(self) -> dict[str, str]:
        return {
            "account": self.account,
            "region": self.region,
            "cluster": self.cluster,
            "control": self.control,
            "status": self.status,
            "reason": self.reason,
            "workflow": self.workflow,
            "updated_at": self.updated_at,
        }


def row_from_finding(finding: Mapping[str, Any]) -> Row | None:
    """The row for one of our findings; None for anything whose Id is not ours.

    Account, cluster region, name and control come from the Id (derived from them alone, so
    it cannot disagree with the cluster); the reason from ProductFields, the status from
    Compliance.Status, the workflow from Workflow.Status (ASFF syntax page).
    """
    fid = str(finding.get("Id", ""))
    parsed = parse_finding_id(fid)
    control = finding_control(fid)
    if parsed is None or control is None:
        return None
    _, account, region, cluster = parsed
    fields = finding.get("ProductFields") or {}
    return Row(
        account=str(finding.get("AwsAccountId") or account),
        region=region,
        cluster=cluster,
        status=str((finding.get("Compliance") or {}).get("Status", "NOT_AVAILABLE")),
        reason=str(fields.get(f"{PRODUCT_FIELD_PREFIX}Reason", "UNKNOWN")),
        workflow=str((finding.get("Workflow") or {}).get("Status", "NEW")),
        updated_at=str(finding.get("UpdatedAt", "")),
        control=control,
    )


def _counts(rows: Iterable[Row]) -> dict[str, int]:
    counts = {status.value: 0 for status in ComplianceStatus}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    return counts


@dataclass
class Report:
    """Every account the administrator answers for, and what the auditor last said."""

    accounts: list[str]
    rows: list[Row]
    statuses: frozenset[str] = field(default_factory=frozenset)
    # MemberStatus per account (ADMINISTRATOR for the caller); an account absent is Enabled.
    relationships: dict[str, str] = field(default_factory=dict)
    coverage: Coverage | None = None
    controls: tuple[str, ...] = CONTROLS  # what `--control` asked for, first control first

    @property
    def shown(self) -> list[Row]:
        """The rows `--status` asks for; totals and the exit code always use every row."""
        return [r for r in self.rows if not self.statuses or r.status in self.statuses]

    def relationship(self, account: str) -> str:
        return self.relationships.get(account, ENABLED)

    def readable(self, account: str) -> bool:
        return self.relationship(account) in (ENABLED, ADMINISTRATOR)

    @property
    def silent(self) -> list[str]:
        """Readable accounts without a single auditor finding: no EKS cluster, Security Hub
        off, or the auditor never ran or cannot publish. Listed, not an error."""
        seen = {row.account for row in self.rows}
        return [a for a in self.accounts if a not in seen and self.readable(a)]

    @property
    def unreadable(self) -> list[str]:
        """Members whose findings the administrator cannot see (MemberStatus not Enabled)."""
        return [a for a in self.accounts if not self.readable(a)]

    def note(self, account: str) -> str:
        if not self.readable(account):
            return f"{NOT_READABLE} (member status {self.relationship(account)})"
        return NO_FINDINGS

    def _per_control(self, rows: Iterable[Row]) -> dict[str, dict[str, int]]:
        listed = list(rows)
        return {c: _counts(r for r in listed if r.control == c) for c in self.controls}

    def summary(self) -> dict[str, dict[str, int]]:
        """Clusters per status, per control (a cluster counts once in each control)."""
        return self._per_control(self.rows)

    def by_account(self) -> dict[str, dict[str, Any]]:
        grouped: dict[str, list[Row]] = {account: [] for account in self.accounts}
        for row in self.rows:
            grouped.setdefault(row.account, []).append(row)
        return {
            account: {
                **self._per_control(rows),
                "clusters": len({row.cluster_key for row in rows}),
                "member_status": self.relationship(account),
                **({} if rows else {"note": self.note(account)}),
            }
            for account, rows in sorted(grouped.items())
        }

    def by_reason(self) -> dict[str, dict[str, int]]:
        return {
            control: dict(
                sorted(Counter(row.reason for row in self.rows if row.control == control).items())
            )
            for control in self.controls
        }

    def exit_code(self) -> int:
        """As for scan: 1 any FAILED (either control); 3 something unread (a member the
        administrator cannot read, a cluster the auditor could not evaluate for a control,
        `Row.unread`) and none FAILED; else 0. A member without findings is not unread: it
        may have no cluster at all."""
        if any(row.status == ComplianceStatus.FAILED for row in self.rows):
            return 1
        unread = any(row.unread for row in self.rows)
        return 3 if unread or self.unreadable else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "accounts": len(self.by_account()),
            "controls": list(self.controls),
            "results": [row.to_json() for row in self.shown],
            "summary": self.summary(),
            "by_account": self.by_account(),
            "by_reason": self.by_reason(),
            "no_auditor_findings": self.silent,
            "not_readable": self.unreadable,
            "coverage": self.coverage.to_json() if self.coverage else None,
        }


def build_report(
    findings: Iterable[Mapping[str, Any]],
    accounts: Iterable[str] | Mapping[str, str],
    statuses: Collection[str] = (),
    coverage: Coverage | None = None,
    controls: tuple[str, ...] = CONTROLS,
) -> Report:
    """One row per (account, cluster region, cluster, control) of the controls asked for: a
    finding seen twice (pages that shifted while reading) counts once, the newer UpdatedAt
    winning."""
    latest: dict[tuple[str, str, str, str], Row] = {}
    for finding in findings:
        row = row_from_finding(finding)
        if row is None or row.control not in controls:
            continue
        key = (*row.cluster_key, row.control)
        if key not in latest or row.updated_at > latest[key].updated_at:
            latest[key] = row
    order = {control: index for index, control in enumerate(CONTROLS)}
    rows = sorted(latest.values(), key=lambda r: (*r.cluster_key, order[r.control]))
    relationships = dict(accounts) if isinstance(accounts, Mapping) else {}
    known = sorted(set(accounts) | {row.account for row in rows})
    return Report(
        accounts=known,
        rows=rows,
        statuses=frozenset(statuses),
        relationships=relationships,
        coverage=coverage,
        controls=tuple(c for c in CONTROLS if c in controls),
    )
