"""CloudFormation backend, DescribeStacks only: the deployed auditor stack `doctor` reads.

Stacks are placed by the control API (``PUT /_sandbox/cloudformation/R/stacks/NAME``), as
a deployment would leave them: status, parameters and Outputs. Nothing is deployed.

A stack that does not exist answers ValidationError (400)
"Stack with id NAME does not exist": the API reference lists no error for DescribeStacks,
and this is the text AWS sends (e.g. `aws cloudformation describe-stacks` on a missing
stack). https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sandbox.errors import AwsError

# "Stack status codes" (CloudFormation user guide).
STACK_STATUSES = frozenset(
    {
        "CREATE_IN_PROGRESS",
        "CREATE_FAILED",
        "CREATE_COMPLETE",
        "ROLLBACK_IN_PROGRESS",
        "ROLLBACK_FAILED",
        "ROLLBACK_COMPLETE",
        "DELETE_IN_PROGRESS",
        "DELETE_FAILED",
        "UPDATE_IN_PROGRESS",
        "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_COMPLETE",
        "UPDATE_FAILED",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "UPDATE_ROLLBACK_FAILED",
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE",
        "REVIEW_IN_PROGRESS",
        "IMPORT_IN_PROGRESS",
        "IMPORT_COMPLETE",
        "IMPORT_ROLLBACK_IN_PROGRESS",
        "IMPORT_ROLLBACK_FAILED",
        "IMPORT_ROLLBACK_COMPLETE",
    }
)


@dataclass(frozen=True)
class StackState:
    name: str
    stack_id: str
    status: str
    created: str
    reason: str = ""
    parameters: Mapping[str, str] = field(default_factory=dict)
    outputs: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "stack_id": self.stack_id,
            "status": self.status,
            "reason": self.reason,
            "parameters": dict(self.parameters),
            "outputs": dict(self.outputs),
        }


class CloudFormationBackend:
    """Stacks per (account, region, name), placed by the control API."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stacks: dict[tuple[str, str, str], StackState] = {}

    def reset(self) -> None:
        with self._lock:
            self._stacks = {}

    def put_stack(
        self,
        account: str,
        region: str,
        name: str,
        *,
        status: str,
        reason: str = "",
        parameters: Mapping[str, str] | None = None,
        outputs: Mapping[str, str] | None = None,
    ) -> StackState:
        if status not in STACK_STATUSES:
            raise ValueError(f"unknown stack status {status!r}")
        stack_id = f"arn:aws:cloudformation:{region}:{account}:stack/{name}/{uuid.uuid4()}"
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        state = StackState(
            name, stack_id, status, created, reason, dict(parameters or {}), dict(outputs or {})
        )
        with self._lock:
            self._stacks[(account, region, name)] = state
        return state

    def delete_stack(self, account: str, region: str, name: str) -> None:
        with self._lock:
            if self._stacks.pop((account, region, name), None) is None:
                raise KeyError(f"no stack {name} in {region}")

    def stacks(self, account: str, region: str) -> list[StackState]:
        with self._lock:
            return [s for (a, r, _), s in self._stacks.items() if (a, r) == (account, region)]

    def describe_stacks(self, account: str, region: str, name: str | None) -> list[StackState]:
        """DescribeStacks: every stack of the region, or the one named (by name or id)."""
        stacks = self.stacks(account, region)
        if name:
            stacks = [s for s in stacks if name in (s.name, s.stack_id)]
            if not stacks:
                raise AwsError(400, "ValidationError", f"Stack with id {name} does not exist")
        return stacks
