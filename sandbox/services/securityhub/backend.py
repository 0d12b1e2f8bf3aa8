"""The state of the sandbox's Security Hub CSPM and the rules that change it.

Findings per (account, Region), enablement per account and Region, the organization view
(``organization.py``), request quotas (``throttle.py``) and finding ingestion events. State
methods take plain values and raise ``AwsError``; ``responses.py`` turns requests and results
into the wire format. Field rules live in ``asff.py`` and ``provider_fields.py``, the filter
language in ``filters.py``.
"""

from __future__ import annotations

import copy
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import AwsError
from sandbox.services.securityhub.asff import (
    CUSTOMER_ONLY_FIELDS,
    PROVIDER_SHADOWED_FIELDS,
    now_iso,
    parse_timestamp,
    partition,
    updated_severity,
    validate_finding,
)
from sandbox.services.securityhub.organization import MEMBER_STATUSES, Organization
from sandbox.services.securityhub.provider_fields import merge_provider_fields
from sandbox.services.securityhub.throttle import Throttle


@dataclass
class Stored:
    finding: dict[str, Any]
    updated_at_ns: int
    # Top-level fields a customer changed with BatchUpdateFindings; later imports keep them
    # (user guide, "Using FindingProviderFields").
    customer_fields: set[str] = field(default_factory=set)
    # Change sequence number of the last create/update (import or BatchUpdateFindings): what
    # decides whether a linked Region's finding has reached the aggregation Region.
    changed: int = 0


Key = tuple[str, str]  # (ProductArn, Id)


ACTIVE_RETENTION_DAYS = 90
ARCHIVED_RETENTION_DAYS = 30
_NANOS_PER_DAY = 86_400 * 1_000_000_000

# --------------------------------------------------------------------------------------------
# Import and update rules
# --------------------------------------------------------------------------------------------


def upsert(
    store: dict[Key, Stored], finding: dict[str, Any], region: str, next_change: Callable[[], int]
) -> None:
    """Create or update one validated finding (user guide, "Determining whether to create or
    update a finding"): same (ProductArn, Id) is an update; an update whose UpdatedAt is equal
    to or earlier than the stored one is ignored. AWS documents no error for that case and in
    practice counts it in SuccessCount, so the caller cannot see that nothing changed: this
    emulator does the same, and tests must assert on the stored finding instead."""
    key: Key = (finding["ProductArn"], finding["Id"])
    updated_ns = parse_timestamp(finding["UpdatedAt"])
    assert updated_ns is not None
    existing = store.get(key)
    if existing is not None and updated_ns <= existing.updated_at_ns:
        return

    apply_service_fields(finding, region)
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
        store[key] = Stored(finding, updated_ns, changed=next_change())
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
    reopen_if_needed(old, finding)
    store[key] = Stored(finding, updated_ns, existing.customer_fields, changed=next_change())


def apply_service_fields(finding: dict[str, Any], region: str) -> None:
    """Attributes Security Hub populates itself. ProcessedAt/FirstObservedAt/LastObservedAt
    are kept as sent (ProcessedAt is really service-set; the sandbox does not invent one)."""
    finding["Region"] = region  # ASFF "Region": populated automatically
    # Observed on real default-product findings, not documented.
    finding.setdefault("ProductName", "Default")
    finding.setdefault("CompanyName", "Personal")
    fields = finding.setdefault("ProductFields", {})
    fields["aws/securityhub/FindingId"] = f"{finding['ProductArn']}/{finding['Id']}"
    fields["aws/securityhub/ProductName"] = finding["ProductName"]
    fields["aws/securityhub/CompanyName"] = finding["CompanyName"]


def reopen_if_needed(old: dict[str, Any], new: dict[str, Any]) -> None:
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


def apply_changes(stored: Stored, changes: dict[str, Any]) -> None:
    """One BatchUpdateFindings change set (validated by ``asff.validated_changes``) applied
    to one finding. Severity, Types, Confidence, Criticality and RelatedFindings become the
    customer's: later imports no longer change them at the top level (provider_fields.py)."""
    for name, change in changes.items():
        value = change
        if name == "Severity":
            value = updated_severity(stored.finding.get("Severity", {}), change)
        elif name == "UserDefinedFields":
            # Merged with the existing pairs: AWS does not document replace-vs-merge;
            # merging never loses a customer's data.
            value = {**stored.finding.get("UserDefinedFields", {}), **change}
        elif name == "Workflow":
            value = {**stored.finding.get("Workflow", {}), **change}
        stored.finding[name] = copy.deepcopy(value)
        if name in PROVIDER_SHADOWED_FIELDS:
            stored.customer_fields.add(name)


# --------------------------------------------------------------------------------------------
# The backend
# --------------------------------------------------------------------------------------------


class SecurityHubBackend:
    """In-memory Security Hub for one sandbox. All state sits behind one re-entrant lock that
    ``responses`` also holds for a whole call; no method sleeps, so holding it is cheap.

    Over 200 lines because the sandbox-control half (enablement, organization, ingestion
    counts) and the API half share the same few dictionaries; splitting them would only move
    the lock around.
    """

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, rate_limits: bool = True
    ) -> None:
        self.lock = threading.RLock()
        self._clock = clock
        self._rate_limits = rate_limits
        self._findings: dict[tuple[str, str], dict[Key, Stored]] = {}
        # Enablement overrides: (account, Region) or (None, Region) for every account.
        self._enabled: dict[tuple[str | None, str], bool] = {}
        self._org = Organization()
        self._changes = itertools.count(1)
        self._last_change = 0
        self._throttle = Throttle()
        # Finding ingestion events per (account, Region): the unit Security Hub CSPM bills
        # beyond a monthly free tier (pricing page: a new finding and an update of an existing
        # one both count). Every finding BatchImportFindings accepts counts, including an
        # update ignored for a stale UpdatedAt: whether AWS bills that one is not documented,
        # and counting it is the stricter reading.
        self._ingestion: Counter[tuple[str, str]] = Counter()
        self.subscribed_at = now_iso()

    # -- sandbox control ---------------------------------------------------------------------

    def reset(self) -> None:
        """Forget findings, throttling state, enablement overrides and the organization."""
        with self.lock:
            self._findings.clear()
            self._enabled.clear()
            self._org = Organization()
            self._throttle.reset()
            self._ingestion.clear()

    def set_enabled(self, region: str, enabled: bool, account: str | None = None) -> None:
        """Security Hub is enabled for every account in every Region unless turned off here,
        for one ``account`` or (None) for every account in ``region``."""
        with self.lock:
            if account is None:
                for key in [k for k in self._enabled if k[1] == region]:
                    del self._enabled[key]
            self._enabled[(account, region)] = enabled

    def is_enabled(self, account: str, region: str) -> bool:
        with self.lock:
            specific = self._enabled.get((account, region))
            return self._enabled.get((None, region), True) if specific is None else specific

    def findings(self, region: str, account: str | None = None) -> list[dict[str, Any]]:
        """Deep copies of the findings stored in ``region`` (every account's unless
        ``account`` is given), in import order. Stored copies only: what an aggregation Region
        shows through GetFindings is not duplicated here."""
        with self.lock:
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
        member_statuses: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Make ``administrator`` the Security Hub administrator of ``members`` (None: no
        organization), with an optional aggregation Region and its linked Regions;
        ``member_statuses`` sets a member's MemberStatus (default Enabled)."""
        members = list(members)
        statuses = dict(member_statuses or {})
        if set(statuses) - set(members):
            raise ValueError("member_statuses names accounts that are not members")
        if set(statuses.values()) - set(MEMBER_STATUSES):
            raise ValueError(f"a member status must be one of {', '.join(MEMBER_STATUSES)}")
        linked = list(linked_regions)
        if administrator is None and (members or aggregation_region or linked):
            raise ValueError("members and aggregation need an administrator")
        if administrator in members:
            raise ValueError("the administrator cannot be its own member")
        if linked and aggregation_region is None:
            raise ValueError("linked_regions need an aggregation_region")
        with self.lock:
            self._org = self._org.relinked(
                administrator, members, aggregation_region, linked, self._last_change, statuses
            )
            return self._org.to_dict()

    def organization(self) -> dict[str, Any]:
        with self.lock:
            return self._org.to_dict()

    def ingestion_events(self) -> list[dict[str, Any]]:
        """Finding ingestion events so far, one ``{account, region, count}`` per pair."""
        with self.lock:
            return [
                {"account": account, "region": region, "count": count}
                for (account, region), count in sorted(self._ingestion.items())
            ]

    def reset_ingestion_events(self) -> None:
        with self.lock:
            self._ingestion.clear()

    def expire_findings(self, as_of: str) -> list[dict[str, str]]:
        """Apply the finding retention periods as if it were ``as_of`` (an ASFF timestamp);
        returns ``{account, region, id}`` of each finding deleted."""
        as_of_ns = parse_timestamp(as_of)
        if as_of_ns is None:
            raise ValueError(f"as_of must be an ASFF timestamp, not {as_of!r}")
        return self.expire(as_of_ns)

    def expire(self, as_of_ns: int) -> list[dict[str, str]]:
        """Delete what Security Hub CSPM's retention would have deleted by ``as_of_ns``.

        User guide, "Creating and updating findings in Security Hub CSPM"
        (https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings.html):
        findings "that haven't been updated recently" are deleted, an active one 90 days and
        an archived one 30 days after its most recent UpdatedAt. Only an import moves
        UpdatedAt (BatchUpdateFindings does not), so a finding the provider stops re-importing
        expires even while customers work on it. The page also mentions ProcessedAt for
        findings other than control findings; UpdatedAt alone is the stricter reading.
        """
        expired: list[dict[str, str]] = []
        with self.lock:
            for (account, region), store in self._findings.items():
                for key, stored in list(store.items()):
                    archived = stored.finding.get("RecordState") == "ARCHIVED"
                    days = ARCHIVED_RETENTION_DAYS if archived else ACTIVE_RETENTION_DAYS
                    if as_of_ns - stored.updated_at_ns >= days * _NANOS_PER_DAY:
                        del store[key]
                        expired.append({"account": account, "region": region, "id": key[1]})
        return expired

    # -- the API -----------------------------------------------------------------------------

    def admit(self, account: str, region: str, operation: str) -> None:
        """Quota, then subscription: raise the error a call that may not proceed gets."""
        with self.lock:
            # Throttling before the subscription check: AWS applies request quotas ahead of
            # authorization (order not documented; it only matters for a disabled Region).
            if self._rate_limits and not self._throttle.take(
                account, region, operation, self._clock()
            ):
                raise AwsError(429, "LimitExceededException", "Rate exceeded")
            if not self.is_enabled(account, region):
                # Whole-call failure, as the API returns for an unsubscribed account. The user
                # guide also mentions per-finding FailedFindings "InvalidAccess" when the hub or
                # product integration is disabled; the stricter whole-call error is used here.
                raise AwsError(
                    401,
                    "InvalidAccessException",
                    f"Account {account} is not subscribed to AWS Security Hub",
                )

    def import_findings(
        self, account: str, region: str, findings: list[dict[str, Any]]
    ) -> list[tuple[str, str]]:
        """Validate and store each finding; returns (Id, problem) of those refused. Each
        accepted finding is one ingestion event."""
        failed: list[tuple[str, str]] = []
        with self.lock:
            store = self._findings.setdefault((account, region), {})
            for finding in findings:
                problem = validate_finding(finding, account, region)
                if problem is not None:
                    failed.append((finding["Id"], problem))
                    continue
                upsert(store, copy.deepcopy(finding), region, self._next_change)
                self._ingestion[(account, region)] += 1
        return failed

    def update_findings(
        self, account: str, region: str, keys: list[Key], changes: dict[str, Any]
    ) -> list[bool]:
        """Apply ``changes`` to each (ProductArn, Id) the caller can see; one flag per key,
        False for a finding it cannot see.

        API_BatchUpdateFindings: "Administrator accounts can update findings for their account
        and their member accounts. A member account can update findings only for their own
        account." Updates "don't affect the value for the UpdatedAt field of the finding", so
        the import ordering rule is untouched; it is still an update that cross-Region
        aggregation replicates.
        """
        done: list[bool] = []
        with self.lock:
            for key in keys:
                stored = next((s for k, s in self._visible(account, region) if k == key), None)
                if stored is not None:
                    apply_changes(stored, changes)
                    stored.changed = self._next_change()
                done.append(stored is not None)
        return done

    def visible(self, account: str, region: str) -> list[dict[str, Any]]:
        """The stored findings (not copies) GetFindings by ``account`` in ``region`` reads."""
        with self.lock:
            return [stored.finding for _, stored in self._visible(account, region)]

    def members_of(self, account: str) -> list[tuple[str, str]]:
        """(member, MemberStatus) of every member ``account`` administers."""
        with self.lock:
            org = self._org
            if account != org.administrator:
                return []
            return [(member, org.status(member)) for member in sorted(org.members)]

    def aggregator_of(self, account: str) -> dict[str, Any] | None:
        """The finding aggregator ``account`` configured (only the administrator configures
        one here; members inherit it without owning it): ARN, home Region, linked Regions."""
        with self.lock:
            org = self._org
            if org.aggregation_region is None or account != org.administrator:
                return None
            home = org.aggregation_region
            arn = (
                f"arn:{partition(home)}:securityhub:{home}:{account}:finding-aggregator/"
                f"sandbox-{account}"
            )
            return {"arn": arn, "region": home, "regions": sorted(org.linked_regions)}

    def administrator_of(self, account: str) -> str | None:
        with self.lock:
            return self._org.administrator if account in self._org.members else None

    def member_status(self, account: str) -> str:
        with self.lock:
            return self._org.status(account)

    # -- plumbing ----------------------------------------------------------------------------

    def _next_change(self) -> int:
        self._last_change = next(self._changes)
        return self._last_change

    def _visible(self, account: str, region: str) -> Iterator[tuple[Key, Stored]]:
        """Every stored finding the caller can read and update in this Region: its own, its
        members' when it is the administrator, and in the aggregation Region those of linked
        Regions (organization.py). Accounts with Security Hub off in a Region contribute
        nothing from it ("only aggregates findings from Regions where an account has Security
        Hub enabled")."""
        for scope in self._org.scopes(account, region):
            if scope.account != account and not self.is_enabled(scope.account, scope.region):
                continue
            for key, stored in self._findings.get((scope.account, scope.region), {}).items():
                if scope.shows(stored.changed):
                    yield key, stored
