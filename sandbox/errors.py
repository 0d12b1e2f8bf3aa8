"""The one error type of the sandbox's service state: ``AwsError(status, code, message)``.

Why a typed exception (as moto's ``JsonRESTError``): state methods (``eks.clusters``,
``securityhub``...) decide *that* a call fails and with which documented error; only the
wire layer (``protocols.error_response``) decides how that error is spelled for the
service's protocol (restJson1 ``__type``, EC2 ``<Errors>``, query ``<ErrorResponse>``).
Stdlib only, so every service module may import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class AwsError(Exception):
    """An AWS service error: HTTP status, error code (the botocore model's shape name or
    the service's documented code) and message.

    ``fields`` are extra members some services return in the error body (EKS's
    ResourceNotFoundException carries ``clusterName``/``addonName``: botocore eks model,
    ``ResourceNotFoundException`` shape).
    """

    def __init__(
        self, status: int, code: str, message: str, fields: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(f"{code} ({status}): {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields: dict[str, Any] = dict(fields or {})

    def __repr__(self) -> str:
        return f"AwsError({self.status}, {self.code!r}, {self.message!r})"
