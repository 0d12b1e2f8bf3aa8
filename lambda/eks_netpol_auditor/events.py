"""EKS change events -> the one cluster each names: the pydantic (Powertools parser)
half; what is done with a parsed event lives in `event_targets`. No boto3, no I/O.

Two kinds of event are accepted, both as EventBridge delivers them:

* EKS API calls recorded by CloudTrail: `detail-type` "AWS API Call via CloudTrail",
  `source` aws.eks, `detail.eventSource` eks.amazonaws.com ("AWS service events delivered
  via AWS CloudTrail", https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html;
  "Amazon Elastic Kubernetes Service events",
  https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-eks.html). The cluster comes
  from `requestParameters` (`name` or `clusterName`) or, for TagResource/UntagResource,
  from `resourceArn`; the caller from `userIdentity` (CloudTrail userIdentity element,
  https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html).
  CloudTrail records a parameter that travels in the URL path URL-encoded, as sent: an
  ARN arrives as `arn%3Aaws%3Aeks%3A...%3Acluster%2Fname` (no AWS document says so; a
  real EKS capture shows it for AssociateAccessPolicy's `principalArn`, DataDog/
  stratus-red-team `docs/attack-techniques/EKS/eks.lateral-movement.create-access-entry.md`).
  TagResource/UntagResource carry `resourceArn` in the path (botocore eks model,
  `/tags/{resourceArn}`), so both the encoded and the plain form are accepted: decoded
  once, then validated as strictly as before.
* UpdateClusterConfig only when its `requestParameters` carry `computeConfig.enabled`:
  that switches EKS Auto Mode on or off (EKS API reference, UpdateClusterConfig,
  `computeConfig`), which changes the verdict. Any other cluster setting is a `Skip`; the
  event rule already narrows on that field (`infra.event_path`).
* EKS's own add-on events, same EKS events reference: "EKS Addon Creation Failed",
  "... Creation Succeeded", "... Update Failed", "... Update Succeeded", "... Deletion
  Failed", "... Deletion Succeeded", "EKS Addon Health Degraded", "... Health Restored".
  The reference documents only these `detail-type` strings, not their `detail` fields, so
  `detail` is never read: the add-on comes from the envelope's `resources` ARNs ("AWS
  service event metadata": ARNs of the resources involved). Nothing documents that
  `resources` is filled in either, so an event whose `resources` names no single EKS
  cluster of its own account and region is a `Skip` with the reason, never guessed and
  never poison: CloudTrail's Create/Update/DeleteAddon events report the same changes,
  and the scheduled run audits every cluster anyway.

ARN formats (Service Authorization Reference, "Actions, resources, and condition keys for
Amazon EKS"): `cluster/<name>`, `addon/<cluster>/<addon>/<uuid>`,
`nodegroup/<cluster>/<nodegroup>/<uuid>`, ... The auditor reads only cluster tags and the
vpc-cni add-on, so a tag change on an add-on or node group, or any change to another
add-on, cannot change a verdict: such an event is a `Skip` (valid, nothing to audit).

Everything else is an `EventRejected` with one line saying why: it never becomes a wider
audit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, Field, ValidationError

from .event_targets import ClusterEvent, Skip, principal_of
from .model import VPC_CNI_ADDON

CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail"
EKS_SOURCE = "aws.eks"
EKS_EVENT_SOURCE = "eks.amazonaws.com"
CLOUDTRAIL_EVENTS = frozenset(
    {
        "CreateCluster",
        "DeleteCluster",
        "CreateAddon",
        "UpdateAddon",
        "DeleteAddon",
        "TagResource",
        "UntagResource",
    }
)
# Accepted only with requestParameters.computeConfig.enabled (EKS Auto Mode on or off);
# the event rule narrows on the same path (`infra.event_path`).
CLUSTER_CONFIG_CALL = "UpdateClusterConfig"
AUTO_MODE_PATH = ("computeConfig", "enabled")
ADDON_CALLS = frozenset({"CreateAddon", "UpdateAddon", "DeleteAddon"})
TAG_CALLS = frozenset({"TagResource", "UntagResource"})
ADDON_EVENTS = frozenset(
    {
        "EKS Addon Creation Failed",
        "EKS Addon Creation Succeeded",
        "EKS Addon Update Failed",
        "EKS Addon Update Succeeded",
        "EKS Addon Deletion Failed",
        "EKS Addon Deletion Succeeded",
        "EKS Addon Health Degraded",
        "EKS Addon Health Restored",
    }
)
# EKS API reference, CreateCluster `name`: 1-100 characters, ^[0-9A-Za-z][A-Za-z0-9\-_]*
CLUSTER_NAME = re.compile(r"[0-9A-Za-z][A-Za-z0-9\-_]{0,99}")
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
ACCOUNT = re.compile(r"\d{12}")
EKS_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):eks:(?P<region>[^:]+):(?P<account>\d{12}):"
    r"(?P<kind>[a-z-]+)/(?P<path>.+)"
)


class EventRejected(ValueError):
    """The payload is not an event this auditor accepts; the message is one line."""


class _Envelope(EventBridgeModel):
    """Powertools' EventBridge envelope, narrowed: account and region must look like AWS's
    and `detail` must be an object."""

    account: str = Field(pattern=f"^{ACCOUNT.pattern}$")
    region: str = Field(pattern=f"^{REGION.pattern}$")
    detail: dict[str, Any]


class _SessionIssuer(BaseModel):
    arn: str | None = None


class _SessionContext(BaseModel):
    sessionIssuer: _SessionIssuer | None = None


class _UserIdentity(BaseModel):
    type: str | None = None
    arn: str | None = None
    sessionContext: _SessionContext | None = None


class _CloudTrailDetail(BaseModel):
    eventSource: str  # CloudTrail field names, as delivered
    eventName: str
    awsRegion: str | None = None
    errorCode: str | None = None
    userIdentity: _UserIdentity | None = None
    requestParameters: dict[str, Any] | None = None


def is_eks_event(event: Mapping[str, Any]) -> bool:
    """True for anything that claims to be an EKS event (then it is parsed, or rejected)."""
    return event.get("source") == EKS_SOURCE


def parse_event(raw: object) -> ClusterEvent | Skip:
    """The cluster an EKS event names, a Skip, or EventRejected with one clear reason."""
    if not isinstance(raw, dict):
        raise EventRejected(f"event must be a JSON object, got {type(raw).__name__}")
    try:
        envelope = _Envelope.model_validate(raw)
    except ValidationError as error:
        raise EventRejected(f"malformed EventBridge event: {first_problem(error)}") from None
    if envelope.source != EKS_SOURCE:
        raise EventRejected(f"unsupported event source {envelope.source!r} (expected aws.eks)")
    if envelope.detail_type == CLOUDTRAIL_DETAIL_TYPE:
        return _from_cloudtrail(envelope)
    if envelope.detail_type in ADDON_EVENTS:
        return _from_addon_event(envelope)
    raise EventRejected(f"unsupported EKS event detail-type {envelope.detail_type!r}")


def _from_cloudtrail(envelope: _Envelope) -> ClusterEvent | Skip:
    try:
        detail = _CloudTrailDetail.model_validate(envelope.detail)
    except ValidationError as error:
        raise EventRejected(f"malformed CloudTrail detail: {first_problem(error)}") from None
    if detail.eventSource != EKS_EVENT_SOURCE:
        raise EventRejected(f"unsupported eventSource {detail.eventSource!r}")
    if detail.eventName not in CLOUDTRAIL_EVENTS and detail.eventName != CLUSTER_CONFIG_CALL:
        raise EventRejected(f"unsupported EKS API call {detail.eventName!r}")
    if detail.awsRegion is not None and detail.awsRegion != envelope.region:
        raise EventRejected(
            f"event region {envelope.region} differs from detail.awsRegion {detail.awsRegion}"
        )
    if detail.errorCode is not None:
        return Skip(f"{detail.eventName} failed ({detail.errorCode}): nothing changed")
    params = detail.requestParameters or {}
    if detail.eventName == CLUSTER_CONFIG_CALL and not _changes_auto_mode(params):
        return Skip(
            f"{CLUSTER_CONFIG_CALL} without computeConfig.enabled: EKS Auto Mode unchanged, "
            "no verdict depends on the other cluster settings"
        )
    if detail.eventName in TAG_CALLS:
        cluster = _tagged_cluster(envelope, params.get("resourceArn"))
        if isinstance(cluster, Skip):
            return cluster
    else:
        cluster = _cluster_param(params)
        if detail.eventName in ADDON_CALLS:
            addon = params.get("addonName")
            if not isinstance(addon, str) or not addon:
                raise EventRejected(f"{detail.eventName}: requestParameters.addonName missing")
            if addon != VPC_CNI_ADDON:
                return Skip(f"{detail.eventName} of add-on {addon!r}, not {VPC_CNI_ADDON}")
    token = params.get("clientRequestToken")
    return ClusterEvent(
        event_id=envelope.id,
        name=detail.eventName,
        account=envelope.account,
        region=envelope.region,
        cluster=cluster,
        principal=_event_principal(detail.userIdentity),
        client_token=token if isinstance(token, str) else None,
    )


def _changes_auto_mode(params: Mapping[str, Any]) -> bool:
    compute = params.get(AUTO_MODE_PATH[0])
    return isinstance(compute, Mapping) and AUTO_MODE_PATH[1] in compute


def _cluster_param(params: Mapping[str, Any]) -> str:
    for key in ("name", "clusterName"):
        value = params.get(key)
        if value is not None:
            return _valid_cluster(value, f"requestParameters.{key}")
    raise EventRejected("requestParameters names no cluster (name or clusterName)")


def _valid_cluster(value: object, where: str) -> str:
    if not isinstance(value, str) or not CLUSTER_NAME.fullmatch(value):
        raise EventRejected(f"{where}: not an EKS cluster name: {str(value)[:120]!r}")
    return value


def _arn_parts(envelope: _Envelope, arn: str, where: str) -> tuple[str, list[str]]:
    """(resource kind, path segments) of an EKS ARN of this event's account and region."""
    match = EKS_ARN.fullmatch(arn)
    if match is None:
        raise EventRejected(f"{where}: not an EKS ARN: {arn[:200]!r}")
    if match["region"] != envelope.region or match["account"] != envelope.account:
        raise EventRejected(
            f"{where}: {arn} is not in the event's account {envelope.account} and "
            f"region {envelope.region}"
        )
    return match["kind"], match["path"].split("/")


def _tagged_cluster(envelope: _Envelope, arn: object) -> str | Skip:
    if not isinstance(arn, str):
        raise EventRejected("requestParameters.resourceArn missing")
    # URL-encoded as it travelled in the path (module docstring); a plain ARN has no "%"
    # (cluster names cannot contain one), so decoding it changes nothing.
    arn = unquote(arn)
    kind, path = _arn_parts(envelope, arn, "requestParameters.resourceArn")
    if kind != "cluster":
        # Only cluster tags (exempt, auto-remediate) are read; other tags change no verdict.
        return Skip(f"tags changed on an EKS {kind}, not a cluster: no verdict depends on them")
    if len(path) != 1:
        raise EventRejected(f"requestParameters.resourceArn: malformed cluster ARN {arn!r}")
    return _valid_cluster(path[0], "requestParameters.resourceArn")


def _from_addon_event(envelope: _Envelope) -> ClusterEvent | Skip:
    """The cluster the add-on event's `resources` name, or a Skip saying why it cannot be
    placed (module docstring: `resources` is not documented for these events)."""
    named: set[tuple[str, str | None]] = set()  # (cluster, add-on or None for a cluster ARN)
    for arn in envelope.resources:
        match = EKS_ARN.fullmatch(arn)
        if match is None or (match["region"], match["account"]) != (
            envelope.region,
            envelope.account,
        ):
            continue
        path = match["path"].split("/")
        if not CLUSTER_NAME.fullmatch(path[0]):
            continue
        if match["kind"] == "addon" and len(path) >= 2:
            named.add((path[0], path[1]))
        elif match["kind"] == "cluster" and len(path) == 1:
            named.add((path[0], None))
    clusters = {cluster for cluster, _ in named}
    if len(clusters) != 1:
        found = f"names {len(clusters)} clusters {sorted(clusters)}" if clusters else "names none"
        return Skip(
            f"{envelope.detail_type}: cannot tell which cluster it is about (its resources "
            f"{found} of account {envelope.account} in {envelope.region}, and its detail "
            "fields are not documented); CloudTrail's add-on call events and the scheduled "
            "run cover the change"
        )
    addons = {addon for _, addon in named if addon is not None}
    if addons and VPC_CNI_ADDON not in addons:
        return Skip(f"{envelope.detail_type} for add-on {sorted(addons)[0]!r}, not vpc-cni")
    return ClusterEvent(
        event_id=envelope.id,
        name=envelope.detail_type,
        account=envelope.account,
        region=envelope.region,
        cluster=clusters.pop(),
    )


# ---------------------------------------------------------------------- who made the call


def _event_principal(identity: _UserIdentity | None) -> str | None:
    if identity is None:
        return None
    context = identity.sessionContext
    issuer = context.sessionIssuer if context is not None else None
    if issuer is not None and issuer.arn:
        return principal_of(issuer.arn)
    return principal_of(identity.arn) if identity.arn else None


def first_problem(error: ValidationError) -> str:
    """The first pydantic problem as `field.path: message`, one line."""
    problems = error.errors()
    if not problems:
        return str(error).splitlines()[0]
    first = problems[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or "event"
    return f"{where}: {first.get('msg', 'invalid')}"
