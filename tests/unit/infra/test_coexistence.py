"""The management account runs both stacks: the organization stack and its own auditor.

Why: a service-managed StackSet never deploys to the management account, so that
account gets the single-account stack next to ``EksNetpolAuditorOrg`` (docs/organizations.md). Two
stacks in one account and region fail, or worse overwrite each other, when they claim the
same physical name or export. Both templates are evaluated for that account and region
with their stack names, and every account- or globally-unique name is compared.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from app import STACK_NAME, build_app
from infra import release
from infra.org import ORG_STACK_NAME
from tests.unit.infra.cfn_eval import Deployment

Json = dict[str, Any]

ACCOUNT = "222222222222"
REGION = "us-east-1"
NAMES = release.ReleaseNames("1.2.3", "cd" * 32)

# The property that holds the physical name of each resource type whose name must be
# unique in an account and region (S3: globally). Resources without it get names that
# CloudFormation derives from the stack name, which cannot clash.
NAME_PROPERTIES = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::CloudFormation::StackSet": "StackSetName",
    "AWS::SSM::Parameter": "Name",
    "AWS::SecurityHub::Insight": "Name",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::Events::Rule": "Name",
    "AWS::Events::EventBus": "Name",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::KMS::Alias": "AliasName",
}

# Everything switched on, so conditional resources are compared too.
ORG_VALUES = {
    "TargetOuIds": "ou-ab12-aaaaaaaa",
    "RemediationOuIds": "ou-ab12-bbbbbbbb",
    "OrganizationId": "o-abcdefghij",
    "CreateInsights": "true",
}
AUDITOR_VALUES = {
    "CodeBucketPrefix": f"eks-netpol-auditor-{ACCOUNT}",
    "NotificationEmail": "secops@example.com",
    "AutoRemediate": "true",
}


def physical_names(template: Json, stack_name: str, values: dict[str, str]) -> list[str]:
    """``type:name`` of every explicitly named resource, and ``export:name`` of exports."""
    deployment = Deployment(template, values, account=ACCOUNT, region=REGION, stack_name=stack_name)
    names = []
    for resource in deployment.resources().values():
        prop = NAME_PROPERTIES.get(resource["Type"])
        if prop and prop in resource.get("Properties", {}):
            names.append(f"{resource['Type']}:{resource['Properties'][prop]}")
    for output in template.get("Outputs", {}).values():
        if "Export" in output:
            names.append(f"export:{deployment.resolve(output['Export']['Name'])}")
    return names


@pytest.fixture(scope="module")
def release_templates() -> tuple[Json, Json]:
    app, auditor, _, org = release.release_app(NAMES)
    assembly = app.synth()
    return (
        assembly.get_stack_by_name(auditor.stack_name).template,
        assembly.get_stack_by_name(org.stack_name).template,
    )


@pytest.fixture(scope="module")
def cdk_template(tmp_path_factory: pytest.TempPathFactory) -> Json:
    """The single-account stack as ``cdk deploy`` would deploy it (app.py)."""
    app = build_app(outdir=str(tmp_path_factory.mktemp("cdk.out")))
    template: Json = app.synth().get_stack_by_name(STACK_NAME).template
    return template


def assert_no_clash(first: list[str], second: list[str]) -> None:
    counts = Counter(first + second)
    assert not [name for name, n in counts.items() if n > 1]


def test_org_stack_names_its_resources(release_templates: tuple[Json, Json]) -> None:
    """The comparison below is not empty: the org stack does claim names."""
    names = physical_names(release_templates[1], ORG_STACK_NAME, ORG_VALUES)
    assert f"AWS::S3::Bucket:eks-netpol-auditor-{ACCOUNT}-{REGION}" in names
    assert "AWS::CloudFormation::StackSet:eks-netpol-auditor" in names
    # CreateInsights makes three (infra/org_insights.py): CIS 5.4.4 failing accounts and
    # passing clusters, and CIS 4.3.2 accounts with uncovered namespaces.
    assert len([n for n in names if n.startswith("AWS::SecurityHub::Insight:")]) == 3


def test_release_auditor_and_org_stack_coexist(release_templates: tuple[Json, Json]) -> None:
    auditor, org = release_templates
    auditor_names = physical_names(auditor, STACK_NAME, AUDITOR_VALUES)
    # Both stacks create Security Hub insights: the comparison covers them.
    assert [n for n in auditor_names if n.startswith("AWS::SecurityHub::Insight:")]
    assert_no_clash(auditor_names, physical_names(org, ORG_STACK_NAME, ORG_VALUES))


def test_cdk_deployed_auditor_and_org_stack_coexist(
    cdk_template: Json, release_templates: tuple[Json, Json]
) -> None:
    values = {k: v for k, v in AUDITOR_VALUES.items() if k in cdk_template["Parameters"]}
    assert_no_clash(
        physical_names(cdk_template, STACK_NAME, values),
        physical_names(release_templates[1], ORG_STACK_NAME, ORG_VALUES),
    )


def test_names_clash_is_detected() -> None:
    """The check itself fails on a shared name (a test that cannot fail is a defect)."""
    with pytest.raises(AssertionError):
        assert_no_clash(["AWS::S3::Bucket:x"], ["AWS::S3::Bucket:x"])


def test_management_account_auditor_can_read_the_org_code_bucket(
    release_templates: tuple[Json, Json],
) -> None:
    """The auditor stack in the management account takes its code from the org bucket."""
    auditor, org = release_templates
    deployed = Deployment(auditor, AUDITOR_VALUES, account=ACCOUNT, region=REGION)
    functions = [r for r in deployed.resources().values() if r["Type"] == "AWS::Lambda::Function"]
    assert len(functions) == 2  # the scheduled and (EventDrivenMode default) the event function
    bucket_names = physical_names(org, ORG_STACK_NAME, ORG_VALUES)
    for function in functions:
        assert f"AWS::S3::Bucket:{function['Properties']['Code']['S3Bucket']}" in bucket_names
