"""FindingProviderFields: how an import's provider values and their top-level twins are stored.

The rules (user guide, "BatchImportFindings for finding providers", section "Using
FindingProviderFields") are in the comment below; validation of these fields is in ``asff``.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from typing import Any

from sandbox.services.securityhub.asff import PROVIDER_SHADOWED_FIELDS, complete_severity

#
# User guide, "BatchImportFindings for finding providers", section "Using FindingProviderFields"
# (https://docs.aws.amazon.com/securityhub/latest/userguide/finding-update-batchimportfindings.html
# #batchimportfindings-findingproviderfields) and the API reference "FindingProviderFields"
# (https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_FindingProviderFields.html):
#
# * only FindingProviderFields.X sent (the preferred form): FindingProviderFields.X is updated and
#   copied to the top-level X "only if the attribute was not already updated by
#   BatchUpdateFindings";
# * only the top-level X sent: it overwrites FindingProviderFields.X, and the top-level X is
#   updated only if BatchUpdateFindings has not changed it;
# * both sent: for a new finding FindingProviderFields.X populates both (the top-level value
#   sent is not used); for an existing finding "Security Hub uses both values" (each updates its
#   own copy), the top-level one again only if BatchUpdateFindings has not changed it.
#
# Neither sent on an update: not documented. The stored values are kept (the page describes
# per-attribute updates, never a removal).


def _provider_severity(severity: Any) -> Any:
    """A Severity as FindingProviderFields stores it: model shape FindingProviderSeverity has
    only Label and Original, so a top-level Normalized/Product is dropped (Label derived from
    Normalized first when no Label was sent)."""
    if not isinstance(severity, dict):
        return severity
    completed = complete_severity(severity)
    return {k: v for k, v in completed.items() if k in ("Label", "Original")}


def merge_provider_fields(
    finding: dict[str, Any], old: dict[str, Any] | None, user_owned: Collection[str]
) -> None:
    """Resolve FindingProviderFields and their top-level twins of ``finding`` (in place), given
    the stored finding ``old`` (None on creation) and the top-level fields a customer changed
    with BatchUpdateFindings (``user_owned``)."""
    sent = finding.get("FindingProviderFields")
    sent = sent if isinstance(sent, dict) else {}
    old_provider = (old or {}).get("FindingProviderFields") or {}
    provider: dict[str, Any] = {}
    for name in PROVIDER_SHADOWED_FIELDS:
        in_provider, in_top = name in sent, name in finding
        if in_provider:
            provider[name] = copy.deepcopy(sent[name])
        elif in_top:
            provider[name] = copy.deepcopy(finding[name])
        elif name in old_provider:
            provider[name] = copy.deepcopy(old_provider[name])

        if old is not None and (name in user_owned or not (in_top or in_provider)):
            source = old  # the customer's value stays; or nothing sent: keep what is stored
        elif old is None or not in_top:
            source = provider  # new finding, or only FindingProviderFields sent
        else:
            source = finding  # existing finding, top level sent: "uses both values"
        if name not in source:
            finding.pop(name, None)
        elif source is not finding:
            finding[name] = copy.deepcopy(source[name])
    if "Severity" in provider:
        provider["Severity"] = _provider_severity(provider["Severity"])
    if isinstance(finding.get("Severity"), dict):
        finding["Severity"] = complete_severity(finding["Severity"])
    if provider:
        finding["FindingProviderFields"] = provider
    else:
        finding.pop("FindingProviderFields", None)
