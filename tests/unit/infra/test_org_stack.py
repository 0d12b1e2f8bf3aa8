"""The organization stack: what a StackSets deployment of the auditor gets, per parameter.

Why: a wrong permission model, a missing auto-deployment, an override on the wrong OUs
or a bucket readable outside the organization would each be an organization-wide
incident. The template is synthesized once, exactly as ``make release`` does (bootstrap-
less synthesizer, cdk-nag plugin: an unacknowledged finding fails the fixture), and then
evaluated for concrete parameter values with ``cfn_eval``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from eks_netpol_auditor.securityhub import GENERATOR_ID
from infra import release
from infra.org_parameters import OU_LIST_PATTERN
from tests.unit.infra.cfn_eval import Deployment

Json = dict[str, Any]

NAMES = release.ReleaseNames("9.8.7", "ab" * 32)
ORG_ID = "o-abcdefghij"
OU_A = "ou-ab12-aaaaaaaa"
OU_B = "ou-ab12-bbbbbbbb"
OU_R = "ou-ab12-rrrrrrrr"
BASE = {"TargetOuIds": f"{OU_A},{OU_B}", "OrganizationId": ORG_ID}


@pytest.fixture(scope="module")
def all_templates() -> tuple[Json, Json, Json]:
    """(auditor, forwarder, org) templates of one release app."""
    app, auditor, forwarder, org = release.release_app(NAMES)
    assembly = app.synth()  # the cdk-nag and cfn-guard plugins raise here on any finding
    return (
        assembly.get_stack_by_name(auditor.stack_name).template,
        assembly.get_stack_by_name(forwarder.stack_name).template,
        assembly.get_stack_by_name(org.stack_name).template,
    )


@pytest.fixture(scope="module")
def templates(all_templates: tuple[Json, Json, Json]) -> tuple[Json, Json]:
    """(auditor template, org template)."""
    return all_templates[0], all_templates[2]


@pytest.fixture(scope="module")
def org(templates: tuple[Json, Json]) -> Json:
    return templates[1]


def deploy(org: Json, **parameters: str) -> dict[str, Json]:
    return Deployment(org, {**BASE, **parameters}, stack_name="EksNetpolAuditorOrg").resources()


def stack_set(org: Json, logical_id: str = "AuditorStackSet", **parameters: str) -> Json:
    properties: Json = deploy(org, **parameters)[logical_id]["Properties"]
    return properties


def test_service_managed_with_automatic_deployment(org: Json) -> None:
    Template.from_json(org).has_resource_properties(
        "AWS::CloudFormation::StackSet",
        {"PermissionModel": "SERVICE_MANAGED", "Capabilities": ["CAPABILITY_IAM"]},
    )
    props = stack_set(org)
    assert props["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": "false"}
    retained = stack_set(org, RetainStacksOnAccountRemoval="true")
    assert retained["AutoDeployment"]["RetainStacksOnAccountRemoval"] == "true"


def test_target_ous_get_one_home_region_and_no_override(org: Json) -> None:
    groups = stack_set(org)["StackInstancesGroup"]
    assert groups == [
        {"DeploymentTargets": {"OrganizationalUnitIds": [OU_A, OU_B]}, "Regions": ["eu-west-1"]}
    ]


def test_remediation_ous_get_auto_remediate_override(org: Json) -> None:
    groups = stack_set(org, RemediationOuIds=OU_R)["StackInstancesGroup"]
    assert groups[1] == {
        "DeploymentTargets": {"OrganizationalUnitIds": [OU_R]},
        "Regions": ["eu-west-1"],
        "ParameterOverrides": [{"ParameterKey": "AutoRemediate", "ParameterValue": "true"}],
    }
    assert "ParameterOverrides" not in groups[0]


def test_organization_wide_auto_remediate_stays_a_setting(org: Json) -> None:
    parameters = {
        p["ParameterKey"]: p["ParameterValue"]
        for p in stack_set(org, AutoRemediate="true")["Parameters"]
    }
    assert parameters["AutoRemediate"] == "true"
    defaults = {p["ParameterKey"]: p["ParameterValue"] for p in stack_set(org)["Parameters"]}
    assert defaults["AutoRemediate"] == "false"


def test_every_auditor_parameter_is_passed_and_none_unknown(templates: tuple[Json, Json]) -> None:
    auditor, org = templates
    passed = {p["ParameterKey"]: p["ParameterValue"] for p in stack_set(org)["Parameters"]}
    auditor_params = auditor["Parameters"]
    assert set(passed) <= set(auditor_params)
    required = {name for name, p in auditor_params.items() if "Default" not in p}
    assert required <= set(passed)
    ssm = {n for n, p in auditor_params.items() if p["Type"].startswith("AWS::SSM::")}
    assert set(passed) == set(auditor_params) - ssm
    for name in set(passed) - {"CodeBucketPrefix"}:
        mirrored = {k: v for k, v in org["Parameters"][name].items() if k != "Description"}
        original = {k: v for k, v in auditor_params[name].items() if k != "Description"}
        assert mirrored == original, name


def test_code_and_template_come_from_the_home_region_bucket(org: Json) -> None:
    created = stack_set(org)
    prefix = "eks-netpol-auditor-111111111111"
    assert {"ParameterKey": "CodeBucketPrefix", "ParameterValue": prefix} in created["Parameters"]
    assert created["TemplateURL"] == (
        f"https://{prefix}-eu-west-1.s3.eu-west-1.amazonaws.com/{NAMES.template_key}"
    )
    assert {"ParameterKey": "CodeKey", "ParameterValue": NAMES.code_key} in created["Parameters"]
    existing = stack_set(org, ExistingCodeBucketPrefix="acme-releases")
    assert existing["TemplateURL"].startswith("https://acme-releases-eu-west-1.s3.eu-west-1.")
    assert {"ParameterKey": "CodeBucketPrefix", "ParameterValue": "acme-releases"} in existing[
        "Parameters"
    ]


def test_existing_bucket_prefix_creates_no_bucket(org: Json) -> None:
    types = [r["Type"] for r in deploy(org, ExistingCodeBucketPrefix="acme-releases").values()]
    assert "AWS::S3::Bucket" not in types
    assert "AWS::S3::BucketPolicy" not in types
    created = [r for r in deploy(org).values() if r["Type"] == "AWS::S3::Bucket"]
    assert created[0]["Properties"]["BucketName"] == "eks-netpol-auditor-111111111111-eu-west-1"


def test_bucket_readable_by_the_organization_only(org: Json) -> None:
    [policy] = [r for r in deploy(org).values() if r["Type"] == "AWS::S3::BucketPolicy"]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    [allow] = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}
    assert allow["Principal"] == {"AWS": "*"}
    assert allow["Action"] == "s3:GetObject"
    assert re.fullmatch(r"<CodeBucket\w+\.Arn>/eks-netpol-auditor/\*", allow["Resource"])
    denies = [s for s in statements if s["Effect"] == "Deny"]
    assert [d["Condition"] for d in denies] == [{"Bool": {"aws:SecureTransport": "false"}}]


def test_bucket_encrypted_private_and_retained(org: Json) -> None:
    [bucket] = [r for r in deploy(org).values() if r["Type"] == "AWS::S3::Bucket"]
    props = bucket["Properties"]
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    ]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["DeletionPolicy"] == "Retain"
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    [rule] = props["LifecycleConfiguration"]["Rules"]
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 90}
    assert rule["Status"] == "Enabled"


def test_call_as_and_operation_preferences_are_parameters(org: Json) -> None:
    assert org["Parameters"]["CallAs"]["AllowedValues"] == ["SELF", "DELEGATED_ADMIN"]
    assert stack_set(org, CallAs="DELEGATED_ADMIN")["CallAs"] == "DELEGATED_ADMIN"
    default = stack_set(org)["OperationPreferences"]
    assert default == {
        "ConcurrencyMode": "STRICT_FAILURE_TOLERANCE",
        "FailureTolerancePercentage": "10",
        "MaxConcurrentPercentage": "25",
        "RegionConcurrencyType": "PARALLEL",
    }
    by_count = stack_set(org, MaxConcurrentBy="Count", MaxConcurrentCount="7")
    assert by_count["OperationPreferences"]["MaxConcurrentCount"] == "7"
    assert "MaxConcurrentPercentage" not in by_count["OperationPreferences"]


def test_first_deployment_can_create_only_the_bucket(org: Json) -> None:
    types = {r["Type"] for r in deploy(org, DeployAuditors="false").values()}
    assert "AWS::CloudFormation::StackSet" not in types
    assert "AWS::S3::Bucket" in types


def test_insights_group_auditor_findings_by_account_and_status(org: Json) -> None:
    assert not [r for r in deploy(org).values() if r["Type"] == "AWS::SecurityHub::Insight"]
    insights = [
        r["Properties"]
        for r in deploy(org, CreateInsights="true").values()
        if r["Type"] == "AWS::SecurityHub::Insight"
    ]
    assert sorted(i["GroupByAttribute"] for i in insights) == ["AwsAccountId", "ComplianceStatus"]
    for insight in insights:
        assert insight["Filters"]["GeneratorId"] == [
            {"Comparison": "EQUALS", "Value": GENERATOR_ID}
        ]
        assert insight["Filters"]["RecordState"] == [{"Comparison": "EQUALS", "Value": "ACTIVE"}]
        assert insight["Name"].startswith("EksNetpolAuditorOrg: ")
    [by_account] = [i for i in insights if i["GroupByAttribute"] == "AwsAccountId"]
    assert by_account["Filters"]["ComplianceStatus"] == [
        {"Comparison": "EQUALS", "Value": "FAILED"}
    ]


def test_forwarders_only_when_regions_are_given(org: Json) -> None:
    assert "ForwarderStackSet" not in deploy(org)
    assert "ForwarderStackSet" not in deploy(
        org, ForwarderRegions="us-west-2", DeployAuditors="false"
    )
    assert "ForwarderStackSet" in deploy(org, ForwarderRegions="us-west-2")


def test_forwarders_go_to_every_account_and_region_given(org: Json) -> None:
    props = stack_set(
        org, "ForwarderStackSet", ForwarderRegions="us-west-2,ap-south-1", RemediationOuIds=OU_R
    )
    assert props["PermissionModel"] == "SERVICE_MANAGED"
    assert props["AutoDeployment"]["Enabled"] is True
    assert props["StackSetName"] == "eks-netpol-auditor-forwarder"
    assert props["StackInstancesGroup"] == [
        {
            "DeploymentTargets": {"OrganizationalUnitIds": [OU_A, OU_B]},
            "Regions": ["us-west-2", "ap-south-1"],
        },
        {
            "DeploymentTargets": {"OrganizationalUnitIds": [OU_R]},
            "Regions": ["us-west-2", "ap-south-1"],
        },
    ]
    assert props["Parameters"] == [{"ParameterKey": "HomeRegion", "ParameterValue": "eu-west-1"}]
    assert props["TemplateURL"].endswith(f"/{NAMES.forwarder_template_key}")


def test_forwarder_parameters_are_exactly_the_templates(
    all_templates: tuple[Json, Json, Json],
) -> None:
    _, forwarder, org = all_templates
    props = stack_set(org, "ForwarderStackSet", ForwarderRegions="us-west-2")
    assert {p["ParameterKey"] for p in props["Parameters"]} == set(forwarder["Parameters"])


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        (OU_A, True),
        (f"{OU_A},{OU_B}", True),
        ("r-ab12", True),
        (f"{OU_A}, {OU_B}", False),
        ("", False),
        ("ou-XY", False),
        ("123456789012", False),
    ],
)
def test_ou_list_parameter_pattern(value: str, valid: bool) -> None:
    assert bool(re.fullmatch(OU_LIST_PATTERN, value)) is valid


def test_org_template_is_cfn_lint_clean(tmp_path: Path, org: Json) -> None:
    from cfnlint.api import ManualArgs, lint_file

    path = tmp_path / NAMES.org_template_file
    path.write_bytes(release.template_bytes(org))
    matches = lint_file(path, config=ManualArgs())
    assert not matches, [str(m) for m in matches]
