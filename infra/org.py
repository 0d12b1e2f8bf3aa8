"""``EksNetpolAuditorOrg``: the auditor in every account of the chosen OUs, by StackSets.

Why it looks like this:

* The auditor must run inside each account (BatchImportFindings accepts only findings of
  the calling account), so one service-managed StackSet deploys the release template
  into every account of the target OUs, in one home region (this stack's region); the
  auditor covers every region from there. Automatic deployment adds accounts that join
  the OUs later. Service-managed StackSets never deploy to the management account
  itself (CloudFormation User Guide, "Create StackSets with service-managed
  permissions"; API reference ``DeploymentTargets``): deploy the single-account stack
  there (docs/organizations.md).
* AutoRemediate can be switched on per OU: a second stack-instances group for the OUs in
  ``RemediationOuIds`` overrides it to ``true`` ("AWS::CloudFormation::StackSet
  StackInstances", ``ParameterOverrides``: "A list of StackSet parameters whose values
  you want to override in the selected stack instances"; User Guide, "Override
  parameter values on stacks within your CloudFormation StackSet").
* Plain ``CfnStackSet``, not the experimental ``cdk-stacksets`` library: the template
  must come from the release bucket (no CDK asset publishing, no bootstrap), and a
  dependency outside the project's allowed list buys nothing here (docs/organizations.md).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Aws, CfnOutput, Fn, Stack, Token, Validations
from aws_cdk import aws_cloudformation as cfn
from constructs import Construct

from eks_netpol_auditor.names import PRODUCT
from infra.org_bucket import OrgCodeBucket
from infra.org_forwarder import HOME_REGION_PARAMETER, ForwarderParameters
from infra.org_insights import OrgInsights
from infra.org_parameters import AUTO_REMEDIATE_PARAMETER, OrgParameters
from infra.release_code import CODE_BUCKET_PREFIX_PARAMETER

ORG_STACK_NAME = "EksNetpolAuditorOrg"


class EksNetpolAuditorOrgStack(Stack):
    """StackSet of the auditor over OUs, its code bucket, and the organization insights."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        auditor: Stack,
        template_key: str,
        forwarder_template_key: str | None = None,
        **kwargs: Any,
    ) -> None:
        """``auditor`` is the release's auditor stack (its parameters are passed through);
        ``template_key`` the S3 key of its template in this release, and
        ``forwarder_template_key`` that of the event forwarder (a second StackSet)."""
        super().__init__(scope, construct_id, **kwargs)
        self.params = OrgParameters(self, auditor, template_key)
        self.code_bucket = OrgCodeBucket(self, "CodeBucket", self.params)
        self.stack_set = self._auditor_stack_set()
        self.forwarder_stack_set = (
            self._forwarder_stack_set(forwarder_template_key) if forwarder_template_key else None
        )
        self.insights = OrgInsights(self)
        CfnOutput(
            self,
            "CodeBucketName",
            value=self.code_bucket.bucket_name,
            description="Upload the release here (aws s3 cp dist/ ... --recursive).",
        )

    @staticmethod
    def _instances(
        ous: list[str], regions: list[str], overrides: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """One stack-instances group: these OUs and regions, optional overrides.

        Raw CloudFormation (PascalCase), because one group sits inside Fn::If where CDK
        does not convert property structs.
        """
        group: dict[str, Any] = {
            "DeploymentTargets": {"OrganizationalUnitIds": ous},
            "Regions": regions,
        }
        if overrides:
            group["ParameterOverrides"] = [
                {"ParameterKey": key, "ParameterValue": value} for key, value in overrides.items()
            ]
        return group

    def _auditor_stack_set(self) -> cfn.CfnStackSet:
        """The auditor in the home region of every account of both OU lists."""
        params = self.params
        return self._stack_set(
            "AuditorStackSet",
            name=params.stack_set_name.value_as_string,
            description=f"{PRODUCT}: audits EKS network policy in every account of the OUs",
            parameters={
                **{p.node.id: p.value_as_string for p in params.passthrough},
                CODE_BUCKET_PREFIX_PARAMETER: self.code_bucket.prefix,
            },
            regions=[Aws.REGION],
            template_key=params.template_key.value_as_string,
            remediation_overrides={AUTO_REMEDIATE_PARAMETER: "true"},
        )

    def _forwarder_stack_set(self, template_key: str) -> cfn.CfnStackSet:
        """The event forwarder in ``ForwarderRegions`` of every account of both OU lists."""
        forwarder = ForwarderParameters(self, self.params, template_key)
        stack_set = self._stack_set(
            "ForwarderStackSet",
            name=Fn.join("-", [self.params.stack_set_name.value_as_string, "forwarder"]),
            description=f"{PRODUCT}: forwards EKS change events to the auditor's home region",
            parameters={HOME_REGION_PARAMETER: Aws.REGION},
            regions=forwarder.region_list(),
            template_key=forwarder.template_key.value_as_string,
            remediation_overrides=None,
        )
        stack_set.cfn_options.condition = forwarder.deploy
        return stack_set

    def _stack_set(
        self,
        construct_id: str,
        *,
        name: str,
        description: str,
        parameters: dict[str, str],
        regions: list[str],
        template_key: str,
        remediation_overrides: dict[str, str] | None,
    ) -> cfn.CfnStackSet:
        """A service-managed, auto-deployed StackSet over TargetOuIds and RemediationOuIds."""
        params = self.params
        remediation_group = Fn.condition_if(
            params.has_remediation_ous.logical_id,
            self._instances(params.ou_list(params.remediation_ous), regions, remediation_overrides),
            Aws.NO_VALUE,
        )
        stack_set = cfn.CfnStackSet(
            self,
            construct_id,
            stack_set_name=name,
            description=description,
            permission_model="SERVICE_MANAGED",
            auto_deployment=cfn.CfnStackSet.AutoDeploymentProperty(
                enabled=True,
                # "true"/"false" from the parameter; CloudFormation reads it as Boolean.
                retain_stacks_on_account_removal=Token.as_any(params.retain_stacks.value_as_string),
            ),
            call_as=params.call_as.value_as_string,
            capabilities=["CAPABILITY_IAM"],
            managed_execution={"Active": True},
            operation_preferences=self._operation_preferences(),
            parameters=[
                cfn.CfnStackSet.ParameterProperty(parameter_key=key, parameter_value=value)
                for key, value in parameters.items()
            ],
            template_url=self.code_bucket.object_url(template_key),
        )
        stack_set.add_property_override(
            "StackInstancesGroup",
            [self._instances(params.ou_list(params.target_ous), regions), remediation_group],
        )
        stack_set.cfn_options.condition = params.deploy
        # CDK's schema check resolves Fn::Split of an empty parameter default without
        # evaluating the condition under which that list is used; cfn-lint (make release)
        # evaluates conditions and passes.
        Validations.of(stack_set).acknowledge(
            Acknowledgment(
                id="CloudFormation-Validate::F3031",
                reason="Lists split from empty defaults exist only under their conditions.",
            )
        )
        return stack_set

    def _operation_preferences(self) -> cfn.CfnStackSet.OperationPreferencesProperty:
        """Count or percentage for concurrency, never both ("OperationPreferences")."""
        params = self.params
        use_count = params.use_max_count.logical_id
        return cfn.CfnStackSet.OperationPreferencesProperty(
            max_concurrent_count=Token.as_number(
                Fn.condition_if(
                    use_count, params.max_concurrent_count.value_as_number, Aws.NO_VALUE
                )
            ),
            max_concurrent_percentage=Token.as_number(
                Fn.condition_if(
                    use_count, Aws.NO_VALUE, params.max_concurrent_percentage.value_as_number
                )
            ),
            failure_tolerance_percentage=params.failure_tolerance_percentage.value_as_number,
            region_concurrency_type=params.region_concurrency.value_as_string,
            concurrency_mode=params.concurrency_mode.value_as_string,
        )
