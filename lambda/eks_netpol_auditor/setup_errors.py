"""One line for each local AWS setup mistake botocore reports as an exception.

A wrong profile, a malformed config or credentials file, a role profile whose
`source_profile` is missing, an SSO session that is not logged in, an AWS_ENDPOINT_URL that
nothing answers on, or an endpoint that does not speak AWS are problems of the caller's
configuration, not of the audited account: the CLI reports them as usage errors (exit 2)
instead of "could not be evaluated" (exit 3) or a traceback (exit 1, which CI would read as
"a cluster FAILED"). Pure: it only inspects exceptions and the environment mapping it is
given.

The exception classes are botocore's (botocore/exceptions.py; ResponseParserError lives in
botocore/parsers.py and, unlike the others, is not a BotoCoreError). The remedy for an SSO
profile is `aws sso login --profile NAME` (AWS CLI user guide, "Configuring IAM Identity
Center authentication with the AWS CLI").
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from botocore.exceptions import (
    ConfigNotFound,
    ConfigParseError,
    ConnectionClosedError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    InvalidConfigError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSOError,
    TokenRetrievalError,
)
from botocore.parsers import ResponseParserError

CONFIG_VARIABLES = ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")
# Where botocore reads credentials when AWS_SHARED_CREDENTIALS_FILE is unset (botocore's
# `credentials_file` setting; AWS CLI user guide, "Configuration and credential file
# settings": the credentials file lives at ~/.aws/credentials by default).
DEFAULT_CREDENTIALS_FILE = "~/.aws/credentials"
# botocore's transport errors: nothing answered, or not in time (botocore/exceptions.py).
UNREACHABLE = (
    EndpointConnectionError,
    ConnectTimeoutError,
    ReadTimeoutError,
    ConnectionClosedError,
)


def profile_name(environ: Mapping[str, str]) -> str:
    """The profile botocore uses: AWS_PROFILE, then AWS_DEFAULT_PROFILE, else `default`."""
    return environ.get("AWS_PROFILE") or environ.get("AWS_DEFAULT_PROFILE") or "default"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _file_variable(error: ConfigParseError | ConfigNotFound, environ: Mapping[str, str]) -> str:
    """The variable that names the file botocore could not read: a malformed credentials
    file is not the config file's fault."""
    credentials = environ.get("AWS_SHARED_CREDENTIALS_FILE") or DEFAULT_CREDENTIALS_FILE
    same = _absolute(str(error.kwargs.get("path", "")), environ) == _absolute(credentials, environ)
    return "AWS_SHARED_CREDENTIALS_FILE" if same else "AWS_CONFIG_FILE"


def _absolute(path: str, environ: Mapping[str, str]) -> str:
    """`~` as botocore expands it (os.path.expanduser: HOME), from the given mapping."""
    if path == "~" or path.startswith("~/"):
        path = environ.get("HOME", "~") + path[1:]
    return os.path.normpath(os.path.abspath(path)) if path else ""


def _configured_endpoint(error: BaseException, environ: Mapping[str, str]) -> str | None:
    """AWS_ENDPOINT_URL when the failed call went there (a per-service variable or a
    profile's endpoint_url would have sent it elsewhere)."""
    endpoint = environ.get("AWS_ENDPOINT_URL", "").strip()
    reached = str(getattr(error, "kwargs", {}).get("endpoint_url", ""))
    if endpoint and reached.startswith(endpoint.rstrip("/")):
        return endpoint
    return None


def _parser_endpoint(environ: Mapping[str, str]) -> str:
    """Which endpoint answered something botocore could not parse. ResponseParserError
    does not say where the call went, so AWS_ENDPOINT_URL is named alone only when no
    per-service variable (AWS_ENDPOINT_URL_<SERVICE>, botocore's service-specific
    endpoints) could have sent the call elsewhere; otherwise every candidate is named."""
    endpoint = environ.get("AWS_ENDPOINT_URL", "").strip()
    per_service = sorted(k for k, v in environ.items() if k.startswith("AWS_ENDPOINT_URL_") and v)
    if not per_service:
        return f"the endpoint {endpoint} (AWS_ENDPOINT_URL)" if endpoint else "the endpoint"
    named = ([f"AWS_ENDPOINT_URL={endpoint}"] if endpoint else []) + [
        f"{k}={environ[k].strip()}" for k in per_service
    ]
    return f"an endpoint set by {', '.join(named)}"


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
        variable = _file_variable(error, environ)
        return f"{_first_line(error)}: fix its syntax or point {variable} elsewhere"
    if isinstance(error, InvalidConfigError):
        return f"invalid AWS configuration in profile {profile!r}: {_first_line(error)}"
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return f"no usable AWS credentials (standard credential chain): {_first_line(error)}"
    if isinstance(error, CredentialRetrievalError):
        return f"AWS credentials could not be obtained: {_first_line(error)}"
    if isinstance(error, UNREACHABLE) and (endpoint := _configured_endpoint(error, environ)):
        return (
            f"the endpoint {endpoint} (AWS_ENDPOINT_URL) could not be reached "
            f"({_first_line(error)[:120]}): check the variable, or unset it to reach AWS"
        )
    if isinstance(error, ResponseParserError):
        return (
            f"{_parser_endpoint(environ)} did not answer like AWS ({_first_line(error)[:120]}): "
            "check the "
            "endpoint and any proxy in between"
        )
    return None
