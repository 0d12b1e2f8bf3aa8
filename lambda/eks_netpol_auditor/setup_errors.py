"""One line for each local AWS setup mistake botocore reports as an exception.

A wrong profile, a malformed config file, a role profile whose `source_profile` is missing,
an SSO session that is not logged in, or an endpoint that does not speak AWS are problems
of the caller's configuration, not of the audited account: the CLI reports them as usage
errors (exit 2) instead of "could not be evaluated" (exit 3) or a traceback (exit 1, which
CI would read as "a cluster FAILED"). Pure: it only inspects exception types and the
environment mapping it is given.

The exception classes are botocore's (botocore/exceptions.py; ResponseParserError lives in
botocore/parsers.py and, unlike the others, is not a BotoCoreError). The remedy for an SSO
profile is `aws sso login --profile NAME` (AWS CLI user guide, "Configuring IAM Identity
Center authentication with the AWS CLI").
"""

from __future__ import annotations

from collections.abc import Mapping

from botocore.exceptions import (
    ConfigNotFound,
    ConfigParseError,
    CredentialRetrievalError,
    InvalidConfigError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)
from botocore.parsers import ResponseParserError

CONFIG_VARIABLES = ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")


def profile_name(environ: Mapping[str, str]) -> str:
    """The profile botocore uses: AWS_PROFILE, then AWS_DEFAULT_PROFILE, else `default`."""
    return environ.get("AWS_PROFILE") or environ.get("AWS_DEFAULT_PROFILE") or "default"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def explain_setup_error(error: BaseException, environ: Mapping[str, str]) -> str | None:
    """A one-line explanation if `error` is a local configuration mistake, else None."""
    profile = profile_name(environ)
    if isinstance(error, (SSOError, TokenRetrievalError)):
        return (
            f"the AWS SSO session of profile {profile!r} is not logged in or has expired "
            f"({_first_line(error)}): run `aws sso login --profile {profile}`"
        )
    if isinstance(error, ProfileNotFound):
        return f"{_first_line(error)}: check AWS_PROFILE and your AWS config file"
    if isinstance(error, (ConfigParseError, ConfigNotFound)):
        return f"{_first_line(error)}: fix its syntax or point AWS_CONFIG_FILE elsewhere"
    if isinstance(error, InvalidConfigError):
        return f"invalid AWS configuration in profile {profile!r}: {_first_line(error)}"
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return f"no usable AWS credentials (standard credential chain): {_first_line(error)}"
    if isinstance(error, CredentialRetrievalError):
        return f"AWS credentials could not be obtained: {_first_line(error)}"
    if isinstance(error, ResponseParserError):
        endpoint = environ.get("AWS_ENDPOINT_URL")
        where = f"the endpoint {endpoint} (AWS_ENDPOINT_URL)" if endpoint else "the endpoint"
        return (
            f"{where} did not answer like AWS ({_first_line(error)[:120]}): check the "
            "endpoint and any proxy in between"
        )
    return None
