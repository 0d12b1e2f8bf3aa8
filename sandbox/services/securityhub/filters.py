"""The GetFindings filter language: ``AwsSecurityFindingFilters`` compiled to a predicate,
plus ``SortCriteria``.

Sources: API_GetFindings ("Filters", limits of 10 attributes and 20 values each),
API_StringFilter / API_MapFilter / API_DateFilter / API_NumberFilter ("Comparison" rules:
positive comparisons on one attribute are ORed, negative ones ANDed and applied after the
positives; the combinations the docs say "return an error" are refused) and the botocore model
(``AwsSecurityFindingFilters`` members, to tell an unknown attribute from one the sandbox does
not implement). Pure: no state, no I/O; bad filters raise ``AwsError`` 400.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.services.securityhub.asff import (
    MAX_FILTER_ATTRIBUTES,
    MAX_FILTER_VALUES,
    invalid_input,
    is_int,
    is_number,
    nonempty_str,
    now_iso,
    parse_timestamp,
)


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
        raise invalid_input(f"{attribute}: CONTAINS filters can only be used with other CONTAINS")
    if "NOT_CONTAINS" in comparisons and comparisons != {"NOT_CONTAINS"}:
        raise invalid_input(
            f"{attribute}: NOT_CONTAINS filters can only be used with other NOT_CONTAINS"
        )
    if "EQUALS" in comparisons and comparisons & {"NOT_EQUALS", "PREFIX_NOT_EQUALS"}:
        raise invalid_input(
            f"{attribute}: EQUALS cannot be combined with NOT_EQUALS or PREFIX_NOT_EQUALS"
        )


def _filter_list(attribute: str, raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise invalid_input(f"Filters.{attribute} must be a list of filter objects")
    if len(raw) > MAX_FILTER_VALUES:
        raise invalid_input(
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
        if not nonempty_str(value):
            raise invalid_input(f"Filters.{attribute}: Value must be a non-empty string")
        if comparison == "CONTAINS_WORD":
            # StringFilter docs: CONTAINS_WORD "works only in the GetFindingsV2 ... APIs".
            raise invalid_input(
                f"Filters.{attribute}: CONTAINS_WORD is not supported by GetFindings"
            )
        if comparison not in _POSITIVE_STRING | _NEGATIVE_STRING:
            raise invalid_input(f"Filters.{attribute}: invalid Comparison {comparison!r}")
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
        if not nonempty_str(key) or not nonempty_str(value):
            raise invalid_input(f"Filters.{attribute}: Key and Value must be non-empty strings")
        if comparison in ("CONTAINS", "NOT_CONTAINS"):
            # MapFilter "Comparison" docs: "CONTAINS and NOT_CONTAINS operators can be used only
            # with automation rules." Stricter reading: GetFindings rejects them.
            raise invalid_input(
                f"Filters.{attribute}: {comparison} map filters are only supported by automation "
                "rules, not GetFindings"
            )
        if comparison not in ("EQUALS", "NOT_EQUALS"):
            raise invalid_input(f"Filters.{attribute}: invalid Comparison {comparison!r}")
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
                raise invalid_input(f"Filters.{attribute}: use either Start/End or DateRange")
            if not isinstance(date_range, dict):
                raise invalid_input(f"Filters.{attribute}.DateRange must be an object")
            days = date_range.get("Value")
            if not is_int(days) or days < 0 or date_range.get("Unit") != "DAYS":
                raise invalid_input(f"Filters.{attribute}.DateRange needs Value>=0 and Unit DAYS")
            now = parse_timestamp(now_iso())
            assert now is not None
            edge = now - days * 86_400 * 1_000_000_000
            comparison = date_range.get("Comparison", "WITHIN")
            if comparison == "WITHIN":
                ranges.append((edge, None))
            elif comparison == "OLDER_THAN":
                ranges.append((None, edge))
            else:
                raise invalid_input(f"Filters.{attribute}.DateRange: invalid Comparison")
            continue
        bounds: list[int | None] = []
        for name, value in (("Start", start), ("End", end)):
            parsed = None if value is None else parse_timestamp(value)
            if value is not None and parsed is None:
                raise invalid_input(f"Filters.{attribute}.{name} is not a valid timestamp")
            bounds.append(parsed)
        if bounds == [None, None]:
            raise invalid_input(f"Filters.{attribute} needs Start, End or DateRange")
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
        if not bounds or not all(is_number(v) for v in bounds.values()):
            raise invalid_input(f"Filters.{attribute}: give numeric Gte, Lte, Eq, Gt or Lt")
        checks.append(bounds)
    ops: dict[str, Callable[[float, float], bool]] = {
        "Gte": lambda a, b: a >= b,
        "Lte": lambda a, b: a <= b,
        "Eq": lambda a, b: a == b,
        "Gt": lambda a, b: a > b,
        "Lt": lambda a, b: a < b,
    }

    def matches(finding: dict[str, Any]) -> bool:
        values = [v for v in getter(finding) if is_number(v)]
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
        raise invalid_input("Filters must be an object")
    # Counting attributes as sent, even with an empty value list (stricter reading).
    if len(filters) > MAX_FILTER_ATTRIBUTES:
        raise invalid_input(
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
            raise invalid_input(
                f"Filter attribute {attribute} is valid for Security Hub but not implemented by "
                "the sandbox emulator (sandbox/services/securityhub/filters.py)"
            )
        else:
            raise invalid_input(f"Unknown filter attribute {attribute}")
    return lambda finding: all(p(finding) for p in predicates)


# --------------------------------------------------------------------------------------------
# Sorting and pagination
# --------------------------------------------------------------------------------------------

SortKey = list[Any]


def sort_value(attribute: str, finding: dict[str, Any]) -> Any:
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


def parse_sort(criteria: Any) -> list[tuple[str, bool]]:
    """SortCriteria -> [(attribute, descending)]. SortOrder defaults to asc (undocumented)."""
    if criteria is None:
        return []
    if not isinstance(criteria, list) or not all(isinstance(c, dict) for c in criteria):
        raise invalid_input("SortCriteria must be a list of objects")
    parsed: list[tuple[str, bool]] = []
    for criterion in criteria:
        name, order = criterion.get("Field"), criterion.get("SortOrder", "asc")
        if not isinstance(name, str) or not (
            name in STRING_ATTRIBUTES or name in DATE_ATTRIBUTES or name in NUMBER_ATTRIBUTES
        ):
            raise invalid_input(f"SortCriteria: unsupported Field {name!r}")
        if order not in ("asc", "desc"):
            raise invalid_input(f"SortCriteria: SortOrder must be asc or desc, not {order!r}")
        parsed.append((name, order == "desc"))
    return parsed


def compare_keys(a: SortKey, b: SortKey, descending: list[bool]) -> int:
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
