"""EKS bearer-token authentication, as the cluster's authenticator does it.

Why here: the sandbox's Kubernetes API must reject every token EKS rejects, so the
auditor's token code is tested against the real rules, not a shortcut. The token is
``k8s-aws-v1.`` + unpadded URL-safe base64 of a presigned STS ``GetCallerIdentity`` URL
(aws-cli ``customizations/eks/get_token.py``). The checks follow aws-iam-authenticator's
``pkg/token/token.go`` (``Verify``), the server EKS runs:

* at most 4 KiB; prefix ``k8s-aws-v1.``; base64 RawURLEncoding;
* ``https``, host an STS endpoint (``sts.amazonaws.com`` or ``sts.REGION.amazonaws.com``;
  "unexpected hostname"), path ``/``: a URL presigned for a configured endpoint (the
  sandbox's own ``AWS_ENDPOINT_URL`` included) is refused, as EKS refuses it;
* only the allow-listed query parameters, each once; ``Action=GetCallerIdentity``;
* ``x-k8s-aws-id`` among ``X-Amz-SignedHeaders`` ("client did not sign the x-k8s-aws-id
  header");
* ``X-Amz-Expires`` 0..900, and the token expires 15 minutes after ``X-Amz-Date``
  whatever ``X-Amz-Expires`` says ("X-Amz-Date parameter is expired (15 minute
  expiration)"); one dated more than 15 minutes ahead fails at STS;
* then the verifier sends the URL to STS with header ``x-k8s-aws-id: <its own cluster
  id>``, so the signature only holds for the cluster the token was made for. STS checks
  the SigV4 signature; here ``sigv4.presigned_signature_matches`` does, with the secret of
  the sandbox account that owns the access key (unknown keys: the default account).

The caller is the principal of that account (STS GetCallerIdentity's ``Arn``).
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

from sandbox.accounts import Accounts, Identity
from sandbox.sigv4 import presigned_signature_matches

TOKEN_PREFIX = "k8s-aws-v1."
MAX_TOKEN_BYTES = 4 * 1024  # maxTokenLenBytes
TOKEN_LIFETIME = timedelta(minutes=15)  # presignedURLExpiration
CLUSTER_ID_HEADER = "x-k8s-aws-id"
_STS_HOST = re.compile(r"^sts(\.[a-z0-9-]+)?\.amazonaws\.com$")
_ALLOWED_PARAMETERS = frozenset(
    {
        "action",
        "version",
        "x-amz-algorithm",
        "x-amz-credential",
        "x-amz-date",
        "x-amz-expires",
        "x-amz-security-token",
        "x-amz-signature",
        "x-amz-signedheaders",
    }
)


class TokenRejected(Exception):
    """The token does not authenticate; the reason is for the sandbox's tests, never sent
    (the API answers a bare 401 Unauthorized, as kube-apiserver does)."""


@dataclass(frozen=True)
class Caller:
    """Who a valid token proves the request comes from."""

    identity: Identity
    session_name: str | None  # the role session's name, for the access entry's username


def _decode(token: str) -> str:
    if len(token) > MAX_TOKEN_BYTES:
        raise TokenRejected("token is too large")
    if not token.startswith(TOKEN_PREFIX):
        raise TokenRejected(f"token is missing expected {TOKEN_PREFIX!r} prefix")
    body = token[len(TOKEN_PREFIX) :]
    if "=" in body:
        raise TokenRejected("illegal base64 data: padding")  # RawURLEncoding has none
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise TokenRejected("illegal base64 data") from None


@dataclass(frozen=True)
class _Presigned:
    """What the structural checks take from a token's presigned URL."""

    netloc: str
    path: str
    pairs: tuple[tuple[str, str], ...]
    access_key: str
    signed_at: datetime


@functools.lru_cache(maxsize=1024)
def _presigned(token: str) -> _Presigned:
    """Every check the token alone decides (TokenRejected when one fails). Cached, as is
    ``_signed_by``: a pure function of the token, and a cluster read sends one token with
    each of its six requests (``make bench``: 6,000 per run); a rejection is not cached
    and is judged again each time."""
    url = urlsplit(_decode(token))
    if url.scheme != "https":
        raise TokenRejected(f"unexpected scheme {url.scheme!r} in pre-signed URL")
    if not _STS_HOST.match(url.netloc):
        raise TokenRejected(f"unexpected hostname {url.netloc!r} in pre-signed URL")
    if url.path != "/":
        raise TokenRejected("unexpected path in pre-signed URL")
    pairs = parse_qsl(url.query, keep_blank_values=True)
    lower: dict[str, str] = {}
    for key, value in pairs:
        if key.lower() not in _ALLOWED_PARAMETERS:
            raise TokenRejected(f"non-whitelisted query parameter {key!r}")
        if key.lower() in lower:
            raise TokenRejected(f"duplicate query parameter found: {key!r}")
        lower[key.lower()] = value
    if lower.get("action") != "GetCallerIdentity":
        raise TokenRejected("unexpected action parameter in pre-signed URL")
    signed = [h.lower() for h in lower.get("x-amz-signedheaders", "").split(";")]
    if CLUSTER_ID_HEADER not in signed:
        raise TokenRejected("client did not sign the x-k8s-aws-id header in the pre-signed URL")
    expires = lower.get("x-amz-expires", "")
    if not expires.isdigit() or int(expires) > 900:
        raise TokenRejected(f"invalid X-Amz-Expires parameter in pre-signed URL: {expires}")
    try:
        signed_at = datetime.strptime(lower.get("x-amz-date", ""), "%Y%m%dT%H%M%SZ")
    except ValueError:
        raise TokenRejected("X-Amz-Date parameter must be present in pre-signed URL") from None
    access_key = lower.get("x-amz-credential", "").split("/")[0]
    return _Presigned(url.netloc, url.path, tuple(pairs), access_key, signed_at.replace(tzinfo=UTC))


@functools.lru_cache(maxsize=1024)
def _signed_by(presigned: _Presigned, cluster_name: str, secret_access_key: str) -> bool:
    """Whether STS would accept the URL sent with ``x-k8s-aws-id: cluster_name``."""
    headers = {"host": presigned.netloc, CLUSTER_ID_HEADER: cluster_name}
    return presigned_signature_matches(
        "GET", presigned.path, list(presigned.pairs), headers, secret_access_key
    )


def verify_token(
    token: str,
    cluster_name: str,
    accounts: Accounts,
    now: datetime,
    *,
    expired: bool = False,
) -> Caller:
    """The caller a token proves for ``cluster_name``; TokenRejected otherwise.

    ``expired`` (the ``expired_token`` fault) judges every token past its lifetime, as a
    verifier whose clock runs ahead would.
    """
    presigned = _presigned(token)
    signed_at = presigned.signed_at
    if expired or now > signed_at + TOKEN_LIFETIME:
        raise TokenRejected("X-Amz-Date parameter is expired (15 minute expiration)")
    if signed_at > now + TOKEN_LIFETIME:
        # SigV4: the request's time must be within 15 minutes of AWS's (IAM user guide,
        # "Create a signed AWS API request"), so STS refuses a URL signed further ahead
        # and the authenticator answers 401.
        raise TokenRejected("STS: Signature not yet current")
    access_key = presigned.access_key
    account = accounts.for_access_key(access_key)
    if not _signed_by(presigned, cluster_name, account.secret_access_key):
        # STS: SignatureDoesNotMatch (403), which the authenticator turns into a 401.
        raise TokenRejected("STS: SignatureDoesNotMatch")
    identity = Identity(account.id, access_key, account.identity.arn)
    session = account.identity.arn.split("/")[2] if identity.is_role_session else None
    return Caller(identity, session)
