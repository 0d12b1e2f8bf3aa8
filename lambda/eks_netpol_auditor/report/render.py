"""The report as a table (rows, totals per account and per reason) or CSV. Pure text."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import TextIO

from ..model import ComplianceStatus
from ..scan_output import plural, write_rows
from .aggregate import NO_FINDINGS, NOT_READABLE, Report, Row

COLUMNS = ("account", "region", "cluster", "status", "reason", "workflow", "updated_at")
STATUSES = tuple(status.value for status in ComplianceStatus)


def _cells(row: Row) -> tuple[str, ...]:
    return (
        row.account,
        row.region,
        row.cluster,
        row.status,
        row.reason,
        row.workflow,
        row.updated_at,
    )


def render_table(report: Report, out: TextIO) -> None:
    header = ("ACCOUNT", "REGION", "CLUSTER", "STATUS", "REASON", "WORKFLOW", "LAST OBSERVED")
    body = [_cells(row) for row in report.shown]
    body += [
        (account, "-", "-", report.note(account), "", "", "")
        for account in (*report.silent, *report.unreadable)
    ]
    write_rows([header, *sorted(body)], out)
    out.write("\n")
    totals: list[Sequence[str]] = [("ACCOUNT", *STATUSES, "CLUSTERS")]
    for account, counts in report.by_account().items():
        if counts["clusters"]:
            totals.append((account, *(str(counts[s]) for s in STATUSES), str(counts["clusters"])))
        else:
            totals.append((account, report.note(account), "", "", "", ""))
    write_rows(totals, out)
    reasons = report.by_reason()
    if reasons:
        out.write("\n")
        write_rows([("REASON", "CLUSTERS"), *((r, str(n)) for r, n in reasons.items())], out)
    summary = ", ".join(f"{count} {status}" for status, count in report.summary().items())
    only = f" (showing {', '.join(sorted(report.statuses))})" if report.statuses else ""
    out.write(
        f"\n{plural(len(report.rows), 'cluster')} in {plural(len(report.accounts), 'account')}"
        f" ({len(report.silent)} with {NO_FINDINGS}, {len(report.unreadable)} {NOT_READABLE})"
        f": {summary}{only}\n"
    )
    if report.coverage is not None:
        out.write(f"Regions: {report.coverage.describe()}\n")


def render_csv(report: Report, out: TextIO) -> None:
    """One line per row; an account without findings is a row with status NO_FINDINGS."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in report.shown:
        writer.writerow(_cells(row))
    for account in (*report.silent, *report.unreadable):
        writer.writerow((account, "", "", report.note(account), "", "", ""))
