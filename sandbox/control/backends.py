"""What the control API may touch: the sandbox's backends, never its request handling.

Why a Protocol: `sandbox.app` builds the control API over its own state, so the control
handlers naming `SandboxApp` made the two import each other. Each handler reads or seeds
exactly these backends (as moto's control endpoints talk only to backends).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sandbox.accounts import Accounts
    from sandbox.cloudformation import CloudFormationEmulator
    from sandbox.cloudtrail import CloudTrailJournal
    from sandbox.cloudwatch import CloudWatchEmulator
    from sandbox.eks import EksStore
    from sandbox.faults import CallRecorder, FaultInjector
    from sandbox.securityhub import SecurityHubEmulator
    from sandbox.trails import TrailsEmulator


class Backends(Protocol):
    """The sandbox state the control API reads and seeds."""

    accounts: Accounts
    eks_store: EksStore
    securityhub: SecurityHubEmulator
    faults: FaultInjector
    recorder: CallRecorder
    cloudtrail: CloudTrailJournal
    enforce_enabled_regions: bool
    # What a deployed auditor stack leaves, read by `doctor` (control/deployment.py).
    cloudformation: CloudFormationEmulator
    cloudwatch: CloudWatchEmulator
    trails: TrailsEmulator

    @property
    def account(self) -> str:
        """The default account."""

    def reset(self) -> None:
        """Everything back to a fresh sandbox."""
