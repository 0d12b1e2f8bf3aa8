"""Sandbox Security Hub: rate limits and concurrent imports.

They pin down the behaviours the finding publisher depends on, so a change to the emulator
that would let a broken publisher pass shows up here first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sandbox.services.securityhub import SecurityHubBackend, SecurityHubResponses
from tests.integration.sandbox.securityhub_support import (
    PRODUCT_ARN,
    REGION,
    FakeClock,
    call,
    error_code,
    finding,
    import_findings,
)

# -------------------------------------------------------------------------- rate limits


def _burst(hub: SecurityHubResponses, operation: str, body: dict[str, Any], n: int) -> list[int]:
    return [call(hub, operation, body).status for _ in range(n)]


def test_get_findings_rate_limit() -> None:
    clock = FakeClock()
    hub = SecurityHubResponses(SecurityHubBackend(clock=clock))
    statuses = _burst(hub, "GetFindings", {}, 7)
    assert statuses == [200] * 6 + [429]
    throttled = call(hub, "GetFindings")
    assert error_code(throttled) == "LimitExceededException"
    clock.advance(1.0)  # 3 TPS refill
    assert _burst(hub, "GetFindings", {}, 4) == [200, 200, 200, 429]
    # Buckets are per Region (and per account).
    assert call(hub, "GetFindings", region="us-east-1").status == 200
    assert call(hub, "GetFindings", account="210987654321").status == 200


def test_import_and_update_rate_limits() -> None:
    clock = FakeClock()
    hub = SecurityHubResponses(SecurityHubBackend(clock=clock))
    body = {"Findings": [finding()]}
    assert _burst(hub, "BatchImportFindings", body, 31) == [200] * 30 + [429]
    clock.advance(0.5)  # 10 TPS -> 5 tokens
    assert _burst(hub, "BatchImportFindings", body, 6) == [200] * 5 + [429]
    update = {"FindingIdentifiers": [{"Id": "x", "ProductArn": PRODUCT_ARN}], "Confidence": 1}
    assert _burst(hub, "BatchUpdateFindings", update, 31) == [200] * 30 + [429]


def test_rate_limits_can_be_disabled() -> None:
    hub = SecurityHubResponses(SecurityHubBackend(clock=FakeClock(), rate_limits=False))
    assert set(_burst(hub, "GetFindings", {}, 50)) == {200}


def test_concurrent_imports_are_consistent(hub: SecurityHubResponses) -> None:
    errors: list[BaseException] = []

    def worker(n: int) -> Callable[[], None]:
        def run() -> None:
            try:
                for i in range(20):
                    import_findings(hub, finding(f"t{n}-{i}"))
            except BaseException as exc:  # pragma: no cover - surfaced below
                errors.append(exc)

        return run

    threads = [threading.Thread(target=worker(n)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(hub.backend.findings(REGION)) == 160
