"""CloudFormation emulator, DescribeStacks only: the deployed auditor stack `doctor` reads.

Stacks are placed by the control API (``PUT /_sandbox/cloudformation/R/stacks/NAME``), as
a deployment would leave them: status, parameters and Outputs. Nothing is deployed.

Wire shape (query protocol, botocore ``cloudformation`` model 2010-05-15): the response is
``<DescribeStacksResponse><DescribeStacksResult><Stacks><member>`` with the Stack shape's
members (StackName, StackId, CreationTime and StackStatus are required; Parameters and
Outputs are ``member`` lists). A stack that does not exist answers ValidationError (400)
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
from xml.sax.saxutils import escape

from sandbox.errors import AwsError
from sandbox.protocols import xml_response
from sandbox.wire import SandboxRequest, SandboxResponse

XMLNS = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
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


def _members(items: Mapping[str, str], key: str, value: str) -> str:
    return "".join(
        f"<member><{key}>{escape(k)}</{key}><{value}>{escape(v)}</{value}></member>"
        for k, v in items.items()
    )


def _stack_xml(stack: StackState) -> str:
    reason = (
        f"<StackStatusReason>{escape(stack.reason)}</StackStatusReason>" if stack.reason else ""
    )
    return (
        f"<member><StackName>{escape(stack.name)}</StackName>"
        f"<StackId>{escape(stack.stack_id)}</StackId>"
        f"<CreationTime>{stack.created}</CreationTime>"
        f"<StackStatus>{stack.status}</StackStatus>{reason}"
        f"<Parameters>{_members(stack.parameters, 'ParameterKey', 'ParameterValue')}</Parameters>"
        f"<Outputs>{_members(stack.outputs, 'OutputKey', 'OutputValue')}</Outputs>"
        "</member>"
    )


class CloudFormationEmulator:
    """Stacks per (account, region, name)."""

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

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        if request.operation != "DescribeStacks":
            raise AwsError(400, "InvalidAction", f"Could not find operation {request.operation}")
        name = request.params.get("StackName")
        stacks = self.stacks(request.account, request.region)
        if name:
            stacks = [s for s in stacks if name in (s.name, s.stack_id)]
            if not stacks:
                raise AwsError(400, "ValidationError", f"Stack with id {name} does not exist")
        body = "".join(_stack_xml(stack) for stack in stacks)
        return xml_response(
            200,
            f'<DescribeStacksResponse xmlns="{XMLNS}"><DescribeStacksResult>'
            f"<Stacks>{body}</Stacks></DescribeStacksResult>"
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            "</DescribeStacksResponse>",
        )
