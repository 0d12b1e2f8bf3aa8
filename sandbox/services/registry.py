"""Every service's state, and which wire handler answers which SigV4 service name (moto's
``backends.py``).

Why one registry: the front end (``app.py``) and the control API (``sandbox/control``)
reach a service only through here, so a service is added in one place: its backend as a
field of ``Backends`` when it keeps state, its handler as one line of ``SERVICES``.
"""

from __future__ import annotations

from collections.abc import Callable

from sandbox.accounts import Accounts
from sandbox.services.cloudformation.backend import CloudFormationBackend
from sandbox.services.cloudformation.responses import CloudFormationResponses
from sandbox.services.cloudtrail.backend import CloudTrailBackend
from sandbox.services.cloudtrail.responses import CloudTrailResponses
from sandbox.services.cloudwatch.backend import CloudWatchBackend
from sandbox.services.cloudwatch.responses import CloudWatchResponses
from sandbox.services.ec2.responses import Ec2Responses
from sandbox.services.eks.backend import EksBackend
from sandbox.services.eks.responses import EksResponses
from sandbox.services.kubernetes.backend import KubernetesBackend
from sandbox.services.securityhub.backend import SecurityHubBackend
from sandbox.services.securityhub.responses import SecurityHubResponses
from sandbox.services.sts.responses import StsResponses
from sandbox.wire import ServiceEmulator


class Backends:
    """The state of every service for every account of one sandbox."""

    def __init__(self) -> None:
        # Accounts own their credentials and enabled regions (EC2 DescribeRegions, STS).
        self.accounts = Accounts()
        self.eks = EksBackend()
        self.securityhub = SecurityHubBackend()
        # What a deployed auditor stack leaves behind, read by `doctor`.
        self.cloudformation = CloudFormationBackend()
        self.cloudwatch = CloudWatchBackend()
        self.cloudtrail = CloudTrailBackend()
        # Inside the clusters: the objects their Kubernetes APIs serve (services/kubernetes;
        # the HTTPS listeners are the app's, not state).
        self.kubernetes = KubernetesBackend()

    def reset_backends(self) -> None:
        """Back to one account, no clusters, no findings, nothing deployed."""
        self.accounts.reset()
        for backend in (
            self.eks,
            self.securityhub,
            self.cloudformation,
            self.cloudwatch,
            self.cloudtrail,
            self.kubernetes,
        ):
            backend.reset()


# SigV4 credential-scope name -> the service's wire handler over the backends. The scope
# carries the model's signingName, else its endpointPrefix (routing.BOTOCORE_NAMES).
SERVICES: dict[str, Callable[[Backends], ServiceEmulator]] = {
    "eks": lambda b: EksResponses(b.eks),
    "ec2": lambda b: Ec2Responses(b.accounts),
    "sts": lambda _b: StsResponses(),
    "securityhub": lambda b: SecurityHubResponses(b.securityhub),
    "cloudformation": lambda b: CloudFormationResponses(b.cloudformation),
    "monitoring": lambda b: CloudWatchResponses(b.cloudwatch),  # CloudWatch
    "cloudtrail": lambda b: CloudTrailResponses(b.cloudtrail),
}
