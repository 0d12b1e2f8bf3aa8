"""Shared pytest fixtures: the local AWS sandbox and boto3 clients pointed at it.

Why fixtures set the environment: the product creates its own boto3 clients, so the only
way to keep tests off real AWS is the standard configuration chain. ``sandbox`` points
``AWS_ENDPOINT_URL`` at loopback, installs dummy credentials and removes every variable
(profiles, session tokens, web identity, container credentials, per-service endpoints)
through which real credentials or endpoints could leak in.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from hypothesis import settings

from sandbox.client import SandboxClient
from sandbox.environment import sandbox_overrides
from sandbox.server import SandboxServer

# Property tests: no per-example deadline (a loaded 2-core CI box made timing flaky), and
# in CI a fixed derandomised search so a run is reproducible from the commit alone.
settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


AwsClientFactory = Callable[..., Any]


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    """One in-process sandbox per test session, on a free loopback port."""
    server = SandboxServer("127.0.0.1", 0).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sandbox(
    sandbox_server: SandboxServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> SandboxClient:
    """A freshly reset sandbox, with this test's AWS environment pointed at it."""
    to_set, to_remove = sandbox_overrides(sandbox_server.endpoint, os.environ)
    for name in to_remove:
        monkeypatch.delenv(name, raising=False)
    for name, value in to_set.items():
        monkeypatch.setenv(name, value)
    client = SandboxClient(sandbox_server.endpoint)
    client.reset()
    return client


@pytest.fixture
def aws_client(sandbox: SandboxClient) -> AwsClientFactory:
    """Factory for boto3 clients against the sandbox: ``aws_client("eks", "eu-west-1")``.

    Retries default to a single attempt so tests see injected faults directly; pass
    ``attempts=3`` to exercise botocore's standard retry mode.
    """

    def make(service: str, region: str = "us-east-1", *, attempts: int = 1) -> Any:
        config = Config(
            retries={"mode": "standard", "total_max_attempts": attempts},
            max_pool_connections=32,
        )
        # Typed as Any: boto3-stubs overloads client() per literal service name.
        session: Any = boto3.session.Session()
        return session.client(
            service, region_name=region, endpoint_url=sandbox.endpoint, config=config
        )

    return make
