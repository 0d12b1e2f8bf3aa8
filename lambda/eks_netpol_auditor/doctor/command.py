"""`eks-netpol-audit doctor`: its arguments, help and output; cli.py registers it."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from typing import Any, TextIO

from ..config import home_region_from, parse_region, parse_regions
from ..names import Env
from ..settings_table import by_flag, flag_help
from . import ACTIONS, Request, exit_code, run_doctor
from .render import render_table, to_json

DESCRIPTION = (
    "A read-only preflight of one account with your own credentials: the credentials and "
    "account, Security Hub CSPM and EKS in each audited region, the auditor stack with its "
    "parameters and Outputs, the functions' errors in the last 24 hours, the event queue, "
    "and a CloudTrail trail for the event path. Each line passes, fails or is unknown (?) "
    "and carries its fix; an unknown line names the action you were denied. Each "
    "cluster's access entry for the in-cluster check is not checked here: scan "
    "--in-cluster reports a cluster that has none as NOT_ENROLLED."
)
EXIT_CODES = """exit codes:
  0    every check passed
  1    at least one check failed or is unknown (a check that could not be made is
       not a pass)
  2    bad usage or configuration (AWS profile, config file, SSO login, endpoint)
  3    unexpected error (one line; please report it)
  130  interrupted (Ctrl-C)"""


def _epilog() -> str:
    actions = "\n".join(f"  {action}" for action in ACTIONS)
    return (
        "IAM actions doctor calls (all read-only; grant them to whoever runs it):\n"
        f"{actions}\n\n{EXIT_CODES}"
    )


def add_parser(commands: Any) -> None:
    """`commands` is cli.py's subparsers action (its parser class prints one-line errors)."""
    doctor = commands.add_parser(
        "doctor",
        help="check the account's setup for the auditor (read-only)",
        description=DESCRIPTION,
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for flag in ("--regions", "--region"):
        doctor.add_argument(flag, help=flag_help("doctor", flag))
    stack_name = by_flag("doctor", "--stack-name")
    doctor.add_argument(
        "--stack-name", default=stack_name.default, help=flag_help("doctor", "--stack-name")
    )
    output = by_flag("doctor", "--format")
    doctor.add_argument(
        "--format",
        choices=output.choices,
        default=output.default,
        help=flag_help("doctor", "--format"),
    )


def request_from(args: argparse.Namespace) -> Request:
    """--regions, else AUDIT_REGIONS, else (None) the stack's AuditRegions parameter."""
    home = parse_region("--region", args.region) if args.region else home_region_from(os.environ)
    if args.regions is not None:
        return Request(home, args.stack_name, parse_regions("--regions", args.regions), "--regions")
    variable = os.environ.get(Env.AUDIT_REGIONS)
    if variable is not None and variable.strip():
        regions = parse_regions(Env.AUDIT_REGIONS.value, variable)
        return Request(home, args.stack_name, regions, Env.AUDIT_REGIONS.value)
    return Request(home, args.stack_name)


def run(args: argparse.Namespace) -> tuple[Callable[[TextIO], None], int]:
    """Gather and judge; return the writer of the output and the exit code (cli.py writes
    it as it writes scan's, so a closed pipe or a full disk behave the same)."""
    facts, checks = run_doctor(request_from(args))

    def write(out: TextIO) -> None:
        if args.format == "json":
            json.dump(to_json(facts, checks), out, indent=2)
            out.write("\n")
        else:
            render_table(facts, checks, out)

    return write, exit_code(checks)
