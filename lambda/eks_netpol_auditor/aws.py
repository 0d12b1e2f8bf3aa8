"""Shared boto3 clients: one Session, one client per (service, region), created once.

boto3 Sessions are not thread-safe but clients are (boto3 docs, "Multithreading or
multiprocessing with resources"), so clients are created under a lock and then shared by
every worker thread. Retries are botocore's `standard` mode (exponential backoff with
jitter, throttling-aware) rather than hand-written loops.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from .names import PRODUCT
from .setup_errors import explain_setup_error

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudtrail import CloudTrailClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_eks import EKSClient
    from mypy_boto3_securityhub import SecurityHubClient
    from mypy_boto3_sts import STSClient

# Enough attempts to ride out sustained throttling: standard mode backs off up to 20 s.
MAX_ATTEMPTS = 10
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 30
# The identity lookup (STS GetCallerIdentity) is every run's first call and doubles as the
# probe of the caller's setup: an endpoint nobody answers on must fail in seconds, not after
# 10 attempts of 30 s (issue 17, items 25/26). botocore's Config documents connect_timeout,
# read_timeout and retries.total_max_attempts (botocore docs, "Config Reference"; boto3
# guide, "Retries": standard mode defaults to 3 attempts). Worst case: 3 x 10 s plus backoff.
PROBE_MAX_ATTEMPTS = 3
PROBE_READ_TIMEOUT_SECONDS = 10


class AwsClients:
    """Client factory and API call counter shared by one audit run."""

    def __init__(
        self,
        session: boto3.session.Session | None = None,
        *,
        max_pool_connections: int = 32,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self._session = session or boto3.session.Session()
        self._config = Config(
            retries={"mode": "standard", "total_max_attempts": max_attempts},
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            read_timeout=READ_TIMEOUT_SECONDS,
            max_pool_connections=max_pool_connections,
            user_agent_extra=PRODUCT,
        )
        self._probe_config = self._config.merge(
            Config(
                retries={"mode": "standard", "total_max_attempts": PROBE_MAX_ATTEMPTS},
                read_timeout=PROBE_READ_TIMEOUT_SECONDS,
            )
        )
        self._clients: dict[tuple[str, str], Any] = {}
        self._standard_endpoints: dict[tuple[str, str], str] = {}
        self._paginated: set[str] = set()  # services whose paginator model is loaded
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()

    def _client(self, service: str, region: str) -> Any:
        key = (service, region)
        config = self._probe_config if service == "sts" else self._config  # STS: the probe only
        client = self._clients.get(key)
        if client is not None:
            return client
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                # endpoint_url is left to botocore so AWS_ENDPOINT_URL and config files apply.
                client = self._session.client(service, region_name=region, config=config)  # type: ignore[call-overload]
                client.meta.events.register("before-call", self._count)
                self._clients[key] = client
        return client

    def paginator(self, service: str, region: str, operation: str) -> Any:
        """The `operation` paginator of the (service, region) client.

        The first paginator of each service is made under the lock. botocore's model Loader
        caches per Session but without a lock, so the 16 regions of a run asking for their
        first paginator at once would each scan botocore's data directories and parse the
        paginator model again (profiled: 16 scans per run; a zero-cluster run's CPU fell
        from about 1.1 s to 0.6 s with the lock; bench/RESULTS.md, "What bounds it").
        """
        client = self._client(service, region)
        if service not in self._paginated:
            with self._lock:
                paginator = client.get_paginator(operation)
                self._paginated.add(service)
                return paginator
        return client.get_paginator(operation)

    def signing_credentials(self) -> Credentials | None:
        """The run's AWS credentials, for signing without a call (the EKS bearer token,
        incluster/token.py): the same ones every client of this set signs with. Resolved
        under the lock because a boto3 Session is not thread-safe; botocore refreshes
        temporary credentials itself (RefreshableCredentials)."""
        with self._lock:
            return self._session.get_credentials()

    def standard_endpoint_url(self, service: str, region: str) -> str:
        """`service`'s own endpoint in `region` as botocore resolves it (regional, FIPS or
        dual-stack as configured), ignoring configured endpoint URLs (AWS_ENDPOINT_URL,
        `endpoint_url` in config files; botocore Config `ignore_configured_endpoint_urls`).

        For URLs that a third party calls, not us: EKS's authenticator accepts a token's
        STS URL only on a standard STS host (aws-iam-authenticator `pkg/token/token.go`,
        `verifySTSHostnameFormat`), so a VPC or test endpoint must never end up in it.
        """
        key = (service, region)
        with self._lock:
            url = self._standard_endpoints.get(key)
            if url is None:
                config = Config(ignore_configured_endpoint_urls=True)  # type: ignore[call-arg]  # stubs lag botocore 1.31+
                client = self._session.client(service, region_name=region, config=config)  # type: ignore[call-overload]
                url = self._standard_endpoints[key] = str(client.meta.endpoint_url)
            return url

    def _count(self, model: Any, **_: Any) -> None:
        """Counts logical API calls (retries excluded) per service:operation."""
        name = f"{model.service_model.service_name}:{model.name}"
        with self._counts_lock:
            self._counts[name] += 1

    def api_calls(self) -> dict[str, int]:
        with self._counts_lock:
            return dict(sorted(self._counts.items()))

    def eks(self, region: str) -> EKSClient:
        return self._client("eks", region)  # type: ignore[no-any-return]

    def ec2(self, region: str) -> EC2Client:
        return self._client("ec2", region)  # type: ignore[no-any-return]

    def sts(self, region: str) -> STSClient:
        return self._client("sts", region)  # type: ignore[no-any-return]

    def securityhub(self, region: str) -> SecurityHubClient:
        return self._client("securityhub", region)  # type: ignore[no-any-return]

    # `doctor` only (the caller's own permissions, never the Lambda role's).
    def cloudformation(self, region: str) -> CloudFormationClient:
        return self._client("cloudformation", region)  # type: ignore[no-any-return]

    def cloudwatch(self, region: str) -> CloudWatchClient:
        return self._client("cloudwatch", region)  # type: ignore[no-any-return]

    def cloudtrail(self, region: str) -> CloudTrailClient:
        return self._client("cloudtrail", region)  # type: ignore[no-any-return]


# Every failed AWS call: AWS's own error answers, botocore's errors (connection, timeout,
# credentials), and an answer botocore could not parse. ResponseParserError
# (botocore/parsers.py) is not a BotoCoreError: an endpoint or proxy answering HTML to an
# XML-protocol call (STS, EC2) escaped `except (ClientError, BotoCoreError)` as a crash
# with the parser's multi-line text. (JSON-protocol services such as EKS read an HTML body
# as an error message instead of raising.)
AWS_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError, ResponseParserError)


def describe_error(error: Exception) -> str:
    """One line naming the AWS error code and message, never a traceback or credentials."""
    if isinstance(error, ResponseParserError):
        # The same line the CLI prints (setup_errors); the parser's own text spans lines.
        return explain_setup_error(error, os.environ) or type(error).__name__
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        code = info.get("Code", "Unknown")
        message = info.get("Message", "")
        return f"{code}: {message}" if message else code
    return f"{type(error).__name__}: {error}"


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
