"""The report as a table (one line per cluster with each control side by side, totals per
account and control, per control and reason) or CSV (one line per finding). Pure text."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import TextIO

from ..model import ComplianceStatus
from ..scan_output import plural, write_rows
from .aggregate import NO_FINDINGS, NOT_READABLE, SHORT_NAMES, Report, Row

COLUMNS = (
    "account",
    "region",
    "cluster",
    "control",
    "status",
    "reason",
    "workflow",
    "updated_at",
)
STATUSES = tuple(status.value for status in ComplianceStatus)
# A control without a finding for the cluster: the in-cluster check is off in its account
# (or --status left that control's finding out).
NO_FINDING = "-"


def _cells(row: Row) -> tuple[str, ...]:
    return (
        row.account,
        row.region,
        row.cluster,
        row.control,
        row.status,
        row.reason,
        row.workflow,
        row.updated_at,
    )


def _cluster_lines(report: Report) -> list[tuple[str, ...]]:
    """One line per cluster: its place, then status, reason and workflow per control, then
    when the newest of its findings was last observed."""
    by_cluster: dict[tuple[str, str, str], dict[str, Row]] = {}
    for row in report.shown:
        by_cluster.setdefault(row.cluster_key, {})[row.control] = row
    lines = []
    for key, rows in by_cluster.items():
        cells: list[str] = list(key)
        for control in report.controls:
            found = rows.get(control)
            cells += (found.status, found.reason, found.workflow) if found else (NO_FINDING, "", "")
        cells.append(max(row.updated_at for row in rows.values()))
        lines.append(tuple(cells))
    return lines


def render_table(report: Report, out: TextIO) -> None:
    names = [SHORT_NAMES[control] for control in report.controls]
    header: tuple[str, ...] = ("ACCOUNT", "REGION", "CLUSTER")
    for name in names:
        header += (f"{name} STATUS", f"{name} REASON", f"{name} WORKFLOW")
    header += ("LAST OBSERVED",)
    blank = ("",) * (len(header) - 4)
    body = _cluster_lines(report)
    body += [
        (account, "-", "-", report.note(account), *blank)
        for account in (*report.silent, *report.unreadable)
    ]
    write_rows([header, *sorted(body)], out)
    out.write("\n")
    totals: list[Sequence[str]] = [("ACCOUNT", "CONTROL", *STATUSES, "CLUSTERS")]
    for account, counts in report.by_account().items():
        if not counts["clusters"]:
            totals.append((account, report.note(account), "", "", "", "", ""))
            continue
        for control, name in zip(report.controls, names, strict=True):
            shown = counts[control]
            totals.append(
                (account, name, *(str(shown[s]) for s in STATUSES), str(sum(shown.values())))
            )
    write_rows(totals, out)
    reasons = [
        (name, reason, str(count))
        for control, name in zip(report.controls, names, strict=True)
        for reason, count in report.by_reason()[control].items()
    ]
    if reasons:
        out.write("\n")
        write_rows([("CONTROL", "REASON", "CLUSTERS"), *reasons], out)
    summary = "; ".join(
        f"{name}: " + ", ".join(f"{count} {status}" for status, count in counts.items())
        for name, counts in zip(names, report.summary().values(), strict=True)
    )
    clusters = len({row.cluster_key for row in report.rows})
    only = f" (showing {', '.join(sorted(report.statuses))})" if report.statuses else ""
    out.write(
        f"\n{plural(clusters, 'cluster')} in {plural(len(report.accounts), 'account')}"
        f" ({len(report.silent)} with {NO_FINDINGS}, {len(report.unreadable)} {NOT_READABLE})"
        f": {summary}{only}\n"
    )
    if report.coverage is not None:
        out.write(f"Regions: {report.coverage.describe()}\n")


def render_csv(report: Report, out: TextIO) -> None:
    """One line per finding (cluster and control); an account without findings is a line
    whose status says why."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in report.shown:
        writer.writerow(_cells(row))
    for account in (*report.silent, *report.unreadable):
        writer.writerow((account, "", "", "", report.note(account), "", "", ""))
