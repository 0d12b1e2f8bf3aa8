"""The publisher with both controls (issue 18), against the in-memory Security Hub: a moved
finding leaves one active copy per control, and a refused second finding is reported as the
in-cluster control's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from eks_netpol_auditor.aws import AwsClients
from eks_netpol_auditor.config import Settings
from eks_netpol_auditor.evaluate import evaluate
from eks_netpol_auditor.incluster.model import IN_CLUSTER_CONTROL_ID
from eks_netpol_auditor.model import AuditResult, ClusterResult, PublishReport
from eks_netpol_auditor.securityhub.asff import finding_id
from eks_netpol_auditor.securityhub.publisher import Publisher
from tests.builders import ACCOUNT, described_cluster, in_cluster_verdict
from tests.unit.securityhub.fake_securityhub import FakeClients, FakeSecurityHub

EU, HOME, CENTRAL = "eu-west-1", "us-east-1", "eu-central-1"
NOW = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


def _clock(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def result() -> AuditResult:
    facts = described_cluster(EU, "shop")
    cluster = ClusterResult(facts, evaluate(facts), in_cluster=in_cluster_verdict())
    return AuditResult(ACCOUNT, "aws", [EU], results=[cluster], listed_regions=[EU])


def run(clients: FakeClients, **changes: Any) -> PublishReport:
    settings = Settings(
        regions=(EU,), publish=True, home_region=HOME, in_cluster_check=True, **changes
    )
    return Publisher(settings, cast(AwsClients, clients), result(), now=_clock(NOW)).run()


def active(hub: FakeSecurityHub) -> list[str]:
    return sorted(f for f, v in hub.stored.items() if v["RecordState"] == "ACTIVE")


def test_a_moved_region_leaves_one_active_copy_per_control() -> None:
    clients = FakeClients()
    run(clients)
    both = sorted(
        [
            finding_id("aws", ACCOUNT, EU, "shop"),
            finding_id("aws", ACCOUNT, EU, "shop", IN_CLUSTER_CONTROL_ID),
        ]
    )
    assert active(clients.securityhub(EU)) == both
    report = run(clients, findings_region=CENTRAL)
    assert active(clients.securityhub(CENTRAL)) == both
    assert active(clients.securityhub(EU)) == []  # both old copies archived as moved
    assert report.archived == 2


class RefusingHub(FakeSecurityHub):
    """Refuses every second-control finding, as Security Hub answers FailedFindings."""

    def batch_import_findings(self, **kwargs: Any) -> dict[str, Any]:
        refused = [f for f in kwargs["Findings"] if f["Id"].endswith(IN_CLUSTER_CONTROL_ID)]
        kept = [f for f in kwargs["Findings"] if f not in refused]
        if kept:
            super().batch_import_findings(Findings=kept)
        failed = [
            {"Id": f["Id"], "ErrorCode": "InvalidInput", "ErrorMessage": "x"} for f in refused
        ]
        return {"FailedCount": len(failed), "SuccessCount": len(kept), "FailedFindings": failed}


def test_a_refused_second_finding_is_reported_as_the_in_cluster_controls() -> None:
    clients = FakeClients()
    clients.hubs[EU] = RefusingHub(EU)
    report = run(clients)
    assert (report.published, report.failed) == (1, 1)
    [error] = report.errors
    assert error.cluster == "shop"
    assert error.error == (
        "Security Hub CSPM rejected the finding in eu-west-1: InvalidInput: x "
        "(in-cluster control CIS-EKS-4.3.2)"
    )
    assert report.finding_regions == {(EU, "shop"): EU}  # the first finding is delivered
