"""The sample finding in the docs is what build_finding produces today."""

from __future__ import annotations

from tests.doc_samples import (
    SAMPLE_FINDING,
    SAMPLE_IN_CLUSTER_FINDING,
    sample_finding,
    sample_finding_text,
    sample_in_cluster_finding,
    sample_in_cluster_finding_text,
)


def test_the_docs_sample_finding_is_current() -> None:
    """Regenerate with `python -m tests.doc_samples` when the finding changes on purpose."""
    assert SAMPLE_FINDING.read_text() == sample_finding_text()


def test_the_sample_shows_what_the_page_describes() -> None:
    finding = sample_finding()
    fields = finding["ProductFields"]
    assert finding["Compliance"]["Status"] == "FAILED"
    assert fields["eks-netpol-auditor/Reason"] == "NETWORK_POLICY_DISABLED"
    assert fields["eks-netpol-auditor/RemediationAction"] == "dry_run"
    assert finding["CreatedAt"] < finding["UpdatedAt"]  # a later run kept CreatedAt


def test_the_docs_sample_in_cluster_finding_is_current() -> None:
    assert SAMPLE_IN_CLUSTER_FINDING.read_text() == sample_in_cluster_finding_text()


def test_the_in_cluster_sample_shows_what_the_page_describes() -> None:
    finding = sample_in_cluster_finding()
    fields = finding["ProductFields"]
    assert finding["GeneratorId"] == "eks-netpol-auditor/CIS-EKS-4.3.2"
    assert finding["Compliance"]["Status"] == "FAILED"
    assert fields["eks-netpol-auditor/Reason"] == "NAMESPACES_WITHOUT_POLICY"
    assert fields["eks-netpol-auditor/NamespacesWithoutPolicy"] == "checkout, ledger"
    assert "kubectl apply -n ledger" in finding["Remediation"]["Recommendation"]["Text"]
    assert "eks-netpol-auditor/RemediationManifest" in fields
    # The same cluster as the first sample: the two findings sit side by side.
    assert finding["Resources"][0]["Id"] == sample_finding()["Resources"][0]["Id"]
