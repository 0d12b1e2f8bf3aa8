"""The ASFF finding builder: valid against the botocore model and ASFF limits, stable ids."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.session
import pytest
from botocore.model import StructureShape
from botocore.validate import ParamValidator
from hypothesis import given, settings
from hypothesis import strategies as st

from eks_netpol_auditor.evaluate import USER_GUIDE_URL, evaluate
from eks_netpol_auditor.model import (
    AddonFacts,
    ClusterFacts,
    ClusterResult,
    ComplianceStatus,
    Reason,
)
from eks_netpol_auditor.remediation import Action, Guard, Outcome, UpdateRequest
from eks_netpol_auditor.securityhub.asff import (
    DIGEST_FIELD,
    EKS_DETAIL_FIELDS,
    EKS_VPC_CONFIG_FIELDS,
    FINDING_TYPE,
    GENERATOR_ID,
    MAX_DESCRIPTION,
    MAX_FINDING_BYTES,
    MAX_NOTE_TEXT,
    MAX_RECOMMENDATION_TEXT,
    MAX_TAG_KEY,
    MAX_TAG_VALUE,
    MAX_TAGS,
    MAX_TITLE,
    archived,
    build_finding,
    finding_id,
    finding_size,
    fresh_updated_at,
    parse_finding_id,
    parse_timestamp,
    product_fields,
    remediation_note,
    resource_tags,
)
from tests import builders
from tests.builders import ACCOUNT

NOW = datetime(2026, 11, 5, 10, 0, 0, 123000, tzinfo=UTC)
SERVICE = botocore.session.get_session().get_service_model("securityhub")
_IMPORT_INPUT = SERVICE.operation_model("BatchImportFindings").input_shape
assert _IMPORT_INPUT is not None
IMPORT_INPUT: StructureShape = _IMPORT_INPUT


def facts(
    name: str = "prod",
    region: str = "eu-west-1",
    *,
    config: str | None = '{"env":{"WARM_IP_TARGET":"5"}}',
    version: str = "v1.19.0-eksbuild.1",
    tags: dict[str, str] | None = None,
    **extra: Any,
) -> ClusterFacts:
    arn = f"arn:aws:eks:{region}:{ACCOUNT}:cluster/{name}"
    return ClusterFacts(
        account=ACCOUNT,
        partition="aws",
        region=region,
        name=name,
        arn=arn,
        kubernetes_version="1.31",
        platform_version="eks.12",
        tags=tags if tags is not None else {"team": "payments"},
        addon=AddonFacts(version=version, status="ACTIVE", configuration_values=config),
        details={
            "Arn": arn,
            "ClusterStatus": "ACTIVE",
            "Endpoint": "https://ABC.gr7.eu-west-1.eks.amazonaws.com",
            "Name": name,
            "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/eks",
            "Version": "1.31",
            "ResourcesVpcConfig": {
                "SecurityGroupIds": ["sg-1"],
                "SubnetIds": ["subnet-1", "subnet-2"],
                "EndpointPublicAccess": False,
            },
        },
        **extra,
    )


def result(
    cluster: ClusterFacts | None = None, remediation: Outcome | None = None
) -> ClusterResult:
    cluster = cluster or facts()
    return ClusterResult(cluster, evaluate(cluster), remediation=remediation)


def build(cluster_result: ClusterResult, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("delivery_region", cluster_result.facts.region)
    kwargs.setdefault("now", NOW)
    return build_finding(cluster_result, **kwargs)


def assert_valid_asff(finding: dict[str, Any]) -> None:
    """What BatchImportFindings would reject: model shape, ASFF lengths, non-blank strings."""
    report = ParamValidator().validate({"Findings": [finding]}, IMPORT_INPUT)
    assert not report.has_errors(), report.generate_report()
    assert len(finding["Id"]) <= 512
    assert len(finding["GeneratorId"]) <= 512
    assert 1 <= len(finding["Title"]) <= MAX_TITLE
    assert 1 <= len(finding["Description"]) <= MAX_DESCRIPTION
    assert len(finding["Remediation"]["Recommendation"]["Text"]) <= MAX_RECOMMENDATION_TEXT
    provider = finding["FindingProviderFields"]
    assert provider["Severity"]["Label"] in {"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"}
    assert provider["Types"][0].split("/")[0] == "Software and Configuration Checks"
    # API_BatchImportFindings: providers should not update these at the top level.
    assert "Severity" not in finding and "Types" not in finding
    fields = finding["ProductFields"]
    assert len(fields) <= 50
    for key, value in fields.items():
        assert key.startswith("eks-netpol-auditor/") and len(key) <= 128
        assert value.strip() and len(value) <= 2048 and "\n" not in value
    resource = finding["Resources"][0]
    tags = resource.get("Tags", {})
    assert len(tags) <= MAX_TAGS
    for key, value in tags.items():
        assert key.strip() and len(key) <= MAX_TAG_KEY
        assert value.strip() and len(value) <= MAX_TAG_VALUE
    for text in (finding["Title"], finding["Description"]):
        assert "\n" not in text and text.strip()
    assert finding_size(finding) <= MAX_FINDING_BYTES
    json.dumps(finding)  # plain JSON, nothing boto3 would have to convert


@pytest.mark.parametrize(
    "cluster",
    [
        facts(),  # FAILED: key absent
        facts(config='{"enableNetworkPolicy":"true"}'),  # PASSED
        replace(facts(), addon=None),  # no add-on
        facts(version="v1.12.0-eksbuild.1"),  # add-on too old
        facts(tags={"eks-netpol-auditor:exempt": "cilium"}),  # WARNING
        replace(facts(), status="CREATING"),  # NOT_AVAILABLE
        replace(facts(), error="AccessDeniedException: no", details={}, tags={}),
        facts(config="{not yaml: ["),  # unreadable configuration
    ],
    ids=["failed", "passed", "no-addon", "old-addon", "exempt", "creating", "error", "bad"],
)
def test_every_verdict_builds_a_valid_finding(cluster: ClusterFacts) -> None:
    finding = build(result(cluster))
    assert_valid_asff(finding)
    assert finding["SchemaVersion"] == "2018-10-08"
    assert finding["ProductArn"] == (
        f"arn:aws:securityhub:eu-west-1:{ACCOUNT}:product/{ACCOUNT}/default"
    )
    assert finding["GeneratorId"] == GENERATOR_ID
    assert finding["FindingProviderFields"]["Types"] == [FINDING_TYPE]
    assert finding["RecordState"] == "ACTIVE"
    assert finding["Compliance"]["RelatedRequirements"] == ["CIS Amazon EKS Benchmark/5.4.4"]
    assert finding["Remediation"]["Recommendation"]["Url"] == USER_GUIDE_URL
    resource = finding["Resources"][0]
    assert resource["Type"] == "AwsEksCluster"
    assert resource["Id"] == cluster.arn
    assert resource["Partition"] == "aws"
    assert resource["Region"] == "eu-west-1"


def test_severity_and_compliance_follow_the_verdict() -> None:
    cases = {
        "failed": (facts(), "FAILED", "MEDIUM"),
        "passed": (facts(config='{"enableNetworkPolicy":"true"}'), "PASSED", "INFORMATIONAL"),
        "warning": (facts(tags={"eks-netpol-auditor:exempt": "calico"}), "WARNING", "LOW"),
        "creating": (replace(facts(), status="CREATING"), "NOT_AVAILABLE", "INFORMATIONAL"),
        "error": (replace(facts(), error="Throttling"), "NOT_AVAILABLE", "LOW"),
    }
    for name, (cluster, status, label) in cases.items():
        finding = build(result(cluster))
        assert finding["Compliance"]["Status"] == status, name
        assert finding["FindingProviderFields"]["Severity"]["Label"] == label, name


def test_failed_finding_carries_the_exact_command_and_facts() -> None:
    finding = build(result())
    text = finding["Remediation"]["Recommendation"]["Text"]
    command = (
        "aws eks update-addon --region eu-west-1 --cluster-name prod --addon-name vpc-cni "
        "--resolve-conflicts PRESERVE --configuration-values "
        '\'{"env":{"WARM_IP_TARGET":"5"},"enableNetworkPolicy":"true"}\''
    )
    assert command in text
    fields = finding["ProductFields"]
    assert fields["eks-netpol-auditor/RemediationCommand"] == command
    assert fields["eks-netpol-auditor/Reason"] == "NETWORK_POLICY_DISABLED"
    assert fields["eks-netpol-auditor/AddonVersion"] == "v1.19.0-eksbuild.1"
    assert fields["eks-netpol-auditor/AddonStatus"] == "ACTIVE"
    assert fields["eks-netpol-auditor/KubernetesVersion"] == "1.31"
    assert fields["eks-netpol-auditor/Control"] == "CIS-EKS-5.4.4"
    assert "prod" in finding["Title"]


def test_command_too_long_for_the_recommendation_points_to_product_fields() -> None:
    big = json.dumps({"env": {f"VAR_{i}": "x" * 20 for i in range(30)}})
    finding = build(result(facts(config=big)))
    assert_valid_asff(finding)
    text = finding["Remediation"]["Recommendation"]["Text"]
    assert "ProductFields eks-netpol-auditor/RemediationCommand" in text
    assert (
        '"enableNetworkPolicy":"true"'
        in finding["ProductFields"]["eks-netpol-auditor/RemediationCommand"]
    )


def test_details_only_carry_members_of_the_botocore_shape() -> None:
    shape = SERVICE.shape_for("AwsEksClusterDetails")
    vpc = SERVICE.shape_for("AwsEksClusterResourcesVpcConfigDetails")
    assert isinstance(shape, StructureShape) and isinstance(vpc, StructureShape)
    assert set(shape.members) == EKS_DETAIL_FIELDS
    assert set(vpc.members) == EKS_VPC_CONFIG_FIELDS
    cluster = replace(
        facts(),
        details={**facts().details, "Unknown": "x", "Endpoint": None, "KubernetesNetwork": {}},
    )
    details = build(result(cluster))["Resources"][0]["Details"]["AwsEksCluster"]
    assert set(details) <= EKS_DETAIL_FIELDS
    assert "Endpoint" not in details and "Unknown" not in details
    assert details["ResourcesVpcConfig"]["EndpointPublicAccess"] is False


def test_id_is_stable_across_configuration_status_and_delivery_region() -> None:
    failed = build(result())
    passed = build(
        result(facts(config='{"enableNetworkPolicy":"true"}', tags={"new": "tag"})),
        now=NOW + timedelta(days=3),
    )
    moved = build(result(), delivery_region="us-east-1")
    assert failed["Id"] == passed["Id"] == moved["Id"]
    assert failed["Id"] == finding_id("aws", ACCOUNT, "eu-west-1", "prod")
    assert moved["ProductArn"].split(":")[3] == "us-east-1"
    assert parse_finding_id(failed["Id"]) == ("aws", ACCOUNT, "eu-west-1", "prod")
    # Same name elsewhere is a different cluster, so a different finding.
    assert build(result(facts(region="us-west-2")))["Id"] != failed["Id"]
    assert parse_finding_id("someone-else/aws/1/r/c/CIS-EKS-5.4.4") is None


def test_lifecycle_timestamps_keep_creation_and_move_forward() -> None:
    first = build(result())
    assert first["CreatedAt"] == first["FirstObservedAt"] == "2026-11-05T10:00:00.123Z"
    later = NOW + timedelta(hours=1)
    second = build(result(), now=later, existing=first, newest_updated_at=first["UpdatedAt"])
    assert second["CreatedAt"] == first["CreatedAt"]
    assert second["FirstObservedAt"] == first["FirstObservedAt"]
    assert second["UpdatedAt"] == second["LastObservedAt"] == "2026-11-05T11:00:00.123Z"
    # Same clock reading (or a clock behind the stored value): still strictly newer.
    tied = build(result(), existing=first, newest_updated_at=first["UpdatedAt"])
    assert tied["UpdatedAt"] == "2026-11-05T10:00:00.124Z"
    assert fresh_updated_at(NOW, "2026-11-05T12:00:00Z") == "2026-11-05T12:00:00.001Z"
    assert fresh_updated_at(NOW, None, "garbage") == "2026-11-05T10:00:00.123Z"


def test_archived_keeps_provider_content_and_drops_service_fields() -> None:
    stored = build(result())
    stored.update(
        {
            "Region": "eu-west-1",
            "Workflow": {"Status": "NEW"},
            "WorkflowState": "NEW",
            "Note": {"Text": "x", "UpdatedBy": "y", "UpdatedAt": "2026-11-05T10:00:00Z"},
            "ProcessedAt": "2026-11-05T10:00:01Z",
            "CompanyName": "Personal",
            "FindingProviderFields": {"Severity": {"Label": "MEDIUM"}},
        }
    )
    stored["ProductFields"]["aws/securityhub/FindingId"] = "arn:.../id"
    retired = archived(stored, NOW)
    assert retired["RecordState"] == "ARCHIVED"
    assert retired["Id"] == stored["Id"] and retired["CreatedAt"] == stored["CreatedAt"]
    assert retired["LastObservedAt"] == stored["LastObservedAt"]
    assert parse_timestamp(retired["UpdatedAt"]) > parse_timestamp(stored["UpdatedAt"])  # type: ignore[operator]
    for dropped in ("Region", "Workflow", "WorkflowState", "Note", "ProcessedAt", "CompanyName"):
        assert dropped not in retired
    assert not any(k.startswith("aws/") for k in retired["ProductFields"])
    assert_valid_asff(retired)


def test_oversized_and_odd_tags_never_break_the_import() -> None:
    tags = {f"k{i:02d}": "v" for i in range(60)}
    tags.update(
        {
            "long-value": "x" * 1000,
            "k" * 129: "dropped: key too long",
            "blank-value": "  ",
            "eks-netpol-auditor:auto-remediate": "true",
        }
    )
    kept = resource_tags(tags)
    assert len(kept) == MAX_TAGS
    assert kept["eks-netpol-auditor:auto-remediate"] == "true"  # our own tags survive
    assert "k" * 129 not in kept and "blank-value" not in kept
    assert_valid_asff(build(result(facts(tags=tags))))
    assert len(resource_tags({"long-value": "x" * 1000})["long-value"]) == MAX_TAG_VALUE


def test_remediation_outcome_becomes_a_deterministic_note() -> None:
    assert remediation_note(None) is None
    applied = remediation_note(Outcome(Action.APPLIED, "enabled network policy", update_id="u-1"))
    assert applied == (
        "eks-netpol-auditor remediation: applied, EKS update id u-1. enabled network policy"
    )
    dry = remediation_note(
        Outcome(Action.DRY_RUN, "would enable", request=UpdateRequest("c", "y" * 2000, "t"))
    )
    assert dry is not None and len(dry) <= MAX_NOTE_TEXT and "Would send UpdateAddon" in dry
    skipped = remediation_note(Outcome(Action.SKIPPED, "cluster is exempted", Guard.EXEMPT_TAG))
    assert skipped == (
        "eks-netpol-auditor remediation: skipped (guard exempt_tag). cluster is exempted"
    )
    finding = build(result(remediation=Outcome(Action.APPLIED, "ok", update_id="u-1")))
    assert finding["ProductFields"]["eks-netpol-auditor/RemediationAction"] == "applied"
    assert finding["ProductFields"]["eks-netpol-auditor/RemediationUpdateId"] == "u-1"


names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}", fullmatch=True)
tag_text = st.text(min_size=0, max_size=400)


@settings(max_examples=150, deadline=None)
@given(
    name=names,
    tags=st.dictionaries(tag_text, tag_text, max_size=70),
    config=st.one_of(st.none(), st.text(max_size=3000)),
    status=st.sampled_from(list(ComplianceStatus)),
)
def test_any_cluster_name_tags_and_configuration_fit_the_limits(
    name: str, tags: dict[str, str], config: str | None, status: ComplianceStatus
) -> None:
    cluster = facts(name=name, tags=tags, config=config)
    verdict = evaluate(cluster)
    forced = ClusterResult(cluster, replace(verdict, status=status, reason=Reason(verdict.reason)))
    finding = build(forced)
    assert_valid_asff(finding)
    assert finding["Id"] == finding_id("aws", ACCOUNT, "eu-west-1", name)


def test_archived_copy_keeps_our_provider_fields_never_the_users_top_level() -> None:
    stored = build(result())
    # What Security Hub CSPM stores: top-level copies, here changed by an automation rule.
    stored["Severity"] = {"Label": "CRITICAL", "Normalized": 90}
    stored["Types"] = ["Software and Configuration Checks/Custom"]
    retired = archived(stored, NOW)
    assert "Severity" not in retired and "Types" not in retired
    assert retired["FindingProviderFields"] == {
        "Severity": {"Label": "MEDIUM"},
        "Types": [FINDING_TYPE],
    }
    assert_valid_asff(retired)
    # A finding stored before FindingProviderFields were sent still archives with its values.
    legacy = {k: v for k, v in stored.items() if k != "FindingProviderFields"}
    legacy["Severity"] = {"Label": "LOW", "Normalized": 1}
    assert archived(legacy, NOW)["FindingProviderFields"]["Severity"] == {"Label": "LOW"}


def test_content_digest_ignores_the_clock_and_sees_every_change() -> None:
    digest = DIGEST_FIELD
    base = build(result())["ProductFields"][digest]
    later = build(result(), now=NOW + timedelta(days=3))
    assert later["ProductFields"][digest] == base  # only timestamps differ
    assert later["UpdatedAt"] != build(result())["UpdatedAt"]
    changed = {
        "status": build(result(facts(config='{"enableNetworkPolicy":"true"}'))),
        "message": build(result(facts(config='{"env":{"WARM_IP_TARGET":"6"}}'))),
        "region": build(result(), delivery_region="us-east-1"),
        "tags": build(result(facts(tags={"team": "other"}))),
        "remediation": build(
            result(remediation=Outcome(Action.SKIPPED, "opted out", guard=Guard.OPT_OUT_TAG))
        ),
    }
    for name, finding in changed.items():
        assert finding["ProductFields"][digest] != base, name
    # Only the Note differs (same action, another guard): still a change.
    opted_out = build(result(remediation=Outcome(Action.SKIPPED, "x", guard=Guard.OPT_OUT_TAG)))
    exempt = build(result(remediation=Outcome(Action.SKIPPED, "x", guard=Guard.EXEMPT_TAG)))
    assert opted_out["ProductFields"][digest] != exempt["ProductFields"][digest]


def test_the_finding_carries_the_enforcing_mode() -> None:
    """Issue 18 point 1: strict vs standard is filterable in Security Hub."""
    strict = builders.cluster_facts(
        addon=builders.addon_facts(configuration_values=builders.STRICT_CONFIG), kube=None
    )
    fields = product_fields(ClusterResult(strict, evaluate(strict)))
    assert fields["eks-netpol-auditor/EnforcingMode"] == "strict"
    unset = builders.cluster_facts(kube=None)
    assert "eks-netpol-auditor/EnforcingMode" not in product_fields(
        ClusterResult(unset, evaluate(unset))
    )
