"""The one write permission to customer workloads, as a unit of its own.

Why a Construct: ``eks:UpdateAddon`` is the product's riskiest grant. It lives in
its own ``AWS::IAM::Policy`` that exists only under the ``AutoRemediateEnabled``
condition, so flipping the parameter back to ``false`` deletes the policy and the
permission disappears instead of merely being unused. Keeping the grant, its
condition and its cdk-nag acknowledgment together makes that promise reviewable
in one place.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnCondition, Validations
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.arns import ANY_REGION_REASON, EKS_NAG_PREFIX, VPC_CNI, account_arn


class RemediationPermission(Construct):
    """``eks:UpdateAddon`` on vpc-cni add-ons, present only when ``condition`` holds."""

    def __init__(
        self, scope: Construct, construct_id: str, *, role: iam.IRole, condition: CfnCondition
    ) -> None:
        super().__init__(scope, construct_id)
        self.policy = iam.Policy(
            self,
            "Policy",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="EksUpdateVpcCniAddon",
                    actions=["eks:UpdateAddon"],
                    resources=[account_arn("eks", f"addon/*/{VPC_CNI}/*")],
                )
            ],
        )
        cfn_policy = self.policy.node.default_child
        assert isinstance(cfn_policy, iam.CfnPolicy)
        cfn_policy.cfn_options.condition = condition
        Validations.of(self.policy).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::{EKS_NAG_PREFIX}:addon/*/{VPC_CNI}/*]",
                reason="eks:UpdateAddon only on vpc-cni add-ons, only when AutoRemediate=true "
                "(the policy is conditional); clusters are discovered at run time. "
                + ANY_REGION_REASON,
            )
        )
