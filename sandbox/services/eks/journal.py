"""CloudTrail journal: every mutating EKS call that reaches the sandbox, recorded as the
event EventBridge delivers for it ("AWS API Call via CloudTrail").

Why: event-driven audits (issue 12) react to these events; tests and the bench take them
from here (``GET /_sandbox/events``) and hand them to the handler, directly or wrapped in
SQS records, exactly as EventBridge would deliver them.

Shapes, with their sources:

* envelope: EventBridge Events Reference, "Event structure"
  (https://docs.aws.amazon.com/eventbridge/latest/ref/welcome.html): ``version`` "0",
  ``id``, ``detail-type``, ``source``, ``account``, ``time``, ``region``, ``resources``,
  ``detail``; for CloudTrail events ``detail-type`` is "AWS API Call via CloudTrail" and
  ``detail`` is the CloudTrail record (EventBridge user guide, "AWS service events
  delivered via AWS CloudTrail", eb-service-event-cloudtrail.html; EKS: ``source``
  aws.eks, ``eventSource`` eks.amazonaws.com). ``resources`` is empty for these events.
* record: CloudTrail user guide, "CloudTrail record contents for management, data, and
  network activity events" (cloudtrail-event-reference-record-contents.html): current
  ``eventVersion`` 1.11; ``errorCode``/``errorMessage`` only on failed calls, whose
  ``responseElements`` is null; ``eventType`` AwsApiCall; ``readOnly``;
  ``managementEvent``; ``eventCategory`` Management; ``recipientAccountId``.
* ``userIdentity``: "CloudTrail userIdentity element"
  (cloudtrail-event-reference-user-identity.html), see ``accounts.Identity``.
* ``requestParameters`` of EKS calls: the EKS user guide's only example ("Analyze AWS
  CloudTrail log file entries", understanding-service-name-entries.html) is CreateCluster,
  whose body member ``name`` appears as ``clusterName``. AWS shows no other EKS example.
  A real capture of AssociateAccessPolicy (DataDog/stratus-red-team,
  ``docs/attack-techniques/EKS/eks.lateral-movement.create-access-entry.md``) shows the
  path parameters as they travel in the URL: under their URI label (``name``, not the
  botocore member ``clusterName``) and URL-encoded (``principalArn``
  ``arn%3Aaws%3Aiam%3A%3A...%3Arole%2F...``), body members as sent. The sandbox does the
  same, from the botocore model's ``location: uri`` members: add-on calls carry ``name``,
  TagResource/UntagResource an encoded ``resourceArn`` (+ ``tags`` / ``tagKeys``). A
  consumer must accept both ``name`` and ``clusterName`` (issue 12) and both ARN forms
  (issue 17). ``responseElements`` is the API response (null when the response is
  empty), as in that example.

Calls into a region the account has not enabled fail authentication and are not recorded;
every other mutating call is, failed ones included (CloudTrail records failed calls with
their error). Read-only calls (Describe*, List*) are not recorded: EventBridge delivers
them only to rules that opt in to read-only management events.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from sandbox.accounts import Identity
from sandbox.routing import router_for
from sandbox.wire import SandboxRequest

EVENT_VERSION = "1.11"
_READ_ONLY_PREFIXES = ("Describe", "List", "Get")
# The one documented renaming (CreateCluster example, module docstring).
_RENAMED = {("eks", "CreateCluster"): {"name": "clusterName"}}


def is_mutating(operation: str) -> bool:
    return not operation.startswith(_READ_ONLY_PREFIXES)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def request_parameters(service: str, request: SandboxRequest) -> dict[str, Any]:
    """The call's parameters as CloudTrail records them (module docstring): path
    parameters under their URI label and percent-encoded as botocore sends them
    (``quote(value, safe="")``: "/" and ":" included), the rest by member name."""
    router = router_for(service)
    in_path = router.uri_members(request.operation) if router is not None else {}
    renames = _RENAMED.get((service, request.operation), {})
    recorded: dict[str, Any] = {}
    for key, value in request.params.items():
        if key in in_path:
            recorded[in_path[key]] = quote(str(value), safe="")
        else:
            recorded[renames.get(key, key)] = value
    return recorded


def build_event(
    service: str,
    request: SandboxRequest,
    caller: Identity,
    outcome: tuple[int, dict[str, Any]],
    request_id: str,
    user_agent: str,
) -> dict[str, Any]:
    """The EventBridge event for one call: ``outcome`` is (HTTP status, response body)."""
    status, body = outcome
    time = _now()
    detail: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": caller.user_identity(time),
        "eventTime": time,
        "eventSource": f"{service}.amazonaws.com",
        "eventName": request.operation,
        "awsRegion": request.region,
        "sourceIPAddress": "127.0.0.1",
        "userAgent": user_agent,
        "requestParameters": request_parameters(service, request) or None,
        "responseElements": (body or None) if status < 400 else None,
        "requestID": request_id,
        "eventID": str(uuid.uuid4()),
        "readOnly": not is_mutating(request.operation),
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": caller.account,
        "eventCategory": "Management",
    }
    if status >= 400:
        detail["errorCode"] = str(body.get("__type", "")) or str(status)
        detail["errorMessage"] = str(body.get("message", ""))
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "AWS API Call via CloudTrail",
        "source": f"aws.{service}",
        "account": caller.account,
        "time": time,
        "region": request.region,
        "resources": [],
        "detail": detail,
    }


class CloudTrailJournal:
    """Events in the order the calls completed; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[dict[str, Any]] = []

    def reset(self) -> None:
        with self._lock:
            self._events = []

    def record(self, event: dict[str, Any]) -> None:
        with self._lock:
            self._events.append(event)

    def events(
        self,
        account: str | None = None,
        region: str | None = None,
        event_name: str | None = None,
    ) -> list[dict[str, Any]]:
        with self._lock:
            return [
                e
                for e in self._events
                if (account is None or e["account"] == account)
                and (region is None or e["region"] == region)
                and (event_name is None or e["detail"]["eventName"] == event_name)
            ]
