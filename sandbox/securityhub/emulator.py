"""AWS Security Hub (CSPM) emulator for the local AWS sandbox.

Why this exists: moto's Security Hub ignores GetFindings filters and has no BatchUpdateFindings,
so it cannot catch the mistakes that matter for a finding publisher (stale ``UpdatedAt``, the
wrong ``ProductArn`` region, relying on BatchImportFindings to reopen a resolved finding,
filters that OR where the caller expected AND, throttling). This emulator implements the four
operations the product uses, strictly:

* BatchImportFindings
  https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchImportFindings.html
  and the user guide page "BatchImportFindings for finding providers"
  https://docs.aws.amazon.com/securityhub/latest/userguide/finding-update-batchimportfindings.html
* BatchUpdateFindings
  https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchUpdateFindings.html
* GetFindings
  https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_GetFindings.html
* The FindingProviderFields rules, the workflow reset on re-activation and finding ingestion
  events (the billed unit, counted per account and Region) are described where implemented.
* An organization (``organization.py``): an administrator reads and updates its members'
  findings, and in the aggregation Region those replicated from linked Regions;
  BatchImportFindings stays limited to the caller's own account. ListMembers and
  GetAdministratorAccount answer from the same set-up.
  https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_ListMembers.html
* DescribeHub (enablement checks, per account and Region)
  https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_DescribeHub.html

Field rules come from the ASFF syntax page
https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format-syntax.html
and limits from "Security Hub CSPM quotas"
https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-limits.html .
Shapes, enums and error codes follow the botocore model
(``botocore.session.get_session().get_service_model('securityhub')``, checked against
botocore 1.44.5). Where AWS's behaviour is not documented the code says so and picks the
stricter reading, so that code passing here does not rely on leniency AWS may not have.

Throttling: the model's ``LimitExceededException`` (HTTP 429) *is* in botocore's throttling
list (``botocore.retries.standard.ThrottledRetryableChecker._THROTTLED_ERROR_CODES``), so
``retries={"mode": "standard"}`` (and "adaptive") retry it as a throttle with backoff; legacy
mode retries it too because of the generic HTTP 429 rule in ``botocore/data/_retry.json``. The
client does not need a hand-written retry loop; it does need to handle a call that still fails
after ``total_max_attempts``. Caveat: Security Hub also uses LimitExceededException for
non-rate quotas (e.g. too many insights), which botocore will retry as well.
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import hashlib
import itertools
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard

from sandbox.securityhub.organization import Organization
from sandbox.wire import SandboxRequest, SandboxResponse, aws_error

# --------------------------------------------------------------------------------------------
# Constants (ASFF syntax page, quotas page, botocore model enums)
# --------------------------------------------------------------------------------------------

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

# Quotas page: BatchImportFindings and BatchUpdateFindings 10 TPS burst 30, GetFindings 3 TPS
# burst 6, per account per Region. The page lists each API on its own, so each operation gets
# its own bucket. DescribeHub: assumed to be in "all other APIs" at 10 TPS burst 30.
RATE_LIMITS: dict[str, tuple[float, float]] = {
    "BatchImportFindings": (10.0, 30.0),
    "BatchUpdateFindings": (10.0, 30.0),
    "GetFindings": (3.0, 6.0),
    "DescribeHub": (10.0, 30.0),
    "ListMembers": (10.0, 30.0),
    "GetAdministratorAccount": (10.0, 30.0),
}

_TIMESTAMP_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$"
)


class _InputError(Exception):
    """A request-level validation failure: the whole call fails with 400 InvalidInputException."""


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


def _now_iso() -> str:
    """Wall-clock time for service-written timestamps (Note.UpdatedAt, SubscribedAt).

    The injected clock is monotonic and only drives rate limiting, so it cannot be used here.
    """
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def default_product_arn(region: str, account: str) -> str:
    """The only ProductArn a customer account may import with (ASFF "ProductArn")."""
    return f"arn:{_partition(region)}:securityhub:{region}:{account}:product/{account}/default"


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


def _complete_severity(severity: dict[str, Any]) -> dict[str, Any]:
    """Fill in Label from Normalized or the reverse, as ASFF "Severity" documents."""
    result = dict(severity)
    if "Label" not in result and isinstance(result.get("Normalized"), int):
        result["Label"] = _label_for_normalized(result["Normalized"])
    elif "Normalized" not in result and result.get("Label") in _NORMALIZED_FOR_LABEL:
        result["Normalized"] = _NORMALIZED_FOR_LABEL[result["Label"]]
    return result


def _updated_severity(current: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """BatchUpdateFindings Severity (SeverityUpdate docs): a Normalized without a Label sets the
    Label from Normalized, and a Label without a Normalized sets Normalized from the Label."""
    result = {**current, **change}
    if "Normalized" in change and "Label" not in change:
        result.pop("Label", None)
    elif "Label" in change and "Normalized" not in change:
        result.pop("Normalized", None)
    return _complete_severity(result)


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _nonempty_str(value: Any, max_len: int | None = None) -> TypeGuard[str]:
    if not isinstance(value, str) or not value.strip():
        return False
    return max_len is None or len(value) <= max_len


# --------------------------------------------------------------------------------------------
# FindingProviderFields
# --------------------------------------------------------------------------------------------
#
# User guide, "BatchImportFindings for finding providers", section "Using FindingProviderFields"
# (https://docs.aws.amazon.com/securityhub/latest/userguide/finding-update-batchimportfindings.html
# #batchimportfindings-findingproviderfields) and the API reference "FindingProviderFields"
# (https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_FindingProviderFields.html):
#
# * only FindingProviderFields.X sent (the preferred form): FindingProviderFields.X is updated and
#   copied to the top-level X "only if the attribute was not already updated by
#   BatchUpdateFindings";
# * only the top-level X sent: it overwrites FindingProviderFields.X, and the top-level X is
#   updated only if BatchUpdateFindings has not changed it;
# * both sent: for a new finding FindingProviderFields.X populates both (the top-level value
#   sent is not used); for an existing finding "Security Hub uses both values" (each updates its
#   own copy), the top-level one again only if BatchUpdateFindings has not changed it.
#
# Neither sent on an update: not documented. The stored values are kept (the page describes
# per-attribute updates, never a removal).


def _provider_severity(severity: Any) -> Any:
    """A Severity as FindingProviderFields stores it: model shape FindingProviderSeverity has
    only Label and Original, so a top-level Normalized/Product is dropped (Label derived from
    Normalized first when no Label was sent)."""
    if not isinstance(severity, dict):
        return severity
    completed = _complete_severity(severity)
    return {k: v for k, v in completed.items() if k in ("Label", "Original")}


def merge_provider_fields(
    finding: dict[str, Any], old: dict[str, Any] | None, user_owned: Collection[str]
) -> None:
    """Resolve FindingProviderFields and their top-level twins of ``finding`` (in place), given
    the stored finding ``old`` (None on creation) and the top-level fields a customer changed
    with BatchUpdateFindings (``user_owned``)."""
    sent = finding.get("FindingProviderFields")
    sent = sent if isinstance(sent, dict) else {}
    old_provider = (old or {}).get("FindingProviderFields") or {}
    provider: dict[str, Any] = {}
    for name in PROVIDER_SHADOWED_FIELDS:
        in_provider, in_top = name in sent, name in finding
        if in_provider:
            provider[name] = copy.deepcopy(sent[name])
        elif in_top:
            provider[name] = copy.deepcopy(finding[name])
        elif name in old_provider:
            provider[name] = copy.deepcopy(old_provider[name])

        if old is not None and (name in user_owned or not (in_top or in_provider)):
            source = old  # the customer's value stays; or nothing sent: keep what is stored
        elif old is None or not in_top:
            source = provider  # new finding, or only FindingProviderFields sent
        else:
            source = finding  # existing finding, top level sent: "uses both values"
        if name not in source:
            finding.pop(name, None)
        elif source is not finding:
            finding[name] = copy.deepcopy(source[name])
    if "Severity" in provider:
        provider["Severity"] = _provider_severity(provider["Severity"])
    if isinstance(finding.get("Severity"), dict):
        finding["Severity"] = _complete_severity(finding["Severity"])
    if provider:
        finding["FindingProviderFields"] = provider
    else:
        finding.pop("FindingProviderFields", None)


def _provider_field_problems(finding: dict[str, Any]) -> list[str]:
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
        if source.get("Types") is not None and not _valid_types(source["Types"]):
            problems.append(
                f"{prefix}Types must be up to 50 namespace/category/classifier strings with an "
                "allowed namespace"
            )
        for name in ("Confidence", "Criticality"):
            if name in source and not (_is_int(source[name]) and 0 <= source[name] <= 100):
                problems.append(f"{prefix}{name} must be an integer 0-100")
        if "RelatedFindings" in source and not _valid_related(source["RelatedFindings"]):
            problems.append(f"{prefix}RelatedFindings must be up to 10 {{Id, ProductArn}} objects")
    return problems


def _severity_problems(severity: Any, where: str, needs_one_of: tuple[str, ...]) -> list[str]:
    if not isinstance(severity, dict) or not any(k in severity for k in needs_one_of):
        return [f"{where} needs {' or '.join(needs_one_of)}"]
    problems = []
    if "Label" in severity and severity["Label"] not in SEVERITY_LABELS:
        problems.append(f"{where}.Label is invalid")
    if "Normalized" in severity and not (
        _is_int(severity["Normalized"]) and 0 <= severity["Normalized"] <= 100
    ):
        problems.append(f"{where}.Normalized must be an integer 0-100")
    return problems


def _valid_related(related: Any) -> bool:
    """ASFF "RelatedFindings": up to 10 {ProductArn, Id} objects."""
    return (
        isinstance(related, list)
        and len(related) <= 10
        and all(
            isinstance(r, dict)
            and _nonempty_str(r.get("Id"))
            and _nonempty_str(r.get("ProductArn"))
            for r in related
        )
    )


# --------------------------------------------------------------------------------------------
# Rate limiting
# --------------------------------------------------------------------------------------------


@dataclass
class _TokenBucket:
    """Classic token bucket: starts full at ``burst`` tokens and refills at ``rate`` per second."""

    rate: float
    burst: float
    tokens: float
    updated: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


# --------------------------------------------------------------------------------------------
# Stored findings
# --------------------------------------------------------------------------------------------


@dataclass
class _Stored:
    finding: dict[str, Any]
    updated_at_ns: int
    # Top-level fields a customer changed with BatchUpdateFindings; later imports keep them
    # (user guide, "Using FindingProviderFields").
    customer_fields: set[str] = field(default_factory=set)
    # Change sequence number of the last create/update (import or BatchUpdateFindings): what
    # decides whether a linked Region's finding has reached the aggregation Region.
    changed: int = 0


_Key = tuple[str, str]  # (ProductArn, Id)


# --------------------------------------------------------------------------------------------
# GetFindings filter attributes
# --------------------------------------------------------------------------------------------


def _resources(finding: dict[str, Any]) -> list[dict[str, Any]]:
    resources = finding.get("Resources")
    return [r for r in resources if isinstance(r, dict)] if isinstance(resources, list) else []


def _top(name: str) -> Callable[[dict[str, Any]], list[Any]]:
    def get(finding: dict[str, Any]) -> list[Any]:
        value = finding.get(name)
        return [] if value is None else [value]

    return get


def _nested(outer: str, inner: str) -> Callable[[dict[str, Any]], list[Any]]:
    def get(finding: dict[str, Any]) -> list[Any]:
        container = finding.get(outer)
        if isinstance(container, dict) and container.get(inner) is not None:
            return [container[inner]]
        return []

    return get


def _per_resource(name: str) -> Callable[[dict[str, Any]], list[Any]]:
    def get(finding: dict[str, Any]) -> list[Any]:
        return [r[name] for r in _resources(finding) if r.get(name) is not None]

    return get


def _types(finding: dict[str, Any]) -> list[Any]:
    types = finding.get("Types")
    return list(types) if isinstance(types, list) else []


StringGetter = Callable[[dict[str, Any]], list[Any]]

# Filter attribute -> values of the finding it compares against (a list: Resources and Types
# are multi-valued). Only these are implemented; other model attributes get a clear 400.
STRING_ATTRIBUTES: dict[str, StringGetter] = {
    "Id": _top("Id"),
    "ProductArn": _top("ProductArn"),
    "GeneratorId": _top("GeneratorId"),
    "AwsAccountId": _top("AwsAccountId"),
    "Region": _top("Region"),
    "Title": _top("Title"),
    "Description": _top("Description"),
    "ProductName": _top("ProductName"),
    "CompanyName": _top("CompanyName"),
    "SourceUrl": _top("SourceUrl"),
    "RecordState": _top("RecordState"),
    "WorkflowState": _top("WorkflowState"),
    "VerificationState": _top("VerificationState"),
    "Type": _types,
    "ComplianceStatus": _nested("Compliance", "Status"),
    "WorkflowStatus": _nested("Workflow", "Status"),
    "SeverityLabel": _nested("Severity", "Label"),
    "NoteText": _nested("Note", "Text"),
    "NoteUpdatedBy": _nested("Note", "UpdatedBy"),
    "ResourceId": _per_resource("Id"),
    "ResourceType": _per_resource("Type"),
    "ResourcePartition": _per_resource("Partition"),
    "ResourceRegion": _per_resource("Region"),
}
DATE_ATTRIBUTES: dict[str, StringGetter] = {
    "CreatedAt": _top("CreatedAt"),
    "UpdatedAt": _top("UpdatedAt"),
    "FirstObservedAt": _top("FirstObservedAt"),
    "LastObservedAt": _top("LastObservedAt"),
    "ProcessedAt": _top("ProcessedAt"),
    "NoteUpdatedAt": _nested("Note", "UpdatedAt"),
}
NUMBER_ATTRIBUTES: dict[str, StringGetter] = {
    "SeverityNormalized": _nested("Severity", "Normalized"),
    "SeverityProduct": _nested("Severity", "Product"),
    "Confidence": _top("Confidence"),
    "Criticality": _top("Criticality"),
}


def _map_values(attribute: str, finding: dict[str, Any]) -> list[dict[str, Any]]:
    if attribute == "ResourceTags":
        return [r["Tags"] for r in _resources(finding) if isinstance(r.get("Tags"), dict)]
    value = finding.get(attribute)
    return [value] if isinstance(value, dict) else []


MAP_ATTRIBUTES = frozenset({"ProductFields", "ResourceTags", "UserDefinedFields"})

_POSITIVE_STRING = frozenset({"EQUALS", "PREFIX", "CONTAINS"})
_NEGATIVE_STRING = frozenset({"NOT_EQUALS", "PREFIX_NOT_EQUALS", "NOT_CONTAINS"})

Predicate = Callable[[dict[str, Any]], bool]


def _string_test(comparison: str, expected: str, actual: Any) -> bool:
    """One comparison, phrased positively (NOT_X is evaluated as X, then negated by caller).

    Case-sensitive: the StringFilter docs don't say matching ignores case (only CONTAINS_WORD,
    a V2-only operator, does), so the stricter reading applies.
    """
    if not isinstance(actual, str):
        return False
    if comparison in ("EQUALS", "NOT_EQUALS"):
        return actual == expected
    if comparison in ("PREFIX", "PREFIX_NOT_EQUALS"):
        return actual.startswith(expected)
    return expected in actual  # CONTAINS / NOT_CONTAINS


def _combine(positives: list[Predicate], negatives: list[Predicate]) -> Predicate:
    """StringFilter/MapFilter "Comparison" docs: positive comparisons on one field are joined by
    OR, negative ones by AND, and positives are applied before negatives."""

    def matches(finding: dict[str, Any]) -> bool:
        if positives and not any(p(finding) for p in positives):
            return False
        return all(n(finding) for n in negatives)

    return matches


def _negate(predicate: Predicate) -> Predicate:
    return lambda finding: not predicate(finding)


def _check_comparison_mix(attribute: str, comparisons: set[str]) -> None:
    """Combinations the Comparison docs say "returns an error"."""
    if "CONTAINS" in comparisons and comparisons != {"CONTAINS"}:
        raise _InputError(f"{attribute}: CONTAINS filters can only be used with other CONTAINS")
    if "NOT_CONTAINS" in comparisons and comparisons != {"NOT_CONTAINS"}:
        raise _InputError(
            f"{attribute}: NOT_CONTAINS filters can only be used with other NOT_CONTAINS"
        )
    if "EQUALS" in comparisons and comparisons & {"NOT_EQUALS", "PREFIX_NOT_EQUALS"}:
        raise _InputError(
            f"{attribute}: EQUALS cannot be combined with NOT_EQUALS or PREFIX_NOT_EQUALS"
        )


def _filter_list(attribute: str, raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise _InputError(f"Filters.{attribute} must be a list of filter objects")
    if len(raw) > MAX_FILTER_VALUES:
        raise _InputError(
            f"Filters.{attribute} has {len(raw)} values; at most {MAX_FILTER_VALUES} are allowed"
        )
    return raw


def _string_predicate(attribute: str, raw: Any) -> Predicate:
    getter = STRING_ATTRIBUTES[attribute]
    positives: list[Predicate] = []
    negatives: list[Predicate] = []
    comparisons: set[str] = set()
    for item in _filter_list(attribute, raw):
        value, comparison = item.get("Value"), item.get("Comparison")
        if not _nonempty_str(value):
            raise _InputError(f"Filters.{attribute}: Value must be a non-empty string")
        if comparison == "CONTAINS_WORD":
            # StringFilter docs: CONTAINS_WORD "works only in the GetFindingsV2 ... APIs".
            raise _InputError(f"Filters.{attribute}: CONTAINS_WORD is not supported by GetFindings")
        if comparison not in _POSITIVE_STRING | _NEGATIVE_STRING:
            raise _InputError(f"Filters.{attribute}: invalid Comparison {comparison!r}")
        comparisons.add(comparison)

        def test(f: dict[str, Any], c: str = comparison, v: str = value) -> bool:
            return any(_string_test(c, v, actual) for actual in getter(f))

        if comparison in _POSITIVE_STRING:
            positives.append(test)
        else:
            # A negative filter on a multi-valued or absent attribute matches when no value
            # violates it. AWS does not document the absent case; this mirrors a search
            # engine's must_not.
            negatives.append(_negate(test))
    _check_comparison_mix(attribute, comparisons)
    return _combine(positives, negatives)


def _map_predicate(attribute: str, raw: Any) -> Predicate:
    positives: list[Predicate] = []
    negatives: list[Predicate] = []
    comparisons: set[str] = set()
    for item in _filter_list(attribute, raw):
        key, value, comparison = item.get("Key"), item.get("Value"), item.get("Comparison")
        if not _nonempty_str(key) or not _nonempty_str(value):
            raise _InputError(f"Filters.{attribute}: Key and Value must be non-empty strings")
        if comparison in ("CONTAINS", "NOT_CONTAINS"):
            # MapFilter "Comparison" docs: "CONTAINS and NOT_CONTAINS operators can be used only
            # with automation rules." Stricter reading: GetFindings rejects them.
            raise _InputError(
                f"Filters.{attribute}: {comparison} map filters are only supported by automation "
                "rules, not GetFindings"
            )
        if comparison not in ("EQUALS", "NOT_EQUALS"):
            raise _InputError(f"Filters.{attribute}: invalid Comparison {comparison!r}")
        comparisons.add(comparison)

        def test(f: dict[str, Any], k: str = key, v: str = value) -> bool:
            return any(m.get(k) == v for m in _map_values(attribute, f))

        if comparison == "EQUALS":
            positives.append(test)
        else:
            negatives.append(_negate(test))
    # The docs make "field" the filter attribute (their example uses one key); the literal
    # reading ORs EQUALS across different keys too, and rejects EQUALS + NOT_EQUALS.
    _check_comparison_mix(attribute, comparisons)
    return _combine(positives, negatives)


def _date_predicate(attribute: str, raw: Any) -> Predicate:
    """DateFilter: Start/End (inclusive) or DateRange {Value, Unit: DAYS, Comparison}.

    Several DateFilters on one attribute are ORed (like positive string comparisons); AWS does
    not document this case.
    """
    getter = DATE_ATTRIBUTES[attribute]
    ranges: list[tuple[int | None, int | None]] = []
    for item in _filter_list(attribute, raw):
        start, end, date_range = item.get("Start"), item.get("End"), item.get("DateRange")
        if date_range is not None:
            if start is not None or end is not None:
                raise _InputError(f"Filters.{attribute}: use either Start/End or DateRange")
            if not isinstance(date_range, dict):
                raise _InputError(f"Filters.{attribute}.DateRange must be an object")
            days = date_range.get("Value")
            if not _is_int(days) or days < 0 or date_range.get("Unit") != "DAYS":
                raise _InputError(f"Filters.{attribute}.DateRange needs Value>=0 and Unit DAYS")
            now = parse_timestamp(_now_iso())
            assert now is not None
            edge = now - days * 86_400 * 1_000_000_000
            comparison = date_range.get("Comparison", "WITHIN")
            if comparison == "WITHIN":
                ranges.append((edge, None))
            elif comparison == "OLDER_THAN":
                ranges.append((None, edge))
            else:
                raise _InputError(f"Filters.{attribute}.DateRange: invalid Comparison")
            continue
        bounds: list[int | None] = []
        for name, value in (("Start", start), ("End", end)):
            parsed = None if value is None else parse_timestamp(value)
            if value is not None and parsed is None:
                raise _InputError(f"Filters.{attribute}.{name} is not a valid timestamp")
            bounds.append(parsed)
        if bounds == [None, None]:
            raise _InputError(f"Filters.{attribute} needs Start, End or DateRange")
        ranges.append((bounds[0], bounds[1]))

    def matches(finding: dict[str, Any]) -> bool:
        for value in getter(finding):
            ns = parse_timestamp(value)
            if ns is None:
                continue
            for low, high in ranges:
                if (low is None or ns >= low) and (high is None or ns <= high):
                    return True
        return False

    return matches


def _number_predicate(attribute: str, raw: Any) -> Predicate:
    """NumberFilter {Gte, Lte, Eq, Gt, Lt}: bounds within one filter ANDed, filters ORed."""
    getter = NUMBER_ATTRIBUTES[attribute]
    checks: list[dict[str, float]] = []
    for item in _filter_list(attribute, raw):
        bounds = {k: v for k, v in item.items() if k in ("Gte", "Lte", "Eq", "Gt", "Lt")}
        if not bounds or not all(_is_number(v) for v in bounds.values()):
            raise _InputError(f"Filters.{attribute}: give numeric Gte, Lte, Eq, Gt or Lt")
        checks.append(bounds)
    ops: dict[str, Callable[[float, float], bool]] = {
        "Gte": lambda a, b: a >= b,
        "Lte": lambda a, b: a <= b,
        "Eq": lambda a, b: a == b,
        "Gt": lambda a, b: a > b,
        "Lt": lambda a, b: a < b,
    }

    def matches(finding: dict[str, Any]) -> bool:
        values = [v for v in getter(finding) if _is_number(v)]
        return any(
            all(ops[op](value, bound) for op, bound in check.items())
            for value in values
            for check in checks
        )

    return matches


_MODEL_FILTER_ATTRIBUTES: frozenset[str] | None = None


def _model_filter_attributes() -> frozenset[str]:
    """Every attribute AwsSecurityFindingFilters defines, to tell "unknown" from "unsupported"."""
    global _MODEL_FILTER_ATTRIBUTES
    if _MODEL_FILTER_ATTRIBUTES is None:
        import botocore.session

        model = botocore.session.get_session().get_service_model("securityhub")
        shape: Any = model.shape_for("AwsSecurityFindingFilters")
        _MODEL_FILTER_ATTRIBUTES = frozenset(shape.members)
    return _MODEL_FILTER_ATTRIBUTES


def build_filter(filters: Any) -> Predicate:
    """Compile GetFindings ``Filters``: attributes are ANDed (GetFindings "Filters")."""
    if filters is None:
        filters = {}
    if not isinstance(filters, dict):
        raise _InputError("Filters must be an object")
    # Counting attributes as sent, even with an empty value list (stricter reading).
    if len(filters) > MAX_FILTER_ATTRIBUTES:
        raise _InputError(
            f"Filters has {len(filters)} attributes; at most {MAX_FILTER_ATTRIBUTES} are allowed"
        )
    predicates: list[Predicate] = []
    for attribute, raw in filters.items():
        if attribute in STRING_ATTRIBUTES:
            predicates.append(_string_predicate(attribute, raw))
        elif attribute in MAP_ATTRIBUTES:
            predicates.append(_map_predicate(attribute, raw))
        elif attribute in DATE_ATTRIBUTES:
            predicates.append(_date_predicate(attribute, raw))
        elif attribute in NUMBER_ATTRIBUTES:
            predicates.append(_number_predicate(attribute, raw))
        elif attribute in _model_filter_attributes():
            raise _InputError(
                f"Filter attribute {attribute} is valid for Security Hub but not implemented by "
                "the sandbox emulator (sandbox/securityhub.py)"
            )
        else:
            raise _InputError(f"Unknown filter attribute {attribute}")
    return lambda finding: all(p(finding) for p in predicates)


# --------------------------------------------------------------------------------------------
# Sorting and pagination
# --------------------------------------------------------------------------------------------

SortKey = list[Any]


def _sort_value(attribute: str, finding: dict[str, Any]) -> Any:
    """First value of the attribute in a JSON-safe, comparable form (None when absent)."""
    if attribute in DATE_ATTRIBUTES:
        for value in DATE_ATTRIBUTES[attribute](finding):
            parsed = parse_timestamp(value)
            if parsed is not None:
                return parsed
        return None
    getter = STRING_ATTRIBUTES.get(attribute) or NUMBER_ATTRIBUTES[attribute]
    values = getter(finding)
    return values[0] if values else None


def _parse_sort(criteria: Any) -> list[tuple[str, bool]]:
    """SortCriteria -> [(attribute, descending)]. SortOrder defaults to asc (undocumented)."""
    if criteria is None:
        return []
    if not isinstance(criteria, list) or not all(isinstance(c, dict) for c in criteria):
        raise _InputError("SortCriteria must be a list of objects")
    parsed: list[tuple[str, bool]] = []
    for criterion in criteria:
        name, order = criterion.get("Field"), criterion.get("SortOrder", "asc")
        if not isinstance(name, str) or not (
            name in STRING_ATTRIBUTES or name in DATE_ATTRIBUTES or name in NUMBER_ATTRIBUTES
        ):
            raise _InputError(f"SortCriteria: unsupported Field {name!r}")
        if order not in ("asc", "desc"):
            raise _InputError(f"SortCriteria: SortOrder must be asc or desc, not {order!r}")
        parsed.append((name, order == "desc"))
    return parsed


def _compare_keys(a: SortKey, b: SortKey, descending: list[bool]) -> int:
    """Compare sort keys; absent values sort last whatever the order; the trailing
    (ProductArn, Id) tiebreak is always ascending so the order is total and stable."""
    for index, (x, y) in enumerate(zip(a, b, strict=True)):
        if x == y:
            continue
        if x is None:
            return 1
        if y is None:
            return -1
        result = -1 if x < y else 1
        if index < len(descending) and descending[index]:
            result = -result
        return result
    return 0


# --------------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------------


class SecurityHubEmulator:
    """In-memory Security Hub for one sandbox: findings per (account, Region), enablement per
    account and Region, an organization view, and per-account/Region token buckets. All state
    sits behind one lock; handle() never sleeps, so holding the lock for a call is cheap."""

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, rate_limits: bool = True
    ) -> None:
        self._clock = clock
        self._rate_limits = rate_limits
        self._lock = threading.Lock()
        self._findings: dict[tuple[str, str], dict[_Key, _Stored]] = {}
        # Enablement overrides: (account, Region) or (None, Region) for every account.
        self._enabled: dict[tuple[str | None, str], bool] = {}
        self._org = Organization()
        self._changes = itertools.count(1)
        self._last_change = 0
        self._buckets: dict[tuple[str, str, str], _TokenBucket] = {}
        # Finding ingestion events per (account, Region): the unit Security Hub CSPM bills
        # beyond a monthly free tier (pricing page: a new finding and an update of an existing
        # one both count). Every finding BatchImportFindings accepts counts, including an
        # update ignored for a stale UpdatedAt: whether AWS bills that one is not documented,
        # and counting it is the stricter reading.
        self._ingestion: Counter[tuple[str, str]] = Counter()
        self._subscribed_at = _now_iso()

    # -- public sandbox API ------------------------------------------------------------------

    def reset(self) -> None:
        """Forget findings, throttling state and enablement overrides (between tests)."""
        with self._lock:
            self._findings.clear()
            self._enabled.clear()
            self._org = Organization()
            self._buckets.clear()
            self._ingestion.clear()

    def set_enabled(self, region: str, enabled: bool, account: str | None = None) -> None:
        """Security Hub is enabled for every account in every Region unless turned off here,
        for one ``account`` or (None) for every account in ``region``."""
        with self._lock:
            if account is None:
                for key in [k for k in self._enabled if k[1] == region]:
                    del self._enabled[key]
            self._enabled[(account, region)] = enabled

    def _is_enabled(self, account: str, region: str) -> bool:
        specific = self._enabled.get((account, region))
        return self._enabled.get((None, region), True) if specific is None else specific

    def findings(self, region: str, account: str | None = None) -> list[dict[str, Any]]:
        """Deep copies of the findings stored in ``region`` (every account's unless
        ``account`` is given), in import order. Stored copies only: what an aggregation Region
        shows through GetFindings is not duplicated here."""
        with self._lock:
            return [
                copy.deepcopy(stored.finding)
                for (stored_account, stored_region), store in self._findings.items()
                if stored_region == region and account in (None, stored_account)
                for stored in store.values()
            ]

    def set_organization(
        self,
        administrator: str | None,
        members: Iterable[str] = (),
        aggregation_region: str | None = None,
        linked_regions: Iterable[str] = (),
    ) -> dict[str, Any]:
        """Make ``administrator`` the Security Hub administrator of ``members`` (None: no
        organization), with an optional aggregation Region and its linked Regions."""
        members = list(members)
        linked = list(linked_regions)
        if administrator is None and (members or aggregation_region or linked):
            raise ValueError("members and aggregation need an administrator")
        if administrator in members:
            raise ValueError("the administrator cannot be its own member")
        if linked and aggregation_region is None:
            raise ValueError("linked_regions need an aggregation_region")
        with self._lock:
            self._org = self._org.relinked(
                administrator, members, aggregation_region, linked, self._last_change
            )
            return self._org.to_dict()

    def organization(self) -> dict[str, Any]:
        with self._lock:
            return self._org.to_dict()

    def ingestion_events(self) -> list[dict[str, Any]]:
        """Finding ingestion events so far, one ``{account, region, count}`` per pair."""
        with self._lock:
            return [
                {"account": account, "region": region, "count": count}
                for (account, region), count in sorted(self._ingestion.items())
            ]

    def reset_ingestion_events(self) -> None:
        with self._lock:
            self._ingestion.clear()

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        handlers: dict[str, Callable[[SandboxRequest], SandboxResponse]] = {
            "BatchImportFindings": self._batch_import_findings,
            "BatchUpdateFindings": self._batch_update_findings,
            "GetFindings": self._get_findings,
            "DescribeHub": self._describe_hub,
            "ListMembers": self._list_members,
            "GetAdministratorAccount": self._get_administrator_account,
        }
        handler = handlers.get(request.operation)
        if handler is None:
            return aws_error(
                400,
                "InvalidInputException",
                f"Operation {request.operation} is not implemented by the sandbox Security Hub "
                "emulator (sandbox/securityhub.py)",
            )
        with self._lock:
            # Throttling before the subscription check: AWS applies request quotas ahead of
            # authorization (order not documented; it only matters for a disabled Region).
            if self._rate_limits and not self._take_token(request):
                return aws_error(429, "LimitExceededException", "Rate exceeded")
            if not self._is_enabled(request.account, request.region):
                # Whole-call failure, as the API returns for an unsubscribed account. The user
                # guide also mentions per-finding FailedFindings "InvalidAccess" when the hub or
                # product integration is disabled; this emulator uses the stricter whole-call error.
                return aws_error(
                    401,
                    "InvalidAccessException",
                    f"Account {request.account} is not subscribed to AWS Security Hub",
                )
            try:
                return handler(request)
            except _InputError as exc:
                return aws_error(400, "InvalidInputException", str(exc))

    # -- plumbing -----------------------------------------------------------------------------

    def _take_token(self, request: SandboxRequest) -> bool:
        rate, burst = RATE_LIMITS[request.operation]
        key = (request.account, request.region, request.operation)
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _TokenBucket(rate, burst, burst, now)
        return bucket.take(now)

    def _store(self, request: SandboxRequest) -> dict[_Key, _Stored]:
        return self._findings.setdefault((request.account, request.region), {})

    def _next_change(self) -> int:
        self._last_change = next(self._changes)
        return self._last_change

    def _visible(self, request: SandboxRequest) -> Iterator[tuple[_Key, _Stored]]:
        """Every stored finding the caller can read and update in this Region: its own, its
        members' when it is the administrator, and in the aggregation Region those of linked
        Regions (organization.py). Accounts with Security Hub off in a Region contribute
        nothing from it ("only aggregates findings from Regions where an account has Security
        Hub enabled")."""
        for scope in self._org.scopes(request.account, request.region):
            if scope.account != request.account and not self._is_enabled(
                scope.account, scope.region
            ):
                continue
            for key, stored in self._findings.get((scope.account, scope.region), {}).items():
                if scope.shows(stored.changed):
                    yield key, stored

    def _find(self, request: SandboxRequest, key: _Key) -> _Stored | None:
        return next((stored for k, stored in self._visible(request) if k == key), None)

    # -- DescribeHub ---------------------------------------------------------------------------

    def _describe_hub(self, request: SandboxRequest) -> SandboxResponse:
        partition = _partition(request.region)
        return SandboxResponse(
            200,
            {
                "HubArn": f"arn:{partition}:securityhub:{request.region}:{request.account}"
                ":hub/default",
                "SubscribedAt": self._subscribed_at,
                "AutoEnableControls": True,
                "ControlFindingGenerator": "SECURITY_CONTROL",
            },
        )

    # -- ListMembers, GetAdministratorAccount -------------------------------------------------

    def _list_members(self, request: SandboxRequest) -> SandboxResponse:
        """API_ListMembers: the administrator's member accounts (an account that administers
        nobody gets an empty list). Every sandbox member is an organization member with
        MemberStatus "Enabled" ("the member account is currently active"), so OnlyAssociated
        changes nothing. MaxResults 1-50 (botocore model)."""
        params = {**{k: v[0] for k, v in request.query.items() if v}, **request.body}
        max_results = params.get("MaxResults", 50)
        try:
            max_results = int(max_results)
        except (TypeError, ValueError):
            raise _InputError("MaxResults must be an integer") from None
        if not 1 <= max_results <= 50:
            raise _InputError("MaxResults must be between 1 and 50")
        members = sorted(self._org.members) if request.account == self._org.administrator else []
        token = params.get("NextToken")
        if token is not None:
            after = _decode_token(token, "ListMembers", 1)[0]
            members = [m for m in members if m > after]
        page = members[:max_results]
        body: dict[str, Any] = {
            "Members": [
                {
                    "AccountId": member,
                    "AdministratorId": request.account,
                    "MasterId": request.account,
                    "MemberStatus": "Enabled",
                    "InvitedAt": self._subscribed_at,
                    "UpdatedAt": self._subscribed_at,
                }
                for member in page
            ]
        }
        if len(members) > max_results:
            body["NextToken"] = _encode_token([page[-1]], "ListMembers")
        return SandboxResponse(200, body)

    def _get_administrator_account(self, request: SandboxRequest) -> SandboxResponse:
        """API_GetAdministratorAccount: the caller's administrator, or no Administrator."""
        if request.account not in self._org.members or self._org.administrator is None:
            return SandboxResponse(200, {})
        return SandboxResponse(
            200,
            {
                "Administrator": {
                    "AccountId": self._org.administrator,
                    "InvitationId": f"sandbox-{self._org.administrator}-{request.account}",
                    "InvitedAt": self._subscribed_at,
                    "MemberStatus": "Enabled",
                }
            },
        )

    # -- BatchImportFindings ----------------------------------------------------------------

    def _batch_import_findings(self, request: SandboxRequest) -> SandboxResponse:
        findings = request.body.get("Findings")
        if not isinstance(findings, list) or not 1 <= len(findings) <= MAX_FINDINGS_PER_IMPORT:
            count = len(findings) if isinstance(findings, list) else "no"
            raise _InputError(
                f"Findings must contain between 1 and {MAX_FINDINGS_PER_IMPORT} findings "
                f"({count} given)"
            )
        if len(json.dumps(request.body).encode()) > MAX_REQUEST_BYTES:
            # Quotas page: 6 MB per request. The real front door may answer 413 instead.
            raise _InputError("Request exceeds the 6 MB BatchImportFindings limit")
        for finding in findings:
            # FailedFindings entries need an Id (ImportFindingsError.Id is required), so a
            # finding without one fails the whole call. botocore rejects this client-side anyway.
            if not isinstance(finding, dict) or not _nonempty_str(finding.get("Id")):
                raise _InputError("Every finding must be an object with a non-empty Id")

        failed: list[dict[str, str]] = []
        success = 0
        store = self._store(request)
        for finding in findings:
            problem = self._validate_finding(finding, request)
            if problem is not None:
                failed.append(
                    {
                        "Id": finding["Id"],
                        "ErrorCode": "InvalidInput",
                        "ErrorMessage": "Finding does not adhere to Amazon Finding Format. "
                        + problem,
                    }
                )
                continue
            self._upsert(store, copy.deepcopy(finding), request)
            success += 1
        self._ingestion[(request.account, request.region)] += success
        return SandboxResponse(
            200, {"FailedCount": len(failed), "SuccessCount": success, "FailedFindings": failed}
        )

    @staticmethod
    def _validate_finding(finding: dict[str, Any], request: SandboxRequest) -> str | None:
        """First reason the finding is not valid ASFF for this caller, or None."""
        problems: list[str] = []

        def require(condition: bool, message: str) -> None:
            if not condition:
                problems.append(message)

        require(finding.get("SchemaVersion") == SCHEMA_VERSION, "SchemaVersion must be 2018-10-08")
        require(_nonempty_str(finding.get("Id"), 512), "Id must be 1-512 characters")
        require(
            _nonempty_str(finding.get("GeneratorId"), 512), "GeneratorId must be 1-512 characters"
        )
        require(_nonempty_str(finding.get("Title"), 256), "Title must be 1-256 characters")
        require(
            _nonempty_str(finding.get("Description"), 1024), "Description must be 1-1024 characters"
        )
        expected_arn = default_product_arn(request.region, request.account)
        require(
            finding.get("ProductArn") == expected_arn,
            f"ProductArn must be {expected_arn} (the Region of the request and the caller's "
            "default product)",
        )
        require(
            finding.get("AwsAccountId") == request.account,
            f"AwsAccountId must be the caller's account {request.account}",
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

        resources = finding.get("Resources")
        require(
            isinstance(resources, list) and 1 <= len(resources) <= 32,
            "Resources must contain 1-32 resources",
        )
        for index, resource in enumerate(resources if isinstance(resources, list) else []):
            require(
                isinstance(resource, dict)
                and _nonempty_str(resource.get("Type"))
                and _nonempty_str(resource.get("Id")),
                f"Resources[{index}] needs Type and Id",
            )
            if isinstance(resource, dict) and "Tags" in resource:
                require(
                    _valid_string_map(resource["Tags"], 50, 128, 256),
                    f"Resources[{index}].Tags is invalid",
                )

        problems.extend(_provider_field_problems(finding))
        if "ProductFields" in finding:
            fields = finding["ProductFields"]
            require(_valid_string_map(fields, 50, 128, 2048), "ProductFields is invalid")
            if isinstance(fields, dict):
                reserved = [
                    k for k in fields if k.startswith("aws/") and k not in SERVICE_PRODUCT_FIELDS
                ]
                require(not reserved, f"ProductFields keys {reserved} use the reserved aws/ prefix")
        if "UserDefinedFields" in finding:
            require(
                _valid_string_map(finding["UserDefinedFields"], 50, 128, 1024),
                "UserDefinedFields is invalid",
            )
        if "RecordState" in finding:
            require(finding["RecordState"] in RECORD_STATES, "RecordState is invalid")
        if "WorkflowState" in finding:
            require(finding["WorkflowState"] in WORKFLOW_STATES, "WorkflowState is invalid")
        if "VerificationState" in finding:
            require(
                finding["VerificationState"] in VERIFICATION_STATES, "VerificationState is invalid"
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
        # Size as serialized with json.dumps' default separators (a little larger than compact
        # JSON): AWS doesn't say how it measures, so err on the larger side.
        size = len(json.dumps(finding).encode())
        require(size <= MAX_FINDING_BYTES, f"Finding is {size} bytes; the limit is 240 KB")
        return problems[0] if problems else None

    def _upsert(
        self, store: dict[_Key, _Stored], finding: dict[str, Any], request: SandboxRequest
    ) -> None:
        """Create or update one validated finding (user guide, "Determining whether to create or
        update a finding"): same (ProductArn, Id) is an update; an update whose UpdatedAt is equal
        to or earlier than the stored one is ignored. AWS documents no error for that case and in
        practice counts it in SuccessCount, so the caller cannot see that nothing changed: this
        emulator does the same, and tests must assert on the stored finding instead."""
        key: _Key = (finding["ProductArn"], finding["Id"])
        updated_ns = parse_timestamp(finding["UpdatedAt"])
        assert updated_ns is not None
        existing = store.get(key)
        if existing is not None and updated_ns <= existing.updated_at_ns:
            return

        self._apply_service_fields(finding, request)
        merge_provider_fields(
            finding,
            existing.finding if existing else None,
            existing.customer_fields if existing else frozenset(),
        )
        finding.setdefault("RecordState", "ACTIVE")

        if existing is None:
            # Creation: Note/UserDefinedFields/VerificationState/Workflow are accepted (the API
            # page only forbids changing them "after a finding is created").
            finding.setdefault("Workflow", {"Status": "NEW"})
            finding["Workflow"].setdefault("Status", "NEW")
            finding.setdefault("WorkflowState", "NEW")
            if isinstance(finding.get("Note"), dict):
                finding["Note"].setdefault("UpdatedAt", finding["UpdatedAt"])
            store[key] = _Stored(finding, updated_ns, changed=self._next_change())
            return

        old = existing.finding
        # BatchImportFindings cannot change these after creation: keep the stored values.
        for name in (*CUSTOMER_ONLY_FIELDS, "WorkflowState"):
            finding.pop(name, None)
            if name in old:
                finding[name] = copy.deepcopy(old[name])
        # CreatedAt: stored as sent. The provider owns it (ASFF "CreatedAt": when the potential
        # security issue was captured); AWS does not say it pins the first value, so a client
        # must keep sending the original CreatedAt itself.
        self._reopen_if_needed(old, finding)
        store[key] = _Stored(
            finding, updated_ns, existing.customer_fields, changed=self._next_change()
        )

    @staticmethod
    def _apply_service_fields(finding: dict[str, Any], request: SandboxRequest) -> None:
        """Attributes Security Hub populates itself. ProcessedAt/FirstObservedAt/LastObservedAt
        are kept as sent (ProcessedAt is really service-set; the sandbox does not invent one)."""
        finding["Region"] = request.region  # ASFF "Region": populated automatically
        # Observed on real default-product findings, not documented.
        finding.setdefault("ProductName", "Default")
        finding.setdefault("CompanyName", "Personal")
        fields = finding.setdefault("ProductFields", {})
        fields["aws/securityhub/FindingId"] = f"{finding['ProductArn']}/{finding['Id']}"
        fields["aws/securityhub/ProductName"] = finding["ProductName"]
        fields["aws/securityhub/CompanyName"] = finding["CompanyName"]

    @staticmethod
    def _reopen_if_needed(old: dict[str, Any], new: dict[str, Any]) -> None:
        """ASFF "Workflow.Status" (API reference "Workflow"/"WorkflowUpdate", user guide
        "Setting the workflow status for findings",
        https://docs.aws.amazon.com/securityhub/latest/userguide/findings-workflow-status.html):
        Security Hub resets NOTIFIED or RESOLVED to NEW when
        RecordState goes ARCHIVED -> ACTIVE or Compliance.Status goes PASSED -> WARNING, FAILED
        or NOT_AVAILABLE. SUPPRESSED is never reset. The automatic PASSED -> RESOLVED applies to
        Security Hub's own control findings only, so it is not emulated."""
        status = (new.get("Workflow") or {}).get("Status")
        if status not in ("NOTIFIED", "RESOLVED"):
            return
        unarchived = old.get("RecordState") == "ARCHIVED" and new.get("RecordState") == "ACTIVE"
        old_compliance = (old.get("Compliance") or {}).get("Status")
        new_compliance = (new.get("Compliance") or {}).get("Status")
        regressed = old_compliance == "PASSED" and new_compliance in (
            "WARNING",
            "FAILED",
            "NOT_AVAILABLE",
        )
        if unarchived or regressed:
            new["Workflow"] = {**new["Workflow"], "Status": "NEW"}

    # -- BatchUpdateFindings ------------------------------------------------------------------

    def _batch_update_findings(self, request: SandboxRequest) -> SandboxResponse:
        body = request.body
        identifiers = body.get("FindingIdentifiers")
        if (
            not isinstance(identifiers, list)
            or not 1 <= len(identifiers) <= MAX_IDENTIFIERS_PER_UPDATE
        ):
            raise _InputError(
                f"FindingIdentifiers must contain between 1 and {MAX_IDENTIFIERS_PER_UPDATE} items"
            )
        for identifier in identifiers:
            if not (
                isinstance(identifier, dict)
                and _nonempty_str(identifier.get("Id"))
                and _nonempty_str(identifier.get("ProductArn"))
            ):
                raise _InputError("Each FindingIdentifier needs Id and ProductArn")
        changes = self._validated_changes(body)

        processed: list[dict[str, str]] = []
        unprocessed: list[dict[str, Any]] = []
        for identifier in identifiers:
            ident = {"Id": identifier["Id"], "ProductArn": identifier["ProductArn"]}
            # API_BatchUpdateFindings: "Administrator accounts can update findings for their
            # account and their member accounts. A member account can update findings only for
            # their own account." A finding the caller cannot see is reported as not found
            # (AWS documents no separate error code for it).
            stored = self._find(request, (ident["ProductArn"], ident["Id"]))
            if stored is None:
                unprocessed.append(
                    {
                        "FindingIdentifier": ident,
                        "ErrorCode": "FindingNotFound",
                        "ErrorMessage": "Finding Not Found",
                    }
                )
                continue
            for name, change in changes.items():
                value = change
                if name == "Severity":
                    value = _updated_severity(stored.finding.get("Severity", {}), change)
                elif name == "UserDefinedFields":
                    # Merged with the existing pairs: AWS does not document replace-vs-merge;
                    # merging never loses a customer's data.
                    value = {**stored.finding.get("UserDefinedFields", {}), **change}
                elif name == "Workflow":
                    value = {**stored.finding.get("Workflow", {}), **change}
                stored.finding[name] = copy.deepcopy(value)
                if name in PROVIDER_SHADOWED_FIELDS:
                    stored.customer_fields.add(name)
            # API_BatchUpdateFindings: "your updates don't affect the value for the UpdatedAt
            # field of the finding", so UpdatedAt (and the import ordering rule) is untouched;
            # it is still an update that cross-Region aggregation replicates.
            stored.changed = self._next_change()
            processed.append(ident)
        return SandboxResponse(
            200, {"ProcessedFindings": processed, "UnprocessedFindings": unprocessed}
        )

    @staticmethod
    def _validated_changes(body: dict[str, Any]) -> dict[str, Any]:
        """The BatchUpdateFindings fields to apply, validated against the model/ASFF limits."""
        changes: dict[str, Any] = {}
        if "Note" in body:
            note = body["Note"]
            if not (
                isinstance(note, dict)
                and _nonempty_str(note.get("Text"), 512)
                and _nonempty_str(note.get("UpdatedBy"), 512)
            ):
                raise _InputError("Note needs Text and UpdatedBy, each 1-512 characters")
            changes["Note"] = {
                "Text": note["Text"],
                "UpdatedBy": note["UpdatedBy"],
                "UpdatedAt": _now_iso(),
            }
        if "Severity" in body:
            severity = body["Severity"]
            severity_keys = {"Label", "Normalized", "Product"}
            if not isinstance(severity, dict) or not severity.keys() & severity_keys:
                raise _InputError("Severity needs Label, Normalized or Product")
            if "Label" in severity and severity["Label"] not in SEVERITY_LABELS:
                raise _InputError("Severity.Label is invalid")
            if "Normalized" in severity and not (
                _is_int(severity["Normalized"]) and 0 <= severity["Normalized"] <= 100
            ):
                raise _InputError("Severity.Normalized must be an integer 0-100")
            if "Product" in severity and not _is_number(severity["Product"]):
                raise _InputError("Severity.Product must be a number")
            changes["Severity"] = {k: v for k, v in severity.items() if k in severity_keys}
        if "VerificationState" in body:
            if body["VerificationState"] not in VERIFICATION_STATES:
                raise _InputError("VerificationState is invalid")
            changes["VerificationState"] = body["VerificationState"]
        for name in ("Confidence", "Criticality"):
            if name in body:
                if not (_is_int(body[name]) and 0 <= body[name] <= 100):
                    raise _InputError(f"{name} must be an integer 0-100")
                changes[name] = body[name]
        if "Types" in body:
            if not _valid_types(body["Types"]):
                raise _InputError("Types must be up to 50 strings with an allowed namespace")
            changes["Types"] = body["Types"]
        if "UserDefinedFields" in body:
            if not _valid_string_map(body["UserDefinedFields"], 50, 128, 1024):
                raise _InputError("UserDefinedFields is invalid")
            changes["UserDefinedFields"] = body["UserDefinedFields"]
        if "Workflow" in body:
            workflow = body["Workflow"]
            if not (isinstance(workflow, dict) and workflow.get("Status") in WORKFLOW_STATUSES):
                raise _InputError("Workflow.Status must be NEW, NOTIFIED, RESOLVED or SUPPRESSED")
            changes["Workflow"] = {"Status": workflow["Status"]}
        if "RelatedFindings" in body:
            related = body["RelatedFindings"]
            if not _valid_related(related):
                raise _InputError("RelatedFindings must be up to 10 {Id, ProductArn} objects")
            changes["RelatedFindings"] = related
        if not changes:
            # Not documented; a call that updates nothing is almost certainly a client bug.
            raise _InputError("BatchUpdateFindings needs at least one field to update")
        return changes

    # -- GetFindings -----------------------------------------------------------------------------

    def _get_findings(self, request: SandboxRequest) -> SandboxResponse:
        body = request.body
        max_results = body.get("MaxResults", MAX_RESULTS_DEFAULT)
        if not _is_int(max_results) or not 1 <= max_results <= MAX_RESULTS_LIMIT:
            raise _InputError(f"MaxResults must be between 1 and {MAX_RESULTS_LIMIT}")
        predicate = build_filter(body.get("Filters"))
        criteria = _parse_sort(body.get("SortCriteria"))
        descending = [desc for _, desc in criteria]
        # Binds a token to its query, so reusing it with other filters is an error (stricter).
        query_digest = hashlib.sha256(
            json.dumps(
                [request.account, request.region, body.get("Filters"), body.get("SortCriteria")],
                sort_keys=True,
            ).encode()
        ).hexdigest()[:16]

        def key_of(finding: dict[str, Any]) -> SortKey:
            return [_sort_value(name, finding) for name, _ in criteria] + [
                finding["ProductArn"],
                finding["Id"],
            ]

        def compare(a: SortKey, b: SortKey) -> int:
            return _compare_keys(a, b, descending)

        matching = [
            (key_of(stored.finding), stored.finding)
            for _, stored in self._visible(request)
            if predicate(stored.finding)
        ]

        # Without SortCriteria the order is (ProductArn, Id): AWS documents no default order.
        def compare_items(
            a: tuple[SortKey, dict[str, Any]], b: tuple[SortKey, dict[str, Any]]
        ) -> int:
            return compare(a[0], b[0])

        matching.sort(key=functools.cmp_to_key(compare_items))

        token = body.get("NextToken")
        if token is not None:
            after = _decode_token(token, query_digest, len(criteria) + 2)
            # Keyset pagination: resume after the last key returned, so findings imported or
            # removed between pages never cause repeats or skips of unchanged findings.
            matching = [item for item in matching if compare(item[0], after) > 0]

        page = matching[:max_results]
        response: dict[str, Any] = {"Findings": [copy.deepcopy(f) for _, f in page]}
        if len(matching) > max_results:
            response["NextToken"] = _encode_token(page[-1][0], query_digest)
        return SandboxResponse(200, response)


def _valid_types(types: Any) -> bool:
    """ASFF "Types": up to 50 "namespace/category/classifier" strings, namespace from a fixed
    set; category and classifier are optional."""
    if not isinstance(types, list) or len(types) > 50:
        return False
    for value in types:
        if not _nonempty_str(value):
            return False
        parts = value.split("/")
        if len(parts) > 3 or parts[0] not in TYPE_NAMESPACES or not all(parts):
            return False
    return True


def _valid_string_map(value: Any, max_pairs: int, max_key: int, max_value: int) -> bool:
    """ASFF ProductFields/UserDefinedFields/Tags: a bounded map of non-empty strings."""
    if not isinstance(value, dict) or len(value) > max_pairs:
        return False
    return all(
        _nonempty_str(k, max_key) and isinstance(v, str) and len(v) <= max_value
        for k, v in value.items()
    )


def _encode_token(key: SortKey, digest: str) -> str:
    raw = json.dumps({"v": 1, "q": digest, "after": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_token(token: Any, digest: str, key_length: int) -> SortKey:
    """Inverse of _encode_token; anything malformed or issued for another query is a 400."""
    try:
        if not isinstance(token, str):
            raise ValueError("not a string")
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        if not isinstance(data, dict) or data.get("v") != 1 or data.get("q") != digest:
            raise ValueError("token from another query")
        after = data.get("after")
        if not isinstance(after, list) or len(after) != key_length:
            raise ValueError("bad key")
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise _InputError("The NextToken is invalid or was issued for a different query") from exc
    return after
