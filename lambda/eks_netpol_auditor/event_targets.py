"""What an accepted EKS event means for the audit: the cluster it names, the batch's
targets, whether it is the auditor's own call, and the cooldown (`EventContext`, which
remediation's own-update and cooldown guards read). Pure and pydantic-free: parsing the
payload is `events`' job (docs/events.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .model import TOKEN_PREFIX


@dataclass(frozen=True)
class Skip:
    """A valid EKS event that cannot change any verdict (another add-on, a node group tag)."""

    reason: str


@dataclass(frozen=True)
class ClusterEvent:
    """One accepted event, reduced to the cluster it names and who caused it."""

    event_id: str
    name: str  # CloudTrail eventName or the EKS event's detail-type
    account: str
    region: str
    cluster: str
    principal: str | None = None  # from userIdentity; CloudTrail events only
    client_token: str | None = None  # requestParameters.clientRequestToken


@dataclass(frozen=True)
class Target:
    """One cluster to audit, with every event of the batch that named it."""

    account: str
    region: str
    cluster: str
    events: tuple[ClusterEvent, ...]

    @property
    def key(self) -> tuple[str, str]:
        return (self.region, self.cluster)


# ---------------------------------------------------------------------- who made the call


def principal_of(arn: str) -> str:
    """A comparable identity for an IAM or STS ARN.

    A role session `arn:aws:sts::<acct>:assumed-role/<role>/<session>` (GetCallerIdentity
    in Lambda) and its issuer `arn:aws:iam::<acct>:role/<path>/<role>` (CloudTrail
    `userIdentity.sessionContext.sessionIssuer.arn`) both become `role:<acct>:<role>`: the
    assumed-role ARN carries no role path (IAM identifiers, "IAM ARNs"), so the role name
    is compared, not the path. Anything else (an IAM user) compares as the ARN itself.
    """
    parts = arn.split(":", 5)
    if len(parts) == 6:
        service, account, resource = parts[2], parts[4], parts[5]
        if service == "sts" and resource.startswith("assumed-role/"):
            return f"role:{account}:{resource.split('/')[1]}"
        if service == "iam" and resource.startswith("role/"):
            return f"role:{account}:{resource.rsplit('/', 1)[-1]}"
    return arn


def is_own_call(event: ClusterEvent, own_principal: str | None, token_prefix: str) -> bool:
    """The auditor's own call: made by its own role (primary), or carrying its token.

    The role is the documented signal: CloudTrail's userIdentity element names the role a
    session was issued from in `sessionContext.sessionIssuer.arn` ("CloudTrail
    userIdentity element", cloudtrail-event-reference-user-identity.html). The `enp1-`
    idempotency token is only a second, undocumented signal: no AWS document or sample
    shows CloudTrail recording UpdateAddon's `clientRequestToken` in requestParameters, so
    nothing may depend on it, and the role check alone must (and does) recognise the echo.
    Either signal is enough: mistaking someone else's call for ours only means that event
    re-audits without remediating (the schedule remediates later), the safe direction.
    """
    if own_principal is not None and event.principal == own_principal:
        return True
    return event.client_token is not None and event.client_token.startswith(token_prefix)


def group(events: Iterable[ClusterEvent]) -> list[Target]:
    """One target per (account, region, cluster), in first-seen order."""
    grouped: dict[tuple[str, str, str], list[ClusterEvent]] = {}
    for event in events:
        grouped.setdefault((event.account, event.region, event.cluster), []).append(event)
    return [
        Target(account, region, cluster, tuple(found))
        for (account, region, cluster), found in grouped.items()
    ]


def in_cooldown(modified_at: datetime | None, now: datetime, minutes: int) -> bool:
    """True when the add-on changed less than `minutes` ago (by anyone: docs/events.md)."""
    if modified_at is None or minutes <= 0:
        return False
    return now - modified_at < timedelta(minutes=minutes)


@dataclass(frozen=True)
class EventContext:
    """What an event run knows that a scheduled run does not, for remediation's event guards
    (Guard.OWN_UPDATE, Guard.COOLDOWN): each cluster's events (their principals and tokens),
    the auditor's own principal, the cooldown and the time the run started."""

    own_principal: str | None
    events: Mapping[tuple[str, str], tuple[ClusterEvent, ...]]
    cooldown_minutes: int
    now: datetime

    @classmethod
    def of(
        cls, targets: Sequence[Target], caller: str, cooldown_minutes: int, now: datetime
    ) -> EventContext:
        return cls(
            own_principal=principal_of(caller),
            events={target.key: target.events for target in targets},
            cooldown_minutes=cooldown_minutes,
            now=now,
        )

    def only_own_echo(self, key: tuple[str, str]) -> bool:
        """True when every event naming the cluster is the auditor's own call coming back; a
        person's change in the same batch is a change of its own (docs/events.md)."""
        return all(
            is_own_call(event, self.own_principal, TOKEN_PREFIX)
            for event in self.events.get(key, ())
        )

    def cooling_down(self, modified_at: datetime | None) -> bool:
        return in_cooldown(modified_at, self.now, self.cooldown_minutes)
