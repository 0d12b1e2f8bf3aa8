"""Wire encodings the sandbox speaks besides restJson1: the EC2 and AWS query protocols.

Why: botocore parses responses strictly per the service's protocol. EC2 returns
``<Response><Errors><Error><Code>`` XML, query services (STS) return ``<ErrorResponse>``,
and rest-json / json services return a JSON body with ``__type`` (see ``wire.aws_error``).
``error_response`` picks the right shape so faults look real for every service.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from xml.sax.saxutils import escape

from sandbox.errors import AwsError
from sandbox.wire import SandboxResponse, aws_error


@dataclass(frozen=True)
class RawResponse(SandboxResponse):
    """A response whose body is pre-encoded bytes (XML), not a JSON dict."""

    raw: bytes = b""

    def encode(self) -> bytes:
        return self.raw


def xml_response(status: int, text: str) -> RawResponse:
    return RawResponse(
        status=status,
        headers={"Content-Type": "text/xml;charset=UTF-8"},
        raw=('<?xml version="1.0" encoding="UTF-8"?>\n' + text).encode(),
    )


def ec2_error(status: int, code: str, message: str) -> RawResponse:
    """EC2 error XML, as in the EC2 API reference "Error codes" / botocore's EC2 parser."""
    request_id = uuid.uuid4()
    return xml_response(
        status,
        f"<Response><Errors><Error><Code>{escape(code)}</Code>"
        f"<Message>{escape(message)}</Message></Error></Errors>"
        f"<RequestID>{request_id}</RequestID></Response>",
    )


def query_error(status: int, code: str, message: str, xmlns: str = "") -> RawResponse:
    """AWS query protocol error XML (STS, IAM...)."""
    kind = "Receiver" if status >= 500 else "Sender"
    ns = f' xmlns="{xmlns}"' if xmlns else ""
    return xml_response(
        status,
        f"<ErrorResponse{ns}><Error><Type>{kind}</Type><Code>{escape(code)}</Code>"
        f"<Message>{escape(message)}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>",
    )


def error_response(
    protocol: str,
    status: int,
    code: str,
    message: str,
    *,
    query_codes: Mapping[str, str] | None = None,
) -> SandboxResponse:
    """An error in the wire shape of ``protocol`` (a botocore model ``protocol`` value)."""
    if protocol == "ec2":
        return ec2_error(status, code, message)
    if protocol == "query":
        return query_error(status, code, message)
    return _query_compatible(aws_error(status, code, message), query_codes)


def encode_error(
    protocol: str, error: AwsError, *, query_codes: Mapping[str, str] | None = None
) -> SandboxResponse:
    """``error`` raised by a service's state, spelled for ``protocol``."""
    if protocol in ("ec2", "query"):
        return error_response(protocol, error.status, error.code, error.message)
    response = aws_error(error.status, error.code, error.message, error.fields)
    return _query_compatible(response, query_codes)


def _query_compatible(
    response: SandboxResponse, query_codes: Mapping[str, str] | None
) -> SandboxResponse:
    """A JSON error of an awsQueryCompatible service (CloudWatch, SQS) also carries
    ``x-amzn-query-error: Code;Sender|Receiver``, the code its query API used (the error
    shape's ``error.code`` in the model: InvalidParameterValueException travels as
    InvalidParameterValue), which botocore reports as the error code (parsers.py,
    ``_do_query_compatible_error_parse``; Smithy ``aws.protocols#awsQueryCompatible``).
    Common errors without a shape (AccessDenied) keep their code."""
    if query_codes is None:
        return response
    shape = str(response.body.get("__type", ""))
    code = query_codes.get(shape, shape)
    kind = "Receiver" if response.status >= 500 else "Sender"
    return replace(response, headers={**response.headers, "x-amzn-query-error": f"{code};{kind}"})
