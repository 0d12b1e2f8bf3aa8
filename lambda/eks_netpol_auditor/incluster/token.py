"""The EKS bearer token, built locally exactly as `aws eks get-token` builds it.

Format (aws-cli `awscli/customizations/eks/get_token.py`, `TokenGenerator.get_token`;
aws-iam-authenticator README, "API Authorization from Outside a Cluster"): `k8s-aws-v1.`
followed by the unpadded URL-safe base64 of an STS `GetCallerIdentity` GET URL, presigned
with SigV4 query parameters, whose signed headers include `x-k8s-aws-id: <cluster name>`
so the token is good for that one cluster only. The CLI presigns for 60 s (`URL_TIMEOUT`);
the authenticator ignores that value beyond checking it is 0..900 and accepts the URL for
15 minutes after its `X-Amz-Date` (aws-iam-authenticator `pkg/token/token.go`,
`presignedURLExpiration`), far longer than a cluster's read budget, so one token per
cluster per read is enough.

Presigning is local: no STS call is made and no IAM action is needed (the API server asks
STS on our behalf; GetCallerIdentity needs no permission). The token is a credential for
15 minutes: it is kept in `BearerToken`, whose repr and str never show it.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from botocore.hooks import HierarchicalEmitter
from botocore.model import ServiceId
from botocore.signers import RequestSigner

if TYPE_CHECKING:
    from botocore.credentials import Credentials

    from ..aws import AwsClients

TOKEN_PREFIX = "k8s-aws-v1."  # noqa: S105 (a format prefix, not a secret)
CLUSTER_ID_HEADER = "x-k8s-aws-id"
# aws-cli get_token.py URL_TIMEOUT; the authenticator rejects more than 900.
PRESIGN_SECONDS = 60
# The query of an STS GetCallerIdentity GET (STS API reference, "GetCallerIdentity";
# aws-cli get_token.py AUTH_COMMAND / AUTH_API_VERSION).
_GET_CALLER_IDENTITY = "?Action=GetCallerIdentity&Version=2011-06-15"


class TokenError(Exception):
    """The token could not be signed (no credentials, or they could not be refreshed)."""


class BearerToken:
    """An EKS bearer token that never shows itself in a log, repr, str or traceback."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def authorization(self) -> str:
        """The `Authorization` header value (Kubernetes "Authenticating", bearer tokens)."""
        return f"Bearer {self._value}"

    def reveal(self) -> str:
        """The token itself: for the Authorization header and for tests, never for logs."""
        return self._value

    def __repr__(self) -> str:
        return "BearerToken(<redacted>)"

    __str__ = __repr__


def presigned_url(
    credentials: Credentials, endpoint_url: str, region: str, cluster_name: str
) -> str:
    """The presigned STS GetCallerIdentity URL with `x-k8s-aws-id` signed.

    botocore's `RequestSigner.generate_presigned_url`, as in the aws-iam-authenticator
    README's Python example; the CLI reaches the same signer through an STS client with
    the header injected in `before-sign`. A private event emitter keeps the shared
    clients' handlers out of it. `endpoint_url` is the standard regional STS endpoint
    (AwsClients.standard_endpoint_url): the cluster's authenticator, not us, calls this
    URL and accepts only standard STS hosts, so AWS_ENDPOINT_URL must not apply here.
    """
    # RequestSigner keeps only a weak reference to its emitter: hold it for the call.
    emitter = HierarchicalEmitter()
    signer = RequestSigner(ServiceId("STS"), region, "sts", "v4", credentials, emitter)
    request = {
        "method": "GET",
        "url": endpoint_url.rstrip("/") + "/" + _GET_CALLER_IDENTITY,
        "body": {},
        "headers": {CLUSTER_ID_HEADER: cluster_name},
        "context": {},
    }
    url: str = signer.generate_presigned_url(
        request, operation_name="GetCallerIdentity", expires_in=PRESIGN_SECONDS, region_name=region
    )
    return url


def encode(url: str) -> str:
    """`k8s-aws-v1.` + unpadded URL-safe base64 (get_token.py: `rstrip('=')`)."""
    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def bearer_token(clients: AwsClients, region: str, cluster_name: str) -> BearerToken:
    """A fresh token for `cluster_name` in `region`, signed with the run's credentials."""
    credentials = clients.signing_credentials()
    if credentials is None:
        raise TokenError("no AWS credentials to sign the EKS token with")
    try:
        url = presigned_url(
            credentials, clients.standard_endpoint_url("sts", region), region, cluster_name
        )
    except Exception as error:  # botocore refresh errors vary; the token must not leak
        raise TokenError(f"the EKS token could not be signed ({type(error).__name__})") from None
    return BearerToken(encode(url))
