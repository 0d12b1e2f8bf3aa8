"""The EKS bearer token: the format `aws eks get-token` produces, signed so that EKS's
authenticator can check it, for one cluster only, and never shown in a log."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from urllib.parse import parse_qsl, quote, urlsplit

import boto3
import pytest

from eks_netpol_auditor.aws import AwsClients
from eks_netpol_auditor.incluster.token import (
    TOKEN_PREFIX,
    BearerToken,
    TokenError,
    bearer_token,
)

KEY_ID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "session/token+with=odd&chars"


def clients(*, secret: str = SECRET, session_token: str | None = SESSION_TOKEN) -> AwsClients:
    return AwsClients(
        boto3.session.Session(
            aws_access_key_id=KEY_ID,
            aws_secret_access_key=secret,
            aws_session_token=session_token,
        )
    )


@pytest.fixture(autouse=True)
def no_endpoint_override(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real endpoint resolution: no sandbox URL, no profile."""
    for name in (
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_STS",
        "AWS_USE_FIPS_ENDPOINT",
        "AWS_PROFILE",
        "AWS_CONFIG_FILE",
    ):
        monkeypatch.delenv(name, raising=False)


def decode(token: str) -> str:
    """What EKS's authenticator does first: strip the prefix, decode unpadded base64url."""
    assert token.startswith(TOKEN_PREFIX)
    body = token.removeprefix(TOKEN_PREFIX)
    assert "=" not in body  # unpadded, as get_token.py's rstrip('=')
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def signature_is_valid(url: str, cluster_header: str, secret: str) -> bool:
    """SigV4 query-string verification written from the IAM user guide ("Create a signed
    AWS API request"; presigned URLs carry the auth parameters in the query and sign
    `host` plus the listed headers), independent of botocore's signer. The authenticator
    sends the presigned GET with `x-k8s-aws-id` set to its own cluster's name, so that
    is the header value verified here."""
    parts = urlsplit(url)
    params = query(url)
    signature = params.pop("X-Amz-Signature")
    signed = params["X-Amz-SignedHeaders"].split(";")
    values = {"host": parts.netloc, "x-k8s-aws-id": cluster_header}
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(params.items())
    )
    canonical_headers = "".join(f"{name}:{values[name]}\n" for name in signed)
    canonical_request = "\n".join(
        [
            "GET",
            parts.path or "/",
            canonical_query,
            canonical_headers,
            ";".join(signed),
            hashlib.sha256(b"").hexdigest(),
        ]
    )
    _key, date, region, service, terminal = params["X-Amz-Credential"].split("/")
    scope = f"{date}/{region}/{service}/{terminal}"
    to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            params["X-Amz-Date"],
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, terminal):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def test_token_is_a_presigned_get_caller_identity_url_for_the_regional_sts_endpoint() -> None:
    url = decode(bearer_token(clients(), "eu-west-1", "prod").reveal())
    parts = urlsplit(url)
    params = query(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "sts.eu-west-1.amazonaws.com", "/")
    assert params["Action"] == "GetCallerIdentity"
    assert params["Version"] == "2011-06-15"
    assert params["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert params["X-Amz-Expires"] == "60"  # get_token.py URL_TIMEOUT
    assert params["X-Amz-Credential"].split("/")[2:] == ["eu-west-1", "sts", "aws4_request"]
    assert params["X-Amz-Security-Token"] == SESSION_TOKEN
    assert "x-k8s-aws-id" in params["X-Amz-SignedHeaders"].split(";")


def test_signature_verifies_for_its_cluster_only() -> None:
    url = decode(bearer_token(clients(), "eu-west-1", "prod").reveal())
    assert signature_is_valid(url, "prod", SECRET)
    # The authenticator of another cluster sends its own name: the signature must fail.
    assert not signature_is_valid(url, "staging", SECRET)
    assert not signature_is_valid(url, "prod", SECRET + "x")


def test_a_configured_endpoint_never_ends_up_in_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cluster's authenticator calls the URL and accepts only standard STS hosts
    (aws-iam-authenticator token.go, verifySTSHostnameFormat): AWS_ENDPOINT_URL, a VPC
    endpoint or the sandbox's loopback must not leak into it. FIPS, an endpoint setting
    the authenticator accepts, still applies."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4567")
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:4568")  # e.g. a VPC endpoint
    url = decode(bearer_token(clients(), "us-west-2", "prod").reveal())
    assert urlsplit(url).netloc == "sts.us-west-2.amazonaws.com"
    assert signature_is_valid(url, "prod", SECRET)
    monkeypatch.setenv("AWS_USE_FIPS_ENDPOINT", "true")
    url = decode(bearer_token(clients(), "us-west-2", "prod").reveal())
    assert urlsplit(url).netloc == "sts-fips.us-west-2.amazonaws.com"


def test_other_partitions_use_their_own_sts_domain() -> None:
    url = decode(bearer_token(clients(), "cn-north-1", "prod").reveal())
    assert urlsplit(url).netloc == "sts.cn-north-1.amazonaws.com.cn"


def test_long_term_credentials_sign_without_a_session_token() -> None:
    url = decode(bearer_token(clients(session_token=None), "eu-west-1", "prod").reveal())
    assert "X-Amz-Security-Token" not in query(url)
    assert signature_is_valid(url, "prod", SECRET)


def test_signing_makes_no_aws_call() -> None:
    run = clients()
    bearer_token(run, "eu-west-1", "prod")
    assert run.api_calls() == {}


def test_token_never_shows_in_repr_str_format_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    token = bearer_token(clients(), "eu-west-1", "prod")
    secret_part = token.reveal().removeprefix(TOKEN_PREFIX)[:40]
    logging.getLogger("test").warning("token %s %r %s", token, token, f"{token}")
    for shown in (repr(token), str(token), f"{token!r}", caplog.text):
        assert secret_part not in shown
        assert "redacted" in shown
    assert token.authorization() == f"Bearer {token.reveal()}"
    assert isinstance(token, BearerToken)


def test_missing_credentials_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    run = clients()
    monkeypatch.setattr(run, "signing_credentials", lambda: None)
    with pytest.raises(TokenError, match="no AWS credentials"):
        bearer_token(run, "eu-west-1", "prod")
