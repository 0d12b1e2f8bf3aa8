"""Small own emulators for EC2 DescribeRegions and STS GetCallerIdentity.

Why own code rather than moto: moto's DescribeRegions lists every region moto knows and
cannot model "this account has these regions enabled"; importing moto's server also costs
seconds per process (the benchmark starts the sandbox as a subprocess). The XML below
follows the EC2 and STS API references and is checked against botocore's parsers by
``tests/test_sandbox_services.py``.

* https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeRegions.html
* https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
"""

from __future__ import annotations

import re
import uuid
from xml.sax.saxutils import escape

from sandbox.protocols import ec2_error, query_error, xml_response
from sandbox.regions import RegionState
from sandbox.wire import SandboxRequest, SandboxResponse

# XML namespace URIs that real responses carry: identifiers inside the XML, never contacted.
EC2_XMLNS = "http://ec2.amazonaws.com/doc/2016-11-15/"
STS_XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"

_FILTER_NAME = re.compile(r"^Filter\.(\d+)\.Name$")


def _indexed(params: dict[str, str], prefix: str) -> list[str]:
    """Values of ``Prefix.1``, ``Prefix.2``... in index order (EC2 list serialisation)."""
    pattern = re.compile(rf"^{re.escape(prefix)}\.(\d+)$")
    found = [(int(m.group(1)), v) for k, v in params.items() if (m := pattern.match(k))]
    return [v for _, v in sorted(found)]


class Ec2Emulator:
    """EC2, DescribeRegions only; any other action is answered as unsupported."""

    def __init__(self, regions: RegionState) -> None:
        self._regions = regions

    def reset(self) -> None:
        """Region state is owned (and reset) by the server."""

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        if request.operation != "DescribeRegions":
            return ec2_error(
                400,
                "InvalidAction",
                f"The action {request.operation} is not valid for this "
                "web service (the sandbox emulates DescribeRegions only).",
            )
        params = {k: str(v) for k, v in request.body.items()}
        if params.get("DryRun", "").lower() == "true":
            return ec2_error(
                412, "DryRunOperation", "Request would have succeeded, but DryRun flag is set."
            )
        infos = self._regions.catalogue()
        if params.get("AllRegions", "").lower() != "true":
            infos = [i for i in infos if i.enabled]
        wanted = _indexed(params, "RegionName")
        if wanted:
            known = {i.name for i in infos}
            unknown = [n for n in wanted if n not in known]
            if unknown:
                return ec2_error(400, "InvalidParameterValue", f"Invalid region: {unknown[0]}")
            infos = [i for i in infos if i.name in wanted]
        for key, name in params.items():
            m = _FILTER_NAME.match(key)
            if not m:
                continue
            values = set(_indexed(params, f"Filter.{m.group(1)}.Value"))
            if name == "region-name":
                infos = [i for i in infos if i.name in values]
            elif name == "opt-in-status":
                infos = [i for i in infos if i.opt_in_status in values]
            elif name == "endpoint":
                infos = [i for i in infos if i.endpoint in values]
            else:
                return ec2_error(400, "InvalidParameterValue", f"The filter '{name}' is invalid")
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


class StsEmulator:
    """STS, GetCallerIdentity only: the caller is an IAM user of the sandbox account."""

    def __init__(self, user: str = "sandbox") -> None:
        self._user = user

    def reset(self) -> None:
        """Stateless."""

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        if request.operation != "GetCallerIdentity":
            return query_error(
                400, "InvalidAction", f"Could not find operation {request.operation}", STS_XMLNS
            )
        arn = f"arn:aws:iam::{request.account}:user/{escape(self._user)}"
        return xml_response(
            200,
            f'<GetCallerIdentityResponse xmlns="{STS_XMLNS}"><GetCallerIdentityResult>'
            f"<Arn>{arn}</Arn><UserId>AIDASANDBOXEXAMPLE0001</UserId>"
            f"<Account>{request.account}</Account></GetCallerIdentityResult>"
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            f"</GetCallerIdentityResponse>",
        )
