"""What `eks-netpol-audit scan` prints: the verdict table, the fixes section, the progress
line and the one line of an interrupted run. Pure text from an AuditResult, no AWS calls.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Sequence
from typing import Any, TextIO

from .incluster.model import IN_CLUSTER_CONTROL_ID, InClusterVerdict
from .model import Action, AuditResult, ClusterResult, ComplianceStatus, Outcome
from .securityhub.asff import remediation_command


def plural(count: int, word: str) -> str:
    """`1 region`, `2 regions`: every count the CLI prints goes through here."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def selected(result: AuditResult, statuses: Collection[ComplianceStatus]) -> list[ClusterResult]:
    """The rows `--status` asks for (every row when none was given)."""
    if not statuses:
        return list(result.results)
    return [r for r in result.results if r.verdict.status in statuses]


def to_json(result: AuditResult, statuses: Collection[ComplianceStatus]) -> dict[str, Any]:
    """The documented JSON document; `--status` narrows `results`, never `summary`."""
    document = result.to_json()
    if statuses:
        rows = {id(r) for r in selected(result, statuses)}
        document["results"] = [r.to_json() for r in result.results if id(r) in rows]
    return document


def _remediation_cell(remediation: Outcome | None) -> str:
    """One word per action, with the guard that stopped it or the update it started."""
    if remediation is None:
        return "-"
    action = remediation.action.value
    detail = remediation.guard.value if remediation.guard else remediation.update_id
    return f"{action} ({detail})" if detail else action


def _in_cluster_cell(verdict: InClusterVerdict | None) -> str:
    """The second control's status and reason, or "-" when it was not evaluated."""
    if verdict is None:
        return "-"
    return f"{verdict.status.value} ({verdict.reason.value})"


def write_rows(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    """Left-aligned columns two spaces apart, trailing blanks trimmed (scan and report)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = zip(row, widths, strict=True)
        out.write("  ".join(cell.ljust(width) for cell, width in cells).rstrip() + "\n")


def render_table(
    result: AuditResult, out: TextIO, statuses: Collection[ComplianceStatus] = ()
) -> None:
    """The verdict table, the run summary, where findings went, errors, then the fixes."""
    shown = selected(result, statuses)
    remediating = any(r.remediation is not None for r in result.results)
    second = result.in_cluster_summary()
    header: tuple[str, ...] = ("CLUSTER", "REGION", "STATUS", "REASON")
    header += ("IN-CLUSTER",) if second is not None else ()
    header += ("REMEDIATION",) if remediating else ()
    rows: list[tuple[str, ...]] = [header]
    rows += [
        (r.facts.name, r.facts.region, r.verdict.status.value, r.verdict.reason.value)
        + ((_in_cluster_cell(r.in_cluster),) if second is not None else ())
        + ((_remediation_cell(r.remediation),) if remediating else ())
        for r in shown
    ]
    write_rows(rows, out)
    summary = ", ".join(f"{count} {status}" for status, count in result.summary().items())
    clusters = plural(len(result.results), "cluster")
    regions = plural(len(result.regions), "region")
    only = f" (showing {', '.join(sorted(statuses))})" if statuses else ""
    out.write(f"\n{clusters} in {regions}: {summary}{only}\n")
    if second is not None:
        counts = ", ".join(f"{count} {status}" for status, count in second.items())
        out.write(f"In-cluster check ({IN_CLUSTER_CONTROL_ID}): {counts}\n")
    published = (
        result.findings_published
        + result.findings_unchanged_skipped
        + result.findings_failed
        + result.findings_archived
    )
    if published:
        # Where findings live matters when a region lacks Security Hub CSPM (home fallback).
        delivered = Counter(r.finding_region for r in result.results if r.finding_region)
        spread = ", ".join(f"{region} {count}" for region, count in sorted(delivered.items()))
        out.write(
            f"Security Hub CSPM: {plural(result.findings_published, 'finding')} published"
            f"{f' ({spread})' if spread else ''}, "
            f"{result.findings_unchanged_skipped} unchanged (not re-imported), "
            f"{result.findings_failed} failed, {result.findings_archived} archived\n"
        )
    for error in result.errors:
        where = f"{error.region}/{error.cluster}" if error.cluster else error.region
        out.write(f"error: {where}: {error.error}\n")
    render_fixes(shown, out)


def render_fixes(results: Sequence[ClusterResult], out: TextIO) -> None:
    """For each FAILED cluster: the command that fixes it (or what to do when no command
    can be computed safely), and in a dry run the exact UpdateAddon request; then what to
    do for each cluster the in-cluster check FAILED (never done for the user)."""
    _render_first_fixes(results, out)
    failed = [
        (r, r.in_cluster)
        for r in results
        if r.in_cluster is not None and r.in_cluster.status is ComplianceStatus.FAILED
    ]
    if not failed:
        return
    title = f"In-cluster ({IN_CLUSTER_CONTROL_ID}), {plural(len(failed), 'FAILED cluster')}"
    out.write(f"\n{title}:\n")
    for cluster, verdict in failed:
        out.write(f"\n{cluster.facts.region}/{cluster.facts.name} ({verdict.reason})\n")
        out.write(f"  {verdict.message}\n")


def _render_first_fixes(results: Sequence[ClusterResult], out: TextIO) -> None:
    failed = [r for r in results if r.verdict.status is ComplianceStatus.FAILED]
    if not failed:
        return
    out.write(f"\nHow to fix the {plural(len(failed), 'FAILED cluster')}:\n")
    for cluster in failed:
        out.write(f"\n{cluster.facts.region}/{cluster.facts.name} ({cluster.verdict.reason})\n")
        command = remediation_command(cluster)
        out.write(f"  {command if command is not None else cluster.verdict.message}\n")
        remediation = cluster.remediation
        if (
            remediation is not None
            and remediation.action is Action.DRY_RUN
            and remediation.request is not None
        ):
            request = json.dumps(remediation.request.to_kwargs(), sort_keys=True)
            out.write(f"  dry run, the request a real run sends: UpdateAddon {request}\n")


def progress_text(done: int, found: int, listed: int, regions: int) -> str:
    """While regions are still being listed the total is unknown: say so, not a growing
    denominator; once every region is listed, clusters audited out of the total."""
    if listed < regions:
        return f"listing regions {listed}/{regions}… ({plural(found, 'cluster')} found)"
    return f"audited {done}/{plural(found, 'cluster')}"


def interrupted_text(result: AuditResult) -> str:
    """The single line an interrupted scan prints: how far it got and what it wrote."""
    evaluated = plural(len(result.results), "cluster")
    applied = sum(
        1 for r in result.results if r.remediation and r.remediation.action is Action.APPLIED
    )
    written = result.findings_published + result.findings_failed + result.findings_archived
    parts = [f"interrupted after evaluating {evaluated}"]
    parts.append(
        f"{plural(applied, 'add-on update')} started" if applied else "no add-on was changed"
    )
    if written:
        parts.append(
            f"publishing had started and was completed ({result.findings_published} "
            f"published, {result.findings_failed} failed, {result.findings_archived} archived)"
        )
    else:
        parts.append("nothing was published")
    return "; ".join(parts)
