"""Every setting, described once: environment variables, stack parameters and CLI flags.

Why: the same knob used to be described in the README (four times over), in the stack
parameter descriptions and in the CLI help, and the copies drifted (the cooldown meant
"the auditor updated" in one and "changed, by anyone" in another). The CLI help
(`cli.py`), the stack parameters (`infra/parameters.py`, `infra/org_parameters.py` and the
other stacks' parameters, through `infra/setting_parameters.py`) and the documentation's
table (`docs/configuration.md`, rendered by `markdown_tables`) all read this table, and
`tests/unit/test_settings_table.py` fails on a missing row, a different default or a
stack parameter that sets no variable.

Stdlib only: the CDK app imports it without boto3.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from .names import (
    AUDITOR_STACK_NAME,
    FINDINGS_REFRESH_HOURS_DEFAULT,
    FINDINGS_REFRESH_HOURS_MAX,
    METRICS_NAMESPACE,
    PRODUCT,
    Env,
)

# The defaults the engine and the stack share (config.Settings, infra/parameters.py).
MAX_REMEDIATIONS_DEFAULT = 5
REMEDIATION_COOLDOWN_MINUTES_DEFAULT = 30

UNRELEASED = "Unreleased"  # the CHANGELOG's heading for what no release has yet


class Stack(StrEnum):
    """Which template a parameter belongs to."""

    AUDITOR = "auditor"  # infra/stack.py, also the release template and the StackSet's
    RELEASE = "release"  # only the release template of the auditor (code location)
    FORWARDER = "forwarder"  # infra/forwarder.py
    ORGANIZATION = "organization"  # infra/org.py


@dataclass(frozen=True)
class Dynamic:
    """A default computed when the template is built (e.g. this release's S3 key)."""

    text: str


@dataclass(frozen=True)
class Setting:
    """One knob. `meaning` is the one description: CLI help, parameter description, docs."""

    meaning: str
    since: str
    default: str | int | Dynamic | None = None  # None: required, no default
    allowed: str = ""  # allowed values in words (the docs' column)
    choices: tuple[str, ...] = ()  # exact allowed values, where there is such a list
    minimum: int | None = None  # a Number parameter's MinValue (numeric settings only)
    maximum: int | None = None
    env: Env | None = None
    flags: tuple[str, ...] = ()  # the CLI's spellings, first the one that switches it on
    command: str | None = None  # the CLI subcommand the flags belong to
    cli_note: str = ""  # what only the command line adds (its help and the docs)
    parameter: str | None = None
    stack: Stack = Stack.AUDITOR
    stack_value: str | None = None  # what a deployed stack sets the variable to, if fixed

    @property
    def numeric(self) -> bool:
        return self.minimum is not None

    @property
    def default_text(self) -> str:
        """The default as a user types it; `(none)` where the value is required."""
        if self.default is None:
            return "(required)" if self.parameter else "(none)"
        if isinstance(self.default, Dynamic):
            return self.default.text
        if self.default == "":
            return "(empty)"
        return str(self.default)


_BOOL = ("true", "false")
_REGIONS = "`all` or a comma list of region names"


def _engine() -> list[Setting]:
    """What the audit engine reads: a variable, usually a flag, usually a parameter."""
    return [
        Setting(
            "Regions to audit: 'all' (every region enabled in the account) or a "
            "comma-separated list of region names.",
            "0.1.0",
            default="all",
            allowed=_REGIONS + "; blank is an error, not `all`",
            env=Env.AUDIT_REGIONS,
            flags=("--regions",),
            command="scan",
            parameter="AuditRegions",
        ),
        Setting(
            "Import one ASFF finding per cluster into Security Hub CSPM. A deployed stack "
            "always publishes.",
            "0.1.0",
            default="false",
            choices=_BOOL,
            env=Env.PUBLISH_FINDINGS,
            flags=("--publish", "--no-publish"),
            command="scan",
            stack_value="true",
        ),
        Setting(
            "Region to publish every finding to (e.g. a Security Hub CSPM aggregation "
            "region). Empty = each cluster's own region.",
            "0.1.0",
            default="",
            allowed="empty or a region name",
            env=Env.FINDINGS_REGION,
            parameter="FindingsRegion",
        ),
        Setting(
            "Re-import an unchanged finding at most this often (hours); any change is "
            "imported in the same run. Security Hub CSPM charges per ingestion event.",
            UNRELEASED,
            default=FINDINGS_REFRESH_HOURS_DEFAULT,
            allowed=f"1 to {FINDINGS_REFRESH_HOURS_MAX}; the variable also takes 0 (every run)",
            minimum=1,
            maximum=FINDINGS_REFRESH_HOURS_MAX,
            env=Env.FINDINGS_REFRESH_HOURS,
            parameter="FindingsRefreshHours",
        ),
        *_remediation(),
        *_in_cluster(),
        Setting(
            "Log level of the functions (Powertools Logger).",
            "0.1.0",
            default="INFO",
            choices=("DEBUG", "INFO", "WARNING", "ERROR"),
            env=Env.LOG_LEVEL,
            parameter="LogLevel",
        ),
        Setting(
            "Service name in every log line and metric dimension (read by Powertools). Set "
            "by the stack.",
            UNRELEASED,
            env=Env.POWERTOOLS_SERVICE_NAME,
            stack_value=PRODUCT,
        ),
        Setting(
            "CloudWatch namespace of the functions' metrics (read by Powertools). Set by "
            "the stack.",
            UNRELEASED,
            env=Env.POWERTOOLS_METRICS_NAMESPACE,
            stack_value=METRICS_NAMESPACE,
        ),
    ]


def _remediation() -> list[Setting]:
    return [
        Setting(
            "Turn vpc-cni network policy enforcement on where every guard allows "
            "(eks:UpdateAddon). The stack grants eks:UpdateAddon only while it is 'true'.",
            "0.1.0",
            default="false",
            choices=_BOOL,
            env=Env.AUTO_REMEDIATE,
            flags=("--remediate", "--no-remediate"),
            command="scan",
            parameter="AutoRemediate",
        ),
        Setting(
            "With remediation on: plan and report the exact UpdateAddon requests, change nothing.",
            "0.1.0",
            default="false",
            choices=_BOOL,
            env=Env.REMEDIATION_DRY_RUN,
            flags=("--dry-run",),
            command="scan",
            cli_note="Without remediation on (--remediate or AUTO_REMEDIATE=true) it is an "
            "error: silence would suggest a plan was made.",
            parameter="RemediationDryRun",
        ),
        Setting(
            "Most add-on updates per run (0 = remediate nothing); the rest are deferred "
            "to later runs.",
            "0.1.0",
            default=MAX_REMEDIATIONS_DEFAULT,
            allowed="a whole number, 0 or more",
            minimum=0,
            env=Env.MAX_REMEDIATIONS_PER_RUN,
            flags=("--max-remediations",),
            command="scan",
            cli_note="Without remediation on it is an error: a cap on nothing would suggest "
            "one applied.",
            parameter="MaxRemediationsPerRun",
        ),
        Setting(
            f"Only remediate clusters tagged {PRODUCT}:auto-remediate=true.",
            "0.1.0",
            default="false",
            choices=_BOOL,
            env=Env.REMEDIATION_REQUIRE_TAG,
            parameter="RemediationRequireTag",
        ),
        Setting(
            # What event_targets.in_cooldown measures: DescribeAddon's modifiedAt, which cannot
            # say who changed the add-on, so a change by anyone starts the cooldown.
            "Event-driven runs only: a cluster whose vpc-cni add-on was changed, by anyone "
            "(the auditor, a person, a pipeline), less than this many minutes ago (its "
            "DescribeAddon modifiedAt) is re-audited but not remediated. 0 = no cooldown.",
            UNRELEASED,
            default=REMEDIATION_COOLDOWN_MINUTES_DEFAULT,
            allowed="a whole number, 0 or more",
            minimum=0,
            env=Env.REMEDIATION_COOLDOWN_MINUTES,
            parameter="RemediationCooldownMinutes",
        ),
    ]


def _in_cluster() -> list[Setting]:
    """The second control (CIS Amazon EKS Benchmark 4.3.2), read from each cluster's
    Kubernetes API: off by default, and so is self-enrolment (docs/in-cluster.md)."""
    return [
        Setting(
            "Also check, from inside each cluster (its Kubernetes API, read-only), that "
            "network policy enforcement runs and that every namespace with pods has a "
            "NetworkPolicy (CIS Amazon EKS Benchmark 4.3.2). Needs a public endpoint and an "
            "access entry for the auditor's role with AmazonEKSViewPolicy.",
            UNRELEASED,
            default="false",
            choices=_BOOL,
            env=Env.IN_CLUSTER_CHECK,
            flags=("--in-cluster", "--no-in-cluster"),
            command="scan",
            parameter="InClusterCheck",
        ),
        Setting(
            "Namespaces the in-cluster check never counts as uncovered, in addition to "
            "kube-system, kube-public and kube-node-lease (always excluded).",
            UNRELEASED,
            default="",
            allowed="empty, or comma-separated namespace names (DNS-1123 labels)",
            env=Env.IN_CLUSTER_EXCLUDE_NAMESPACES,
            parameter="InClusterExcludeNamespaces",
        ),
        Setting(
            "With the in-cluster check on: where a cluster refuses the auditor (HTTP "
            "401/403) and its authentication mode allows access entries, create the "
            "auditor's own access entry with AmazonEKSViewPolicy at cluster scope. The "
            "stack grants eks:CreateAccessEntry and eks:AssociateAccessPolicy only while "
            "it and InClusterCheck are 'true', and only for its own role, that policy and "
            "that scope.",
            UNRELEASED,
            default="false",
            choices=_BOOL,
            env=Env.IN_CLUSTER_ENROL,
            parameter="InClusterEnrol",
        ),
    ]


def _auditor_stack() -> list[Setting]:
    """Parameters that shape the auditor stack's resources rather than the engine."""
    return [
        Setting(
            "EventBridge schedule of the full audit: any rate(...) or cron(...) expression.",
            "0.1.0",
            default="rate(6 hours)",
            allowed="`rate(...)` or `cron(...)`",
            parameter="ScheduleExpression",
        ),
        Setting(
            "Re-audit a cluster within minutes of an EKS API call or add-on event. 'false' "
            "removes the event bus, rules, queue, event function and event source (the "
            "schedule still runs).",
            UNRELEASED,
            default="true",
            choices=_BOOL,
            parameter="EventDrivenMode",
        ),
        Setting(
            "Create the Security Hub CSPM insight 'clusters without network policy "
            "enforcement, by region' in this account. 'false' where Security Hub CSPM may "
            "not be enabled yet: creating an insight fails there. The organization StackSets "
            "pass false.",
            UNRELEASED,
            default="true",
            choices=_BOOL,
            parameter="CreateInsight",
        ),
        Setting(
            "Email address subscribed to the alarm topic (confirm the subscription email). "
            "Empty = no subscription.",
            "0.1.0",
            default="",
            allowed="empty or an email address",
            parameter="NotificationEmail",
        ),
        Setting(
            "1 = reserve one concurrent execution of the scheduled function so scheduled "
            "runs never overlap (event-driven runs have their own function). 0 = reserve "
            "nothing: use it when the deployment fails because the account's concurrency "
            "quota is too low (new accounts can have 10, and Lambda always keeps a minimum "
            "of unreserved concurrency).",
            "0.1.0",
            default=1,
            allowed="0 or 1",
            minimum=0,
            maximum=1,
            parameter="ReservedConcurrency",
        ),
        Setting(
            "Powertools for AWS Lambda (Python) layer version ARN. Empty = the "
            "AWS-published public SSM parameter (commercial regions only). Set it in "
            "GovCloud, China and regions without that parameter, or to pin a layer version.",
            UNRELEASED,
            default="",
            allowed="empty or a Lambda layer version ARN",
            parameter="PowertoolsLayerArn",
        ),
        Setting(
            "Prefix of the code buckets: the function's code is read from the bucket "
            "<prefix>-<region> of the region it is deployed in (Lambda reads code only from "
            "a bucket in its own region).",
            UNRELEASED,
            allowed="an S3 bucket name prefix",
            parameter="CodeBucketPrefix",
            stack=Stack.RELEASE,
        ),
        Setting(
            "S3 key of the function's code zip (default: this release's zip, named by its "
            "SHA-256).",
            UNRELEASED,
            default=Dynamic("this release's zip"),
            allowed="an S3 key ending in `.zip`",
            parameter="CodeKey",
            stack=Stack.RELEASE,
        ),
        Setting(
            f"Region where the {PRODUCT} stack (and its event bus) runs.",
            UNRELEASED,
            allowed="a region name",
            parameter="HomeRegion",
            stack=Stack.FORWARDER,
        ),
    ]


def _organization() -> list[Setting]:
    """The organization stack's own parameters (its auditor parameters are mirrored)."""
    org = Stack.ORGANIZATION
    return [
        Setting(
            "Organizational units (ou-...) or the root (r-...) whose accounts get the "
            "auditor, with AutoRemediate as set below. Accounts that join them later get it "
            "too (automatic deployment), and so do their child OUs. No RemediationOuIds OU "
            "may sit inside them (nor they inside one).",
            UNRELEASED,
            allowed="comma-separated OU ids or the root id, no spaces",
            parameter="TargetOuIds",
            stack=org,
        ),
        Setting(
            "Organizational units whose accounts get the auditor with AutoRemediate=true, "
            "from a StackSet of their own (StackSetName-remediation), so that accounts "
            "joining later get it too. Must not overlap or nest with TargetOuIds, and "
            "TargetOuIds must then not be the root: an account reached by both StackSets "
            "keeps the first auditor, the second fails. Empty = none.",
            UNRELEASED,
            default="",
            allowed="empty, or comma-separated OU ids (not the root), no spaces",
            parameter="RemediationOuIds",
            stack=org,
        ),
        Setting(
            "Organizational units whose accounts get the auditor with InClusterCheck=true, "
            "from a StackSet of their own (StackSetName-incluster), so that accounts joining "
            "later get it too; AutoRemediate and InClusterEnrol there are the values below. "
            "Must not overlap or nest with TargetOuIds or RemediationOuIds (an account "
            "reached by two StackSets keeps the first auditor, the second fails), and "
            "TargetOuIds must then not be the root. Empty = none.",
            UNRELEASED,
            default="",
            allowed="empty, or comma-separated OU ids (not the root), no spaces",
            parameter="InClusterOuIds",
            stack=org,
        ),
        Setting(
            "Your organization's id: only its accounts may read the code bucket.",
            UNRELEASED,
            allowed="an AWS Organizations id (`o-...`)",
            parameter="OrganizationId",
            stack=org,
        ),
        Setting(
            "SELF in the management account, DELEGATED_ADMIN in an account registered as a "
            "CloudFormation StackSets delegated administrator.",
            UNRELEASED,
            default="SELF",
            choices=("SELF", "DELEGATED_ADMIN"),
            parameter="CallAs",
            stack=org,
        ),
        Setting(
            "Name of the StackSet that deploys the auditor; the others are named after it "
            "(-forwarder, -remediation).",
            UNRELEASED,
            default=PRODUCT,
            allowed="a letter, then letters, digits or hyphens; at most 116 characters",
            parameter="StackSetName",
            stack=org,
        ),
        Setting(
            "true = keep the auditor in an account that leaves the target OUs; false = delete it.",
            UNRELEASED,
            default="false",
            choices=_BOOL,
            parameter="RetainStacksOnAccountRemoval",
            stack=org,
        ),
        Setting(
            "false = create only the code bucket (first deployment: upload the release, "
            "then update with true).",
            UNRELEASED,
            default="true",
            choices=_BOOL,
            parameter="DeployAuditors",
            stack=org,
        ),
        *_stack_set_operations(),
        Setting(
            "Prefix of existing code buckets (<prefix>-<region>) holding the release. "
            "Empty = create the bucket eks-netpol-auditor-<account>-<region> here.",
            UNRELEASED,
            default="",
            allowed="empty or an S3 bucket name prefix",
            parameter="ExistingCodeBucketPrefix",
            stack=org,
        ),
        Setting(
            "S3 key of the auditor template (default: this release's).",
            UNRELEASED,
            default=Dynamic("this release's template"),
            allowed="an S3 key ending in `.template.json`",
            parameter="TemplateKey",
            stack=org,
        ),
        Setting(
            "Audited regions other than this (home) region: each account of the OUs gets "
            "the event forwarder there, so EKS changes reach the auditor within minutes. "
            "Empty = no forwarders (the schedule still audits every region). Only with "
            "EventDrivenMode=true.",
            UNRELEASED,
            default="",
            allowed="empty, or comma-separated region names, no spaces",
            parameter="ForwarderRegions",
            stack=org,
        ),
        Setting(
            "S3 key of the forwarder template (default: this release's).",
            UNRELEASED,
            default=Dynamic("this release's forwarder template"),
            allowed="an S3 key ending in `.template.json`",
            parameter="ForwarderTemplateKey",
            stack=org,
        ),
        Setting(
            "true where this stack runs in the Security Hub CSPM administrator account's "
            "aggregation region: adds insights over every member's findings.",
            UNRELEASED,
            default="false",
            choices=_BOOL,
            parameter="CreateInsights",
            stack=org,
        ),
    ]


def _stack_set_operations() -> list[Setting]:
    """StackSets operation preferences ("OperationPreferences", CloudFormation reference)."""
    org = Stack.ORGANIZATION
    return [
        Setting(
            "Most accounts per region deployed at the same time, as a percentage (with "
            "MaxConcurrentBy=Percentage). With ConcurrencyMode=STRICT_FAILURE_TOLERANCE "
            "StackSets also caps each wave at the failure tolerance "
            "(FailureTolerancePercentage of the accounts) + 1: with the defaults about 10 % "
            "+ 1 account at a time, not 25 %.",
            UNRELEASED,
            default=25,
            allowed="1 to 100",
            minimum=1,
            maximum=100,
            parameter="MaxConcurrentPercentage",
            stack=org,
        ),
        Setting(
            "Most accounts per region deployed at the same time (with MaxConcurrentBy=Count); "
            "under STRICT_FAILURE_TOLERANCE at most the failure tolerance + 1.",
            UNRELEASED,
            default=1,
            allowed="1 or more",
            minimum=1,
            parameter="MaxConcurrentCount",
            stack=org,
        ),
        Setting(
            "Which of MaxConcurrentPercentage and MaxConcurrentCount applies.",
            UNRELEASED,
            default="Percentage",
            choices=("Percentage", "Count"),
            parameter="MaxConcurrentBy",
            stack=org,
        ),
        Setting(
            "Percentage of accounts per region that may fail before StackSets stops the "
            "operation in that region.",
            UNRELEASED,
            default=10,
            allowed="0 to 100",
            minimum=0,
            maximum=100,
            parameter="FailureTolerancePercentage",
            stack=org,
        ),
        Setting(
            "Deploy regions one at a time or in parallel.",
            UNRELEASED,
            default="PARALLEL",
            choices=("SEQUENTIAL", "PARALLEL"),
            parameter="RegionConcurrencyType",
            stack=org,
        ),
        Setting(
            # STRICT stays the default: a broken release or a missing prerequisite stops
            # after a few accounts per region instead of failing a quarter of them at
            # once. Its cost is speed, which the descriptions state
            # (StackSetOperationPreferences ConcurrencyMode, CloudFormation API reference:
            # initial concurrency is the lower of MaxConcurrent and the tolerance + 1).
            "STRICT_FAILURE_TOLERANCE (safe, slower): each wave is at most the failure "
            "tolerance + 1 account and shrinks as failures occur, so a bad rollout stops "
            "early. SOFT_FAILURE_TOLERANCE (faster): waves use the full "
            "MaxConcurrentPercentage/Count whatever the failures.",
            UNRELEASED,
            default="STRICT_FAILURE_TOLERANCE",
            choices=("STRICT_FAILURE_TOLERANCE", "SOFT_FAILURE_TOLERANCE"),
            parameter="ConcurrencyMode",
            stack=org,
        ),
    ]


def _cli_only() -> list[Setting]:
    """Flags that choose what the CLI shows, not what the engine does."""
    statuses = ("PASSED", "FAILED", "WARNING", "NOT_AVAILABLE")
    return [
        Setting(
            "Output format.",
            "0.1.0",
            default="table",
            choices=("table", "json"),
            flags=("--format",),
            command="scan",
        ),
        Setting(
            "Show only clusters with this status; repeatable or a comma list, any case; the "
            "summary and the exit code still cover every cluster.",
            UNRELEASED,
            allowed=", ".join(statuses),
            flags=("--status",),
            command="scan",
        ),
        Setting(
            "The Security Hub CSPM aggregation region (default: AWS_REGION or the "
            "profile's region).",
            UNRELEASED,
            allowed="a region name",
            flags=("--region",),
            command="report",
        ),
        Setting(
            "Output format.",
            UNRELEASED,
            default="table",
            choices=("table", "json", "csv"),
            flags=("--format",),
            command="report",
        ),
        Setting(
            "Show only rows with this status; repeatable or a comma list; the totals and "
            "the exit code still cover every finding.",
            UNRELEASED,
            allowed=", ".join(statuses),
            flags=("--status",),
            command="report",
        ),
        Setting(
            "Which CIS Amazon EKS Benchmark control to report: 5.4.4 (network policy "
            "enforced, every cluster), 4.3.2 (every namespace has a NetworkPolicy, clusters "
            "with the in-cluster check) or all (both, side by side per cluster); rows, "
            "totals and the exit code cover only the controls chosen.",
            UNRELEASED,
            default="all",
            choices=("all", "5.4.4", "4.3.2"),
            flags=("--control",),
            command="report",
        ),
        Setting(
            "Regions to check: 'all' (every region enabled in the account) or a "
            f"comma-separated list (default: {Env.AUDIT_REGIONS}, else the stack's "
            "AuditRegions parameter, else every enabled region).",
            UNRELEASED,
            allowed=_REGIONS,
            flags=("--regions",),
            command="doctor",
        ),
        Setting(
            "Where the auditor stack runs (default: AWS_REGION or the profile's region).",
            UNRELEASED,
            allowed="a region name",
            flags=("--region",),
            command="doctor",
        ),
        Setting(
            "The auditor stack's name.",
            UNRELEASED,
            default=AUDITOR_STACK_NAME,
            allowed="a CloudFormation stack name",
            flags=("--stack-name",),
            command="doctor",
        ),
        Setting(
            "Output format.",
            UNRELEASED,
            default="table",
            choices=("table", "json"),
            flags=("--format",),
            command="doctor",
        ),
    ]


SETTINGS: tuple[Setting, ...] = (
    *_engine(),
    *_auditor_stack(),
    *_organization(),
    *_cli_only(),
)


def by_parameter(name: str) -> Setting:
    """The row of a stack parameter; KeyError names a parameter that has none."""
    for setting in SETTINGS:
        if setting.parameter == name:
            return setting
    raise KeyError(f"no row for stack parameter {name!r} in settings_table.SETTINGS")


def by_env(variable: Env) -> Setting:
    for setting in SETTINGS:
        if setting.env is variable:
            return setting
    raise KeyError(f"no row for environment variable {variable} in settings_table.SETTINGS")


def by_flag(command: str, flag: str) -> Setting:
    for setting in SETTINGS:
        if setting.command == command and flag in setting.flags:
            return setting
    raise KeyError(f"no row for {command} {flag} in settings_table.SETTINGS")


def flag_help(command: str, flag: str) -> str:
    """The CLI help of one flag: the row's meaning, and the variable it overrides."""
    setting = by_flag(command, flag)
    if setting.flags.index(flag) > 0 and setting.env is not None:
        return f"off, whatever {setting.env} says"
    text = " ".join(part for part in (setting.meaning, setting.cli_note) if part)
    if setting.env is not None:
        return f"{text} (env {setting.env})"
    return text


def env_help(variable: Env) -> str:
    """What `scan --help` says about a variable: its meaning, default and flags."""
    setting = by_env(variable)
    flags = " / ".join(setting.flags)
    default = f"default {setting.default_text}" + (f"; {flags}" if flags else "")
    return f"{setting.meaning} [{default}]"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;")


def _code(text: str | None) -> str:
    return f"`{text}`" if text else ""


def _allowed(setting: Setting) -> str:
    if setting.choices:
        return ", ".join(f"`{choice}`" for choice in setting.choices)
    return setting.allowed


def _default(setting: Setting) -> str:
    if isinstance(setting.default, (str, int)) and setting.default != "":
        return f"`{setting.default}`"
    if setting.default is None and setting.stack_value is not None:
        return f"(the stack sets `{setting.stack_value}`)"
    return setting.default_text


def _flags(setting: Setting) -> str:
    return " / ".join(f"`{setting.command} {flag}`" for flag in setting.flags)


def _rows(settings: Iterable[Setting]) -> list[str]:
    return [
        "| "
        + " | ".join(
            _cell(cell)
            for cell in (
                _code(s.env),
                _flags(s),
                _code(s.parameter),
                _default(s),
                _allowed(s),
                " ".join(part for part in (s.meaning, s.cli_note) if part),
                s.since,
            )
        )
        + " |"
        for s in settings
    ]


_HEADER = (
    "| variable | CLI flag | stack parameter | default | allowed | meaning | since |",
    "|---|---|---|---|---|---|---|",
)

SECTIONS: tuple[tuple[str, Stack], ...] = (
    ("The auditor: variables, flags and stack parameters", Stack.AUDITOR),
    ("The release template's code location", Stack.RELEASE),
    ("The forwarder stack", Stack.FORWARDER),
    ("The organization stack", Stack.ORGANIZATION),
)


def markdown_tables() -> str:
    """The docs' settings tables: `python -m eks_netpol_auditor.settings_table` writes
    them to stdout, and docs/configuration.md includes the checked-in copy."""
    out: list[str] = []
    for title, stack in SECTIONS:
        rows = [s for s in SETTINGS if s.stack is stack and (s.env is not None or s.parameter)]
        out += [f"### {title}", "", *_HEADER, *_rows(rows), ""]
    cli_only = [s for s in SETTINGS if s.env is None and s.parameter is None]
    out += ["### CLI flags that only shape the output", "", *_HEADER, *_rows(cli_only)]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(markdown_tables(), end="")
