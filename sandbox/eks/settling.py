"""How pending EKS work completes: add-on and cluster (EKS Auto Mode) updates (Successful
or Failed), CREATING clusters and add-ons (to ACTIVE), DELETING ones (gone).

Why explicit: real EKS finishes these minutes later; tests decide when (``settle()``), or
let them finish lazily ``auto_settle_seconds`` after they started, checked on the next
call (no background thread). Callers hold ``store.lock``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    from sandbox.eks.models import Cluster, Update


class EksStore(Protocol):
    """The parts of `sandbox.eks.store.EksStore` settling changes. A Protocol, so the
    store (which calls these functions) is not imported back from here."""

    @property
    def clock(self) -> Callable[[], float]: ...
    @property
    def lock(self) -> AbstractContextManager[bool]: ...
    @property
    def clusters(self) -> dict[tuple[str, str], dict[str, Cluster]]: ...
    @property
    def updates(self) -> dict[str, Update]: ...
    @property
    def pending(self) -> dict[tuple[str, str, str, str], float]: ...
    @property
    def auto_settle_seconds(self) -> float | None: ...
    def cluster(self, account: str, region: str, name: str) -> Cluster | None: ...


# The health issue a failed update leaves (DescribeAddon ``health.issues`` code
# ConfigurationConflict, as EKS reports a conflict under resolveConflicts NONE).
_CONFLICT = "Conflicts found when trying to apply. Will not continue due to resolve conflicts mode."


def settle_due(store: EksStore) -> None:
    delay = store.auto_settle_seconds
    if delay is None:
        return
    now = store.clock()
    for update in list(store.updates.values()):
        if update.status == "InProgress" and now - update.created_at >= delay:
            _settle_update(store, update, "Successful")
    for key, started in list(store.pending.items()):
        if now - started >= delay:
            _settle_transition(store, key)


def settle(
    store: EksStore,
    region: str | None,
    cluster: str | None,
    outcome: str,
    account: str | None,
) -> list[str]:
    if outcome not in ("Successful", "Failed"):
        raise ValueError("outcome must be 'Successful' or 'Failed'")

    def wanted(acct: str, reg: str, name: str) -> bool:
        return (
            (account is None or acct == account)
            and (region is None or reg == region)
            and (cluster is None or name == cluster)
        )

    settled = []
    with store.lock:
        for update in store.updates.values():
            if update.status == "InProgress" and wanted(
                update.account, update.region, update.cluster
            ):
                _settle_update(store, update, outcome)
                settled.append(update.id)
        for key in list(store.pending):
            if wanted(*key[:3]):
                _settle_transition(store, key)
    return settled


def _settle_transition(store: EksStore, key: tuple[str, str, str, str]) -> None:
    """CREATING -> ACTIVE, DELETING -> gone, for a cluster ("" add-on) or an add-on."""
    store.pending.pop(key, None)
    account, region, name, addon_name = key
    cluster = store.cluster(account, region, name)
    if cluster is None:
        return
    if not addon_name:
        if cluster.status == "DELETING":
            store.clusters[(account, region)].pop(name, None)
        elif cluster.status == "CREATING":
            cluster.status = "ACTIVE"
        return
    addon = cluster.addons.get(addon_name)
    if addon is None:
        return
    if addon.status == "DELETING":
        cluster.addons.pop(addon_name, None)
    elif addon.status == "CREATING":
        addon.status, addon.modified_at = "ACTIVE", store.clock()


def _settle_update(store: EksStore, update: Update, outcome: str) -> None:
    cluster = store.cluster(update.account, update.region, update.cluster)
    if not update.addon_name:
        # UpdateClusterConfig: "When the update is complete (either Failed or
        # Successful), the cluster status moves to Active" (botocore eks model).
        update.status = outcome
        if cluster is not None:
            if outcome == "Successful" and update.target_auto_mode is not None:
                cluster.auto_mode = update.target_auto_mode
            cluster.status = "ACTIVE"
        return
    addon = cluster.addons.get(update.addon_name) if cluster else None
    update.status = outcome
    if addon is None:
        return
    addon.modified_at = store.clock()
    if outcome == "Successful":
        addon.version = update.target_version
        if update.target_config is not None:
            addon.configuration_values = update.target_config
        if update.target_role_arn is not None:
            addon.service_account_role_arn = update.target_role_arn
        addon.status, addon.health_issues = "ACTIVE", []
        return
    update.errors = [
        {"errorCode": "ConfigurationConflict", "errorMessage": _CONFLICT, "resourceIds": []}
    ]
    addon.status = "UPDATE_FAILED"
    addon.health_issues = [
        {"code": "ConfigurationConflict", "message": _CONFLICT, "resourceIds": []}
    ]
