"""Guarded remediation, the pure half: which clusters may be changed, and exactly how.

A bad `vpc-cni` update breaks pod networking cluster-wide, so every rule here fails
closed: when anything is unknown, unreadable or unexpected the cluster is skipped and the
guard that stopped it is named. Nothing here performs I/O; `apply.py` is the shell that
reads schemas, sends the requests and records the outcome. The rules are not run twice:
`evaluate` decided the verdict and computed its fix (the merged document and the
UpdateAddon request, or why none can be computed); this module maps the verdict's reason
to its guard and adds only its own guards (account, state, tags, schema, selection, and for
event runs the own-update and cooldown holds fed by an `EventContext`). It never reads the
configuration.

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

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from ..addon_config import ENABLE_KEY
from ..event_targets import EventContext
from ..model import (
    AUTO_REMEDIATE_TAG,
    EXEMPT_TAG,
    VPC_CNI_ADDON,
    Action,
    ClusterFacts,
    ClusterResult,
    ComplianceStatus,
    Fix,
    Guard,
    NoFix,
    Outcome,
    Reason,
    UpdateRequest,
    Verdict,
)


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


# ---------------------------------------------------------------------------- guards

# The guard that reports each verdict reason; None for the one reason a change fixes, whose
# verdict carries the change (Fix) or why none can be computed (guard `configuration`).
VERDICT_GUARDS: Mapping[Reason, Guard | None] = MappingProxyType(
    {
        Reason.EVALUATION_ERROR: Guard.NOT_EVALUATED,
        Reason.CLUSTER_NOT_READY: Guard.NOT_EVALUATED,
        Reason.EXEMPTED: Guard.EXEMPT_TAG,
        Reason.AUTO_MODE_NOT_VERIFIABLE: Guard.AUTO_MODE,
        # Auto Mode has no add-on to update; the fix is in-cluster (the message's kubectl).
        Reason.AUTO_MODE_NETWORK_POLICY_DISABLED: Guard.AUTO_MODE,
        Reason.AUTO_MODE_NETWORK_POLICY_ENABLED: Guard.VERDICT,
        Reason.ADDON_NOT_INSTALLED: Guard.ADDON_MISSING,
        Reason.KUBERNETES_VERSION_UNSUPPORTED: Guard.KUBERNETES_VERSION,
        Reason.ADDON_VERSION_UNSUPPORTED: Guard.ADDON_VERSION,
        Reason.NETWORK_POLICY_DISABLED: None,
        # Enforcement is on; no change fixes this (the own `addon_status` guard, tried
        # first, already holds an add-on that is not ACTIVE).
        Reason.ADDON_UNHEALTHY: Guard.VERDICT,
        Reason.NETWORK_POLICY_ENABLED: Guard.VERDICT,
    }
)

# Every guard decided without an AWS call, in the order tried: what must never be touched
# first, facts later, so the guard named is the most useful one to the owner (an exempt
# cluster says "exempt", not "version"). The verdict's guards keep evaluate's order
# (tests/unit/remediation/test_plan.py checks it against evaluate); remediation's own
# guards (account, cluster and add-on state, the auto-remediate tag) sit between them.
# The event runs' holds come last: they only matter for a cluster the schedule would
# change, and any earlier guard names a more lasting reason (docs/events.md).
GUARD_ORDER: tuple[Guard, ...] = (
    Guard.ACCOUNT,
    Guard.NOT_EVALUATED,
    Guard.CLUSTER_STATUS,
    Guard.EXEMPT_TAG,
    Guard.OPT_OUT_TAG,
    Guard.TAG_VALUE,
    Guard.REQUIRE_TAG,
    Guard.AUTO_MODE,
    Guard.ADDON_MISSING,
    Guard.KUBERNETES_VERSION,
    Guard.ADDON_VERSION,
    Guard.ADDON_STATUS,
    Guard.CONFIGURATION,
    Guard.VERDICT,
    Guard.OWN_UPDATE,
    Guard.COOLDOWN,
)


def verdict_guard(verdict: Verdict) -> Guard | Fix:
    """The guard the verdict alone names, or the fix it carries to send."""
    if verdict.status is ComplianceStatus.NOT_AVAILABLE:
        return Guard.NOT_EVALUATED
    guard = VERDICT_GUARDS[verdict.reason]
    if guard is not None:
        return guard
    if verdict.status is not ComplianceStatus.FAILED:
        return Guard.VERDICT
    return verdict.fix if isinstance(verdict.fix, Fix) else Guard.CONFIGURATION


def _verdict_text(guard: Guard, facts: ClusterFacts, verdict: Verdict) -> str:
    """Why the verdict's guard holds the cluster back, for the owner."""
    addon = facts.addon
    texts = {
        Guard.NOT_EVALUATED: "the cluster could not be fully read this run",
        Guard.EXEMPT_TAG: f"tagged {EXEMPT_TAG}={facts.tags.get(EXEMPT_TAG)!r}: the owner "
        "asked not to be touched",
        Guard.AUTO_MODE: "EKS Auto Mode has no vpc-cni add-on; network policy is configured "
        "in-cluster",
        Guard.ADDON_MISSING: f"no managed {VPC_CNI_ADDON} add-on; never created",
        Guard.KUBERNETES_VERSION: f"Kubernetes {facts.kubernetes_version} "
        f"({facts.platform_version}) is below 1.25 or its minimum platform version",
        Guard.ADDON_VERSION: f"{VPC_CNI_ADDON} {addon.version if addon else None} is older "
        "than v1.14.0-eksbuild.3; remediation never changes the add-on version",
    }
    if guard is Guard.CONFIGURATION:
        fix = verdict.fix
        why = fix.why if isinstance(fix, NoFix) else "the verdict carries no change"
        return f"{why}; not rewriting a configuration in doubt"
    return texts.get(
        guard,
        f"verdict {verdict.status.value}/{verdict.reason.value} is not "
        "FAILED/NETWORK_POLICY_DISABLED",
    )


def _tag_value(tags: Mapping[str, str], key: str) -> str | None:
    """Tag keys are case-sensitive in AWS; a differently-cased key is not ours to interpret."""
    value = tags.get(key)
    return None if value is None else value.strip().lower()


@dataclass(frozen=True)
class Inputs:
    """What remediation's own guards read besides the cluster's facts: the audited account,
    REMEDIATION_REQUIRE_TAG, and for an event run its `EventContext` (None when scheduled)."""

    account: str
    require_tag: bool
    events: EventContext | None = None


def _account(facts: ClusterFacts, inputs: Inputs) -> Outcome | None:
    """The ARN EKS returned must name this account, region and cluster (never another's)."""
    account = inputs.account
    parts = facts.arn.split(":", 5)
    if facts.account == account and len(parts) == 6:
        _, _, service, region, arn_account, resource = parts
        if (service, region, arn_account, resource) == (
            "eks",
            facts.region,
            account,
            f"cluster/{facts.name}",
        ):
            return None
    return skip(Guard.ACCOUNT, f"cluster {facts.arn} is not in the audited account {account}")


def _cluster_status(facts: ClusterFacts, inputs: Inputs) -> Outcome | None:
    if facts.status != "ACTIVE":
        return skip(Guard.CLUSTER_STATUS, f"cluster is {facts.status}, not ACTIVE")
    return None


def _opt_out(facts: ClusterFacts, inputs: Inputs) -> Outcome | None:
    """ "false" (any case) opts out."""
    if _tag_value(facts.tags, AUTO_REMEDIATE_TAG) == "false":
        return skip(Guard.OPT_OUT_TAG, f"tagged {AUTO_REMEDIATE_TAG}=false (opted out)")
    return None


def _tag_value_guard(facts: ClusterFacts, inputs: Inputs) -> Outcome | None:
    """Anything but true/false fails closed."""
    if _tag_value(facts.tags, AUTO_REMEDIATE_TAG) not in {None, "true", "false"}:
        return skip(
            Guard.TAG_VALUE,
            f"tag {AUTO_REMEDIATE_TAG}={facts.tags[AUTO_REMEDIATE_TAG]!r} is neither true nor "
            "false; not guessing what the owner meant",
        )
    return None


def _require_tag(facts: ClusterFacts, inputs: Inputs) -> Outcome | None:
    if inputs.require_tag and _tag_value(facts.tags, AUTO_REMEDIATE_TAG) != "true":
        return skip(
            Guard.REQUIRE_TAG,
            f"REMEDIATION_REQUIRE_TAG is on and the cluster is not tagged "
            f"{AUTO_REMEDIATE_TAG}=true",
        )
    return None


def _addon_status(facts: ClusterFacts, inputs: Inputs) -> Outcome | None:
    """An update goes only to an ACTIVE add-on; one already UPDATING is left to finish."""
    status = facts.addon.status if facts.addon is not None else None
    if status == "UPDATING":
        return Outcome(
            Action.IN_PROGRESS,
            "an add-on update is already running; left alone, retry next run",
        )
    if status != "ACTIVE":
        return skip(Guard.ADDON_STATUS, f"add-on is {status}, not ACTIVE")
    return None


def _own_update(facts: ClusterFacts, inputs: Inputs) -> Outcome | None:
    """Event runs: never act on the auditor's own change coming back (event_targets)."""
    events = inputs.events
    if events is not None and events.only_own_echo((facts.region, facts.name)):
        return skip(
            Guard.OWN_UPDATE,
            "the event is the auditor's own change coming back (its role or its "
            "idempotency token): re-audited only, never updated again",
        )
    return None


def _cooldown(facts: ClusterFacts, inputs: Inputs) -> Outcome | None:
    """Event runs: never change an add-on anyone changed within the cooldown."""
    events, addon = inputs.events, facts.addon
    if events is not None and addon is not None and events.cooling_down(addon.modified_at):
        return skip(
            Guard.COOLDOWN,
            f"the add-on changed less than {events.cooldown_minutes} minutes ago "
            "(REMEDIATION_COOLDOWN_MINUTES): re-audited only; a later run remediates",
        )
    return None


# Remediation's own guards: facts the verdict does not decide on but an update needs.
OWN_GUARDS: Mapping[Guard, Callable[[ClusterFacts, Inputs], Outcome | None]] = MappingProxyType(
    {
        Guard.ACCOUNT: _account,
        Guard.CLUSTER_STATUS: _cluster_status,
        Guard.OPT_OUT_TAG: _opt_out,
        Guard.TAG_VALUE: _tag_value_guard,
        Guard.REQUIRE_TAG: _require_tag,
        Guard.ADDON_STATUS: _addon_status,
        Guard.OWN_UPDATE: _own_update,
        Guard.COOLDOWN: _cooldown,
    }
)


def assess(
    facts: ClusterFacts,
    verdict: Verdict,
    account: str,
    *,
    require_tag: bool,
    events: EventContext | None = None,
) -> Outcome | Candidate | None:
    """Decide one cluster without any AWS call, from its verdict and fix.

    None: nothing to remediate (PASSED). Outcome: skipped (or in_progress) with the first
    guard in GUARD_ORDER that holds it back. Candidate: the verdict's fix, with every guard
    that needs no AWS call holding; the schema check comes next.
    """
    if verdict.status is ComplianceStatus.PASSED:
        return None
    named = verdict_guard(verdict)
    inputs = Inputs(account, require_tag, events)
    for guard in GUARD_ORDER:
        if guard is named:
            return skip(guard, _verdict_text(guard, facts, verdict))
        own = OWN_GUARDS.get(guard)
        held = None if own is None else own(facts, inputs)
        if held is not None:
            return held
    if not isinstance(named, Fix):  # a guard GUARD_ORDER lacks still holds: fail closed
        return skip(named, _verdict_text(named, facts, verdict))
    return Candidate(
        region=facts.region,
        cluster=facts.name,
        addon_version=named.addon_version,
        merged=named.merged,
        request=named.request,
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
    results: Sequence[ClusterResult],
    account: str,
    *,
    require_tag: bool,
    events: EventContext | None = None,
) -> tuple[dict[tuple[str, str], Outcome], list[Candidate]]:
    """Outcomes decided without AWS, keyed by (region, cluster), plus ordered candidates."""
    decided: dict[tuple[str, str], Outcome] = {}
    candidates: list[Candidate] = []
    for result in results:
        assessed = assess(
            result.facts, result.verdict, account, require_tag=require_tag, events=events
        )
        if isinstance(assessed, Candidate):
            candidates.append(assessed)
        elif assessed is not None:
            decided[(result.facts.region, result.facts.name)] = assessed
    return decided, ordered(candidates)
