"""Fixtures shared by the sandbox Security Hub emulator tests (one place for all of them)."""

from __future__ import annotations

import pytest

from sandbox.services.securityhub import SecurityHubBackend, SecurityHubResponses
from tests.integration.sandbox.securityhub_support import (
    ADMIN,
    MEMBER_A,
    MEMBER_B,
    OUTSIDER,
    finding,
    import_as,
    import_findings,
    owned,
)


@pytest.fixture
def hub() -> SecurityHubResponses:
    return SecurityHubResponses(SecurityHubBackend(rate_limits=False))


@pytest.fixture
def populated(hub: SecurityHubResponses) -> SecurityHubResponses:
    import_findings(
        hub,
        finding("prod-a", Compliance={"Status": "FAILED"}),
        finding("prod-b", Compliance={"Status": "PASSED"}, RecordState="ARCHIVED"),
        finding(
            "dev-a",
            Compliance={"Status": "WARNING"},
            ProductFields={"acme/netpol/Reason": "addon-missing"},
        ),
        finding("dev-b", Compliance={"Status": "PASSED"}),
    )
    return hub


@pytest.fixture
def org(hub: SecurityHubResponses) -> SecurityHubResponses:
    hub.backend.set_organization(ADMIN, [MEMBER_A, MEMBER_B])
    import_as(hub, ADMIN, owned(ADMIN, "admin-1"))
    import_as(hub, MEMBER_A, owned(MEMBER_A, "a-1"), owned(MEMBER_A, "a-2", RecordState="ARCHIVED"))
    import_as(hub, MEMBER_B, owned(MEMBER_B, "b-1", Compliance={"Status": "PASSED"}))
    import_as(hub, OUTSIDER, owned(OUTSIDER, "x-1"))
    return hub
