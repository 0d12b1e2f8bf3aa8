"""`eks-netpol-audit scan`: the audit engine from a laptop or a CI job.

Exit codes: 0 every evaluated cluster PASSED or WARNING; 1 at least one FAILED;
2 bad usage or configuration; 3 something could not be evaluated and nothing FAILED.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections import Counter
from collections.abc import Sequence
from typing import TextIO

from . import __version__
from .audit import AuditAborted, run_audit
from .config import ConfigError, Settings, parse_count, parse_regions, settings_from_env
from .model import AuditResult
from .remediation import Outcome

EXIT_USAGE = 2
EXIT_INCOMPLETE = 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        """One line on stderr and exit 2, like every other configuration error."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="eks-netpol-audit",
        description="Audit that every Amazon EKS cluster enforces Kubernetes NetworkPolicy "
        "(vpc-cni enableNetworkPolicy, CIS EKS 5.4.4).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    scan = commands.add_parser("scan", help="audit clusters (read-only unless --remediate)")
    scan.add_argument("--regions", help="comma-separated regions, or 'all' (env AUDIT_REGIONS)")
    scan.add_argument("--format", choices=("table", "json"), default="table")
    scan.add_argument(
        "--publish",
        action="store_true",
        default=None,
        help="import findings into Security Hub (env PUBLISH_FINDINGS)",
    )
    scan.add_argument(
        "--remediate",
        action="store_true",
        default=None,
        help="enable network policy where safe (env AUTO_REMEDIATE)",
    )
    scan.add_argument(
        "--dry-run",
        action="store_true",
        default=None,
        help="plan remediation and show the exact requests; change nothing "
        "(env REMEDIATION_DRY_RUN)",
    )
    scan.add_argument(
        "--max-remediations",
        metavar="N",
        help="at most N add-on updates this run (env MAX_REMEDIATIONS_PER_RUN)",
    )
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    settings = settings_from_env()
    changes: dict[str, object] = {}
    if args.regions is not None:
        changes["regions"] = parse_regions("--regions", args.regions)
    if args.publish:
        changes["publish"] = True
    if args.remediate:
        changes["auto_remediate"] = True
    if args.dry_run:
        changes["dry_run"] = True
    if args.max_remediations is not None:
        changes["max_remediations"] = parse_count("--max-remediations", args.max_remediations)
    return dataclasses.replace(settings, **changes)  # type: ignore[arg-type]


def _remediation_cell(remediation: Outcome | None) -> str:
    """One word per action, with the guard that stopped it or the update it started."""
    if remediation is None:
        return "-"
    action = remediation.action.value
    detail = remediation.guard.value if remediation.guard else remediation.update_id
    return f"{action} ({detail})" if detail else action


def render_table(result: AuditResult, out: TextIO) -> None:
    remediating = any(r.remediation is not None for r in result.results)
    header = ("CLUSTER", "REGION", "STATUS", "REASON") + (("REMEDIATION",) if remediating else ())
    rows: list[tuple[str, ...]] = [header]
    rows += [
        (r.facts.name, r.facts.region, r.verdict.status.value, r.verdict.reason.value)
        + ((_remediation_cell(r.remediation),) if remediating else ())
        for r in result.results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        out.write(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            + "\n"
        )
    summary = ", ".join(f"{count} {status}" for status, count in result.summary().items())
    out.write(f"\n{len(result.results)} clusters in {len(result.regions)} regions: {summary}\n")
    published = result.findings_published + result.findings_failed + result.findings_archived
    if published:
        # Where findings went matters when a region had no Security Hub (home-region fallback).
        delivered = Counter(r.finding_region for r in result.results if r.finding_region)
        spread = ", ".join(f"{region} {count}" for region, count in sorted(delivered.items()))
        out.write(
            f"Security Hub: {result.findings_published} findings published"
            f"{f' ({spread})' if spread else ''}, {result.findings_failed} failed, "
            f"{result.findings_archived} archived\n"
        )
    for error in result.errors:
        where = f"{error.region}/{error.cluster}" if error.cluster else error.region
        out.write(f"error: {where}: {error.error}\n")


class _Progress:
    """A one-line counter on stderr, only for people watching a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        self.stream.write(f"\raudited {done}/{total} clusters")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # usage errors, --help and --version: return, don't raise
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    try:
        settings = settings_from_args(args)
        progress = _Progress(sys.stderr) if sys.stderr.isatty() else None
        try:
            result = run_audit(settings, progress=progress)
        finally:
            if progress is not None:
                progress.close()
    except ConfigError as error:
        print(f"eks-netpol-audit: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except AuditAborted as error:
        print(f"eks-netpol-audit: error: {error}", file=sys.stderr)
        return EXIT_INCOMPLETE
    if args.format == "json":
        json.dump(result.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        render_table(result, sys.stdout)
    return result.exit_code()


if __name__ == "__main__":
    sys.exit(main())
