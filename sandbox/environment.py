"""The one definition of "point boto3 at the sandbox and nowhere else".

Used by the pytest fixtures, `make demo` and the benchmark, so that every way of running
the product against the sandbox removes the same routes to real AWS: profiles, session
and web-identity tokens, container credentials, per-service endpoints and proxies.
"""

from __future__ import annotations

import os
import shlex
import sysconfig
from collections.abc import Mapping

from sandbox.accounts import DEFAULT_ACCESS_KEY
from sandbox.client import SandboxAccount

SANDBOX_REGION = "us-east-1"

LEAKY_VARIABLES: tuple[str, ...] = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_CA_BUNDLE",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
)


def account_overrides(account: SandboxAccount) -> dict[str, str]:
    """The credential variables that make boto3 (the CLI, the engine, a bench run) act as
    ``account``: the sandbox picks the caller's account from the access key id.

    Apply them on top of ``sandbox_overrides``/``sandbox_environ``, or pass ``account``
    to those directly.
    """
    return {
        "AWS_ACCESS_KEY_ID": account.access_key_id,
        "AWS_SECRET_ACCESS_KEY": account.secret_access_key,
    }


def sandbox_overrides(
    endpoint: str, environ: Mapping[str, str], account: SandboxAccount | None = None
) -> tuple[dict[str, str], list[str]]:
    """(variables to set, variables to remove) so boto3 reaches only `endpoint`, as
    ``account`` (default: the sandbox's default account 123456789012)."""
    to_set = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY,  # selects the default account
        "AWS_SECRET_ACCESS_KEY": "testing",  # not a secret: signatures are not verified
        "AWS_DEFAULT_REGION": SANDBOX_REGION,
        "AWS_REGION": SANDBOX_REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    if account is not None:
        to_set.update(account_overrides(account))
    per_service = [name for name in environ if name.startswith("AWS_ENDPOINT_URL_")]
    return to_set, [*LEAKY_VARIABLES, *per_service]


def sandbox_environ(
    endpoint: str,
    environ: Mapping[str, str] | None = None,
    account: SandboxAccount | None = None,
) -> dict[str, str]:
    """A complete environment for a child process that must talk only to the sandbox
    (as ``account`` when given)."""
    base = dict(os.environ if environ is None else environ)
    to_set, to_remove = sandbox_overrides(endpoint, base, account)
    for name in to_remove:
        base.pop(name, None)
    base.update(to_set)
    return base


def shell_lines(
    endpoint: str, environ: Mapping[str, str], settle_seconds: float | None
) -> list[str]:
    """What ``make sandbox`` prints for a user to paste into another shell: the sandbox's
    variables, and PATH with this interpreter's scripts directory (where ``pip`` installed
    ``eks-netpol-audit``; Python docs, ``sysconfig``, "Installation paths": ``scripts``),
    absolute so the lines work from any directory."""
    to_set, to_remove = sandbox_overrides(endpoint, environ)
    scripts = os.path.abspath(sysconfig.get_path("scripts"))
    settles = (
        "only through POST /_sandbox/settle"
        if settle_seconds is None
        else f"{settle_seconds:g} s after they start (SANDBOX_SETTLE_SECONDS)"
    )
    return [
        "# Paste into another shell to point eks-netpol-audit (and the AWS CLI) at the sandbox:",
        "unset " + " ".join(to_remove),
        *(f"export {name}={shlex.quote(value)}" for name, value in to_set.items()),
        f'export PATH={shlex.quote(scripts)}:"$PATH"',
        f"# Add-on updates and creations finish {settles}.",
        "# then: eks-netpol-audit scan   (Ctrl-C here stops the sandbox)",
    ]
