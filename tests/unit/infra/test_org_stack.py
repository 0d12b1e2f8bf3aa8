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
from eks_netpol_auditor.securityhub.asff import IN_CLUSTER_GENERATOR_ID
from eks_netpol_auditor.settings_table import by_parameter
from infra import release
from infra.org_parameters import OU_LIST_PATTERN
from tests.unit.infra.cfn_eval import Deployment

Json = dict[str, Any]

NAMES = release.ReleaseNames("9.8.7", "ab" * 32)
ORG_ID = "o-abcdefghij"
OU_A = "ou-ab12-aaaaaaaa"
OU_B = "ou-ab12-bbbbbbbb"
OU_R = "ou-ab12-rrrrrrrr"
OU_K = "ou-ab12-kkkkkkkk"  # an in-cluster OU
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


def test_remediation_ous_get_a_stack_set_of_their_own(org: Json) -> None:
    assert "RemediationStackSet" not in deploy(org)
    props = stack_set(org, "RemediationStackSet", RemediationOuIds=OU_R)
    assert props["StackSetName"] == "eks-netpol-auditor-remediation"
    assert props["StackInstancesGroup"] == [
        {"DeploymentTargets": {"OrganizationalUnitIds": [OU_R]}, "Regions": ["eu-west-1"]}
    ]
    assert props["AutoDeployment"]["Enabled"] is True
    assert props["TemplateURL"] == stack_set(org)["TemplateURL"]
    # Created after AuditorStackSet: an update from the one-StackSet layout first takes
    # the remediation OUs' instances out of it, then this StackSet claims the accounts.
    assert org["Resources"]["RemediationStackSet"]["DependsOn"] == ["AuditorStackSet"]


# A small organization: the root, two target OUs, a remediation OU beside them, and a
# remediation OU nested inside target OU_A.
ROOT = "r-ab12"
OU_NESTED = "ou-ab12-nnnnnnnn"
PATHS = {
    OU_A: [ROOT, OU_A],
    OU_B: [ROOT, OU_B],
    OU_R: [ROOT, OU_R],
    OU_K: [ROOT, OU_K],
    OU_NESTED: [ROOT, OU_A, OU_NESTED],
}


def auditors_for_new_account(org: Json, ou: str, **parameters: str) -> list[dict[str, str]]:
    """The auditor parameter values an account that joins ``ou`` later receives, one
    dict per auditor StackSet that reaches it.

    Automatic deployment gives a new account the StackSet's own parameter values:
    ``ParameterOverrides`` reach only the instances that existed when they were set
    (aws-cloudformation/cloudformation-coverage-roadmap#1291). A StackSet that targets
    an OU reaches its child OUs too (CloudFormation User Guide, "Create StackSets with
    service-managed permissions", Considerations).
    """
    received = []
    for resource in deploy(org, **parameters).values():
        props = resource["Properties"]
        if resource["Type"] != "AWS::CloudFormation::StackSet":
            continue
        if not props["TemplateURL"].endswith(NAMES.template_key):
            continue  # the forwarder
        targets = {
            ou
            for group in props["StackInstancesGroup"]
            for ou in group["DeploymentTargets"]["OrganizationalUnitIds"]
        }
        if targets & set(PATHS[ou]):
            received.append({p["ParameterKey"]: p["ParameterValue"] for p in props["Parameters"]})
    return received


@pytest.mark.parametrize(
    ("ou", "org_wide", "expected"),
    [
        (OU_A, "false", "false"),
        (OU_B, "false", "false"),
        (OU_R, "false", "true"),
        (OU_A, "true", "true"),
        (OU_R, "true", "true"),
    ],
)
def test_a_new_account_in_each_ou_gets_the_auto_remediate_of_its_ou(
    org: Json, ou: str, org_wide: str, expected: str
) -> None:
    """Issue 17 item 1: an account joining a RemediationOuIds OU ran AutoRemediate=false,
    because the per-OU value was a ParameterOverride (coverage-roadmap#1291)."""
    [auditor] = auditors_for_new_account(org, ou, RemediationOuIds=OU_R, AutoRemediate=org_wide)
    assert auditor["AutoRemediate"] == expected
    assert auditor["CreateInsight"] == "false"


def test_in_cluster_ous_get_a_stack_set_of_their_own(org: Json) -> None:
    assert "InClusterStackSet" not in deploy(org)
    props = stack_set(org, "InClusterStackSet", InClusterOuIds=OU_K)
    assert props["StackSetName"] == "eks-netpol-auditor-incluster"
    assert props["StackInstancesGroup"] == [
        {"DeploymentTargets": {"OrganizationalUnitIds": [OU_K]}, "Regions": ["eu-west-1"]}
    ]
    assert props["TemplateURL"] == stack_set(org)["TemplateURL"]
    assert org["Resources"]["InClusterStackSet"]["DependsOn"] == ["AuditorStackSet"]
    assert "InClusterStackSet" not in deploy(org, InClusterOuIds=OU_K, DeployAuditors="false")


@pytest.mark.parametrize(
    ("ou", "org_wide", "expected"),
    [
        (OU_A, "false", "false"),
        (OU_R, "false", "false"),
        (OU_K, "false", "true"),
        (OU_A, "true", "true"),
        (OU_R, "true", "true"),
        (OU_K, "true", "true"),
    ],
)
def test_a_new_account_in_each_ou_gets_the_in_cluster_check_of_its_ou(
    org: Json, ou: str, org_wide: str, expected: str
) -> None:
    """Like AutoRemediate: the per-OU value is the StackSet's own, so an account that
    joins later gets it (no ParameterOverrides: coverage-roadmap#1291); the other
    settings, self-enrolment included, are the organization-wide ones."""
    [auditor] = auditors_for_new_account(
        org,
        ou,
        RemediationOuIds=OU_R,
        InClusterOuIds=OU_K,
        InClusterCheck=org_wide,
        InClusterEnrol="true",
    )
    assert auditor["InClusterCheck"] == expected
    assert auditor["InClusterEnrol"] == "true"
    assert auditor["AutoRemediate"] == ("true" if ou == OU_R else "false")


def test_no_stack_set_relies_on_parameter_overrides(org: Json) -> None:
    for values in (
        {},
        {"RemediationOuIds": OU_R, "InClusterOuIds": OU_K, "ForwarderRegions": "us-west-2"},
    ):
        for resource in deploy(org, **values).values():
            for group in resource.get("Properties", {}).get("StackInstancesGroup", []):
                assert "ParameterOverrides" not in group


def claimed_names(auditor: Json, parameters: dict[str, str]) -> set[str]:
    """Names an auditor stack claims in its account and region (a second stack with
    the same name fails to create): SSM parameter and event bus names."""
    kinds = {"AWS::SSM::Parameter": "Name", "AWS::Events::EventBus": "Name"}
    resources = Deployment(auditor, parameters).resources()
    return {
        f"{r['Type']}:{r['Properties'][kinds[r['Type']]]}"
        for r in resources.values()
        if r["Type"] in kinds
    }


@pytest.mark.parametrize("event_driven", ["true", "false"])
def test_an_account_reached_by_two_stack_sets_never_runs_two_auditors(
    templates: tuple[Json, Json], event_driven: str
) -> None:
    """A remediation OU nested in a target OU (or a root target) reaches its accounts
    through both StackSets; the template cannot see the OU tree. The auditor stack
    claims a name per account and region before any function exists, so the second
    stack fails and rolls back (issue 17 item 1)."""
    auditor, org = templates
    both = auditors_for_new_account(
        org, OU_NESTED, RemediationOuIds=OU_NESTED, EventDrivenMode=event_driven
    )
    assert len(both) == 2
    first, second = (claimed_names(auditor, values) for values in both)
    assert first & second
    claim = [
        logical_id
        for logical_id, r in auditor["Resources"].items()
        if r["Type"] == "AWS::SSM::Parameter" and "Condition" not in r
    ]
    functions = [r for r in auditor["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert len(claim) == 1
    assert functions
    assert all(claim[0] in f["DependsOn"] for f in functions)


@pytest.mark.parametrize(
    ("remediation", "rejected"),
    [(f"{OU_A},{OU_B}", True), (OU_R, False), (OU_A, False), ("", False)],
)
def test_rule_rejects_the_target_ous_as_remediation_ous(
    org: Json, remediation: str, rejected: bool
) -> None:
    deployment = Deployment(org, {**BASE, "RemediationOuIds": remediation})
    assert bool(deployment.rule_failures()) is rejected


@pytest.mark.parametrize(
    ("in_cluster", "remediation", "rejected"),
    [
        (f"{OU_A},{OU_B}", "", "InClusterOuIds must not repeat TargetOuIds"),
        (OU_R, OU_R, "InClusterOuIds must not repeat RemediationOuIds"),
        (OU_K, OU_R, None),
        ("", OU_R, None),
    ],
)
def test_rules_reject_in_cluster_ous_listed_elsewhere(
    org: Json, in_cluster: str, remediation: str, rejected: str | None
) -> None:
    deployment = Deployment(
        org, {**BASE, "InClusterOuIds": in_cluster, "RemediationOuIds": remediation}
    )
    failures = deployment.rule_failures()
    if rejected is None:
        assert failures == []
    else:
        assert [f for f in failures if f.startswith(rejected)], failures


def test_the_root_is_never_an_in_cluster_ou(org: Json) -> None:
    pattern = org["Parameters"]["InClusterOuIds"]["AllowedPattern"]
    assert re.fullmatch(pattern, OU_K) and re.fullmatch(pattern, "")
    assert not re.fullmatch(pattern, ROOT)


@pytest.mark.parametrize(
    ("value", "valid"),
    [(OU_R, True), (f"{OU_R},{OU_A}", True), (ROOT, False), (f"{OU_R},{ROOT}", False)],
)
def test_the_root_is_never_a_remediation_ou(org: Json, value: str, valid: bool) -> None:
    """The root contains every target OU: every account would be reached twice."""
    pattern = org["Parameters"]["RemediationOuIds"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is valid


def test_every_stack_set_name_fits_create_stack_set(org: Json) -> None:
    """CreateStackSet: letters, digits and hyphens, a letter first, at most 128
    characters (API reference; botocore model, StackSetName). The longest name the
    parameter accepts must leave room for the forwarder's and remediation's suffixes
    (issue 17 item 4: 119-128 characters rolled the organization stack back)."""
    pattern = org["Parameters"]["StackSetName"]["AllowedPattern"]
    longest = max(("a" * n for n in range(1, 129) if re.fullmatch(pattern, "a" * n)), key=len)
    assert not re.fullmatch(pattern, longest + "a")
    names = [
        r["Properties"]["StackSetName"]
        for r in deploy(
            org,
            StackSetName=longest,
            RemediationOuIds=OU_R,
            InClusterOuIds=OU_K,
            ForwarderRegions="us-west-2",
        ).values()
        if r["Type"] == "AWS::CloudFormation::StackSet"
    ]
    assert len(names) == 4
    for name in names:
        assert len(name) <= 128, name
        assert re.fullmatch(r"[a-zA-Z][a-zA-Z0-9-]*", name)
    # The settings table (docs, parameter description) states the same limit.
    assert f"at most {len(longest)} characters" in by_parameter("StackSetName").allowed


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
    for name in set(passed) - {"CodeBucketPrefix", "CreateInsight"}:
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
    assert sorted(i["GroupByAttribute"] for i in insights) == [
        "AwsAccountId",
        "AwsAccountId",
        "ComplianceStatus",
    ]
    for insight in insights:
        assert insight["Filters"]["RecordState"] == [{"Comparison": "EQUALS", "Value": "ACTIVE"}]
        assert insight["Name"].startswith("EksNetpolAuditorOrg: ")
    by_generator = {i["Filters"]["GeneratorId"][0]["Value"]: i for i in insights}
    first = [i for i in insights if i["Filters"]["GeneratorId"][0]["Value"] == GENERATOR_ID]
    assert sorted(i["GroupByAttribute"] for i in first) == ["AwsAccountId", "ComplianceStatus"]
    [by_account] = [i for i in first if i["GroupByAttribute"] == "AwsAccountId"]
    assert by_account["Filters"]["ComplianceStatus"] == [
        {"Comparison": "EQUALS", "Value": "FAILED"}
    ]
    # The second control (issue 18) has its own: never counted with the first one's.
    uncovered = by_generator[IN_CLUSTER_GENERATOR_ID]
    assert uncovered["GroupByAttribute"] == "AwsAccountId"
    assert uncovered["Filters"]["GeneratorId"] == [
        {"Comparison": "EQUALS", "Value": IN_CLUSTER_GENERATOR_ID}
    ]
    assert uncovered["Filters"]["ComplianceStatus"] == [{"Comparison": "EQUALS", "Value": "FAILED"}]
    assert "4.3.2" in uncovered["Name"]
    assert all(len(i["Filters"]["GeneratorId"]) == 1 for i in insights)


def test_forwarders_only_when_regions_are_given(org: Json) -> None:
    assert "ForwarderStackSet" not in deploy(org)
    assert "ForwarderStackSet" not in deploy(
        org, ForwarderRegions="us-west-2", DeployAuditors="false"
    )
    assert "ForwarderStackSet" in deploy(org, ForwarderRegions="us-west-2")


def test_no_forwarders_without_event_driven_mode(org: Json) -> None:
    """Without EventDrivenMode the auditors create no home event bus, so every forwarded
    event would fail delivery and be retried for 24 hours (issue 17 item 3)."""
    assert "ForwarderStackSet" not in deploy(
        org, ForwarderRegions="us-west-2", EventDrivenMode="false"
    )


def test_organization_accounts_get_no_insight_of_their_own(org: Json) -> None:
    """Creating a Security Hub CSPM insight fails where Security Hub is not enabled yet,
    as in an account auto-deployment has just added (issue 17 item 7)."""
    for logical_id in ("AuditorStackSet", "RemediationStackSet"):
        props = stack_set(org, logical_id, RemediationOuIds=OU_R)
        assert {"ParameterKey": "CreateInsight", "ParameterValue": "false"} in props["Parameters"]
    assert "CreateInsight" not in org["Parameters"]


def test_auditor_insight_only_with_create_insight(templates: tuple[Json, Json]) -> None:
    auditor, _ = templates

    def insights(**values: str) -> list[Json]:
        resources = Deployment(auditor, {"CodeBucketPrefix": "p", **values}).resources()
        return [r for r in resources.values() if r["Type"] == "AWS::SecurityHub::Insight"]

    assert len(insights()) == 1  # the single-account default is unchanged
    assert insights(CreateInsight="false") == []
    output = auditor["Outputs"]["FailedByRegionInsightUrl"]
    assert Deployment(auditor, {"CreateInsight": "false"}).condition(output["Condition"]) is False


def test_concurrency_descriptions_state_the_strict_cap(org: Json) -> None:
    """STRICT_FAILURE_TOLERANCE starts at the lower of MaxConcurrent and the failure
    tolerance + 1 (StackSetOperationPreferences ConcurrencyMode, API reference): with
    the defaults about 10 % + 1 account per wave, not the 25 % the old text promised
    (issue 17 item 10)."""
    parameters = org["Parameters"]
    assert parameters["ConcurrencyMode"]["Default"] == "STRICT_FAILURE_TOLERANCE"
    for name in ("MaxConcurrentPercentage", "MaxConcurrentCount", "ConcurrencyMode"):
        assert "failure tolerance" in parameters[name]["Description"], name
        assert "+ 1" in parameters[name]["Description"], name


def test_forwarders_go_to_every_account_and_region_given(org: Json) -> None:
    props = stack_set(
        org,
        "ForwarderStackSet",
        ForwarderRegions="us-west-2,ap-south-1",
        RemediationOuIds=OU_R,
        InClusterOuIds=OU_K,
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
        {
            "DeploymentTargets": {"OrganizationalUnitIds": [OU_K]},
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
