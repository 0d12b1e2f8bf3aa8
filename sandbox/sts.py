"""STS emulator, GetCallerIdentity only: the caller's account, ARN and UserId, as the
account registry (``sandbox.accounts``) knows them from the request's access key.

https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html ; the
XML is checked against botocore's ``query`` parser by the sandbox tests.
"""

from __future__ import annotations

import uuid
from xml.sax.saxutils import escape

from sandbox.accounts import DEFAULT_ACCESS_KEY, DEFAULT_ACCOUNT, DEFAULT_PRINCIPAL, Identity
from sandbox.errors import AwsError
from sandbox.protocols import xml_response
from sandbox.wire import SandboxRequest, SandboxResponse

# XML namespace URI that real responses carry: an identifier inside the XML, never contacted.
STS_XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"


class StsEmulator:
    """STS wire handler (stateless: the identity arrives with the request)."""

    def reset(self) -> None:
        """Stateless."""

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        if request.operation != "GetCallerIdentity":
            raise AwsError(400, "InvalidAction", f"Could not find operation {request.operation}")
        caller = request.caller or Identity(DEFAULT_ACCOUNT, DEFAULT_ACCESS_KEY, DEFAULT_PRINCIPAL)
        return xml_response(
            200,
            f'<GetCallerIdentityResponse xmlns="{STS_XMLNS}"><GetCallerIdentityResult>'
            f"<Arn>{escape(caller.arn)}</Arn><UserId>{escape(caller.user_id)}</UserId>"
            f"<Account>{caller.account}</Account></GetCallerIdentityResult>"
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            f"</GetCallerIdentityResponse>",
        )
