"""The sandbox's AWS accounts: who is calling, from the access key id of the request.

Why: an organization is many accounts, each with its own credentials, enabled regions,
clusters and Security Hub. AWS identifies the caller's account by the access key id in
the SigV4 ``Credential=AKID/date/region/service/aws4_request`` scope; so does the sandbox.
An access key the sandbox does not know belongs to the default account (123456789012), so
the dummy ``testing`` credentials of every single-account test keep working.

Requests of a created account must be signed with its secret (``sigv4.py``:
``SignatureDoesNotMatch`` otherwise); the default account accepts any signature.

Identities follow the STS and CloudTrail references:

* GetCallerIdentity ``UserId``: ``AIDA...`` for an IAM user, ``AROA...:SESSION`` for an
  assumed role (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html,
  IAM user guide "IAM identifiers", unique ID prefixes);
* CloudTrail ``userIdentity`` (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/
  cloudtrail-event-reference-user-identity.html): ``type`` IAMUser or AssumedRole,
  ``principalId``, ``arn``, ``accountId``, ``accessKeyId``, and for a role session
  ``sessionContext.sessionIssuer`` {type Role, principalId, arn, accountId, userName}.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from typing import Any

from sandbox.regions import RegionState

DEFAULT_ACCOUNT = "123456789012"  # moto's default account id
DEFAULT_ACCESS_KEY = "testing"  # what sandbox_overrides() hands to boto3
DEFAULT_PRINCIPAL = f"arn:aws:iam::{DEFAULT_ACCOUNT}:user/sandbox"

_ACCOUNT_ID = re.compile(r"^\d{12}$")
# arn:aws:iam::ACCOUNT:user/[path/]NAME or arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
_USER_ARN = re.compile(r"^arn:aws:iam::(\d{12}):user/(?:[^/]+/)*([^/]+)$")
_ROLE_SESSION_ARN = re.compile(r"^arn:aws:sts::(\d{12}):assumed-role/([^/]+)/([^/]+)$")


def _unique_id(prefix: str, *parts: str) -> str:
    """A stable IAM unique id (``AIDA``/``AROA`` + 17 upper-case alphanumerics)."""
    digest = hashlib.sha256("/".join(parts).encode()).hexdigest().upper()
    return prefix + digest[:17]


@dataclass(frozen=True)
class Identity:
    """The caller as AWS sees it: account, access key and principal ARN."""

    account: str
    access_key_id: str
    arn: str

    @property
    def is_role_session(self) -> bool:
        return _ROLE_SESSION_ARN.match(self.arn) is not None

    @property
    def user_id(self) -> str:
        """GetCallerIdentity ``UserId`` (and CloudTrail ``principalId``)."""
        role = _ROLE_SESSION_ARN.match(self.arn)
        if role:
            return f"{_unique_id('AROA', role.group(1), role.group(2))}:{role.group(3)}"
        return _unique_id("AIDA", self.arn)

    def user_identity(self, session_created: str) -> dict[str, Any]:
        """CloudTrail's ``userIdentity`` element for this caller (reference above)."""
        role = _ROLE_SESSION_ARN.match(self.arn)
        if role is None:
            user = _USER_ARN.match(self.arn)
            return {
                "type": "IAMUser",
                "principalId": self.user_id,
                "arn": self.arn,
                "accountId": self.account,
                "accessKeyId": self.access_key_id,
                "userName": user.group(2) if user else self.arn.rsplit("/", 1)[-1],
            }
        account, role_name, _session = role.groups()
        return {
            "type": "AssumedRole",
            "principalId": self.user_id,
            "arn": self.arn,
            "accountId": self.account,
            "accessKeyId": self.access_key_id,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": _unique_id("AROA", account, role_name),
                    "arn": f"arn:aws:iam::{account}:role/{role_name}",
                    "accountId": account,
                    "userName": role_name,
                },
                "attributes": {"creationDate": session_created, "mfaAuthenticated": "false"},
            },
        }


class Account:
    """One account: its credentials, principal and enabled regions."""

    def __init__(
        self,
        account_id: str,
        access_key_id: str,
        secret_access_key: str,
        principal_arn: str,
        regions: RegionState,
    ) -> None:
        self.id = account_id
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.identity = Identity(account_id, access_key_id, principal_arn)
        self.regions = regions
        # The default account takes any key and secret (single-account tests and tools
        # sign with dummy credentials); created accounts must sign with their own secret.
        self.verifies_signatures = account_id != DEFAULT_ACCOUNT

    def to_dict(self) -> dict[str, Any]:
        """Control-API view (the secret included: these are sandbox-only credentials)."""
        return {
            "account": self.id,
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            "principal_arn": self.identity.arn,
            "enabled_regions": self.regions.enabled(),
        }


def _validated_principal(account_id: str, principal_arn: str | None) -> str:
    if principal_arn is None:
        return f"arn:aws:iam::{account_id}:user/sandbox"
    match = _USER_ARN.match(principal_arn) or _ROLE_SESSION_ARN.match(principal_arn)
    if match is None:
        raise ValueError(
            "principal_arn must be arn:aws:iam::ACCOUNT:user/NAME or "
            "arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION"
        )
    if match.group(1) != account_id:
        raise ValueError(f"principal_arn {principal_arn} is not in account {account_id}")
    return principal_arn


class Accounts:
    """Thread-safe registry: account id -> Account, access key id -> Account."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._default = Account(
            DEFAULT_ACCOUNT, DEFAULT_ACCESS_KEY, "testing", DEFAULT_PRINCIPAL, RegionState()
        )
        self._by_id: dict[str, Account] = {}
        self._by_key: dict[str, Account] = {}
        self.reset()

    @property
    def default(self) -> Account:
        return self._default

    def reset(self) -> None:
        """Only the default account, with the default regions."""
        with self._lock:
            self._default.regions.reset()
            self._by_id = {DEFAULT_ACCOUNT: self._default}
            self._by_key = {DEFAULT_ACCESS_KEY: self._default}

    def create(
        self,
        account_id: str,
        access_key_id: str,
        secret_access_key: str,
        principal_arn: str | None = None,
        enabled_regions: list[str] | None = None,
    ) -> Account:
        """Add an account (ValueError for a malformed id/ARN or a key already in use)."""
        if not _ACCOUNT_ID.match(account_id):
            raise ValueError(f"account must be 12 digits, got {account_id!r}")
        if not access_key_id or not secret_access_key:
            raise ValueError("access_key_id and secret_access_key are required")
        principal = _validated_principal(account_id, principal_arn)
        regions = RegionState()
        if enabled_regions is not None:
            regions.set_enabled(enabled_regions)
        with self._lock:
            if account_id in self._by_id:
                raise ValueError(f"account {account_id} already exists")
            if access_key_id in self._by_key:
                raise ValueError(f"access key {access_key_id} is already in use")
            account = Account(account_id, access_key_id, secret_access_key, principal, regions)
            self._by_id[account_id] = account
            self._by_key[access_key_id] = account
            return account

    def get(self, account_id: str | None) -> Account:
        """The account with this id (the default for None); KeyError when unknown."""
        if account_id is None:
            return self._default
        with self._lock:
            account = self._by_id.get(account_id)
        if account is None:
            raise KeyError(f"no account {account_id}")
        return account

    def for_access_key(self, access_key_id: str) -> Account:
        """The caller's account; unknown keys belong to the default account."""
        with self._lock:
            return self._by_key.get(access_key_id, self._default)

    def all(self) -> list[Account]:
        with self._lock:
            return sorted(self._by_id.values(), key=lambda a: a.id)
