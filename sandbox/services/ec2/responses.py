"""EC2 wire handler: DescribeRegions in the ``ec2`` protocol's XML (the rules:
``backend.py``); the XML is checked against botocore's ``ec2`` parser by the sandbox tests.
"""

from __future__ import annotations

import uuid

from sandbox.accounts import Accounts
from sandbox.errors import AwsError
from sandbox.protocols import xml_response
from sandbox.services.ec2.backend import describe_regions
from sandbox.wire import SandboxRequest, SandboxResponse

# XML namespace URI that real responses carry: an identifier inside the XML, never contacted.
EC2_XMLNS = "http://ec2.amazonaws.com/doc/2016-11-15/"


class Ec2Responses:
    """EC2 wire handler; any action but DescribeRegions is answered as unsupported."""

    def __init__(self, accounts: Accounts) -> None:
        self._accounts = accounts

    def reset(self) -> None:
        """Region state is owned (and reset) by the account registry."""

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        if request.operation != "DescribeRegions":
            raise AwsError(
                400,
                "InvalidAction",
                f"The action {request.operation} is not valid for this "
                "web service (the sandbox emulates DescribeRegions only).",
            )
        regions = self._accounts.get(request.account).regions
        infos = describe_regions(regions, {k: str(v) for k, v in request.body.items()})
        items = "".join(
            f"<item><regionName>{i.name}</regionName>"
            f"<regionEndpoint>{i.endpoint}</regionEndpoint>"
            f"<optInStatus>{i.opt_in_status}</optInStatus></item>"
            for i in infos
        )
        return xml_response(
            200,
            f'<DescribeRegionsResponse xmlns="{EC2_XMLNS}">'
            f"<requestId>{uuid.uuid4()}</requestId>"
            f"<regionInfo>{items}</regionInfo></DescribeRegionsResponse>",
        )
