"""ASFF validation: what BatchImportFindings and BatchUpdateFindings accept, field by field.

Sources: the ASFF syntax page
https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format-syntax.html,
the required-attributes page, "Security Hub CSPM quotas"
https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-limits.html and the
botocore model (shapes and enums). Pure functions: a finding in, the first problem (or the
validated change set) out; request-level failures raise ``AwsError`` 400
``InvalidInputException``.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard

from sandbox.errors import AwsError

SCHEMA_VERSION = "2018-10-08"
MAX_FINDINGS_PER_IMPORT = 100  # model: Findings min 1, max 100
MAX_IDENTIFIERS_PER_UPDATE = 100  # API_BatchUpdateFindings: "up to 100 findings at a time"
MAX_FINDING_BYTES = 240 * 1024  # "The maximum allowed size for a finding is 240 Kb."
MAX_REQUEST_BYTES = 6 * 1024 * 1024  # quotas page: 6 MB per BatchImportFindings request
MAX_FILTER_ATTRIBUTES = 10  # GetFindings "Filters": "You can filter by up to 10 ... attributes"
MAX_FILTER_VALUES = 20  # "... For each attribute, you can provide up to 20 filter values."
MAX_RESULTS_DEFAULT = 100
MAX_RESULTS_LIMIT = 100

TYPE_NAMESPACES = frozenset(
    {
        "Software and Configuration Checks",
        "TTPs",
        "Effects",
        "Unusual Behaviors",
        "Sensitive Data Identifications",
    }
)
SEVERITY_LABELS = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")
WORKFLOW_STATUSES = frozenset({"NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED"})
WORKFLOW_STATES = frozenset({"NEW", "ASSIGNED", "IN_PROGRESS", "DEFERRED", "RESOLVED"})
RECORD_STATES = frozenset({"ACTIVE", "ARCHIVED"})
COMPLIANCE_STATUSES = frozenset({"PASSED", "WARNING", "FAILED", "NOT_AVAILABLE"})
VERIFICATION_STATES = frozenset({"UNKNOWN", "TRUE_POSITIVE", "FALSE_POSITIVE", "BENIGN_POSITIVE"})

# The five fields customers own through BatchUpdateFindings but providers also send
# (API_BatchImportFindings: providers "should not use BatchImportFindings to update" them and
# use FindingProviderFields instead).
PROVIDER_SHADOWED_FIELDS = ("Confidence", "Criticality", "RelatedFindings", "Severity", "Types")
# Fields BatchImportFindings cannot change once the finding exists (API_BatchImportFindings).
CUSTOMER_ONLY_FIELDS = ("Note", "UserDefinedFields", "VerificationState", "Workflow")

# ProductFields keys the service writes itself. Other "aws/" keys are reserved.
SERVICE_PRODUCT_FIELDS = (
    "aws/securityhub/FindingId",
    "aws/securityhub/ProductName",
    "aws/securityhub/CompanyName",
)

_TIMESTAMP_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$"
)


def invalid_input(message: str) -> AwsError:
    """A request-level validation failure: the whole call fails (botocore model:
    InvalidInputException, HTTP 400)."""
    return AwsError(400, "InvalidInputException", message)


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def parse_timestamp(value: Any) -> int | None:
    """Epoch nanoseconds for an ASFF timestamp, or None when it is not one.

    ASFF "Timestamps": RFC 3339 section 5.6 date-time, fractional seconds up to nine digits,
    ``Z`` or a ``+HH:MM``/``-HH:MM`` offset. Lower-case ``t``/``z`` and missing offsets are
    rejected (the page lists only these forms; stricter reading). Nanoseconds, not datetime,
    so that ``...00.0000001Z`` still counts as later than ``...00Z`` in the UpdatedAt rule.
    """
    if not isinstance(value, str):
        return None
    match = _TIMESTAMP_RE.match(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        base = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC
        )
    except ValueError:
        return None
    if offset != "Z":
        sign = 1 if offset[0] == "+" else -1
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            return None
        base -= sign * timedelta(hours=hours, minutes=minutes)
    nanos = int((fraction or "").ljust(9, "0"))
    return int(base.timestamp()) * 1_000_000_000 + nanos


def now_iso() -> str:
    """Wall-clock time for service-written timestamps (Note.UpdatedAt, SubscribedAt).

    The injected clock is monotonic and only drives rate limiting, so it cannot be used here.
    """
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def default_product_arn(region: str, account: str) -> str:
    """The only ProductArn a customer account may import with (ASFF "ProductArn")."""
    return f"arn:{partition(region)}:securityhub:{region}:{account}:product/{account}/default"


def _label_for_normalized(normalized: int) -> str:
    """ASFF "Severity": the Label Security Hub derives when only Normalized is sent."""
    if normalized == 0:
        return "INFORMATIONAL"
    if normalized <= 39:
        return "LOW"
    if normalized <= 69:
        return "MEDIUM"
    if normalized <= 89:
        return "HIGH"
    return "CRITICAL"


_NORMALIZED_FOR_LABEL = {"INFORMATIONAL": 0, "LOW": 1, "MEDIUM": 40, "HIGH": 70, "CRITICAL": 90}


def complete_severity(severity: dict[str, Any]) -> dict[str, Any]:
    """Fill in Label from Normalized or the reverse, as ASFF "Severity" documents."""
    result = dict(severity)
    if "Label" not in result and isinstance(result.get("Normalized"), int):
        result["Label"] = _label_for_normalized(result["Normalized"])
    elif "Normalized" not in result and result.get("Label") in _NORMALIZED_FOR_LABEL:
        result["Normalized"] = _NORMALIZED_FOR_LABEL[result["Label"]]
    return result


def updated_severity(current: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """BatchUpdateFindings Severity (SeverityUpdate docs): a Normalized without a Label sets the
    Label from Normalized, and a Label without a Normalized sets Normalized from the Label."""
    result = {**current, **change}
    if "Normalized" in change and "Label" not in change:
        result.pop("Label", None)
    elif "Label" in change and "Normalized" not in change:
        result.pop("Normalized", None)
    return complete_severity(result)


def is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def nonempty_str(value: Any, max_len: int | None = None) -> TypeGuard[str]:
    if not isinstance(value, str) or not value.strip():
        return False
    return max_len is None or len(value) <= max_len


def valid_types(types: Any) -> bool:
    """ASFF "Types": up to 50 "namespace/category/classifier" strings, namespace from a fixed
    set; category and classifier are optional."""
    if not isinstance(types, list) or len(types) > 50:
        return False
    for value in types:
        if not nonempty_str(value):
            return False
        parts = value.split("/")
        if len(parts) > 3 or parts[0] not in TYPE_NAMESPACES or not all(parts):
            return False
    return True


def valid_string_map(value: Any, max_pairs: int, max_key: int, max_value: int) -> bool:
    """ASFF ProductFields/UserDefinedFields/Tags: a bounded map of non-empty strings."""
    if not isinstance(value, dict) or len(value) > max_pairs:
        return False
    return all(
        nonempty_str(k, max_key) and isinstance(v, str) and len(v) <= max_value
        for k, v in value.items()
    )


# --------------------------------------------------------------------------------------------
# Findings (BatchImportFindings) and changes (BatchUpdateFindings)
# --------------------------------------------------------------------------------------------


def validate_finding(finding: dict[str, Any], account: str, region: str) -> str | None:
    """First reason the finding is not valid ASFF for a BatchImportFindings call by
    ``account`` in ``region``, or None."""
    problems = [
        *_identity_problems(finding, account, region),
        *_resource_problems(finding),
        *provider_field_problems(finding),
        *_state_problems(finding),
    ]
    # Size as serialized with json.dumps' default separators (a little larger than compact
    # JSON): AWS doesn't say how it measures, so err on the larger side.
    size = len(json.dumps(finding).encode())
    if size > MAX_FINDING_BYTES:
        problems.append(f"Finding is {size} bytes; the limit is 240 KB")
    return problems[0] if problems else None


def _identity_problems(finding: dict[str, Any], account: str, region: str) -> list[str]:
    """Required attributes, the caller's own ProductArn and AwsAccountId, timestamps."""
    problems: list[str] = []

    def require(condition: bool, message: str) -> None:
        if not condition:
            problems.append(message)

    require(finding.get("SchemaVersion") == SCHEMA_VERSION, "SchemaVersion must be 2018-10-08")
    require(nonempty_str(finding.get("Id"), 512), "Id must be 1-512 characters")
    require(nonempty_str(finding.get("GeneratorId"), 512), "GeneratorId must be 1-512 characters")
    require(nonempty_str(finding.get("Title"), 256), "Title must be 1-256 characters")
    require(nonempty_str(finding.get("Description"), 1024), "Description must be 1-1024 characters")
    expected_arn = default_product_arn(region, account)
    require(
        finding.get("ProductArn") == expected_arn,
        f"ProductArn must be {expected_arn} (the Region of the request and the caller's "
        "default product)",
    )
    require(
        finding.get("AwsAccountId") == account,
        f"AwsAccountId must be the caller's account {account}",
    )
    for name in ("CreatedAt", "UpdatedAt"):
        require(
            parse_timestamp(finding.get(name)) is not None,
            f"{name} must be an ISO 8601 timestamp",
        )
    for name in ("FirstObservedAt", "LastObservedAt", "ProcessedAt"):
        if name in finding:
            require(
                parse_timestamp(finding[name]) is not None,
                f"{name} must be an ISO 8601 timestamp",
            )
    return problems


def _resource_problems(finding: dict[str, Any]) -> list[str]:
    """Resources: 1-32, each with Type and Id, Tags a bounded string map."""
    problems: list[str] = []

    def require(condition: bool, message: str) -> None:
        if not condition:
            problems.append(message)

    resources = finding.get("Resources")
    require(
        isinstance(resources, list) and 1 <= len(resources) <= 32,
        "Resources must contain 1-32 resources",
    )
    for index, resource in enumerate(resources if isinstance(resources, list) else []):
        require(
            isinstance(resource, dict)
            and nonempty_str(resource.get("Type"))
            and nonempty_str(resource.get("Id")),
            f"Resources[{index}] needs Type and Id",
        )
        if isinstance(resource, dict) and "Tags" in resource:
            require(
                valid_string_map(resource["Tags"], 50, 128, 256),
                f"Resources[{index}].Tags is invalid",
            )
    return problems


def _state_problems(finding: dict[str, Any]) -> list[str]:
    """ProductFields (reserved aws/ prefix), UserDefinedFields and the state enums."""
    problems: list[str] = []

    def require(condition: bool, message: str) -> None:
        if not condition:
            problems.append(message)

    if "ProductFields" in finding:
        fields = finding["ProductFields"]
        require(valid_string_map(fields, 50, 128, 2048), "ProductFields is invalid")
        if isinstance(fields, dict):
            reserved = [
                k for k in fields if k.startswith("aws/") and k not in SERVICE_PRODUCT_FIELDS
            ]
            require(not reserved, f"ProductFields keys {reserved} use the reserved aws/ prefix")
    if "UserDefinedFields" in finding:
        require(
            valid_string_map(finding["UserDefinedFields"], 50, 128, 1024),
            "UserDefinedFields is invalid",
        )
    if "RecordState" in finding:
        require(finding["RecordState"] in RECORD_STATES, "RecordState is invalid")
    if "WorkflowState" in finding:
        require(finding["WorkflowState"] in WORKFLOW_STATES, "WorkflowState is invalid")
    if "VerificationState" in finding:
        require(finding["VerificationState"] in VERIFICATION_STATES, "VerificationState is invalid")
    remediation = finding.get("Remediation")
    if remediation is not None:
        # ASFF syntax page, Remediation.Recommendation.Text: "Maximum of 512 characters".
        recommendation = (remediation if isinstance(remediation, dict) else {}).get(
            "Recommendation"
        )
        require(
            isinstance(recommendation, dict)
            and all(
                nonempty_str(recommendation[key], 512 if key == "Text" else None)
                for key in ("Text", "Url")
                if key in recommendation
            ),
            "Remediation.Recommendation.Text must be 1-512 characters",
        )
    compliance = finding.get("Compliance")
    if compliance is not None:
        require(
            isinstance(compliance, dict)
            and compliance.get("Status", "PASSED") in COMPLIANCE_STATUSES,
            "Compliance.Status is invalid",
        )
    workflow = finding.get("Workflow")
    if workflow is not None:
        require(
            isinstance(workflow, dict) and workflow.get("Status", "NEW") in WORKFLOW_STATUSES,
            "Workflow.Status is invalid",
        )
    return problems


def validated_changes(body: dict[str, Any]) -> dict[str, Any]:
    """The BatchUpdateFindings fields to apply, validated against the model/ASFF limits."""
    changes: dict[str, Any] = {}
    if "Note" in body:
        note = body["Note"]
        if not (
            isinstance(note, dict)
            and nonempty_str(note.get("Text"), 512)
            and nonempty_str(note.get("UpdatedBy"), 512)
        ):
            raise invalid_input("Note needs Text and UpdatedBy, each 1-512 characters")
        changes["Note"] = {
            "Text": note["Text"],
            "UpdatedBy": note["UpdatedBy"],
            "UpdatedAt": now_iso(),
        }
    if "Severity" in body:
        severity = body["Severity"]
        severity_keys = {"Label", "Normalized", "Product"}
        if not isinstance(severity, dict) or not severity.keys() & severity_keys:
            raise invalid_input("Severity needs Label, Normalized or Product")
        if "Label" in severity and severity["Label"] not in SEVERITY_LABELS:
            raise invalid_input("Severity.Label is invalid")
        if "Normalized" in severity and not (
            is_int(severity["Normalized"]) and 0 <= severity["Normalized"] <= 100
        ):
            raise invalid_input("Severity.Normalized must be an integer 0-100")
        if "Product" in severity and not is_number(severity["Product"]):
            raise invalid_input("Severity.Product must be a number")
        changes["Severity"] = {k: v for k, v in severity.items() if k in severity_keys}
    if "VerificationState" in body:
        if body["VerificationState"] not in VERIFICATION_STATES:
            raise invalid_input("VerificationState is invalid")
        changes["VerificationState"] = body["VerificationState"]
    for name in ("Confidence", "Criticality"):
        if name in body:
            if not (is_int(body[name]) and 0 <= body[name] <= 100):
                raise invalid_input(f"{name} must be an integer 0-100")
            changes[name] = body[name]
    if "Types" in body:
        if not valid_types(body["Types"]):
            raise invalid_input("Types must be up to 50 strings with an allowed namespace")
        changes["Types"] = body["Types"]
    if "UserDefinedFields" in body:
        if not valid_string_map(body["UserDefinedFields"], 50, 128, 1024):
            raise invalid_input("UserDefinedFields is invalid")
        changes["UserDefinedFields"] = body["UserDefinedFields"]
    if "Workflow" in body:
        workflow = body["Workflow"]
        if not (isinstance(workflow, dict) and workflow.get("Status") in WORKFLOW_STATUSES):
            raise invalid_input("Workflow.Status must be NEW, NOTIFIED, RESOLVED or SUPPRESSED")
        changes["Workflow"] = {"Status": workflow["Status"]}
    if "RelatedFindings" in body:
        related = body["RelatedFindings"]
        if not valid_related(related):
            raise invalid_input("RelatedFindings must be up to 10 {Id, ProductArn} objects")
        changes["RelatedFindings"] = related
    if not changes:
        # Not documented; a call that updates nothing is almost certainly a client bug.
        raise invalid_input("BatchUpdateFindings needs at least one field to update")
    return changes


def provider_field_problems(finding: dict[str, Any]) -> list[str]:
    """Validation of Severity, Types, Confidence, Criticality and RelatedFindings, top-level and
    in FindingProviderFields (ASFF syntax page; FindingProviderFields page: Severity and Types
    are "Required" in the object, so a FindingProviderFields without them is refused)."""
    problems: list[str] = []
    provider = finding.get("FindingProviderFields")
    if provider is not None and not isinstance(provider, dict):
        return ["FindingProviderFields must be an object"]
    provider = provider or {}
    if "FindingProviderFields" in finding:
        missing = [n for n in ("Severity", "Types") if n not in provider]
        if missing:
            problems.append(f"FindingProviderFields needs {' and '.join(missing)}")
    top_severity, provider_severity = finding.get("Severity"), provider.get("Severity")
    if top_severity is None and provider_severity is None:
        problems.append("Severity needs Label or Normalized")
    if top_severity is not None:
        problems.extend(_severity_problems(top_severity, "Severity", ("Label", "Normalized")))
    if provider_severity is not None:
        problems.extend(
            _severity_problems(provider_severity, "FindingProviderFields.Severity", ("Label",))
        )
    for prefix, source in (("", finding), ("FindingProviderFields.", provider)):
        if source.get("Types") is not None and not valid_types(source["Types"]):
            problems.append(
                f"{prefix}Types must be up to 50 namespace/category/classifier strings with an "
                "allowed namespace"
            )
        for name in ("Confidence", "Criticality"):
            if name in source and not (is_int(source[name]) and 0 <= source[name] <= 100):
                problems.append(f"{prefix}{name} must be an integer 0-100")
        if "RelatedFindings" in source and not valid_related(source["RelatedFindings"]):
            problems.append(f"{prefix}RelatedFindings must be up to 10 {{Id, ProductArn}} objects")
    return problems


def _severity_problems(severity: Any, where: str, needs_one_of: tuple[str, ...]) -> list[str]:
    if not isinstance(severity, dict) or not any(k in severity for k in needs_one_of):
        return [f"{where} needs {' or '.join(needs_one_of)}"]
    problems = []
    if "Label" in severity and severity["Label"] not in SEVERITY_LABELS:
        problems.append(f"{where}.Label is invalid")
    if "Normalized" in severity and not (
        is_int(severity["Normalized"]) and 0 <= severity["Normalized"] <= 100
    ):
        problems.append(f"{where}.Normalized must be an integer 0-100")
    return problems


def valid_related(related: Any) -> bool:
    """ASFF "RelatedFindings": up to 10 {ProductArn, Id} objects."""
    return (
        isinstance(related, list)
        and len(related) <= 10
        and all(
            isinstance(r, dict) and nonempty_str(r.get("Id")) and nonempty_str(r.get("ProductArn"))
            for r in related
        )
    )
