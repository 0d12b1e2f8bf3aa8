"""The seam between the sandbox's HTTP front end and its per-service emulators.

Every emulator implements `ServiceEmulator.handle`; the front end decodes SigV4 (region,
service), resolves the botocore operation name, applies injected faults and latency,
then calls the emulator. Keeping this contract tiny lets each service live in its own file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from sandbox.accounts import Identity


@dataclass(frozen=True)
class SandboxRequest:
    """One decoded AWS request.

    ``account`` is the caller's account, found from the access key id of the SigV4
    credential (``sandbox.accounts``): services key their state by it. ``params`` is the
    input by botocore member name (URI labels, query members and body merged, rest
    protocols only); ``caller`` the full identity (None in emulator unit tests).
    """

    operation: str  # botocore operation name, e.g. "DescribeAddon"
    method: str  # HTTP method
    path: str  # URL path without query string
    query: dict[str, list[str]]
    account: str
    region: str
    body: dict[str, Any]  # decoded JSON body ({} when empty)
    params: dict[str, Any] = field(default_factory=dict)
    caller: Identity | None = None


@dataclass(frozen=True)
class SandboxResponse:
    status: int
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        return json.dumps(self.body).encode()


def aws_error(
    status: int, code: str, message: str, fields: dict[str, Any] | None = None
) -> SandboxResponse:
    """A restJson1 error as botocore parses it: X-Amzn-ErrorType header plus message body,
    plus any members of the error shape (``fields``).

    See the Smithy AWS restJson1 protocol, "Operation error serialization".
    """
    return SandboxResponse(
        status=status,
        body={**(fields or {}), "message": message, "Message": message, "__type": code},
        headers={"X-Amzn-ErrorType": code},
    )


class ServiceEmulator(Protocol):
    def handle(self, request: SandboxRequest) -> SandboxResponse: ...

    def reset(self) -> None: ...


@runtime_checkable
class Journaled(Protocol):
    """A service whose calls CloudTrail records (EKS): the front end hands it every call it
    answered, with the response and the request id it sent."""

    def journal(
        self, request: SandboxRequest, response: SandboxResponse, request_id: str, user_agent: str
    ) -> None: ...
