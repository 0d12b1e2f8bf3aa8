"""Who sees whose findings: Security Hub CSPM administrator, members and cross-Region
aggregation, as a pure value the emulator consults.

Sources (user guide):

* "Effects of an administrator-member relationship"
  (https://docs.aws.amazon.com/securityhub/latest/userguide/accounts-admin-member-relationship.html):
  "In each Region, the administrator account can view and manage findings for their member
  accounts in that Region. In an aggregation Region, the administrator account can view and
  manage member account findings from linked Regions that are replicated to the aggregation
  Region." Security Hub "does not copy member account findings into the administrator account".
* "How cross-Region aggregation works"
  (https://docs.aws.amazon.com/securityhub/latest/userguide/finding-aggregation-overview.html):
  Security Hub "aggregates new findings from the linked Regions to the aggregation Region" and
  replicates finding *updates* both ways; "member accounts inherit the finding aggregation
  configuration from their administrator account"; Security Hub "only aggregates findings from
  Regions where an account has Security Hub enabled"; replication "does not add to the cost".
  A finding that already existed in a Region when it was linked is therefore not in the
  aggregation Region until it is next updated (aws-facts.md; the page speaks of new findings
  and updates only). The emulator keeps one copy of each finding and decides visibility with a
  change sequence number: a linked-Region finding is visible in the aggregation Region once it
  was created or updated after its Region was linked.
* API_GetFindings: "If cross-Region aggregation is enabled, then when you call GetFindings
  from the home Region, the results include all of the matching findings from both the home
  Region and linked Regions."

* API_ListMembers / the Member shape (botocore model): a member's ``MemberStatus`` is
  Created, Invited, Enabled, Removed, Resigned, Deleted or AccountSuspended; only Enabled
  means "the member account is currently active", so only Enabled members' findings are
  the administrator's to see, and ``OnlyAssociated`` (default TRUE) lists only them.

Simplifications (stricter where it matters): one administrator per sandbox; its members are
members in every Region (AWS recommends "the same member accounts in all Regions"); linking is
an explicit Region list (RegionLinkingMode SPECIFIED_REGIONS).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

ENABLED = "Enabled"
MEMBER_STATUSES = (
    "Created",
    "Invited",
    ENABLED,
    "Removed",
    "Resigned",
    "Deleted",
    "AccountSuspended",
)


@dataclass(frozen=True)
class Scope:
    """One (account, Region) store the caller may read, and from which change sequence on
    (None: every finding in it)."""

    account: str
    region: str
    since: int | None = None

    def shows(self, changed: int) -> bool:
        return self.since is None or changed > self.since


@dataclass(frozen=True)
class Organization:
    """The administrator, its members and the aggregation set-up (empty: standalone accounts).

    ``linked_regions`` maps each linked Region to the change sequence number current when it
    was linked.
    """

    administrator: str | None = None
    members: frozenset[str] = frozenset()  # every member, whatever its relationship status
    aggregation_region: str | None = None
    linked_regions: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    # MemberStatus per member; a member not named here is Enabled.
    statuses: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def accounts_visible_to(self, account: str) -> list[str]:
        """The caller itself, plus every member when the caller is the administrator."""
        if account == self.administrator:
            return [account, *sorted(self.enabled() - {account})]
        return [account]

    def aggregates(self, account: str) -> bool:
        """Members inherit the administrator's aggregation; other accounts have none."""
        return self.administrator is not None and (
            account == self.administrator or account in self.enabled()
        )

    def status(self, member: str) -> str:
        """The member's MemberStatus (Enabled unless set otherwise)."""
        return self.statuses.get(member, ENABLED)

    def enabled(self) -> frozenset[str]:
        return frozenset(m for m in self.members if self.status(m) == ENABLED)

    def scopes(self, account: str, region: str) -> list[Scope]:
        """Every store a GetFindings/BatchUpdateFindings call by ``account`` in ``region``
        reaches, the caller's own first."""
        accounts = self.accounts_visible_to(account)
        scopes = [Scope(a, region) for a in accounts]
        if region == self.aggregation_region and self.aggregates(account):
            for linked, since in sorted(self.linked_regions.items()):
                if linked != region:
                    scopes.extend(Scope(a, linked, since) for a in accounts)
        return scopes

    def relinked(
        self,
        administrator: str | None,
        members: Iterable[str],
        aggregation_region: str | None,
        linked_regions: Iterable[str],
        now: int,
        statuses: Mapping[str, str] | None = None,
    ) -> Organization:
        """The organization after a new set-up; Regions already linked keep their link time."""
        linked = {
            region: self.linked_regions.get(region, now)
            if aggregation_region == self.aggregation_region
            else now
            for region in linked_regions
            if region != aggregation_region
        }
        return Organization(
            administrator,
            frozenset(members),
            aggregation_region,
            MappingProxyType(linked),
            MappingProxyType(dict(statuses or {})),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "administrator": self.administrator,
            "members": sorted(self.members),
            # Only members whose status is not Enabled (the default) are named.
            **(
                {"member_statuses": {m: self.statuses[m] for m in sorted(self.statuses)}}
                if any(s != ENABLED for s in self.statuses.values())
                else {}
            ),
            "aggregation_region": self.aggregation_region,
            "linked_regions": sorted(self.linked_regions),
        }
