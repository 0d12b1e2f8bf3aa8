"""Parameters of the organization stack, and the auditor parameters it passes through.

Why: the organization is steered the way a single account is, with parameters; the
auditor's own parameters are mirrored from the auditor stack object (type, default,
allowed values and description), so the two templates cannot drift apart. The
StackSets operation preferences are parameters because the right concurrency and
failure tolerance depend on the size of the organization. Reference:
"AWS::CloudFormation::StackSet" and its "OperationPreferences", "AutoDeployment" and
"StackInstances" properties (CloudFormation Template Reference).
"""

from __future__ import annotations

from aws_cdk import CfnCondition, CfnParameter, Fn, Stack

from infra.conditions import parameter_differs, parameter_equals
from infra.parameters import INSIGHT_PARAMETER
from infra.release_code import BUCKET_PREFIX_PATTERN, CODE_BUCKET_PREFIX_PARAMETER
from infra.setting_parameters import cfn_parameter

BOOL_VALUES = ["true", "false"]
# The auditor parameters a per-OU StackSet switches on: AutoRemediate (RemediationOuIds)
# and InClusterCheck (InClusterOuIds).
AUTO_REMEDIATE_PARAMETER = "AutoRemediate"
IN_CLUSTER_PARAMETER = "InClusterCheck"
# StackSet names: "can contain only alphanumeric characters (case-sensitive) and hyphens.
# It must start with an alphabetic character and can't be longer than 128 characters"
# (CloudFormation API reference, CreateStackSet StackSetName; the botocore model's
# documentation of the same member). The other StackSets are named StackSetName plus
# a suffix, so the parameter leaves room for the longest one: a longer name would pass
# the parameter and fail CreateStackSet, rolling the organization stack back.
STACK_SET_NAME_LIMIT = 128
FORWARDER_SUFFIX = "-forwarder"
REMEDIATION_SUFFIX = "-remediation"
IN_CLUSTER_SUFFIX = "-incluster"
STACK_SET_NAME_SUFFIXES = (FORWARDER_SUFFIX, REMEDIATION_SUFFIX, IN_CLUSTER_SUFFIX)
STACK_SET_NAME_MAX_LENGTH = STACK_SET_NAME_LIMIT - max(map(len, STACK_SET_NAME_SUFFIXES))
STACK_SET_NAME_PATTERN = rf"^[a-zA-Z][a-zA-Z0-9-]{{0,{STACK_SET_NAME_MAX_LENGTH - 1}}}$"
# Organization ids: "o-" followed by 10 to 32 lower-case letters or digits
# (AWS Organizations API reference, Organization.Id).
ORG_ID_PATTERN = r"^o-[a-z0-9]{10,32}$"
# An OU or root id (API reference DeploymentTargets.OrganizationalUnitIds), and a comma
# list of them. Strings rather than CommaDelimitedList, so that CloudFormation rejects a
# malformed id at the parameter, and "empty" is a plain Equals condition.
_OU_ID = r"(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})"
OU_LIST_PATTERN = rf"^{_OU_ID}(,{_OU_ID})*$"
# Remediation OUs: never the root, which contains every target OU (a StackSet that
# targets an OU deploys to its child OUs too: CloudFormation User Guide, "Create StackSets
# with service-managed permissions", Considerations).
_OU_ONLY = r"ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}"
REMEDIATION_OU_LIST_PATTERN = rf"^{_OU_ONLY}(,{_OU_ONLY})*$"


def auditor_parameters(auditor: Stack) -> list[CfnParameter]:
    """The auditor's parameters a StackSet passes through, in template order.

    Left out: SSM-typed parameters (each target account resolves them itself), the
    code bucket prefix (the organization stack supplies its own bucket) and the insight
    switch (the StackSets pass false: ``infra.org``).
    """
    return [
        child
        for child in auditor.node.children
        if isinstance(child, CfnParameter)
        and not child.type.startswith("AWS::SSM::Parameter::Value")
        and child.node.id not in (CODE_BUCKET_PREFIX_PARAMETER, INSIGHT_PARAMETER)
    ]


def mirror_parameter(stack: Stack, source: CfnParameter) -> CfnParameter:
    """The same parameter (name, type, constraints, default) in ``stack``."""
    return CfnParameter(
        stack,
        source.node.id,
        type=source.type,
        default=source.default,
        allowed_values=source.allowed_values,
        allowed_pattern=source.allowed_pattern,
        constraint_description=source.constraint_description,
        min_value=source.min_value,
        max_value=source.max_value,
        no_echo=True if source.no_echo else None,
        description=f"Auditor setting, passed to every account. {source.description or ''}",
    )


class OrgParameters:
    """Targets, operation preferences, code bucket and the auditor's pass-through settings.

    Created directly in the stack's scope so logical ids are the names users type.
    """

    def __init__(self, stack: Stack, auditor: Stack, template_key: str) -> None:
        self._targets(stack)
        self._operations(stack)
        self._code(stack, template_key)
        self.passthrough = [mirror_parameter(stack, p) for p in auditor_parameters(auditor)]
        self._conditions(stack)

    def _targets(self, stack: Stack) -> None:
        self.target_ous = cfn_parameter(
            stack,
            "TargetOuIds",
            allowed_pattern=OU_LIST_PATTERN,
            constraint_description="comma-separated OU ids (ou-...) or the root id (r-...), "
            "no spaces.",
        )
        self.remediation_ous = cfn_parameter(
            stack,
            "RemediationOuIds",
            allowed_pattern=f"^$|{REMEDIATION_OU_LIST_PATTERN}",
            constraint_description="empty, or comma-separated OU ids (ou-...), no spaces; "
            "not the root.",
        )
        self.in_cluster_ous = cfn_parameter(
            stack,
            "InClusterOuIds",
            allowed_pattern=f"^$|{REMEDIATION_OU_LIST_PATTERN}",
            constraint_description="empty, or comma-separated OU ids (ou-...), no spaces; "
            "not the root.",
        )
        self.organization_id = cfn_parameter(
            stack,
            "OrganizationId",
            allowed_pattern=ORG_ID_PATTERN,
            constraint_description="an AWS Organizations id such as o-a1b2c3d4e5.",
        )
        self.call_as = cfn_parameter(stack, "CallAs")
        self.stack_set_name = cfn_parameter(
            stack,
            "StackSetName",
            allowed_pattern=STACK_SET_NAME_PATTERN,
            constraint_description=f"a letter, then letters, digits or hyphens; at most "
            f"{STACK_SET_NAME_MAX_LENGTH} characters.",
        )
        self.retain_stacks = cfn_parameter(stack, "RetainStacksOnAccountRemoval")
        self.deploy_auditors = cfn_parameter(stack, "DeployAuditors")

    def _operations(self, stack: Stack) -> None:
        self.max_concurrent_percentage = cfn_parameter(stack, "MaxConcurrentPercentage")
        self.max_concurrent_count = cfn_parameter(stack, "MaxConcurrentCount")
        # StackSets takes a count or a percentage, never both ("OperationPreferences").
        self.max_concurrent_by = cfn_parameter(stack, "MaxConcurrentBy")
        self.failure_tolerance_percentage = cfn_parameter(stack, "FailureTolerancePercentage")
        self.region_concurrency = cfn_parameter(stack, "RegionConcurrencyType")
        self.concurrency_mode = cfn_parameter(stack, "ConcurrencyMode")

    def _code(self, stack: Stack, template_key: str) -> None:
        self.existing_prefix = cfn_parameter(
            stack,
            "ExistingCodeBucketPrefix",
            allowed_pattern=f"^$|{BUCKET_PREFIX_PATTERN}",
        )
        self.template_key = cfn_parameter(
            stack,
            "TemplateKey",
            default=template_key,
            allowed_pattern=r"^[A-Za-z0-9!_.*'()/-]+\.template\.json$",
        )

    def passthrough_parameter(self, name: str) -> CfnParameter:
        """The mirrored auditor parameter called ``name``."""
        [parameter] = [p for p in self.passthrough if p.node.id == name]
        return parameter

    @staticmethod
    def ou_list(parameter: CfnParameter) -> list[str]:
        """The OU ids of a comma-list parameter (Fn::Split)."""
        return Fn.split(",", parameter.value_as_string)

    def _conditions(self, stack: Stack) -> None:
        self.create_bucket = parameter_equals(stack, "CreateCodeBucket", self.existing_prefix, "")
        self.deploy = parameter_equals(stack, "DeployAuditorStackSet", self.deploy_auditors, "true")
        self.has_remediation_ous = parameter_differs(
            stack, "HasRemediationOus", self.remediation_ous, ""
        )
        self.deploy_remediation = CfnCondition(
            stack,
            "DeployRemediationStackSet",
            expression=Fn.condition_and(
                Fn.condition_equals(self.deploy_auditors.value_as_string, "true"),
                Fn.condition_not(Fn.condition_equals(self.remediation_ous.value_as_string, "")),
            ),
        )
        self.has_in_cluster_ous = parameter_differs(
            stack, "HasInClusterOus", self.in_cluster_ous, ""
        )
        self.deploy_in_cluster = CfnCondition(
            stack,
            "DeployInClusterStackSet",
            expression=Fn.condition_and(
                Fn.condition_equals(self.deploy_auditors.value_as_string, "true"),
                Fn.condition_not(Fn.condition_equals(self.in_cluster_ous.value_as_string, "")),
            ),
        )
        self.use_max_count = parameter_equals(
            stack, "UseMaxConcurrentCount", self.max_concurrent_by, "Count"
        )
