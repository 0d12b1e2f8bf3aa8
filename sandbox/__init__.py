"""Local AWS sandbox: EKS, EC2 DescribeRegions, STS and Security Hub over real AWS wire
protocols on 127.0.0.1, driven by a JSON control API (``/_sandbox/``).

Why a sandbox instead of mocks: the product and its tests use unmodified boto3 pointed at
``AWS_ENDPOINT_URL``; the same sandbox serves pytest (in-process, ``tests/conftest.py``),
``make demo`` and the benchmark (as a subprocess, ``start_sandbox_process``).

Layout (moto's layering): ``routing`` resolves operations and input from the botocore
models; ``app`` decodes a request and dispatches it; each service is a package
``services/<service>/`` with its state and rules in ``backend.py`` (raising
``errors.AwsError``) and its wire format in ``responses.py``, and ``services/registry.py``
names them all (eks, ec2, sts, securityhub, cloudformation, cloudwatch, cloudtrail);
``server`` is only the HTTP server; ``control/`` the control API, which talks only to
backends; ``client`` its typed client.

Accounts (``accounts.py``). The sandbox holds several AWS accounts, each with its own
credentials, enabled regions, clusters and Security Hub state:

* the caller's account comes from the access key id of the request's SigV4
  ``Credential=`` scope; an access key the sandbox does not know belongs to the default
  account ``123456789012`` (``accounts.DEFAULT_ACCOUNT``), so single-account code needs
  nothing new. Signatures are not verified.
* every emulator receives it as ``SandboxRequest.account`` (and the full identity as
  ``SandboxRequest.caller``) and keys its state by it;
* ``SandboxClient.create_account(account, access_key_id, secret_access_key,
  principal_arn=..., enabled_regions=[...])`` adds one (``principal_arn`` may be an IAM
  user or ``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION``; STS GetCallerIdentity
  answers it); the seeding and inspection methods (``add_cluster``, ``clusters``,
  ``cluster``, ``set_addon``, ``updates``, ``settle``, ``set_enabled_regions``,
  ``findings``, ``set_securityhub_enabled``...) take ``account=``; ``ClusterSeed`` has an
  ``account`` field; faults can be limited to one ``account``;
* ``environment.account_overrides(account)`` (or ``sandbox_environ(..., account=)``)
  gives the environment that runs the CLI, the engine or a bench "as" that account.

CloudTrail (``services/eks/journal.py``): every mutating EKS call is journaled as the event
EventBridge delivers for it; ``SandboxClient.events(account=, region=, event_name=)``.

This package module stays import-light (stdlib only) so that importing the client or the
process helper does not pull in botocore or werkzeug.
"""

from sandbox.client import (
    AddonSeed,
    CallStats,
    ClusterSeed,
    SandboxAccount,
    SandboxClient,
    SandboxError,
)
from sandbox.environment import account_overrides, sandbox_environ
from sandbox.process import SandboxProcess, start_sandbox_process

__all__ = [
    "AddonSeed",
    "CallStats",
    "ClusterSeed",
    "SandboxAccount",
    "SandboxClient",
    "SandboxError",
    "SandboxProcess",
    "account_overrides",
    "sandbox_environ",
    "start_sandbox_process",
]
