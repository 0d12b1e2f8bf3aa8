"""CloudFormation wire handler: DescribeStacks in the query protocol's XML (the state and
its rules: ``backend.py``).

Wire shape (botocore ``cloudformation`` model 2010-05-15): the response is
``<DescribeStacksResponse><DescribeStacksResult><Stacks><member>`` with the Stack shape's
members (StackName, StackId, CreationTime and StackStatus are required; Parameters and
Outputs are ``member`` lists).
https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from xml.sax.saxutils import escape

from sandbox.errors import AwsError
from sandbox.protocols import xml_response
from sandbox.services.cloudformation.backend import CloudFormationBackend, StackState
from sandbox.wire import SandboxRequest, SandboxResponse

XMLNS = "http://cloudformation.amazonaws.com/doc/2010-05-15/"


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


class CloudFormationResponses:
    """DescribeStacks over the stacks of one ``CloudFormationBackend``."""

    def __init__(self, backend: CloudFormationBackend) -> None:
        self.backend = backend

    def reset(self) -> None:
        self.backend.reset()

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        if request.operation != "DescribeStacks":
            raise AwsError(400, "InvalidAction", f"Could not find operation {request.operation}")
        stacks = self.backend.describe_stacks(
            request.account, request.region, request.params.get("StackName")
        )
        body = "".join(_stack_xml(stack) for stack in stacks)
        return xml_response(
            200,
            f'<DescribeStacksResponse xmlns="{XMLNS}"><DescribeStacksResult>'
            f"<Stacks>{body}</Stacks></DescribeStacksResult>"
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            "</DescribeStacksResponse>",
        )
