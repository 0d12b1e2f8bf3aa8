"""Check a request's Signature Version 4 signature against the account's secret key.

Why: each sandbox account has its own credentials; a client that signs with the wrong
secret must fail as it would on AWS (``SignatureDoesNotMatch``, 403), not be accepted
silently. The algorithm is the one of the IAM user guide, "Create a signed AWS API
request" (canonical request, string to sign, signing key derived from
``AWS4`` + secret, date, region, service, ``aws4_request``), with the canonical URI
encoded once more than the request path, as for every service but S3. Only the headers
the client listed in ``SignedHeaders`` are used, as a server does. Clock skew is not
checked. Presigned URLs (the signature in the query string, as in an EKS bearer token,
``services/kubernetes/authn.py``) are checked by ``presigned_signature_matches``.
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


def _expected_signature(
    method: str,
    canonical_uri: str,
    canonical_query: str,
    headers: Mapping[str, str],
    signed: str,
    payload_hash: str,
    credential: str,
    amz_date: str,
    secret_access_key: str,
) -> str | None:
    """The hex signature ``secret_access_key`` gives this canonical request (None when the
    credential scope is malformed). One home for the algorithm of both forms."""
    _key, date, region, service, terminal = (credential.split("/") + [""] * 5)[:5]
    if terminal != "aws4_request" or not amz_date.startswith(date):
        return None
    canonical_headers = "".join(
        f"{name}:{' '.join(headers.get(name, '').split())}\n" for name in signed.split(";")
    )
    canonical_request = "\n".join(
        [method.upper(), canonical_uri, canonical_query, canonical_headers, signed, payload_hash]
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
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


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
    payload_hash = headers.get("x-amz-content-sha256") or hashlib.sha256(body).hexdigest()
    expected = _expected_signature(
        method,
        quote(raw_path.split("?", 1)[0] or "/", safe="/~"),
        _canonical_query(query_string),
        headers,
        match["signed"],
        payload_hash,
        match["credential"],
        headers.get("x-amz-date", ""),
        secret_access_key,
    )
    return expected is not None and hmac.compare_digest(expected, match["signature"])


# A presigned URL's payload hash: botocore's SigV4QueryAuth signs the constant
# "UNSIGNED-PAYLOAD" (IAM user guide, "Authentication using query parameters": the payload
# is unknown when a URL is presigned); the guide's own examples hash the empty body. STS
# does not document which it accepts, so both are.
_PRESIGNED_PAYLOADS = ("UNSIGNED-PAYLOAD", hashlib.sha256(b"").hexdigest())


def presigned_signature_matches(
    method: str,
    raw_path: str,
    query_pairs: list[tuple[str, str]],
    headers: Mapping[str, str],
    secret_access_key: str,
) -> bool:
    """Whether a presigned URL's ``X-Amz-Signature`` is the one ``secret_access_key`` gives
    (IAM user guide, "Authentication using query parameters"): the canonical query string
    is every decoded parameter but the signature, re-encoded and sorted; ``headers`` (lower
    case, ``host`` included) are what the verifier sends with the URL.
    """
    params = dict(query_pairs)
    signature = params.get("X-Amz-Signature", "")
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
        for k, v in sorted(query_pairs)
        if k != "X-Amz-Signature"
    )
    for payload_hash in _PRESIGNED_PAYLOADS:
        expected = _expected_signature(
            method,
            quote(raw_path or "/", safe="/~"),
            canonical_query,
            headers,
            params.get("X-Amz-SignedHeaders", ""),
            payload_hash,
            params.get("X-Amz-Credential", ""),
            params.get("X-Amz-Date", ""),
            secret_access_key,
        )
        if expected is not None and hmac.compare_digest(expected, signature):
            return True
    return False
