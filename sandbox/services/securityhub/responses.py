"""Security Hub CSPM on the wire: restJson1 requests in, response bodies and errors out.

Each operation reads its parameters from the decoded request, checks the request-level limits
(API reference pages of BatchImportFindings, BatchUpdateFindings, GetFindings, ListMembers),
asks the backend (``models.py``) and shapes the response as the botocore model does. Any
``AwsError`` becomes the restJson1 error botocore parses.
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import hashlib
import json
import urllib.parse
from collections.abc import Callable
from typing import Any

from sandbox.errors import AwsError
from sandbox.services.securityhub.asff import (
    MAX_FINDINGS_PER_IMPORT,
    MAX_IDENTIFIERS_PER_UPDATE,
    MAX_REQUEST_BYTES,
    MAX_RESULTS_DEFAULT,
    MAX_RESULTS_LIMIT,
    invalid_input,
    is_int,
    nonempty_str,
    partition,
    validated_changes,
)
from sandbox.services.securityhub.backend import SecurityHubBackend
from sandbox.services.securityhub.filters import (
    SortKey,
    build_filter,
    compare_keys,
    parse_sort,
    sort_value,
)
from sandbox.wire import SandboxRequest, SandboxResponse, aws_error

Operation = Callable[[SecurityHubBackend, SandboxRequest], SandboxResponse]


def describe_hub(backend: SecurityHubBackend, request: SandboxRequest) -> SandboxResponse:
    """API_DescribeHub."""
    return SandboxResponse(
        200,
        {
            "HubArn": f"arn:{partition(request.region)}:securityhub:{request.region}:"
            f"{request.account}:hub/default",
            "SubscribedAt": backend.subscribed_at,
            "AutoEnableControls": True,
            "ControlFindingGenerator": "SECURITY_CONTROL",
        },
    )


def batch_import_findings(backend: SecurityHubBackend, request: SandboxRequest) -> SandboxResponse:
    """API_BatchImportFindings: request limits here, each finding judged by the backend."""
    findings = request.body.get("Findings")
    if not isinstance(findings, list) or not 1 <= len(findings) <= MAX_FINDINGS_PER_IMPORT:
        count = len(findings) if isinstance(findings, list) else "no"
        raise invalid_input(
            f"Findings must contain between 1 and {MAX_FINDINGS_PER_IMPORT} findings "
            f"({count} given)"
        )
    if len(json.dumps(request.body).encode()) > MAX_REQUEST_BYTES:
        # Quotas page: 6 MB per request. The real front door may answer 413 instead.
        raise invalid_input("Request exceeds the 6 MB BatchImportFindings limit")
    for finding in findings:
        # FailedFindings entries need an Id (ImportFindingsError.Id is required), so a
        # finding without one fails the whole call. botocore rejects this client-side anyway.
        if not isinstance(finding, dict) or not nonempty_str(finding.get("Id")):
            raise invalid_input("Every finding must be an object with a non-empty Id")
    failed = [
        {
            "Id": finding_id,
            "ErrorCode": "InvalidInput",
            "ErrorMessage": "Finding does not adhere to Amazon Finding Format. " + problem,
        }
        for finding_id, problem in backend.import_findings(
            request.account, request.region, findings
        )
    ]
    return SandboxResponse(
        200,
        {
            "FailedCount": len(failed),
            "SuccessCount": len(findings) - len(failed),
            "FailedFindings": failed,
        },
    )


def batch_update_findings(backend: SecurityHubBackend, request: SandboxRequest) -> SandboxResponse:
    """API_BatchUpdateFindings: a finding the caller cannot see is reported FindingNotFound
    (AWS documents no separate error code for another account's finding)."""
    identifiers = request.body.get("FindingIdentifiers")
    if not isinstance(identifiers, list) or not 1 <= len(identifiers) <= MAX_IDENTIFIERS_PER_UPDATE:
        raise invalid_input(
            f"FindingIdentifiers must contain between 1 and {MAX_IDENTIFIERS_PER_UPDATE} items"
        )
    for identifier in identifiers:
        if not (
            isinstance(identifier, dict)
            and nonempty_str(identifier.get("Id"))
            and nonempty_str(identifier.get("ProductArn"))
        ):
            raise invalid_input("Each FindingIdentifier needs Id and ProductArn")
    changes = validated_changes(request.body)
    idents = [{"Id": i["Id"], "ProductArn": i["ProductArn"]} for i in identifiers]
    done = backend.update_findings(
        request.account, request.region, [(i["ProductArn"], i["Id"]) for i in idents], changes
    )
    return SandboxResponse(
        200,
        {
            "ProcessedFindings": [i for i, ok in zip(idents, done, strict=True) if ok],
            "UnprocessedFindings": [
                {
                    "FindingIdentifier": i,
                    "ErrorCode": "FindingNotFound",
                    "ErrorMessage": "Finding Not Found",
                }
                for i, ok in zip(idents, done, strict=True)
                if not ok
            ],
        },
    )


def get_findings(backend: SecurityHubBackend, request: SandboxRequest) -> SandboxResponse:
    """API_GetFindings: filter (filters.py), sort, then keyset pagination."""
    body = request.body
    max_results = body.get("MaxResults", MAX_RESULTS_DEFAULT)
    if not is_int(max_results) or not 1 <= max_results <= MAX_RESULTS_LIMIT:
        raise invalid_input(f"MaxResults must be between 1 and {MAX_RESULTS_LIMIT}")
    predicate = build_filter(body.get("Filters"))
    criteria = parse_sort(body.get("SortCriteria"))
    descending = [desc for _, desc in criteria]
    # Binds a token to its query, so reusing it with other filters is an error (stricter).
    query_digest = hashlib.sha256(
        json.dumps(
            [request.account, request.region, body.get("Filters"), body.get("SortCriteria")],
            sort_keys=True,
        ).encode()
    ).hexdigest()[:16]

    def key_of(finding: dict[str, Any]) -> SortKey:
        return [sort_value(name, finding) for name, _ in criteria] + [
            finding["ProductArn"],
            finding["Id"],
        ]

    def compare(a: SortKey, b: SortKey) -> int:
        return compare_keys(a, b, descending)

    matching = [
        (key_of(finding), finding)
        for finding in backend.visible(request.account, request.region)
        if predicate(finding)
    ]
    # Without SortCriteria the order is (ProductArn, Id): AWS documents no default order.

    def compare_items(a: tuple[SortKey, dict[str, Any]], b: tuple[SortKey, dict[str, Any]]) -> int:
        return compare(a[0], b[0])

    matching.sort(key=functools.cmp_to_key(compare_items))

    token = body.get("NextToken")
    if token is not None:
        after = decode_token(token, query_digest, len(criteria) + 2)
        # Keyset pagination: resume after the last key returned, so findings imported or
        # removed between pages never cause repeats or skips of unchanged findings.
        matching = [item for item in matching if compare(item[0], after) > 0]

    page = matching[:max_results]
    response: dict[str, Any] = {"Findings": [copy.deepcopy(f) for _, f in page]}
    if len(matching) > max_results:
        response["NextToken"] = encode_token(page[-1][0], query_digest)
    return SandboxResponse(200, response)


def list_members(backend: SecurityHubBackend, request: SandboxRequest) -> SandboxResponse:
    """API_ListMembers: the administrator's member accounts (an account that administers
    nobody gets an empty list). OnlyAssociated "The default value is TRUE": then only
    members whose status is Enabled; FALSE: "all existing member accounts" (botocore model,
    ListMembersRequest). A query-string boolean other than true/false is a 400, the
    stricter reading. MaxResults 1-50 (botocore model)."""
    params = {**{k: v[0] for k, v in request.query.items() if v}, **request.body}
    only_associated = str(params.get("OnlyAssociated", "true")).lower()
    if only_associated not in ("true", "false"):
        raise invalid_input("OnlyAssociated must be true or false")
    max_results = params.get("MaxResults", 50)
    try:
        max_results = int(max_results)
    except (TypeError, ValueError):
        raise invalid_input("MaxResults must be an integer") from None
    if not 1 <= max_results <= 50:
        raise invalid_input("MaxResults must be between 1 and 50")
    members = [
        (member, status)
        for member, status in backend.members_of(request.account)
        if only_associated == "false" or status == "Enabled"
    ]
    token = params.get("NextToken")
    if token is not None:
        after = decode_token(token, "ListMembers", 1)[0]
        members = [m for m in members if m[0] > after]
    page = members[:max_results]
    body: dict[str, Any] = {
        "Members": [
            {
                "AccountId": member,
                "AdministratorId": request.account,
                "MasterId": request.account,
                "MemberStatus": status,
                "InvitedAt": backend.subscribed_at,
                "UpdatedAt": backend.subscribed_at,
            }
            for member, status in page
        ]
    }
    if len(members) > max_results:
        body["NextToken"] = encode_token([page[-1][0]], "ListMembers")
    return SandboxResponse(200, body)


def get_administrator_account(
    backend: SecurityHubBackend, request: SandboxRequest
) -> SandboxResponse:
    """API_GetAdministratorAccount: the caller's administrator, or no Administrator."""
    administrator = backend.administrator_of(request.account)
    if administrator is None:
        return SandboxResponse(200, {})
    return SandboxResponse(
        200,
        {
            "Administrator": {
                "AccountId": administrator,
                "InvitationId": f"sandbox-{administrator}-{request.account}",
                "InvitedAt": backend.subscribed_at,
                "MemberStatus": backend.member_status(request.account),
            }
        },
    )


def encode_token(key: SortKey, digest: str) -> str:
    raw = json.dumps({"v": 1, "q": digest, "after": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_token(token: Any, digest: str, key_length: int) -> SortKey:
    """Inverse of encode_token; anything malformed or issued for another query is a 400."""
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
        raise invalid_input("The NextToken is invalid or was issued for a different query") from exc
    return after


def list_finding_aggregators(
    backend: SecurityHubBackend, request: SandboxRequest
) -> SandboxResponse:
    """API_ListFindingAggregators: the caller's aggregator ARN, from any Region."""
    aggregator = backend.aggregator_of(request.account)
    found = [] if aggregator is None else [{"FindingAggregatorArn": aggregator["arn"]}]
    return SandboxResponse(200, {"FindingAggregators": found})


def get_finding_aggregator(backend: SecurityHubBackend, request: SandboxRequest) -> SandboxResponse:
    """API_GetFindingAggregator. RegionLinkingMode is always SPECIFIED_REGIONS in the
    sandbox (organization.py); an ARN that is not the caller's aggregator is a 404
    ResourceNotFoundException (botocore model error shape)."""
    arn = request.params.get("FindingAggregatorArn")
    if arn is None:  # unit tests call handle() without the decoded params
        arn = urllib.parse.unquote(request.path.removeprefix("/findingAggregator/get/"))
    aggregator = backend.aggregator_of(request.account)
    if aggregator is None or aggregator["arn"] != arn:
        raise AwsError(404, "ResourceNotFoundException", f"Finding aggregator {arn} not found")
    return SandboxResponse(
        200,
        {
            "FindingAggregatorArn": aggregator["arn"],
            "FindingAggregationRegion": aggregator["region"],
            "RegionLinkingMode": "SPECIFIED_REGIONS",
            "Regions": aggregator["regions"],
        },
    )


OPERATIONS: dict[str, Operation] = {
    "BatchImportFindings": batch_import_findings,
    "BatchUpdateFindings": batch_update_findings,
    "GetFindings": get_findings,
    "DescribeHub": describe_hub,
    "ListMembers": list_members,
    "GetAdministratorAccount": get_administrator_account,
    "ListFindingAggregators": list_finding_aggregators,
    "GetFindingAggregator": get_finding_aggregator,
}


class SecurityHubResponses:
    """The sandbox's Security Hub wire handler over one ``SecurityHubBackend`` (which the
    control API reads and seeds directly)."""

    def __init__(self, backend: SecurityHubBackend) -> None:
        self.backend = backend

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        operation = OPERATIONS.get(request.operation)
        if operation is None:
            return aws_error(
                400,
                "InvalidInputException",
                f"Operation {request.operation} is not implemented by the sandbox Security Hub "
                "emulator (sandbox/services/securityhub/)",
            )
        with self.backend.lock:
            try:
                self.backend.admit(request.account, request.region, request.operation)
                return operation(self.backend, request)
            except AwsError as exc:
                return aws_error(exc.status, exc.code, exc.message)

    def reset(self) -> None:
        self.backend.reset()
