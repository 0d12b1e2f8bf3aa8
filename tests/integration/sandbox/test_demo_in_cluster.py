"""The demo estate shows every row of the second control's table (issue 18): each demo
cluster is described, read through its sandbox Kubernetes API with the auditor's reader,
and judged by the auditor's rules, as the pipeline does with the in-cluster check on."""

from __future__ import annotations

from dataclasses import replace

from eks_netpol_auditor.aws import AwsClients
from eks_netpol_auditor.discovery import describe_cluster
from eks_netpol_auditor.incluster.model import DEFAULT_EXCLUDED_NAMESPACES
from eks_netpol_auditor.incluster.reader import read_cluster
from eks_netpol_auditor.incluster.verdict import evaluate_in_cluster
from eks_netpol_auditor.model import EXEMPT_TAG, ClusterFacts
from sandbox.client import SandboxClient
from sandbox.seeds import DEMO_AUDITOR, DEMO_IN_CLUSTER, seed_demo

# Rows of the table in docs/in-cluster.md that the demo must show at least once.
TABLE_ROWS = {
    "CLUSTER_NOT_READY",
    "ENDPOINT_PRIVATE",
    "ENDPOINT_UNREACHABLE",
    "ACCESS_ENTRIES_UNAVAILABLE",
    "NOT_ENROLLED",
    "ENFORCEMENT_NOT_RUNNING",
    "DEFAULT_DENY",
    "NAMESPACES_WITHOUT_POLICY",
    "NAMESPACES_COVERED",
}


def _judge(clients: AwsClients, region: str, name: str) -> str:
    facts = describe_cluster(clients, "123456789012", "aws", region, name)
    assert isinstance(facts, ClusterFacts)
    readable = (
        facts.status == "ACTIVE"
        and EXEMPT_TAG not in facts.tags
        and facts.api is not None
        and facts.api.public_access
    )
    if readable:
        facts = replace(facts, kube=read_cluster(clients, facts))
    verdict = evaluate_in_cluster(facts, DEFAULT_EXCLUDED_NAMESPACES, principal_arn=DEMO_AUDITOR)
    return verdict.reason.value


def test_every_row_of_the_in_cluster_table_is_in_the_demo(sandbox: SandboxClient) -> None:
    seed_demo(sandbox)
    clients = AwsClients()
    seen = {key: _judge(clients, *key) for key in DEMO_IN_CLUSTER}
    assert seen == DEMO_IN_CLUSTER
    assert set(seen.values()) >= TABLE_ROWS
