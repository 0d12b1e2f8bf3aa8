"""Security Hub CSPM custom insights: the organization at a glance.

Why: each account imports its own findings (BatchImportFindings accepts only the
finding's own account), and the Security Hub CSPM delegated administrator sees them all
in its aggregation region. Three insights there answer "which accounts fail" (CIS 5.4.4,
enforcement), "how many clusters pass" (5.4.4) and "which accounts have clusters with
namespaces no NetworkPolicy covers" (CIS 4.3.2, the in-cluster check, its own GeneratorId
so its findings never add to the first control's counts): an insight has exactly one
``GroupByAttribute``
("AWS::SecurityHub::Insight", CloudFormation Template Reference; API reference
``Insight``). They are created only with ``CreateInsights=true``, because creating an
insight fails where Security Hub CSPM is not enabled, and they are only useful in the
administrator account's aggregation region.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Fn, Stack
from aws_cdk import aws_securityhub as securityhub

from eks_netpol_auditor.names import PRODUCT
from eks_netpol_auditor.securityhub.asff import GENERATOR_ID, IN_CLUSTER_GENERATOR_ID
from infra.conditions import parameter_equals
from infra.setting_parameters import cfn_parameter

_Filters = securityhub.CfnInsight.AwsSecurityFindingFiltersProperty


def _equals(value: str) -> list[securityhub.CfnInsight.StringFilterProperty]:
    return [securityhub.CfnInsight.StringFilterProperty(comparison="EQUALS", value=value)]


def auditor_filters(generator: str = GENERATOR_ID, **extra: Any) -> _Filters:
    """The auditor's current findings of one control: its generator, our product, active."""
    return _Filters(
        generator_id=_equals(generator),
        product_name=_equals(PRODUCT),
        record_state=_equals("ACTIVE"),
        **extra,
    )


class OrgInsights:
    """``CreateInsights`` and, under it, the three insights (named after the stack)."""

    def __init__(self, stack: Stack) -> None:
        self.create = cfn_parameter(stack, "CreateInsights")
        condition = parameter_equals(stack, "CreateSecurityHubInsights", self.create, "true")
        self.failed_by_account = securityhub.CfnInsight(
            stack,
            "FailedClustersByAccount",
            name=Fn.sub("${AWS::StackName}: EKS clusters without network policy, by account"),
            group_by_attribute="AwsAccountId",
            filters=auditor_filters(compliance_status=_equals("FAILED")),
        )
        self.by_status = securityhub.CfnInsight(
            stack,
            "ClustersByComplianceStatus",
            name=Fn.sub("${AWS::StackName}: EKS network policy, clusters by compliance status"),
            group_by_attribute="ComplianceStatus",
            filters=auditor_filters(),
        )
        self.uncovered_by_account = securityhub.CfnInsight(
            stack,
            "UncoveredNamespacesByAccount",
            name=Fn.sub(
                "${AWS::StackName}: EKS clusters with namespaces without a NetworkPolicy "
                "(CIS 4.3.2), by account"
            ),
            group_by_attribute="AwsAccountId",
            filters=auditor_filters(IN_CLUSTER_GENERATOR_ID, compliance_status=_equals("FAILED")),
        )
        for insight in (self.failed_by_account, self.by_status, self.uncovered_by_account):
            insight.cfn_options.condition = condition
