"""`eks-netpol-audit doctor`: a read-only preflight of one account with the caller's own
permissions. The pure rules (`checks`), what is printed (`render`) and the shell that
asks AWS (`gather`)."""

from __future__ import annotations

from ..aws import AwsClients
from .checks import Check, Facts, build_checks, exit_code
from .gather import ACTIONS, Request, gather

__all__ = ["ACTIONS", "Check", "Facts", "Request", "exit_code", "run_doctor"]


def run_doctor(request: Request, clients: AwsClients | None = None) -> tuple[Facts, list[Check]]:
    """Gather the facts and judge them. Few retries: a preflight should answer quickly,
    and a call that still fails is shown as its own line."""
    facts = gather(request, clients or AwsClients(max_attempts=3))
    return facts, build_checks(facts)
