"""Check a request's Signature Version 4 signature against the account's secret key.

Why: each sandbox account has its own credentials; a client that signs with the wrong
secret must fail as it would on AWS (``SignatureDoesNotMatch``, 403), not be accepted
silently. The algorithm is the one of the IAM user guide, "Create a signed AWS API
request" (canonical request, string to sign, signing key derived from
``AWS4`` + secret, date, region, service, ``aws4_request``), with the canonical URI
encoded once more than the request path, as for every service but S3. Only the headers
the client listed in ``SignedHeaders`` are used, as a server does. Clock skew is not
checked.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from urllib.parse import quote

_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)
MISMATCH_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. Check "
    "your AWS Secret Access Key and signing method. Consult the service documentation for "
    "details."
)


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _canonical_query(query_string: str) -> str:
    pairs = [pair.partition("=") for pair in query_string.split("&") if pair]
    return "&".join(f"{k}={v}" for k, _, v in sorted((k, "", v) for k, _, v in pairs))


def signature_matches(
    method: str,
    raw_path: str,
    query_string: str,
    headers: Mapping[str, str],
    body: bytes,
    secret_access_key: str,
) -> bool:
    """Whether the Authorization header's signature is the one ``secret_access_key`` gives.

    ``headers`` have lower-case names; ``raw_path`` is the path as sent (still encoded).
    """
    match = _AUTHORIZATION.match(headers.get("authorization", "").strip())
    if match is None:
        return False
    _key, date, region, service, terminal = (match["credential"].split("/") + [""] * 5)[:5]
    amz_date = headers.get("x-amz-date", "")
    if terminal != "aws4_request" or not amz_date.startswith(date):
        return False
    signed = match["signed"].split(";")
    canonical_headers = "".join(
        f"{name}:{' '.join(headers.get(name, '').split())}\n" for name in signed
    )
    payload_hash = headers.get("x-amz-content-sha256") or hashlib.sha256(body).hexdigest()
    canonical_request = "\n".join(
        [
            method.upper(),
            quote(raw_path.split("?", 1)[0] or "/", safe="/~"),
            _canonical_query(query_string),
            canonical_headers,
            match["signed"],
            payload_hash,
        ]
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            amz_date,
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    key = _hmac(f"AWS4{secret_access_key}".encode(), date)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, match["signature"])
