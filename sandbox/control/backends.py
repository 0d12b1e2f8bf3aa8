"""What the control API may touch: the sandbox's backends, never its request handling.

Why a Protocol: `sandbox.app` builds the control API over its own state, so the control
handlers naming `SandboxApp` made the two import each other. Each handler reads or seeds
exactly these backends (``sandbox/services/<service>/backend.py``, as moto's control
endpoints talk only to backends), plus the front end's faults and call counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sandbox.accounts import Accounts
    from sandbox.faults import CallRecorder, FaultInjector
    from sandbox.services.cloudformation.backend import CloudFormationBackend
    from sandbox.services.cloudtrail.backend import CloudTrailBackend
    from sandbox.services.cloudwatch.backend import CloudWatchBackend
    from sandbox.services.eks.backend import EksBackend
    from sandbox.services.kubernetes.backend import KubernetesBackend
    from sandbox.services.securityhub.backend import SecurityHubBackend


class Backends(Protocol):
    """The sandbox state the control API reads and seeds."""

    accounts: Accounts
    eks: EksBackend
    securityhub: SecurityHubBackend
    faults: FaultInjector
    recorder: CallRecorder
    enforce_enabled_regions: bool
    # What a deployed auditor stack leaves, read by `doctor` (control/deployment.py).
    cloudformation: CloudFormationBackend
    cloudwatch: CloudWatchBackend
    cloudtrail: CloudTrailBackend
    # Inside the clusters: what their Kubernetes APIs serve (control/kubernetes.py).
    kubernetes: KubernetesBackend

    @property
    def account(self) -> str:
        """The default account."""

    def reset(self) -> None:
        """Everything back to a fresh sandbox."""
