"""EventBridge-shaped EKS events for tests, in the shapes AWS documents.

CloudTrail events follow "AWS service events delivered via AWS CloudTrail" (EventBridge
user guide) and the CloudTrail userIdentity element; EKS add-on events follow the EKS
events reference, whose detail fields are undocumented: only the envelope is filled in.
TagResource/UntagResource carry `resourceArn` URL-encoded, as CloudTrail records a
parameter that travels in the URL path (a real EKS capture, AssociateAccessPolicy's
`principalArn`: DataDog/stratus-red-team,
docs/attack-techniques/EKS/eks.lateral-movement.create-access-entry.md).
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import quote

from tests.builders import ACCOUNT

SANDBOX_CALLER = f"arn:aws:iam::{ACCOUNT}:user/sandbox"  # sandbox STS GetCallerIdentity
PERSON = f"arn:aws:iam::{ACCOUNT}:user/alice"


def cloudtrail_event(
    name: str,
    region: str,
    request_parameters: dict[str, Any] | None,
    *,
    account: str = ACCOUNT,
    caller: str = PERSON,
    issuer: str | None = None,
    error_code: str | None = None,
) -> dict[str, Any]:
    """`caller` is userIdentity.arn; `issuer` adds a role session's sessionIssuer."""
    identity: dict[str, Any] = {"type": "IAMUser", "arn": caller, "accountId": account}
    if issuer is not None:
        identity = {
            "type": "AssumedRole",
            "arn": caller,
            "accountId": account,
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": issuer}},
        }
    detail: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": "2026-11-27T08:00:00Z",
        "eventSource": "eks.amazonaws.com",
        "eventName": name,
        "awsRegion": region,
        "requestParameters": request_parameters,
        "responseElements": None,
        "eventType": "AwsApiCall",
    }
    if error_code is not None:
        detail["errorCode"] = error_code
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.eks",
        "account": account,
        "time": "2026-11-27T08:00:00Z",
        "region": region,
        "resources": [],
        "detail": detail,
    }


def cluster_arn(region: str, cluster: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:eks:{region}:{account}:cluster/{cluster}"


def in_path(value: str) -> str:
    """A path parameter as CloudTrail records it: percent-encoded, "/" included."""
    return quote(value, safe="")


def addon_arn(region: str, cluster: str, addon: str = "vpc-cni", account: str = ACCOUNT) -> str:
    return f"arn:aws:eks:{region}:{account}:addon/{cluster}/{addon}/0ec71efc-98dd-3203-60b0"


def addon_event(
    detail_type: str,
    region: str,
    cluster: str,
    *,
    addon: str = "vpc-cni",
    account: str = ACCOUNT,
) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "aws.eks",
        "account": account,
        "time": "2026-11-27T08:00:00Z",
        "region": region,
        "resources": [addon_arn(region, cluster, addon, account)],
        "detail": {},
    }


def change_event(kind: str, region: str, cluster: str, **extra: Any) -> dict[str, Any]:
    """One event of each kind the auditor accepts, naming `cluster`."""
    if kind in {"CreateCluster", "DeleteCluster"}:
        return cloudtrail_event(kind, region, {"name": cluster}, **extra)
    if kind in {"CreateAddon", "UpdateAddon", "DeleteAddon"}:
        return cloudtrail_event(
            kind, region, {"clusterName": cluster, "addonName": "vpc-cni"}, **extra
        )
    if kind == "TagResource":
        params = {"resourceArn": in_path(cluster_arn(region, cluster)), "tags": {"team": "x"}}
        return cloudtrail_event(kind, region, params, **extra)
    if kind == "UntagResource":
        params = {"resourceArn": in_path(cluster_arn(region, cluster)), "tagKeys": ["team"]}
        return cloudtrail_event(kind, region, params, **extra)
    if kind == "UpdateClusterConfig":
        # The three EKS Auto Mode capabilities of UpdateClusterConfig (botocore eks model:
        # computeConfig.enabled "enable or disable the compute capability", storageConfig,
        # kubernetesNetworkConfig.elasticLoadBalancing); the auditor reads computeConfig.
        params = {
            "name": cluster,
            "computeConfig": {"enabled": True, "nodePools": ["general-purpose", "system"]},
            "kubernetesNetworkConfig": {"elasticLoadBalancing": {"enabled": True}},
            "storageConfig": {"blockStorage": {"enabled": True}},
        }
        return cloudtrail_event(kind, region, params, **extra)
    return addon_event(kind, region, cluster, **extra)


CLOUDTRAIL_KINDS = (
    "CreateCluster",
    "DeleteCluster",
    "CreateAddon",
    "UpdateAddon",
    "DeleteAddon",
    "TagResource",
    "UntagResource",
    "UpdateClusterConfig",
)
ADDON_KINDS = (
    "EKS Addon Creation Failed",
    "EKS Addon Creation Succeeded",
    "EKS Addon Update Failed",
    "EKS Addon Update Succeeded",
    "EKS Addon Deletion Failed",
    "EKS Addon Deletion Succeeded",
    "EKS Addon Health Degraded",
    "EKS Addon Health Restored",
)


def sqs_batch(events: list[Any], region: str = "us-east-1") -> dict[str, Any]:
    """An SQS event source batch whose record bodies are the given events (or raw text)."""
    records = []
    for index, event in enumerate(events):
        body = event if isinstance(event, str) else json.dumps(event)
        records.append(
            {
                "messageId": f"m-{index:04d}-{uuid.uuid4().hex[:8]}",
                "receiptHandle": f"handle-{index}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1764230400000",
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": "1764230400001",
                },
                "messageAttributes": {},
                "md5OfBody": "0" * 32,
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{region}:{ACCOUNT}:eks-netpol-auditor-events",
                "awsRegion": region,
            }
        )
    return {"Records": records}
