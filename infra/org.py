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
* AutoRemediate can be switched on per OU: the OUs in ``RemediationOuIds`` get the
  auditor from a StackSet of their own whose own parameter is ``AutoRemediate=true``.
  Not a ``ParameterOverrides`` group of the one StackSet: StackSets apply overrides only
  to the stack instances that exist when they are set, and an account that automatic
  deployment adds later gets the StackSet's own values
  (aws-cloudformation/cloudformation-coverage-roadmap#1291), so it would run with
  ``AutoRemediate=false`` and nothing would say so. With two StackSets every account's
  values follow from the StackSet that reaches it. The in-cluster check is switched on per
  OU the same way: ``InClusterOuIds`` get a StackSet whose ``InClusterCheck=true``.
* No account may run two auditors. A StackSet that targets an OU deploys to its child
  OUs too, and several StackSets may target the same OU (User Guide, "Create StackSets
  with service-managed permissions", Considerations), while ``AccountFilterType`` can
  only leave out listed accounts, never a child OU (API reference
  ``DeploymentTargets``). What the template can see it rejects: the root as a
  remediation OU (parameter pattern) and the same OUs in both lists (the
  ``RemediationOusAreNotTargets`` Rule; rule functions compare whole values only, the
  "Rule functions" reference, and the template cannot read the OU tree). Everything
  else, a remediation OU inside a target OU or a root target, is made safe by the
  auditor template itself: it claims one SSM parameter name per account and region
  (``infra.stack``), so a second auditor stack fails to create, visibly, in the
  StackSet's instances. ``RemediationStackSet`` is created after ``AuditorStackSet``.
* Plain ``CfnStackSet``, not the experimental ``cdk-stacksets`` library: the template
  must come from the release bucket (no CDK asset publishing, no bootstrap), and a
  dependency outside the project's allowed list buys nothing here (docs/organizations.md).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import (
    Acknowledgment,
    Aws,
    CfnCondition,
    CfnOutput,
    CfnRule,
    CfnRuleAssertion,
    Fn,
    Stack,
    Token,
    Validations,
)
from aws_cdk import aws_cloudformation as cfn
from constructs import Construct

from eks_netpol_auditor.names import PRODUCT
from infra.org_bucket import OrgCodeBucket
from infra.org_forwarder import HOME_REGION_PARAMETER, ForwarderParameters
from infra.org_insights import OrgInsights
from infra.org_parameters import (
    AUTO_REMEDIATE_PARAMETER,
    FORWARDER_SUFFIX,
    IN_CLUSTER_PARAMETER,
    IN_CLUSTER_SUFFIX,
    REMEDIATION_SUFFIX,
    OrgParameters,
)
from infra.parameters import INSIGHT_PARAMETER
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
        self.remediation_stack_set = self._remediation_stack_set()
        self.in_cluster_stack_set = self._in_cluster_stack_set()
        self.forwarder_stack_set = (
            self._forwarder_stack_set(forwarder_template_key) if forwarder_template_key else None
        )
        self._reject_overlapping_ous()
        self.insights = OrgInsights(self)
        CfnOutput(
            self,
            "CodeBucketName",
            value=self.code_bucket.bucket_name,
            description="Upload the release here (aws s3 cp dist/ ... --recursive).",
        )

    @staticmethod
    def _instances(ous: list[str], regions: list[str]) -> dict[str, Any]:
        """One stack-instances group: these OUs (and their child OUs) in these regions.

        Raw CloudFormation (PascalCase), because a group may sit inside Fn::If where CDK
        does not convert property structs. No ``ParameterOverrides``: they would not
        reach accounts added later (module docstring).
        """
        return {"DeploymentTargets": {"OrganizationalUnitIds": ous}, "Regions": regions}

    def _auditor_parameters(self, **fixed: str) -> dict[str, str]:
        """What every auditor StackSet passes: the mirrored settings, this stack's code
        bucket, no insight (it lives in the Security Hub administrator: ``OrgInsights``),
        and the values a per-OU StackSet fixes (``AutoRemediate``, ``InClusterCheck``)."""
        return {
            **{p.node.id: p.value_as_string for p in self.params.passthrough},
            CODE_BUCKET_PREFIX_PARAMETER: self.code_bucket.prefix,
            INSIGHT_PARAMETER: "false",
            **fixed,
        }

    def _auditor_stack_set(self) -> cfn.CfnStackSet:
        """The auditor in the home region of every account of TargetOuIds."""
        params = self.params
        stack_set = self._stack_set(
            "AuditorStackSet",
            name=params.stack_set_name.value_as_string,
            description=f"{PRODUCT}: audits EKS network policy in every account of the OUs",
            parameters=self._auditor_parameters(),
            template_key=params.template_key.value_as_string,
        )
        stack_set.add_property_override(
            "StackInstancesGroup",
            [self._instances(params.ou_list(params.target_ous), [Aws.REGION])],
        )
        return stack_set

    def _remediation_stack_set(self) -> cfn.CfnStackSet:
        """The auditor with AutoRemediate=true in every account of RemediationOuIds.

        Created after ``AuditorStackSet``: an update from the single-StackSet layout first
        removes the remediation OUs' instances from it, then this StackSet claims them.
        """
        params = self.params
        return self._per_ou_stack_set(
            "RemediationStackSet",
            suffix=REMEDIATION_SUFFIX,
            description=f"{PRODUCT}: audits and remediates EKS network policy in every "
            "account of the remediation OUs",
            ous=params.remediation_ous.value_as_string,
            fixed={AUTO_REMEDIATE_PARAMETER: "true"},
            condition=params.deploy_remediation,
        )

    def _in_cluster_stack_set(self) -> cfn.CfnStackSet:
        """The auditor with InClusterCheck=true in every account of InClusterOuIds, for
        the same reason as remediation OUs: a ParameterOverride would not reach accounts
        that join later. AutoRemediate and InClusterEnrol are the mirrored values."""
        params = self.params
        return self._per_ou_stack_set(
            "InClusterStackSet",
            suffix=IN_CLUSTER_SUFFIX,
            description=f"{PRODUCT}: audits EKS network policy, in-cluster check on, in "
            "every account of the in-cluster OUs",
            ous=params.in_cluster_ous.value_as_string,
            fixed={IN_CLUSTER_PARAMETER: "true"},
            condition=params.deploy_in_cluster,
        )

    def _per_ou_stack_set(
        self,
        construct_id: str,
        *,
        suffix: str,
        description: str,
        ous: str,
        fixed: dict[str, str],
        condition: CfnCondition,
    ) -> cfn.CfnStackSet:
        """The auditor with ``fixed`` parameter values in the home region of every
        account of ``ous``, named StackSetName + ``suffix``, after ``AuditorStackSet``."""
        params = self.params
        stack_set = self._stack_set(
            construct_id,
            name=Fn.join("", [params.stack_set_name.value_as_string, suffix]),
            description=description,
            parameters=self._auditor_parameters(**fixed),
            template_key=params.template_key.value_as_string,
        )
        stack_set.add_property_override(
            "StackInstancesGroup", [self._instances(Fn.split(",", ous), [Aws.REGION])]
        )
        stack_set.cfn_options.condition = condition
        # CDK's validator finds no scenario for either branch of the Fn::Ifs under this
        # two-part condition and warns; cfn-lint (make release, test_org_stack) evaluates
        # the same template and finds every branch reachable.
        Validations.of(stack_set).acknowledge(
            Acknowledgment(
                id="CloudFormation-Validate::W1028",
                reason=f"Both branches are reachable under {condition.logical_id}; "
                "cfn-lint, which evaluates the conditions, passes.",
            )
        )
        stack_set.node.add_dependency(self.stack_set)
        return stack_set

    def _forwarder_stack_set(self, template_key: str) -> cfn.CfnStackSet:
        """The event forwarder in ``ForwarderRegions`` of every account of both OU lists.

        One StackSet for both lists: it has one stack instance per account and region
        however the OUs nest, and its one parameter is the same everywhere.
        """
        forwarder = ForwarderParameters(self, self.params, template_key)
        params = self.params
        regions = forwarder.region_list()
        remediation_group, in_cluster_group = (
            Fn.condition_if(
                condition.logical_id, self._instances(params.ou_list(ous), regions), Aws.NO_VALUE
            )
            for condition, ous in (
                (params.has_remediation_ous, params.remediation_ous),
                (params.has_in_cluster_ous, params.in_cluster_ous),
            )
        )
        stack_set = self._stack_set(
            "ForwarderStackSet",
            name=Fn.join("", [params.stack_set_name.value_as_string, FORWARDER_SUFFIX]),
            description=f"{PRODUCT}: forwards EKS change events to the auditor's home region",
            parameters={HOME_REGION_PARAMETER: Aws.REGION},
            template_key=forwarder.template_key.value_as_string,
        )
        stack_set.add_property_override(
            "StackInstancesGroup",
            [
                self._instances(params.ou_list(params.target_ous), regions),
                remediation_group,
                in_cluster_group,
            ],
        )
        stack_set.cfn_options.condition = forwarder.deploy
        return stack_set

    def _reject_overlapping_ous(self) -> None:
        """Refuse, before any change, the same OU list in two lists (targets, remediation
        OUs, in-cluster OUs): an account reached by two StackSets would be claimed by two
        auditors. Rule functions compare whole values only ("Rule functions")."""
        params = self.params
        pairs = (
            ("RemediationOusAreNotTargets", params.remediation_ous, params.target_ous),
            ("InClusterOusAreNotTargets", params.in_cluster_ous, params.target_ous),
            ("InClusterOusAreNotRemediationOus", params.in_cluster_ous, params.remediation_ous),
        )
        for rule_id, listed, other in pairs:
            CfnRule(
                self,
                rule_id,
                rule_condition=Fn.condition_not(Fn.condition_equals(listed.value_as_string, "")),
                assertions=[
                    CfnRuleAssertion(
                        assert_=Fn.condition_not(
                            Fn.condition_equals(listed.value_as_string, other.value_as_string)
                        ),
                        assert_description=f"{listed.node.id} must not repeat "
                        f"{other.node.id}: list each OU in one of them only (an account "
                        "reached by two StackSets would be claimed by two auditors).",
                    )
                ],
            )

    def _stack_set(
        self,
        construct_id: str,
        *,
        name: str,
        description: str,
        parameters: dict[str, str],
        template_key: str,
    ) -> cfn.CfnStackSet:
        """A service-managed, auto-deployed StackSet (the caller adds its instances)."""
        params = self.params
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
