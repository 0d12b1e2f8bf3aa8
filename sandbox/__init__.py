"""Local AWS sandbox: EKS, EC2 DescribeRegions, STS and Security Hub over real AWS wire
protocols on 127.0.0.1, driven by a JSON control API (``/_sandbox/``).

Why a sandbox instead of mocks: the product and its tests use unmodified boto3 pointed at
``AWS_ENDPOINT_URL``; the same sandbox serves pytest (in-process, ``tests/conftest.py``),
``make demo`` and the benchmark (as a subprocess, ``start_sandbox_process``).

This package module stays import-light (stdlib only) so that importing the client or the
process helper does not pull in botocore or werkzeug.
"""

from sandbox.client import AddonSeed, CallStats, ClusterSeed, SandboxClient, SandboxError
from sandbox.process import SandboxProcess, start_sandbox_process

__all__ = [
    "AddonSeed",
    "CallStats",
    "ClusterSeed",
    "SandboxClient",
    "SandboxError",
    "SandboxProcess",
    "start_sandbox_process",
]
