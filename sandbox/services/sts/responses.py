"""STS wire handler: GetCallerIdentity in the ``query`` protocol's XML (who the caller
is: ``backend.py``); the XML is checked against botocore's ``query`` parser by the sandbox
tests.
"""

from __future__ import annotations

import uuid
from xml.sax.saxutils import escape

from sandbox.errors import AwsError
from sandbox.protocols import xml_response
from sandbox.services.sts.backend import caller_identity
from sandbox.wire import SandboxRequest, SandboxResponse

# XML namespace URI that real responses carry: an identifier inside the XML, never contacted.
STS_XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"


class StsResponses:
    """STS wire handler (stateless: the identity arrives with the request)."""

    def reset(self) -> None:
        """Stateless."""

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        if request.operation != "GetCallerIdentity":
            raise AwsError(400, "InvalidAction", f"Could not find operation {request.operation}")
        caller = caller_identity(request.caller)
        return xml_response(
            200,
            f'<GetCallerIdentityResponse xmlns="{STS_XMLNS}"><GetCallerIdentityResult>'
            f"<Arn>{escape(caller.arn)}</Arn><UserId>{escape(caller.user_id)}</UserId>"
            f"<Account>{caller.account}</Account></GetCallerIdentityResult>"
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            f"</GetCallerIdentityResponse>",
        )
