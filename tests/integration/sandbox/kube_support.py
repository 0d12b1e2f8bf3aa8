"""Helpers for the tests of the sandbox clusters' Kubernetes API: a bearer token made as
``aws eks get-token`` makes it, and an HTTPS client that trusts only the cluster's CA.

The token follows aws-cli ``customizations/eks/get_token.py``: a botocore-presigned STS
``GetCallerIdentity`` URL (60 s) with header ``x-k8s-aws-id`` signed, base64url without
padding, prefix ``k8s-aws-v1.``.
"""

from __future__ import annotations

import base64
import json
import tempfile
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.session
import urllib3

PARTIAL = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
DEFAULT_PRINCIPAL = "arn:aws:iam::123456789012:user/sandbox"


def eks_token(
    cluster: str,
    *,
    access_key: str = "testing",
    secret: str = "testing",
    region: str = "us-east-1",
    sign_cluster_header: bool = True,
    sts_endpoint: str | None = None,
    expires: int = 60,
) -> str:
    session = botocore.session.get_session()
    session.set_credentials(access_key, secret)
    sts: Any = session.create_client(
        "sts",
        region_name=region,
        endpoint_url=sts_endpoint or f"https://sts.{region}.amazonaws.com",
    )

    def add_header(request: Any, **_kwargs: Any) -> None:
        if sign_cluster_header:
            request.headers["x-k8s-aws-id"] = cluster

    sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_header)
    url = sts.generate_presigned_url(
        "get_caller_identity", Params={}, ExpiresIn=expires, HttpMethod="GET"
    )
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


@dataclass
class KubeClient:
    """GETs against one cluster's endpoint, verifying TLS with its CA only."""

    endpoint: str
    ca_file: str
    token: str | None

    def get(
        self, path: str, *, accept: str | None = None, timeout: float = 10.0
    ) -> urllib3.BaseHTTPResponse:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if accept:
            headers["Accept"] = accept
        http = urllib3.PoolManager(ca_certs=self.ca_file, cert_reqs="CERT_REQUIRED")
        return http.request(
            "GET",
            self.endpoint + path,
            headers=headers,
            timeout=urllib3.Timeout(connect=3, read=timeout),
            retries=False,
            redirect=False,
        )

    def json(self, path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        response = self.get(path, **kwargs)
        return response.status, json.loads(response.data)


def describe(cluster: str, region: str = "us-east-1") -> dict[str, Any]:
    eks: Any = boto3.client("eks", region_name=region)
    cluster_info: dict[str, Any] = eks.describe_cluster(name=cluster)["cluster"]
    return cluster_info


def client_for(cluster: str, region: str = "us-east-1", token: str | None = "") -> KubeClient:
    """A client for ``cluster`` (DescribeCluster's endpoint and CA); ``token=""`` makes a
    valid token for the default account."""
    info = describe(cluster, region)
    with tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=False) as ca:
        ca.write(base64.b64decode(info["certificateAuthority"]["data"]))
    return KubeClient(info["endpoint"], ca.name, eks_token(cluster) if token == "" else token)
