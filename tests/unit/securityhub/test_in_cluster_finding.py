"""The second control's finding (CIS 4.3.2): valid ASFF within the limits, its own identity
beside the first control's, and remediation text that is never a cut manifest."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
import yaml

from eks_netpol_auditor.evaluate import evaluate
from eks_netpol_auditor.incluster.model import (
    IN_CLUSTER_CONTROL_ID,
    InClusterReason,
    InClusterVerdict,
)
from eks_netpol_auditor.incluster.verdict import DEFAULT_DENY_MANIFEST, NAMES_SHOWN
from eks_netpol_auditor.model import ClusterResult, ComplianceStatus
from eks_netpol_auditor.securityhub.asff import (
    DIGEST_FIELD,
    GENERATOR_ID,
    IN_CLUSTER_GENERATOR_ID,
    MAX_PRODUCT_FIELD_VALUE,
    MAX_RECOMMENDATION_TEXT,
    archived,
    build_finding,
    finding_control,
    finding_id,
    parse_finding_id,
)
from eks_netpol_auditor.securityhub.in_cluster_finding import (
    ACCESS_ENTRIES_URL,
    COMMAND_FIELD,
    MANIFEST_FIELD,
    MESSAGE_FIELD,
    NETWORK_POLICIES_URL,
    build_in_cluster_finding,
)
from tests.builders import ACCOUNT, described_cluster, in_cluster_verdict
from tests.unit.securityhub.test_asff import NOW, assert_valid_asff

FAILED, PASSED = ComplianceStatus.FAILED, ComplianceStatus.PASSED
NA, WARNING = ComplianceStatus.NOT_AVAILABLE, ComplianceStatus.WARNING


def result(verdict: InClusterVerdict | None = None, name: str = "prod") -> ClusterResult:
    facts = described_cluster("eu-west-1", name)
    return ClusterResult(facts, evaluate(facts), in_cluster=verdict or in_cluster_verdict())


def build(cluster: ClusterResult, **kwargs: Any) -> dict[str, Any]:
    return build_in_cluster_finding(cluster, delivery_region="eu-west-1", now=NOW, **kwargs)


@pytest.mark.parametrize(
    ("verdict", "severity"),
    [
        (in_cluster_verdict(FAILED), "MEDIUM"),
        (
            in_cluster_verdict(
                FAILED, InClusterReason.ENFORCEMENT_NOT_RUNNING, "aws-node lacks the agent"
            ),
            "MEDIUM",
        ),
        (in_cluster_verdict(PASSED, InClusterReason.NAMESPACES_COVERED), "INFORMATIONAL"),
        (in_cluster_verdict(PASSED, InClusterReason.DEFAULT_DENY, "strict mode"), "INFORMATIONAL"),
        (in_cluster_verdict(NA, InClusterReason.CLUSTER_NOT_READY, "CREATING"), "INFORMATIONAL"),
        (in_cluster_verdict(NA, InClusterReason.ENDPOINT_PRIVATE, "private only"), "LOW"),
        (in_cluster_verdict(NA, InClusterReason.NOT_ENROLLED, "aws eks ...\naws eks ..."), "LOW"),
        (in_cluster_verdict(WARNING, InClusterReason.EXEMPTED, "exempt tag"), "LOW"),
    ],
    ids=lambda v: v.reason.value if isinstance(v, InClusterVerdict) else v,
)
def test_every_verdict_builds_a_valid_finding(verdict: InClusterVerdict, severity: str) -> None:
    finding = build(result(verdict))
    assert_valid_asff(finding)
    assert finding["Id"] == finding_id("aws", ACCOUNT, "eu-west-1", "prod", IN_CLUSTER_CONTROL_ID)
    assert finding["GeneratorId"] == IN_CLUSTER_GENERATOR_ID == "eks-netpol-auditor/CIS-EKS-4.3.2"
    assert finding["Compliance"] == {
        "Status": verdict.status.value,
        "RelatedRequirements": ["CIS Amazon EKS Benchmark/4.3.2"],
    }
    assert finding["FindingProviderFields"]["Severity"]["Label"] == severity
    fields = finding["ProductFields"]
    assert fields["eks-netpol-auditor/Control"] == "CIS-EKS-4.3.2"
    assert fields["eks-netpol-auditor/Reason"] == verdict.reason.value
    assert finding["Resources"][0]["Id"] == "arn:aws:eks:eu-west-1:123456789012:cluster/prod"


def test_the_two_controls_are_two_findings_of_one_cluster() -> None:
    """Own Id and GeneratorId (users filter and alert on either control alone); the same
    resource, account and region, so both sit side by side on the cluster."""
    cluster = result()
    one = build_finding(cluster, delivery_region="eu-west-1", now=NOW)
    two = build(cluster)
    assert one["Id"] != two["Id"] and one["GeneratorId"] == GENERATOR_ID != two["GeneratorId"]
    assert one["Resources"][0]["Id"] == two["Resources"][0]["Id"]
    assert [parse_finding_id(f["Id"]) for f in (one, two)] == [
        ("aws", ACCOUNT, "eu-west-1", "prod")
    ] * 2
    assert [finding_control(f["Id"]) for f in (one, two)] == ["CIS-EKS-5.4.4", "CIS-EKS-4.3.2"]


def test_the_id_does_not_change_with_the_verdict() -> None:
    ids = {
        build(result(v))["Id"]
        for v in (
            in_cluster_verdict(FAILED),
            in_cluster_verdict(PASSED, InClusterReason.NAMESPACES_COVERED),
            in_cluster_verdict(NA, InClusterReason.NOT_ENROLLED, "enrol"),
        )
    }
    assert len(ids) == 1


def test_failed_coverage_carries_namespaces_pods_and_mode() -> None:
    finding = build(result(in_cluster_verdict(FAILED)))
    fields = finding["ProductFields"]
    assert fields["eks-netpol-auditor/NamespacesWithoutPolicy"] == "shop, web"
    assert fields["eks-netpol-auditor/NamespacesWithoutPolicyCount"] == "2"
    assert fields["eks-netpol-auditor/PodsNotSelected"] == "7"
    assert fields["eks-netpol-auditor/EnforcingMode"] == "standard"
    assert "shop, web" in finding["Description"]
    assert MESSAGE_FIELD not in fields  # the message fits: nothing repeated


def test_failed_coverage_carries_the_rules_manifest_and_commands_whole() -> None:
    """The default-deny manifest and kubectl commands come from the rules
    (incluster/verdict.py), one line each in ProductFields, never cut; the Recommendation
    gives the steps within its 512 characters."""
    finding = build(result(in_cluster_verdict(FAILED, namespaces=("shop", "web"))))
    fields = finding["ProductFields"]
    assert json.loads(fields[MANIFEST_FIELD]) == yaml.safe_load(DEFAULT_DENY_MANIFEST)
    commands = (
        "kubectl apply -n shop -f default-deny-all.yaml && "
        "kubectl apply -n web -f default-deny-all.yaml"
    )
    assert fields[COMMAND_FIELD] == commands
    text = finding["Remediation"]["Recommendation"]
    assert text["Text"].endswith(commands)
    assert text["Text"].startswith("First add NetworkPolicies that allow")
    assert len(text["Text"]) <= MAX_RECOMMENDATION_TEXT
    assert text["Url"] == NETWORK_POLICIES_URL


def test_many_uncovered_namespaces_point_to_the_commands_field() -> None:
    names = tuple(f"team-{i:02d}-" + "n" * 40 for i in range(30))
    finding = build(result(in_cluster_verdict(FAILED, namespaces=names)))
    text = finding["Remediation"]["Recommendation"]["Text"]
    assert text.endswith(f"(the commands are in ProductFields {COMMAND_FIELD}).")
    assert "kubectl" not in text  # never a cut command
    command = finding["ProductFields"][COMMAND_FIELD]
    assert command.count("kubectl apply") == NAMES_SHOWN  # the rules' own choice


def test_a_long_message_goes_whole_to_product_fields_never_cut() -> None:
    """NOT_ENROLLED carries the two enrolment commands: too long for 512 characters, so the
    Recommendation says what to do and where the whole message is."""
    message = (
        "The auditor may not read this cluster (HTTP 403): it has no access entry with "
        "AmazonEKSViewPolicy. Grant it read-only access at cluster scope: aws eks "
        "create-access-entry --region eu-west-1 --cluster-name prod --principal-arn "
        "arn:aws:iam::123456789012:role/" + "r" * 200 + " --type STANDARD && aws eks "
        "associate-access-policy --region eu-west-1 --cluster-name prod --principal-arn "
        "arn:aws:iam::123456789012:role/" + "r" * 200 + " --policy-arn "
        "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy --access-scope type=cluster"
    )
    finding = build(result(in_cluster_verdict(NA, InClusterReason.NOT_ENROLLED, message)))
    text = finding["Remediation"]["Recommendation"]["Text"]
    assert "--principal-arn" not in text
    assert "access entry with AmazonEKSViewPolicy" in text
    assert f"ProductFields {MESSAGE_FIELD}" in text and "in_cluster.message" in text
    assert finding["ProductFields"][MESSAGE_FIELD] == message
    assert_valid_asff(finding)


def test_a_one_line_message_that_fits_is_the_recommendation() -> None:
    verdict = in_cluster_verdict(
        NA, InClusterReason.ENDPOINT_PRIVATE, "The API endpoint is private only."
    )
    assert build(result(verdict))["Remediation"]["Recommendation"]["Text"] == (
        "The API endpoint is private only."
    )
    passed = in_cluster_verdict(PASSED, InClusterReason.NAMESPACES_COVERED, "All covered.")
    assert build(result(passed))["Remediation"]["Recommendation"]["Text"] == (
        "No action needed: All covered."
    )


def test_enrolment_points_to_the_access_entries_guide() -> None:
    verdict = in_cluster_verdict(NA, InClusterReason.NOT_ENROLLED, "aws eks create-access-entry")
    assert build(result(verdict))["Remediation"]["Recommendation"]["Url"] == ACCESS_ENTRIES_URL


def test_huge_verdicts_stay_within_every_limit() -> None:
    names = tuple(f"team-{i:04d}-" + "n" * 50 for i in range(400))
    verdict = in_cluster_verdict(
        FAILED, message="x" * 5000, namespaces=names, pods_not_selected=10**6
    )
    finding = build(result(verdict))
    assert_valid_asff(finding)
    fields = finding["ProductFields"]
    assert MESSAGE_FIELD not in fields  # over 2,048 characters: not at all, never cut
    assert len(fields["eks-netpol-auditor/NamespacesWithoutPolicy"]) <= MAX_PRODUCT_FIELD_VALUE
    assert fields["eks-netpol-auditor/NamespacesWithoutPolicyCount"] == "400"


def test_the_digest_sees_coverage_changes_but_not_the_clock() -> None:
    base = result(in_cluster_verdict(FAILED, namespaces=("shop",)))
    later = build(base, existing={"CreatedAt": "2026-01-01T00:00:00.000Z"})
    assert build(base)["ProductFields"][DIGEST_FIELD] == later["ProductFields"][DIGEST_FIELD]
    other = replace(base, in_cluster=in_cluster_verdict(FAILED, namespaces=("shop", "web")))
    assert build(other)["ProductFields"][DIGEST_FIELD] != later["ProductFields"][DIGEST_FIELD]


def test_a_cluster_without_the_check_has_no_second_finding() -> None:
    facts = described_cluster("eu-west-1", "prod")
    with pytest.raises(ValueError, match="did not run"):
        build(ClusterResult(facts, evaluate(facts)))


def test_archiving_because_the_check_is_off_says_so() -> None:
    stored = build(result())
    copy = archived(stored, NOW, "IN_CLUSTER_CHECK_OFF")
    assert copy["RecordState"] == "ARCHIVED"
    assert copy["ProductFields"]["eks-netpol-auditor/ArchivedReason"] == "IN_CLUSTER_CHECK_OFF"
    assert "eks-netpol-auditor/ArchivedReason" not in archived(stored, NOW)["ProductFields"]
