"""The organization report as data: rows, totals and gaps from GetFindings' findings.

Pure and boto3-free. Input is what Security Hub CSPM returned (ASFF dicts) plus the account
list (the administrator and its ListMembers members); output is a `Report` whose JSON shape
is the documented contract (docs/report.md):
`{"accounts", "results": [{"account", "region", "cluster", "status", "reason", "workflow",
"updated_at"}], "summary", "by_account", ...}`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..model import ComplianceStatus, Reason
from ..securityhub.asff import PRODUCT_FIELD_PREFIX, parse_finding_id

NO_FINDINGS = "no auditor findings"


@dataclass(frozen=True)
class Row:
    """One cluster's current finding, as an administrator sees it."""

    account: str
    region: str
    cluster: str
    status: str
    reason: str
    workflow: str
    updated_at: str

    def to_json(self) -> dict[str, str]:
        return {
            "account": self.account,
            "region": self.region,
            "cluster": self.cluster,
            "status": self.status,
            "reason": self.reason,
            "workflow": self.workflow,
            "updated_at": self.updated_at,
        }


def row_from_finding(finding: Mapping[str, Any]) -> Row | None:
    """The row for one of our findings; None for anything whose Id is not ours.

    Account, cluster region and name come from the Id (derived from them alone, so it
    cannot disagree with the cluster); the reason from ProductFields, the status from
    Compliance.Status, the workflow from Workflow.Status (ASFF syntax page).
    """
    parsed = parse_finding_id(str(finding.get("Id", "")))
    if parsed is None:
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

    @property
    def shown(self) -> list[Row]:
        """The rows `--status` asks for; totals and the exit code always use every row."""
        return [r for r in self.rows if not self.statuses or r.status in self.statuses]

    @property
    def silent(self) -> list[str]:
        """Accounts without a single auditor finding: Security Hub off, the auditor never
        ran or cannot publish. Listed, because a silent gap is what matters at scale."""
        seen = {row.account for row in self.rows}
        return [account for account in self.accounts if account not in seen]

    def summary(self) -> dict[str, int]:
        return _counts(self.rows)

    def by_account(self) -> dict[str, dict[str, Any]]:
        grouped: dict[str, list[Row]] = {account: [] for account in self.accounts}
        for row in self.rows:
            grouped.setdefault(row.account, []).append(row)
        return {
            account: {**_counts(rows), "clusters": len(rows)}
            if rows
            else {**_counts(()), "clusters": 0, "note": NO_FINDINGS}
            for account, rows in sorted(grouped.items())
        }

    def by_reason(self) -> dict[str, int]:
        return dict(sorted(Counter(row.reason for row in self.rows).items()))

    def exit_code(self) -> int:
        """As for scan: 1 any FAILED; 3 something unread (an account without findings, a
        cluster the auditor could not evaluate) and none FAILED; else 0."""
        if any(row.status == ComplianceStatus.FAILED for row in self.rows):
            return 1
        unread = any(row.reason == Reason.EVALUATION_ERROR for row in self.rows)
        return 3 if unread or self.silent else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "accounts": len(self.by_account()),
            "results": [row.to_json() for row in self.shown],
            "summary": self.summary(),
            "by_account": self.by_account(),
            "by_reason": self.by_reason(),
            "no_auditor_findings": self.silent,
        }


def build_report(
    findings: Iterable[Mapping[str, Any]],
    accounts: Iterable[str],
    statuses: Collection[str] = (),
) -> Report:
    """One row per (account, cluster region, cluster): a finding seen twice (pages that
    shifted while reading) counts once, the newer UpdatedAt winning."""
    latest: dict[tuple[str, str, str], Row] = {}
    for finding in findings:
        row = row_from_finding(finding)
        if row is None:
            continue
        key = (row.account, row.region, row.cluster)
        if key not in latest or row.updated_at > latest[key].updated_at:
            latest[key] = row
    rows = sorted(latest.values(), key=lambda r: (r.account, r.region, r.cluster))
    known = sorted(set(accounts) | {row.account for row in rows})
    return Report(accounts=known, rows=rows, statuses=frozenset(statuses))
