"""Sandbox Security Hub: enablement per region, unknown operations, reset.

They pin down the behaviours the finding publisher depends on, so a change to the emulator
that would let a broken publisher pass shows up here first.
"""

from __future__ import annotations

import json

from sandbox.services.securityhub import SecurityHubResponses
from tests.builders import ACCOUNT
from tests.integration.sandbox.securityhub_support import (
    PRODUCT_ARN,
    REGION,
    call,
    error_code,
    finding,
    get_findings,
    import_findings,
)

# -------------------------------------------------------------------------- enablement, misc


def test_disabled_region_rejects_every_operation(hub: SecurityHubResponses) -> None:
    hub.backend.set_enabled(REGION, False)
    for operation, body in (
        ("BatchImportFindings", {"Findings": [finding()]}),
        ("BatchUpdateFindings", {"FindingIdentifiers": [{"Id": "a", "ProductArn": PRODUCT_ARN}]}),
        ("GetFindings", {}),
        ("DescribeHub", {}),
    ):
        response = call(hub, operation, body)
        assert response.status == 401
        assert error_code(response) == "InvalidAccessException"
        assert response.body["message"] == (
            "Account 123456789012 is not subscribed to AWS Security Hub"
        )
    assert call(hub, "DescribeHub", region="us-east-1").status == 200
    hub.backend.set_enabled(REGION, True)
    described = call(hub, "DescribeHub")
    assert described.body["HubArn"] == f"arn:aws:securityhub:{REGION}:{ACCOUNT}:hub/default"


def test_unknown_operation(hub: SecurityHubResponses) -> None:
    response = call(hub, "EnableSecurityHub")
    assert response.status == 400
    assert "not implemented" in response.body["message"]


def test_reset_and_copies(hub: SecurityHubResponses) -> None:
    import_findings(hub, finding())
    hub.backend.findings(REGION)[0]["Title"] = "mutated"
    assert hub.backend.findings(REGION)[0]["Title"] != "mutated"
    hub.backend.set_enabled(REGION, False)
    hub.reset()
    assert hub.backend.findings(REGION) == []
    assert call(hub, "DescribeHub").status == 200


def test_responses_are_json_serialisable(populated: SecurityHubResponses) -> None:
    json.loads(get_findings(populated).encode())
