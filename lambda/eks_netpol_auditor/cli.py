"""`eks-netpol-audit`: the audit engine from a laptop or a CI job.

Exit codes (also in `scan --help`): 0 every evaluated cluster PASSED or WARNING; 1 at least
one FAILED; 2 bad usage or configuration; 3 something could not be read and nothing FAILED;
130 interrupted (Ctrl-C). Every error is one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import NoReturn, TextIO

from botocore.exceptions import BotoCoreError
from botocore.parsers import ResponseParserError

from . import __version__
from .audit import AuditAborted, AuditInterrupted, run_audit
from .aws import describe_error
from .config import (
    ConfigError,
    Override,
    Settings,
    configured_region,
    parse_region,
    parse_statuses,
    settings_from_env,
)
from .doctor import command as doctor_command
from .model import AuditResult, ComplianceStatus
from .names import PRODUCT, Env
from .report.aggregate import CONTROL_CHOICES
from .report.command import ReportUnavailable, run_report
from .report.render import render_csv as render_report_csv
from .report.render import render_table as render_report_table
from .scan_output import interrupted_text, progress_text, render_table, to_json
from .settings_table import by_flag, env_help, flag_help
from .setup_errors import explain_setup_error

PROG = "eks-netpol-audit"
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for a Ctrl-C'd command

EXIT_CODES = """exit codes (with --in-cluster, each cluster's two controls count alike):
  0    every evaluated cluster PASSED or WARNING (or is still being created)
  1    at least one cluster FAILED
  2    bad usage or configuration (AWS profile, config file, SSO login, endpoint)
  3    a region, a cluster or the account could not be read (with --in-cluster also
       a cluster's Kubernetes API: private endpoint, not enrolled, unreachable), and
       nothing FAILED
  130  interrupted (Ctrl-C)"""

REPORT_EXIT_CODES = """exit codes (as for scan):
  0    every finding PASSED or WARNING, and every member could be read (a member
       without findings, e.g. without EKS clusters, is listed, not an error)
  1    at least one cluster FAILED
  2    bad usage or configuration (AWS profile, config file, SSO login, endpoint,
       no region)
  3    Security Hub could not be read here, a member is not readable (its member
       status is not Enabled), or a cluster could not be evaluated; nothing FAILED
  130  interrupted (Ctrl-C)"""

# Read by the Lambda only (Powertools, event runs); not part of what a scan reads.
LAMBDA_ONLY = frozenset(
    {
        Env.POWERTOOLS_SERVICE_NAME,
        Env.POWERTOOLS_METRICS_NAMESPACE,
        Env.LOG_LEVEL,
        Env.REMEDIATION_COOLDOWN_MINUTES,
    }
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line on stderr and exit 2, like every other configuration error."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Each line wraps to the terminal as argparse's default does, but line breaks are kept,
    and a table row (`  NAME  text`) continues under its text column."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        lines = []
        for line in text.splitlines():
            row = re.match(r"\s+\S+\s+", line)
            hanging = " " * len(row.group()) if row else ""
            lines.append(
                textwrap.fill(line, width, subsequent_indent=hanging, break_on_hyphens=False)
                if line
                else ""
            )
        return "\n".join(lines)


def _epilog() -> str:
    """Every variable of the contract (names.py) the CLI reads, so a new one is listed;
    what each one takes comes from the settings table (docs/configuration.md)."""
    listed = [name for name in Env if name not in LAMBDA_ONLY]
    width = max(len(name) for name in listed)
    indent = " " * (width + 4)
    lines = [
        textwrap.fill(
            f"  {name.value.ljust(width)}  {env_help(name)}",
            width=79,
            subsequent_indent=indent,
            break_on_hyphens=False,
        )
        for name in listed
    ]
    return (
        "environment variables (flags override them; AWS credentials, AWS_PROFILE,\n"
        "AWS_REGION and AWS_ENDPOINT_URL are read as by the AWS CLI):\n"
        + "\n".join(lines)
        + "\n\n"
        + EXIT_CODES
    )


def _switch(parser: argparse.ArgumentParser, command: str, name: str) -> None:
    """`--NAME` / `--no-NAME`: switch on, or off what the environment switched on."""
    group = parser.add_mutually_exclusive_group()
    on, off = f"--{name}", f"--no-{name}"
    group.add_argument(on, action="store_true", default=None, help=flag_help(command, on))
    dest = name.replace("-", "_")  # what argparse makes of `--NAME` itself
    group.add_argument(off, dest=dest, action="store_false", help=flag_help(command, off))


def _add_scan(commands: argparse._SubParsersAction[_Parser]) -> None:
    scan = commands.add_parser(
        "scan",
        help="audit clusters (read-only unless --remediate)",
        description="Audit every EKS cluster of the account for vpc-cni enableNetworkPolicy.",
        epilog=_epilog(),
        formatter_class=_Formatter,
    )
    scan.add_argument("--regions", help=flag_help("scan", "--regions"))
    _format(scan, "scan")
    _status(scan, "scan")
    _switch(scan, "scan", "publish")
    _switch(scan, "scan", "remediate")
    _switch(scan, "scan", "in-cluster")
    scan.add_argument(
        "--dry-run", action="store_true", default=None, help=flag_help("scan", "--dry-run")
    )
    scan.add_argument(
        "--max-remediations", metavar="N", help=flag_help("scan", "--max-remediations")
    )


def _format(parser: argparse.ArgumentParser, command: str) -> None:
    row = by_flag(command, "--format")
    parser.add_argument(
        "--format", choices=row.choices, default=row.default, help=flag_help(command, "--format")
    )


def _status(parser: argparse.ArgumentParser, command: str) -> None:
    parser.add_argument(
        "--status",
        action="append",
        default=[],
        metavar="STATUS",
        help=flag_help(command, "--status"),
    )


def _add_report(commands: argparse._SubParsersAction[_Parser]) -> None:
    report = commands.add_parser(
        "report",
        help="the organization's findings from the Security Hub CSPM administrator (read-only)",
        description="Every member account's auditor findings, read with the Security Hub "
        "CSPM administrator's credentials in the aggregation region: one row per account, "
        "region and cluster with both controls side by side (CIS 5.4.4 and, where the "
        "in-cluster check runs, 4.3.2), totals per account and per reason, and which "
        "regions that covers. Every member is listed with its member status; one without "
        "any auditor finding as 'no auditor findings', one the administrator cannot read "
        "as 'not readable'. Read-only.",
        epilog=REPORT_EXIT_CODES,
        formatter_class=_Formatter,
    )
    report.add_argument("--region", help=flag_help("report", "--region"))
    _format(report, "report")
    _status(report, "report")
    control = by_flag("report", "--control")
    report.add_argument(
        "--control",
        choices=control.choices,
        default=control.default,
        help=flag_help("report", "--control"),
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Audit that every Amazon EKS cluster enforces Kubernetes NetworkPolicy "
        "(vpc-cni enableNetworkPolicy, CIS EKS 5.4.4).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    # Not `required`: argparse would then answer `--badflag` alone with "the following
    # arguments are required: command" and never name the flag; main() prints the usage
    # when no command is given.
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
    _add_scan(commands)
    _add_report(commands)
    doctor_command.add_parser(commands)
    return parser


def _flag(value: bool | None, on: str, off: str) -> Override | None:
    if value is None:
        return None
    return (on, "true") if value else (off, "false")


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Flags replace their variables before either is parsed: `AUDIT_REGIONS=xx scan
    --regions eu-west-1` audits eu-west-1 and never looks at the invalid `xx`."""
    overrides: dict[Env, Override] = {}
    if args.regions is not None:
        overrides[Env.AUDIT_REGIONS] = ("--regions", args.regions)
    for variable, value in (
        (Env.PUBLISH_FINDINGS, _flag(args.publish, "--publish", "--no-publish")),
        (Env.AUTO_REMEDIATE, _flag(args.remediate, "--remediate", "--no-remediate")),
        (Env.REMEDIATION_DRY_RUN, _flag(args.dry_run, "--dry-run", "--dry-run")),
        (Env.IN_CLUSTER_CHECK, _flag(args.in_cluster, "--in-cluster", "--no-in-cluster")),
    ):
        if value is not None:
            overrides[variable] = value
    if args.max_remediations is not None:
        overrides[Env.MAX_REMEDIATIONS_PER_RUN] = ("--max-remediations", args.max_remediations)
    settings = settings_from_env(overrides=overrides)
    # Silence would let a user believe a plan was made or a cap applied; the variables alone
    # stay quiet because a deployed stack sets them independently of AUTO_REMEDIATE.
    if args.dry_run and not settings.auto_remediate:
        raise ConfigError(
            "--dry-run plans remediation, which is off: add --remediate "
            f"(or set {Env.AUTO_REMEDIATE}=true)"
        )
    if args.max_remediations is not None and not settings.auto_remediate:
        raise ConfigError(
            "--max-remediations limits remediation, which is off: add --remediate "
            f"(or set {Env.AUTO_REMEDIATE}=true)"
        )
    return settings


class _Progress:
    """A one-line status on stderr, only for people watching a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.shown = False

    def __call__(self, done: int, found: int, listed: int, regions: int) -> None:
        self.stream.write("\r\033[K" + progress_text(done, found, listed, regions))
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False


class _CtrlC:
    """First Ctrl-C: stop starting work and let what writes finish (the run returns soon).
    Second Ctrl-C: KeyboardInterrupt, abandon at once."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def is_set(self) -> bool:
        return self.event.is_set()

    def _handle(self, _signum: int, _frame: FrameType | None) -> None:
        if self.event.is_set():
            raise KeyboardInterrupt
        self.event.set()

    @contextmanager
    def installed(self) -> Iterator[_CtrlC]:
        if threading.current_thread() is not threading.main_thread():
            yield self  # signals only reach the main thread; nothing to install
            return
        previous = signal.signal(signal.SIGINT, self._handle)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, previous)


def _fail(message: str, code: int) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


def _scan(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    statuses = parse_statuses("--status", args.status)
    progress = _Progress(sys.stderr) if sys.stderr.isatty() else None
    ctrl_c = _CtrlC()
    try:
        with ctrl_c.installed():
            result = run_audit(settings, progress=progress, interrupted=ctrl_c.is_set)
    finally:
        if progress is not None:
            progress.close()
    if ctrl_c.is_set():
        print(f"{PROG}: {interrupted_text(result)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    return _emit(lambda out: _print_result(result, args.format, statuses, out), result.exit_code())


def _report(args: argparse.Namespace) -> int:
    statuses = parse_statuses("--status", args.status)
    region = parse_region("--region", args.region) if args.region else configured_region(os.environ)
    if region is None:  # a silent us-east-1 would be a report of the wrong region
        raise ConfigError(
            "no AWS region configured: give the Security Hub CSPM aggregation region with "
            "--region (or set AWS_REGION)"
        )
    report = run_report(
        region,
        frozenset(status.value for status in statuses),
        controls=CONTROL_CHOICES[args.control],
    )
    covered = report.coverage
    if covered is not None and (covered.this_region_only or covered.error):
        print(f"{PROG}: warning: the report covers {covered.describe()}", file=sys.stderr)

    def write(out: TextIO) -> None:
        if args.format == "json":
            json.dump(report.to_json(), out, indent=2)
            out.write("\n")
        elif args.format == "csv":
            render_report_csv(report, out)
        else:
            render_report_table(report, out)

    return _emit(write, report.exit_code())


def _doctor(args: argparse.Namespace) -> int:
    return _emit(*doctor_command.run(args))


def _print_result(
    result: AuditResult, output: str, statuses: frozenset[ComplianceStatus], out: TextIO
) -> None:
    if output == "json":
        json.dump(to_json(result, statuses), out, indent=2)
        out.write("\n")
    else:
        render_table(result, out, statuses)


def _emit(write: Callable[[TextIO], None], code: int) -> int:
    """Write the output and keep the run's exit code when the reader went away.

    `scan | head`: the reader closing the pipe is not an error of the run. As Python's
    `signal` documentation advises ("Note on SIGPIPE"), point stdout at devnull so the
    interpreter's final flush cannot fail again, and exit with the run's own code (1 when
    a cluster FAILED). Any other write error (`> /dev/full`) is one line; the output is
    lost, so the run is incomplete: exit 3, or 1 when a cluster FAILED (as for scan).
    """
    try:
        write(sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        return code
    except OSError as error:
        _silence_stdout()
        reason = error.strerror or str(error)
        _fail(f"cannot write the output to stdout: {reason}", EXIT_INCOMPLETE)
        return code if code == 1 else EXIT_INCOMPLETE
    return code


def _silence_stdout() -> None:
    """Send what is still buffered for stdout to devnull (signal docs, "Note on SIGPIPE")."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    # The table and JSON carry every error; a log record would print it a second time.
    logging.getLogger(__package__ or PRODUCT).addHandler(logging.NullHandler())
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # usage errors, --help and --version: return, don't raise
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    if args.command is None:  # a bare `eks-netpol-audit`: what it can do, and exit 2
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        commands = {"scan": _scan, "report": _report, "doctor": _doctor}
        return commands[args.command](args)
    except ConfigError as error:
        return _fail(str(error), EXIT_USAGE)
    except ReportUnavailable as error:
        return _fail(str(error), EXIT_INCOMPLETE)
    except AuditInterrupted as error:  # Ctrl-C before the account was known
        print(f"{PROG}: {error}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except AuditAborted as error:
        cause = error.__cause__
        explained = explain_setup_error(cause, os.environ) if cause else None
        if explained:
            return _fail(explained, EXIT_USAGE)
        return _fail(str(error), EXIT_INCOMPLETE)
    except (BotoCoreError, ResponseParserError) as error:
        explained = explain_setup_error(error, os.environ)
        if explained:
            return _fail(explained, EXIT_USAGE)
        return _fail(describe_error(error), EXIT_INCOMPLETE)
    except KeyboardInterrupt:
        if args.command == "report":
            message = "interrupted; the report is read-only, nothing was changed"
        elif args.command == "doctor":
            message = "interrupted; doctor is read-only, nothing was changed"
        else:
            message = (
                "interrupted twice: abandoned the calls in flight; findings and add-on "
                "updates carry stable ids, so the next run completes what this one started"
            )
        print(f"{PROG}: {message}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # a bug must still end in one line and a CI-safe exit code
        return _fail(
            f"unexpected error, please report it: {describe_error(error)}", EXIT_INCOMPLETE
        )


def run() -> NoReturn:
    """Console entry point. After Ctrl-C, leave without waiting for calls still in flight
    (reads, or writes whose outcome the next run reconciles by idempotent ids)."""
    code = main()
    if code == EXIT_INTERRUPTED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    run()
