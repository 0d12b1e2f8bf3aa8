"""Guarded remediation, the pure half: which clusters may be changed, and exactly how.

A bad `vpc-cni` update breaks pod networking cluster-wide, so every rule here fails
closed: when anything is unknown, unreadable or unexpected the cluster is skipped and the
guard that stopped it is named. Nothing here performs I/O; `apply.py` is the shell that
reads schemas, sends the requests and records the outcome. The configuration itself is
read by `addon_config` (its exact reading); this module keeps the guards, the schema
check and the selection.

The change itself follows the EKS API reference:

* UpdateAddon (https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateAddon.html):
  `configurationValues` *replaces* the add-on's whole configuration, so we send the user's
  document plus `enableNetworkPolicy: "true"`; `resolveConflicts=PRESERVE` keeps changes
  made in-cluster; `clientRequestToken` makes a retried call return the same update
  instead of starting another one. `addonVersion` and `serviceAccountRoleArn` are never
  sent: remediation must not change anything but the one setting.
* DescribeAddonConfiguration
  (https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeAddonConfiguration.html):
  `configurationSchema` is the JSON schema the installed version validates against; its
  root object has `additionalProperties: false`, so a key it does not list would make
  UpdateAddon fail with InvalidParameterException.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from ..addon_config import ENABLE_KEY, ConfigurationError, enable_change
from ..model import (
    AUTO_REMEDIATE_TAG,
    EXEMPT_TAG,
    VPC_CNI_ADDON,
    Action,
    ClusterFacts,
    ClusterResult,
    ComplianceStatus,
    Guard,
    Outcome,
    Reason,
    UpdateRequest,
    Verdict,
)
from ..versions import addon_supports_network_policy, kubernetes_supports_network_policy

# Prefix and version of the token scheme, so a future scheme can never collide with this one.
TOKEN_PREFIX = "enp1-"  # noqa: S105 - an idempotency token prefix, not a secret
TOKEN_DIGEST_CHARS = 40


class DeferReason(StrEnum):
    CAP = "cap"
    TIME_BUDGET = "time_budget"


@dataclass(frozen=True)
class Candidate:
    """A cluster that passed every guard that needs no AWS call; the schema check is next."""

    region: str
    cluster: str
    addon_version: str
    merged: Mapping[str, Any]
    request: UpdateRequest

    @property
    def key(self) -> tuple[str, str]:
        return (self.region, self.cluster)


def skip(guard: Guard, reason: str) -> Outcome:
    return Outcome(Action.SKIPPED, reason, guard=guard)


# ---------------------------------------------------------------------------- tags


def _tag_value(tags: Mapping[str, str], key: str) -> str | None:
    """Tag keys are case-sensitive in AWS; a differently-cased key is not ours to interpret."""
    value = tags.get(key)
    return None if value is None else value.strip().lower()


def _tag_guard(facts: ClusterFacts, require_tag: bool) -> Outcome | None:
    """Exempt wins; "false" (any case) opts out; anything but true/false fails closed."""
    if EXEMPT_TAG in facts.tags:
        return skip(
            Guard.EXEMPT_TAG,
            f"tagged {EXEMPT_TAG}={facts.tags[EXEMPT_TAG]!r}: the owner asked not to be touched",
        )
    value = _tag_value(facts.tags, AUTO_REMEDIATE_TAG)
    if value == "false":
        return skip(Guard.OPT_OUT_TAG, f"tagged {AUTO_REMEDIATE_TAG}=false (opted out)")
    if value is not None and value != "true":
        return skip(
            Guard.TAG_VALUE,
            f"tag {AUTO_REMEDIATE_TAG}={facts.tags[AUTO_REMEDIATE_TAG]!r} is neither true nor "
            "false; not guessing what the owner meant",
        )
    if require_tag and value != "true":
        return skip(
            Guard.REQUIRE_TAG,
            f"REMEDIATION_REQUIRE_TAG is on and the cluster is not tagged "
            f"{AUTO_REMEDIATE_TAG}=true",
        )
    return None


# ---------------------------------------------------------------------------- token


def client_request_token(
    cluster_arn: str, addon_version: str, payload: str, modified_at: datetime | None
) -> str:
    """A deterministic UpdateAddon clientRequestToken (45 characters, [a-z0-9-]).

    Same cluster, add-on version, merged document and add-on `modifiedAt` -> same token,
    so a call retried by botocore, a re-invoked Lambda or an overlapping run (each read
    the same DescribeAddon) gets the update already started instead of a second one
    (UpdateAddon, clientRequestToken). Any change to the inputs gives a new token.

    `modifiedAt` (DescribeAddon; "the last modification to the object") is in the seed
    because EKS answers a reused token with the earlier update for a period no document
    gives: without it, a cluster reverted to exactly its pre-remediation configuration
    would get back the old (finished) update and could never be remediated again. Any
    change to the add-on, the revert included, moves `modifiedAt`.

    Length: EKS rejects a token outside 33-126 characters ("The client request token
    parameter must be between 33 and 126 characters", InvalidParameterException, as
    reported in ansible-collections/community.aws#817 and #844), although neither the
    botocore model nor the API reference (Type: String) states a limit. 45 is inside.
    """
    document_hash = hashlib.sha256(payload.encode()).hexdigest()
    changed = "" if modified_at is None else modified_at.isoformat()
    seed = "\n".join((cluster_arn, addon_version, document_hash, changed))
    return TOKEN_PREFIX + hashlib.sha256(seed.encode()).hexdigest()[:TOKEN_DIGEST_CHARS]


# ---------------------------------------------------------------------------- guards


def _arn_matches(facts: ClusterFacts, account: str) -> bool:
    """The ARN EKS returned must name this account, region and cluster (never another's)."""
    parts = facts.arn.split(":", 5)
    if len(parts) != 6:
        return False
    _, _, service, region, arn_account, resource = parts
    return (
        service == "eks"
        and region == facts.region
        and arn_account == account
        and resource == f"cluster/{facts.name}"
    )


def assess(
    facts: ClusterFacts, verdict: Verdict, account: str, *, require_tag: bool
) -> Outcome | Candidate | None:
    """Decide one cluster without any AWS call.

    None: nothing to remediate (PASSED). Outcome: skipped (or in_progress) with the guard.
    Candidate: every guard that needs no AWS call holds; the schema check comes next.
    The order puts what must never be touched first and facts later, so the guard named
    is the most useful one to the owner (an exempt cluster says "exempt", not "version").
    """
    if verdict.status is ComplianceStatus.PASSED:
        return None
    if facts.account != account or not _arn_matches(facts, account):
        return skip(Guard.ACCOUNT, f"cluster {facts.arn} is not in the audited account {account}")
    if facts.error is not None or verdict.status is ComplianceStatus.NOT_AVAILABLE:
        return skip(Guard.NOT_EVALUATED, "the cluster could not be fully read this run")
    if facts.status != "ACTIVE":
        return skip(Guard.CLUSTER_STATUS, f"cluster is {facts.status}, not ACTIVE")
    tagged = _tag_guard(facts, require_tag)
    if tagged is not None:
        return tagged
    if facts.auto_mode:
        return skip(
            Guard.AUTO_MODE,
            "EKS Auto Mode has no vpc-cni add-on; network policy is configured in-cluster",
        )
    addon = facts.addon
    if addon is None:
        return skip(Guard.ADDON_MISSING, f"no managed {VPC_CNI_ADDON} add-on; never created")
    if not kubernetes_supports_network_policy(facts.kubernetes_version, facts.platform_version):
        return skip(
            Guard.KUBERNETES_VERSION,
            f"Kubernetes {facts.kubernetes_version} ({facts.platform_version}) is below 1.25 "
            "or its minimum platform version",
        )
    if not addon_supports_network_policy(addon.version):
        return skip(
            Guard.ADDON_VERSION,
            f"{VPC_CNI_ADDON} {addon.version} is older than v1.14.0-eksbuild.3; "
            "remediation never changes the add-on version",
        )
    if addon.status == "UPDATING":
        return Outcome(
            Action.IN_PROGRESS,
            "an add-on update is already running; left alone, retry next run",
        )
    if addon.status != "ACTIVE":
        return skip(Guard.ADDON_STATUS, f"add-on is {addon.status}, not ACTIVE")
    if (
        verdict.status is not ComplianceStatus.FAILED
        or verdict.reason is not Reason.NETWORK_POLICY_DISABLED
    ):
        return skip(
            Guard.VERDICT,
            f"verdict {verdict.status.value}/{verdict.reason.value} is not "
            "FAILED/NETWORK_POLICY_DISABLED",
        )
    try:
        change = enable_change(addon.configuration_values)  # the exact reading
    except ConfigurationError as error:
        return skip(Guard.CONFIGURATION, f"{error}; not rewriting a configuration in doubt")
    token = client_request_token(facts.arn, addon.version, change.payload, addon.modified_at)
    return Candidate(
        region=facts.region,
        cluster=facts.name,
        addon_version=addon.version,
        merged=change.merged,
        request=UpdateRequest(facts.name, change.payload, token),
    )


# ---------------------------------------------------------------------------- schema


def _resolve_pointer(document: Mapping[str, Any], ref: str) -> Any:
    """A local JSON pointer ("#/definitions/VpcCni"), RFC 6901 escapes included."""
    if not ref.startswith("#/"):
        raise ValueError(f"unsupported $ref {ref!r}")
    node: Any = document
    for raw in ref[2:].split("/"):
        node = node[raw.replace("~1", "/").replace("~0", "~")]
    return node


def _resolve(document: Mapping[str, Any], node: Any) -> Mapping[str, Any]:
    for _ in range(8):  # a bounded walk: a $ref cycle fails closed
        if not isinstance(node, Mapping):
            raise ValueError("schema node is not an object")
        ref = node.get("$ref")
        if ref is None:
            return node
        if not isinstance(ref, str):
            raise ValueError("$ref is not a string")
        node = _resolve_pointer(document, ref)
    raise ValueError("$ref chain too long")


def check_schema(schema_text: str | None, merged: Mapping[str, Any]) -> Outcome | None:
    """None when the add-on version's schema accepts the merged document's top level.

    The vpc-cni schema's root is `{"$ref": "#/definitions/VpcCni"}` with
    `additionalProperties: false` (DescribeAddonConfiguration); `enableNetworkPolicy` must
    be a listed string property. Anything unexpected in the schema is a reason not to send.
    """
    if schema_text is None:
        return skip(Guard.SCHEMA_UNAVAILABLE, "the add-on configuration schema was not returned")
    try:
        document = json.loads(schema_text)
        if not isinstance(document, Mapping):
            raise ValueError("schema is not an object")
        root = _resolve(document, document)
        properties = root.get("properties")
        if not isinstance(properties, Mapping):
            raise ValueError("schema lists no top-level properties")
        enable = _resolve(document, properties[ENABLE_KEY]) if ENABLE_KEY in properties else None
    except (ValueError, KeyError, TypeError, IndexError) as error:
        return skip(
            Guard.SCHEMA_UNAVAILABLE, f"the add-on configuration schema is unreadable: {error}"
        )
    if enable is None:
        return skip(Guard.SCHEMA_LACKS_KEY, f"this add-on version's schema has no {ENABLE_KEY}")
    kind = enable.get("type", "string")
    if kind != "string" and not (isinstance(kind, list) and "string" in kind):
        return skip(
            Guard.SCHEMA_LACKS_KEY,
            f"this add-on version's schema types {ENABLE_KEY} as {kind!r}, not a string",
        )
    if root.get("additionalProperties") is False:
        unknown = [key for key in merged if key not in properties]
        if unknown:
            return skip(
                Guard.SCHEMA_REJECTS_CONFIG,
                f"the schema does not allow the existing key(s) {', '.join(map(repr, unknown))}",
            )
    return None


# ---------------------------------------------------------------------------- selection


def ordered(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Deterministic order (region, cluster name): the same clusters win the cap every run."""
    return sorted(candidates, key=lambda c: c.key)


def select(candidates: Sequence[Candidate], cap: int) -> tuple[list[Candidate], list[Candidate]]:
    """(to change this run, deferred) under the per-run cap, in the deterministic order."""
    ranked = ordered(candidates)
    return ranked[: max(cap, 0)], ranked[max(cap, 0) :]


def deferred(reason: DeferReason, cap: int) -> Outcome:
    if reason is DeferReason.CAP:
        text = f"per-run cap of {cap} add-on update(s) reached; next run"
    else:
        text = "the run's time budget ran out before this update could start; next run"
    return Outcome(Action.DEFERRED, text, details={"deferred_by": reason.value})


def plan(
    results: Sequence[ClusterResult], account: str, *, require_tag: bool
) -> tuple[dict[tuple[str, str], Outcome], list[Candidate]]:
    """Outcomes decided without AWS, keyed by (region, cluster), plus ordered candidates."""
    decided: dict[tuple[str, str], Outcome] = {}
    candidates: list[Candidate] = []
    for result in results:
        assessed = assess(result.facts, result.verdict, account, require_tag=require_tag)
        if isinstance(assessed, Candidate):
            candidates.append(assessed)
        elif assessed is not None:
            decided[(result.facts.region, result.facts.name)] = assessed
    return decided, ordered(candidates)
