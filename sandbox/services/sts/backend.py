"""STS backend, GetCallerIdentity only: the caller's account, ARN and UserId, as the
account registry (``sandbox.accounts``) knows them from the request's access key.

https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
"""

from __future__ import annotations

from sandbox.accounts import DEFAULT_ACCESS_KEY, DEFAULT_ACCOUNT, DEFAULT_PRINCIPAL, Identity


def caller_identity(caller: Identity | None) -> Identity:
    """Who is calling: the request's identity, or the default account's (a request built
    without one, as in emulator unit tests). STS keeps no state of its own."""
    return caller or Identity(DEFAULT_ACCOUNT, DEFAULT_ACCESS_KEY, DEFAULT_PRINCIPAL)
