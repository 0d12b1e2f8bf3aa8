"""With the in-cluster check off, publishing sends exactly what it sent before the second
control existed (issue 18, "Check off => behaviour, API calls, IAM and JSON unchanged").

`check_off_payloads.json` was recorded from the publisher as it was before the second control
(main at a8e5e82, whose first-control PASSED message already names the enforcing mode, issue
18 point 1) by `python -m tests.unit.securityhub.test_check_off_payloads`: every
BatchImportFindings and BatchUpdateFindings request, byte for byte, and the number of
GetFindings calls per region, over three runs (a first run; a fix, a regression, a deletion
and an unchanged cluster; a narrowed run with a confirmed deletion). Regenerate it only for
a change that is meant to alter what a check-off run sends, and say so in the CHANGELOG.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from eks_netpol_auditor.aws import AwsClients
from eks_netpol_auditor.config import Settings
from eks_netpol_auditor.evaluate import evaluate
from eks_netpol_auditor.model import Action, AuditResult, ClusterFacts, ClusterResult, Outcome
from eks_netpol_auditor.securityhub.publisher import Publisher
from tests.builders import ACCOUNT, described_cluster
from tests.unit.securityhub.fake_securityhub import FakeClients

GOLDEN = Path(__file__).with_name("check_off_payloads.json")
EU, US = "eu-west-1", "us-west-2"
DISABLED = '{"env":{"WARM_IP_TARGET":"5"}}'
T0 = datetime(2026, 11, 2, 6, 0, 0, 412000, tzinfo=UTC)


def _result(
    facts: list[ClusterFacts],
    *,
    listed: list[str],
    deleted: list[tuple[str, str]] | None = None,
    narrowed: bool = False,
) -> AuditResult:
    results = [ClusterResult(f, evaluate(f)) for f in facts]
    for cluster in results:
        if cluster.facts.name == "pay":
            cluster_remediation = Outcome(Action.DRY_RUN, "dry run: nothing was changed")
            results[results.index(cluster)] = dataclasses.replace(
                cluster, remediation=cluster_remediation
            )
    audit = AuditResult(
        ACCOUNT,
        "aws",
        [EU, US],
        results=results,
        listed_regions=listed,
        confirmed_deleted=deleted or [],
    )
    return dataclasses.replace(audit, narrowed=narrowed)


def _runs() -> list[tuple[Settings, AuditResult, datetime]]:
    """Three runs as the scheduled function and an event would make them."""
    full = Settings(regions=(EU, US), publish=True, home_region="us-east-1")
    first = _result(
        [
            described_cluster(EU, "pay", config=DISABLED),
            described_cluster(EU, "search"),
            described_cluster(EU, "edge", addon=False),
            described_cluster(US, "oregon"),
        ],
        listed=[EU, US],
    )
    # pay fixed, search broken, edge deleted, oregon unchanged (not re-imported).
    second = _result(
        [
            described_cluster(EU, "pay"),
            described_cluster(EU, "search", config=DISABLED),
            described_cluster(US, "oregon"),
        ],
        listed=[EU, US],
    )
    # An event run for search, which also learnt that oregon is gone.
    narrowed_settings = dataclasses.replace(full, cluster_names=frozenset({"search"}))
    third = _result(
        [described_cluster(EU, "search", config=DISABLED)],
        listed=[],
        deleted=[(US, "oregon")],
        narrowed=True,
    )
    return [
        (full, first, T0),
        (full, second, T0 + timedelta(hours=2)),
        (narrowed_settings, third, T0 + timedelta(hours=27)),
    ]


def _clock(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def record() -> list[dict[str, Any]]:
    """What each run sent: writes per region and GetFindings calls per region."""
    clients = FakeClients()
    recorded = []
    for settings, result, now in _runs():
        clients.clear()
        Publisher(settings, cast(AwsClients, clients), result, now=_clock(now)).run()
        recorded.append(
            {
                "writes": {
                    region: [[operation, body] for operation, body in writes]
                    for region, writes in clients.writes().items()
                },
                "get_findings_calls": {
                    region: len(hub.reads) for region, hub in sorted(clients.hubs.items())
                },
            }
        )
    return recorded


def test_a_check_off_run_sends_exactly_what_it_sent_before_the_second_control() -> None:
    assert json.loads(GOLDEN.read_text()) == json.loads(json.dumps(record()))


def test_the_recording_is_not_vacuous() -> None:
    """The runs import, resolve, note, archive and skip: each kind of write is pinned."""
    runs = json.loads(GOLDEN.read_text())
    operations = [op for run in runs for writes in run["writes"].values() for op, _ in writes]
    assert "BatchImportFindings" in operations and "BatchUpdateFindings" in operations
    archived = [
        f
        for run in runs
        for writes in run["writes"].values()
        for op, body in writes
        if op == "BatchImportFindings"
        for f in body["Findings"]
        if f["RecordState"] == "ARCHIVED"
    ]
    assert {f["Id"].split("/")[4] for f in archived} == {"edge", "oregon"}


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(record(), indent=1, sort_keys=True) + "\n")
