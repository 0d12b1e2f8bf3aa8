"""An in-memory Security Hub CSPM for publisher tests that must be byte-exact and fast.

Why not the sandbox: the sandbox's clusters carry run-dependent values (endpoints, ports)
that would make a recorded payload differ from run to run. This fake keeps only what the
publisher's decisions read back (RecordState, Workflow, Note, UpdatedAt and the provider's
own fields) and records every write request exactly as the publisher sent it.

Behaviour follows the same documents as the sandbox: GetFindings filters AND attributes and
OR the EQUALS values of one attribute (API_GetFindings); BatchImportFindings cannot change
Workflow and Note; a re-import moves a NOTIFIED/RESOLVED finding back to NEW when RecordState
goes ARCHIVED -> ACTIVE or Compliance.Status goes PASSED -> FAILED/WARNING/NOT_AVAILABLE, and
SUPPRESSED never changes (user guide, "Setting the workflow status").
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_RESET = {"NOTIFIED", "RESOLVED"}


@dataclass
class FakeSecurityHub:
    region: str
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    writes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    reads: list[dict[str, Any]] = field(default_factory=list)

    def get_findings(self, **kwargs: Any) -> dict[str, Any]:
        self.reads.append(copy.deepcopy(kwargs))
        filters: Mapping[str, list[dict[str, str]]] = kwargs.get("Filters", {})
        found = [
            copy.deepcopy(finding)
            for _, finding in sorted(self.stored.items())
            if all(_matches(finding, name, values) for name, values in filters.items())
        ]
        return {"Findings": found}

    def batch_import_findings(self, **kwargs: Any) -> dict[str, Any]:
        self.writes.append(("BatchImportFindings", copy.deepcopy(kwargs)))
        for finding in kwargs["Findings"]:
            old = self.stored.get(finding["Id"])
            new = copy.deepcopy(finding)
            workflow = (old or {}).get("Workflow", {"Status": "NEW"})
            if old is not None and workflow.get("Status") in _RESET:
                reactivated = (old.get("RecordState"), new["RecordState"]) == ("ARCHIVED", "ACTIVE")
                regressed = (old.get("Compliance") or {}).get("Status") == "PASSED" and (
                    new.get("Compliance") or {}
                ).get("Status") not in (None, "PASSED")
                if reactivated or regressed:
                    workflow = {"Status": "NEW"}
            new["Workflow"] = workflow
            if old is not None and "Note" in old:
                new["Note"] = old["Note"]
            self.stored[finding["Id"]] = new
        return {"FailedCount": 0, "SuccessCount": len(kwargs["Findings"]), "FailedFindings": []}

    def batch_update_findings(self, **kwargs: Any) -> dict[str, Any]:
        self.writes.append(("BatchUpdateFindings", copy.deepcopy(kwargs)))
        for identifier in kwargs["FindingIdentifiers"]:
            finding = self.stored[identifier["Id"]]
            if "Workflow" in kwargs:
                finding["Workflow"] = dict(kwargs["Workflow"])
            if "Note" in kwargs:
                finding["Note"] = dict(kwargs["Note"])
        return {"ProcessedFindings": kwargs["FindingIdentifiers"], "UnprocessedFindings": []}


def _matches(finding: Mapping[str, Any], name: str, values: list[dict[str, str]]) -> bool:
    if name == "ComplianceStatus":
        actual = (finding.get("Compliance") or {}).get("Status")
    else:
        actual = finding.get(name)
    assert all(v["Comparison"] == "EQUALS" for v in values), "the fake knows EQUALS only"
    return any(actual == v["Value"] for v in values)


class FakeClients:
    """The one method of AwsClients the publisher uses, one fake hub per region."""

    def __init__(self) -> None:
        self.hubs: dict[str, FakeSecurityHub] = {}

    def securityhub(self, region: str) -> FakeSecurityHub:
        return self.hubs.setdefault(region, FakeSecurityHub(region))

    def writes(self) -> dict[str, list[tuple[str, dict[str, Any]]]]:
        """Every write request per region, in the order sent."""
        return {region: hub.writes for region, hub in sorted(self.hubs.items()) if hub.writes}

    def clear(self) -> None:
        for hub in self.hubs.values():
            hub.writes.clear()
            hub.reads.clear()
