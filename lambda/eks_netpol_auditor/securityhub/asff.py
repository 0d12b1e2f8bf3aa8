"""One cluster's verdict as an AWS Security Finding Format (ASFF) finding (pure, boto3-free).

BatchImportFindings writes ASFF findings to Security Hub CSPM (the ASFF-based service; the
newer OCSF-based "AWS Security Hub" is a separate product). Security teams review the result
there, so every audited cluster gets exactly one
finding whose identity never changes: the `Id` is derived only from partition, account,
cluster region, cluster name and the control. Configuration, verdict and run data go into
the content, never into the identity, so editing a policy or fixing a cluster updates the
finding in place instead of creating a duplicate.

Field rules and limits come from the ASFF syntax page
(https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format-syntax.html)
and the botocore model of BatchImportFindings; `tests/unit/securityhub/test_asff.py` checks
every built finding against both.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..evaluate import USER_GUIDE_URL
from ..incluster.model import IN_CLUSTER_CONTROL_ID
from ..model import (
    AUTO_REMEDIATE_TAG,
    CONTROL_ID,
    EXEMPT_TAG,
    Action,
    ClusterFacts,
    ClusterResult,
    ComplianceStatus,
    Outcome,
    Reason,
)
from ..names import PRODUCT

SCHEMA_VERSION = "2018-10-08"


def generator_id(control: str) -> str:
    """Fixed per control: GetFindings filters on it to find (and only find) our findings."""
    return f"{PRODUCT}/{control}"


GENERATOR_ID = generator_id(CONTROL_ID)
# The second control (CIS 4.3.2, the in-cluster check): its own generator beside the first,
# so a user can filter, alert and build insights on either control alone.
IN_CLUSTER_GENERATOR_ID = generator_id(IN_CLUSTER_CONTROL_ID)
# Every control that has findings, first control first; each cluster has one finding each.
CONTROLS = (CONTROL_ID, IN_CLUSTER_CONTROL_ID)
GENERATOR_IDS = tuple(generator_id(control) for control in CONTROLS)
FINDING_TYPE = (
    "Software and Configuration Checks/Industry and Regulatory Standards/CIS Amazon EKS Benchmark"
)
# CIS Amazon EKS Benchmark 5.4.4 "Ensure Network Policy is Enabled and set as appropriate".
RELATED_REQUIREMENTS = ("CIS Amazon EKS Benchmark/5.4.4",)
TITLE_TEXT = "EKS cluster {name} should enforce Kubernetes network policies"
NOTE_AUTHOR = PRODUCT
PRODUCT_FIELD_PREFIX = f"{PRODUCT}/"
# ProductFields key of the content digest that tells a later run the finding is unchanged.
DIGEST_FIELD = f"{PRODUCT_FIELD_PREFIX}ContentDigest"
# ProductFields key saying why a finding whose cluster still exists was archived.
ARCHIVED_REASON_FIELD = f"{PRODUCT_FIELD_PREFIX}ArchivedReason"
# What a re-import changes without the content changing: left out of the digest.
_RUN_FIELDS = ("CreatedAt", "FirstObservedAt", "LastObservedAt", "UpdatedAt")

# ASFF syntax page limits (characters) and the quotas page (bytes).
MAX_ID = 512
MAX_TITLE = 256
MAX_DESCRIPTION = 1024
MAX_RECOMMENDATION_TEXT = 512
MAX_NOTE_TEXT = 512
MAX_PRODUCT_FIELDS = 50
MAX_FIELD_KEY = 128
MAX_PRODUCT_FIELD_VALUE = 2048
# Resources[].Tags follow the AWS tag limits: 50 tags, keys 128, values 256 characters.
MAX_TAGS = 50
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256
MAX_FINDING_BYTES = 240 * 1024  # "The maximum allowed size for a finding is 240 Kb."
ELLIPSIS = "..."

# botocore model enum Resource.Partition; anything else is left out rather than rejected.
ASFF_PARTITIONS = frozenset(
    {"aws", "aws-cn", "aws-us-gov", "aws-us-iso", "aws-us-iso-b", "AzureCloud"}
)
# botocore model shapes AwsEksClusterDetails / AwsEksClusterResourcesVpcConfigDetails.
EKS_DETAIL_FIELDS = frozenset(
    {
        "Arn",
        "CertificateAuthorityData",
        "ClusterStatus",
        "Endpoint",
        "Name",
        "ResourcesVpcConfig",
        "RoleArn",
        "Version",
        "Logging",
    }
)
EKS_VPC_CONFIG_FIELDS = frozenset({"SecurityGroupIds", "SubnetIds", "EndpointPublicAccess"})
# Left out on purpose: the CA bundle is large and says nothing about network policy.
EKS_DETAIL_SKIPPED = frozenset({"CertificateAuthorityData"})

# Severity.Label by compliance status. FAILED is MEDIUM: without enforcement every pod can
# reach every other pod, which widens the blast radius of a compromised pod but is not by
# itself exploitable (the same level Security Hub gives hardening controls such as EKS.3 and
# EKS.8). WARNING (exempted, Auto Mode, unhealthy add-on) needs a human look: LOW.
# NOT_AVAILABLE for a cluster still being created is informational; an evaluation error is
# LOW because an unaudited cluster is a gap someone has to close (usually IAM permissions).
SEVERITY_BY_STATUS: Mapping[ComplianceStatus, str] = {
    ComplianceStatus.FAILED: "MEDIUM",
    ComplianceStatus.WARNING: "LOW",
    ComplianceStatus.PASSED: "INFORMATIONAL",
    ComplianceStatus.NOT_AVAILABLE: "INFORMATIONAL",
}
SEVERITY_EVALUATION_ERROR = "LOW"
SEVERITY_LABELS = frozenset({"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"})

_NON_BLANK = re.compile(r"\S")
_WHITESPACE = re.compile(r"\s+")
# Characters Java's `.` does not match: a key containing one fails the `.*\S.*` pattern.
_LINE_BREAK = re.compile("[\n\r\u0085\u2028\u2029]")


def product_arn(partition: str, region: str, account: str) -> str:
    """The only ProductArn an account may import with (ASFF "ProductArn", custom findings);
    BatchImportFindings must be called in the region it names."""
    return f"arn:{partition}:securityhub:{region}:{account}:product/{account}/default"


def finding_id(
    partition: str, account: str, region: str, cluster: str, control: str = CONTROL_ID
) -> str:
    """Stable identity: the same cluster and control always map to the same Id, whatever
    its state.

    The region is the cluster's, not the one the finding is delivered to, so a finding that
    moves between Security Hub regions keeps its Id. EKS cluster names cannot contain `/`,
    which makes the Id parseable (see `parse_finding_id`).
    """
    return f"{PRODUCT}/{partition}/{account}/{region}/{cluster}/{control}"


def parse_finding_id(value: str) -> tuple[str, str, str, str] | None:
    """(partition, account, cluster region, cluster name) of one of our Ids (either
    control), else None.

    Anything that does not parse is not ours and must never be archived or updated.
    """
    parts = value.split("/")
    if len(parts) != 6 or parts[0] != PRODUCT or parts[5] not in CONTROLS:
        return None
    _, partition, account, region, cluster, _ = parts
    if not all((partition, account, region, cluster)):
        return None
    return partition, account, region, cluster


def finding_control(value: str) -> str | None:
    """The control (CONTROLS) one of our Ids is about, else None."""
    return value.rsplit("/", 1)[-1] if parse_finding_id(value) is not None else None


def severity_label(result: ClusterResult) -> str:
    if result.verdict.reason is Reason.EVALUATION_ERROR:
        return SEVERITY_EVALUATION_ERROR
    return SEVERITY_BY_STATUS[result.verdict.status]


def timestamp(moment: datetime) -> str:
    """ASFF timestamps: RFC 3339 in UTC with milliseconds, e.g. 2026-11-05T10:00:00.123Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(value: object) -> datetime | None:
    """An ASFF timestamp as an aware datetime, or None when absent or malformed."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    # datetime.fromisoformat accepts at most microseconds; ASFF allows up to nanoseconds.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def fresh_updated_at(now: datetime, *previous: object) -> str:
    """`now`, or 1 ms after the newest previous UpdatedAt when clocks tie or run behind.

    Security Hub ignores an update whose UpdatedAt "matches or occurs before" the stored one
    (user guide, "BatchImportFindings for finding providers"), so it must be strictly newer.
    """
    newest = now
    for value in previous:
        stored = parse_timestamp(value)
        if stored is not None and stored >= newest:
            newest = stored + timedelta(milliseconds=1)
    return timestamp(newest)


def clip(text: str, limit: int) -> str:
    """One line (the model's `.*\\S.*` pattern) of at most `limit` characters."""
    flat = _WHITESPACE.sub(" ", text).strip()
    if len(flat) <= limit:
        return flat
    return flat[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def resource_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """The cluster's tags within ASFF limits; a tag that cannot fit never breaks the import.

    Keys that are blank or longer than 128 characters are dropped (a truncated key would be
    a different tag); blank values are dropped (the model requires non-blank strings); long
    values are truncated; beyond 50 tags the product's own tags are kept first, then by key.
    """
    usable: dict[str, str] = {}
    for key, value in tags.items():
        if not _NON_BLANK.search(key) or len(key) > MAX_TAG_KEY or _LINE_BREAK.search(key):
            continue
        if not _NON_BLANK.search(value):
            continue
        usable[key] = clip(value, MAX_TAG_VALUE)
    own = (EXEMPT_TAG, AUTO_REMEDIATE_TAG)
    ordered = sorted(usable, key=lambda k: (k not in own, k))
    return {key: usable[key] for key in ordered[:MAX_TAGS]}


def eks_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """Details.AwsEksCluster: only the members the ASFF shape has, no empty values."""
    result: dict[str, Any] = {}
    for key, value in details.items():
        if key not in EKS_DETAIL_FIELDS or key in EKS_DETAIL_SKIPPED:
            continue
        if key == "ResourcesVpcConfig" and isinstance(value, Mapping):
            vpc = {
                k: v
                for k, v in value.items()
                if k in EKS_VPC_CONFIG_FIELDS and _present(v) and _valid_vpc_value(k, v)
            }
            if vpc:
                result[key] = vpc
        elif key == "Logging":
            if isinstance(value, Mapping) and value:
                result[key] = dict(value)
        elif isinstance(value, str) and _NON_BLANK.search(value):
            result[key] = clip(value, MAX_PRODUCT_FIELD_VALUE)
    return result


def _present(value: object) -> bool:
    return value is not None and value not in ([], "")


def _valid_vpc_value(key: str, value: object) -> bool:
    if key == "EndpointPublicAccess":
        return isinstance(value, bool)
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def remediation_command(result: ClusterResult) -> str | None:
    """The exact enabling command of the verdict's fix (evaluate.py, rendered from the same
    UpdateAddon request remediation sends), or None when none can be offered safely."""
    return result.verdict.command


def recommendation(result: ClusterResult) -> dict[str, str]:
    """Remediation.Recommendation: the command itself when it fits in 512 characters."""
    command = remediation_command(result)
    if result.verdict.status is ComplianceStatus.PASSED:
        text = "No action needed: " + result.verdict.message
    elif command is None:
        text = result.verdict.message
    else:
        text = f"Enable network policy in vpc-cni, keeping the existing settings: {command}"
        if len(text) > MAX_RECOMMENDATION_TEXT and len(command) <= MAX_PRODUCT_FIELD_VALUE:
            text = (
                "Enable network policy in vpc-cni, keeping the existing settings, with the "
                f"command in ProductFields {PRODUCT_FIELD_PREFIX}RemediationCommand (too long "
                "for this field)."
            )
        elif len(text) > MAX_RECOMMENDATION_TEXT:
            # A clipped command would be harmful to paste, so none is published at all.
            text = (
                "Enable network policy in vpc-cni, keeping the existing settings. The exact "
                "command is too long for Security Hub CSPM: get it from `eks-netpol-audit scan "
                f"--regions {result.facts.region} --format json` (the cluster's message)."
            )
    return {"Text": clip(text, MAX_RECOMMENDATION_TEXT), "Url": USER_GUIDE_URL}


def _unclipped(command: str | None) -> str | None:
    """A command is published whole or not at all: a clipped one would break when pasted."""
    return command if command is not None and len(command) <= MAX_PRODUCT_FIELD_VALUE else None


def product_fields(result: ClusterResult) -> dict[str, str]:
    """Facts users filter on, namespaced `eks-netpol-auditor/...` (the `aws/` prefix is
    reserved); values are clipped to the ASFF limit and blank ones left out."""
    facts = result.facts
    addon = facts.addon
    remediation = result.remediation
    raw: dict[str, object] = {
        "Control": CONTROL_ID,
        "Reason": result.verdict.reason.value,
        "ClusterName": facts.name,
        "ClusterRegion": facts.region,
        "ClusterStatus": facts.status,
        "KubernetesVersion": facts.kubernetes_version,
        "PlatformVersion": facts.platform_version,
        "AutoMode": "true" if facts.auto_mode else "false",
        "AddonInstalled": "true" if addon is not None else "false",
        "AddonVersion": addon.version if addon else None,
        "AddonStatus": addon.status if addon else None,
        "AddonHealthIssues": ",".join(addon.health_issues) if addon else None,
        # strict / standard as the add-on sets it (evaluate.enforcing_mode_of); absent: not set.
        "EnforcingMode": result.verdict.enforcing_mode,
        "RemediationCommand": _unclipped(remediation_command(result)),
        "RemediationAction": remediation.action.value if remediation else None,
        "RemediationUpdateId": remediation.update_id if remediation else None,
    }
    return named_fields(raw)


def named_fields(raw: Mapping[str, object]) -> dict[str, str]:
    """ProductFields from plain names: prefixed, clipped, blank and non-text values left out."""
    fields: dict[str, str] = {}
    for key, value in raw.items():
        if value is None or not isinstance(value, str) or not _NON_BLANK.search(value):
            continue
        full_key = PRODUCT_FIELD_PREFIX + key
        if len(full_key) <= MAX_FIELD_KEY and len(fields) < MAX_PRODUCT_FIELDS:
            fields[full_key] = clip(value, MAX_PRODUCT_FIELD_VALUE)
    return fields


def build_finding(
    result: ClusterResult,
    *,
    delivery_region: str,
    now: datetime,
    existing: Mapping[str, Any] | None = None,
    newest_updated_at: object = None,
) -> dict[str, Any]:
    """The first control's (CIS 5.4.4) ASFF finding for one cluster, to import into
    `delivery_region`.

    `existing` is the active copy already in Security Hub (any region): its CreatedAt and
    FirstObservedAt are kept so the finding's age survives updates and region moves.
    `newest_updated_at` is the newest UpdatedAt of any stored copy with this Id in the
    delivery region (archived ones included); the new UpdatedAt is strictly later.
    """
    verdict = result.verdict
    # Context first, then the verdict: if clipping is needed it cuts the command at the end,
    # which is also in Remediation and ProductFields.
    description = (
        "CIS Amazon EKS Benchmark 5.4.4: Kubernetes network policies must be enforced so "
        "that pods cannot reach every other pod; on Amazon EKS this means the managed "
        f'vpc-cni add-on with enableNetworkPolicy "true". {verdict.message}'
    )
    return assemble(
        result.facts,
        Content(
            control=CONTROL_ID,
            title=TITLE_TEXT,
            description=description,
            severity=severity_label(result),
            recommendation=recommendation(result),
            fields=product_fields(result),
            status=verdict.status,
            requirements=RELATED_REQUIREMENTS,
            note=remediation_note(result.remediation),
        ),
        delivery_region=delivery_region,
        now=now,
        existing=existing,
        newest_updated_at=newest_updated_at,
    )


@dataclass(frozen=True)
class Content:
    """What one control says about one cluster; `assemble` wraps it in the shared envelope
    (identity, timestamps, resource, digest), so both controls' findings are built alike."""

    control: str
    title: str  # with {name} for the cluster's name
    description: str
    severity: str
    recommendation: dict[str, str]
    fields: dict[str, str]
    status: ComplianceStatus
    requirements: tuple[str, ...]
    note: str | None = None  # the BatchUpdateFindings Note this run writes, in the digest


def assemble(
    facts: ClusterFacts,
    content: Content,
    *,
    delivery_region: str,
    now: datetime,
    existing: Mapping[str, Any] | None,
    newest_updated_at: object,
) -> dict[str, Any]:
    observed = timestamp(now)
    created = (existing or {}).get("CreatedAt") or observed
    first_observed = (existing or {}).get("FirstObservedAt") or created
    resource: dict[str, Any] = {
        "Type": "AwsEksCluster",
        "Id": facts.arn,
        "Region": facts.region,
    }
    if facts.partition in ASFF_PARTITIONS:
        resource["Partition"] = facts.partition
    tags = resource_tags(facts.tags)
    if tags:
        resource["Tags"] = tags
    details = eks_details(facts.details)
    if details:
        resource["Details"] = {"AwsEksCluster": details}
    finding: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_id(facts.partition, facts.account, facts.region, facts.name, content.control),
        "ProductArn": product_arn(facts.partition, delivery_region, facts.account),
        # ASFF "ProductName": custom integrations may set it; users filter on it.
        "ProductName": PRODUCT,
        "GeneratorId": generator_id(content.control),
        "AwsAccountId": facts.account,
        "CreatedAt": created,
        "FirstObservedAt": first_observed,
        "LastObservedAt": observed,
        "UpdatedAt": fresh_updated_at(now, newest_updated_at),
        "FindingProviderFields": provider_fields(content.severity),
        "Title": clip(content.title.format(name=facts.name), MAX_TITLE),
        "Description": clip(content.description, MAX_DESCRIPTION),
        "Remediation": {"Recommendation": content.recommendation},
        "ProductFields": content.fields,
        "Resources": [resource],
        "Compliance": {
            "Status": content.status.value,
            "RelatedRequirements": list(content.requirements),
        },
        "RecordState": "ACTIVE",
    }
    finding = _within_size(finding)
    finding["ProductFields"][DIGEST_FIELD] = content_digest(finding, content.note)
    return finding


def provider_fields(label: str) -> dict[str, Any]:
    """Severity and Types as FindingProviderFields, and *not* at the top level.

    API_BatchImportFindings: finding providers "should not use BatchImportFindings to
    update" Confidence, Criticality, RelatedFindings, Severity and Types; "Instead, finding
    providers use FindingProviderFields to provide values for these attributes". The user
    guide ("BatchImportFindings for finding providers", section "Using
    FindingProviderFields") says that when only FindingProviderFields is sent, Security Hub
    CSPM fills the top-level fields from it on creation and keeps them current on every
    update unless a customer changed them with BatchUpdateFindings (or an automation rule).
    So the top-level Severity/Types are still there to filter on, a user's or automation
    rule's choice is never overwritten, and our own assessment stays readable in
    FindingProviderFields.Severity.Label.
    """
    return {"Severity": {"Label": label}, "Types": [FINDING_TYPE]}


def content_digest(finding: Mapping[str, Any], note: str | None) -> str:
    """A digest of everything a re-import would say, except the run's timestamps: equal
    digests mean an import would change nothing but UpdatedAt/LastObservedAt.

    Covers status, reason, message, remediation (ProductFields and the Note text), severity,
    region (ProductArn), record state, tags and details. Canonical JSON, so dictionary order
    cannot change it.
    """
    content = {k: v for k, v in finding.items() if k not in _RUN_FIELDS}
    fields = content.get("ProductFields")
    if isinstance(fields, Mapping):
        content["ProductFields"] = {k: v for k, v in fields.items() if k != DIGEST_FIELD}
    text = json.dumps([content, note], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _within_size(finding: dict[str, Any]) -> dict[str, Any]:
    """Drop the optional bulk (details, then tags) from a finding over 240 KB.

    Cannot happen with real EKS data (every field is clipped), but an oversized finding
    would fail the import, and a finding with less detail is better than none.
    """
    for optional in ("Details", "Tags"):
        if finding_size(finding) <= MAX_FINDING_BYTES:
            break
        finding["Resources"][0].pop(optional, None)
    return finding


def finding_size(finding: Mapping[str, Any]) -> int:
    return len(json.dumps(finding, separators=(",", ":")).encode())


# Fields a finding provider owns; everything else in a GetFindings result is written by
# Security Hub or by customers (Workflow, Note, the top-level Severity and Types...) and must
# not be sent back on re-import.
_PROVIDER_FIELDS = (
    "SchemaVersion",
    "Id",
    "ProductArn",
    "ProductName",
    "GeneratorId",
    "AwsAccountId",
    "CreatedAt",
    "FirstObservedAt",
    "LastObservedAt",
    "Title",
    "Description",
    "Remediation",
    "Resources",
    "Compliance",
)


def archived(
    existing: Mapping[str, Any], now: datetime, reason: str | None = None
) -> dict[str, Any]:
    """Re-import of a stored finding with RecordState ARCHIVED (ASFF "RecordState": how a
    provider retires a finding whose resource is gone), with a strictly newer UpdatedAt.

    LastObservedAt stays as it was: the problem was last seen then, not now. `reason`, when
    given, is written to ProductFields ARCHIVED_REASON_FIELD (a cluster that is still there,
    whose control is no longer evaluated: plan.archive_reason).
    """
    finding = {name: existing[name] for name in _PROVIDER_FIELDS if name in existing}
    finding["FindingProviderFields"] = _stored_provider_fields(existing)
    fields = existing.get("ProductFields")
    kept: dict[str, Any] = {}
    if isinstance(fields, Mapping):
        kept = {k: v for k, v in fields.items() if str(k).startswith(PRODUCT_FIELD_PREFIX)}
    if reason is not None and len(kept) < MAX_PRODUCT_FIELDS:
        kept[ARCHIVED_REASON_FIELD] = reason
    if kept:
        finding["ProductFields"] = kept
    finding["UpdatedAt"] = fresh_updated_at(now, existing.get("UpdatedAt"))
    finding["RecordState"] = "ARCHIVED"
    return finding


def _stored_provider_fields(existing: Mapping[str, Any]) -> dict[str, Any]:
    """Our Severity.Label and Types as stored, for an archived copy: FindingProviderFields
    (Security Hub CSPM fills it from the top level when a finding is created without one),
    else the top-level values; INFORMATIONAL if neither is readable (the cluster is gone)."""
    stored = existing.get("FindingProviderFields")
    stored = stored if isinstance(stored, Mapping) else {}
    severity = stored.get("Severity") or existing.get("Severity") or {}
    label = severity.get("Label") if isinstance(severity, Mapping) else None
    types = stored.get("Types") or existing.get("Types")
    fields = provider_fields(label if label in SEVERITY_LABELS else "INFORMATIONAL")
    if isinstance(types, list) and types and all(isinstance(t, str) for t in types):
        fields["Types"] = list(types)
    return fields


def remediation_note(remediation: Outcome | None) -> str | None:
    """The Note text recording what the remediation stage did, or None when it did nothing.

    Deterministic (no timestamps) so an unchanged outcome is not rewritten on every run;
    BatchUpdateFindings stamps Note.UpdatedAt itself.
    """
    if remediation is None:
        return None
    text = f"{PRODUCT} remediation: {remediation.action.value}"
    if remediation.update_id:
        text += f", EKS update id {remediation.update_id}"
    if remediation.guard is not None:
        text += f" (guard {remediation.guard.value})"
    if remediation.reason:
        text += f". {remediation.reason}"
    if remediation.request is not None:
        shown = json.dumps(remediation.request.to_kwargs(), sort_keys=True)
        verb = "Would send" if remediation.action is Action.DRY_RUN else "Sent"
        text += f". {verb} UpdateAddon {shown}"
    return clip(text, MAX_NOTE_TEXT)
