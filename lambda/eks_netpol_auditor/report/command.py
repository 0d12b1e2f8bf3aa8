"""`eks-netpol-audit report`, the shell: identify the caller, list its members, read the
findings, hand them to the pure `aggregate`. A ClientError becomes `ReportUnavailable`
(exit 3, one line); the CLI maps local setup mistakes to exit 2 as for scan."""

from __future__ import annotations

from collections.abc import Collection

from botocore.exceptions import ClientError

from ..aws import AwsClients, describe_error, error_code
from ..discovery import caller_identity
from ..securityhub.asff import CONTROLS
from ..securityhub.plan import NOT_ENABLED
from .aggregate import ADMINISTRATOR, Report, build_report
from .read import auditor_findings, coverage, member_accounts


class ReportUnavailable(RuntimeError):
    """Security Hub could not be read; the message says why and is one line."""


def run_report(
    region: str,
    statuses: Collection[str] = (),
    clients: AwsClients | None = None,
    controls: tuple[str, ...] = CONTROLS,
) -> Report:
    clients = clients or AwsClients()
    try:
        account, _, _ = caller_identity(clients, region)
    except ClientError as error:
        raise ReportUnavailable(f"cannot identify the account: {describe_error(error)}") from error
    securityhub = clients.securityhub(region)
    try:
        members = member_accounts(securityhub)
        findings = auditor_findings(securityhub, controls=controls)
        covered = coverage(securityhub, region)
    except ClientError as error:
        if error_code(error) == NOT_ENABLED:
            raise ReportUnavailable(
                f"Security Hub CSPM is not enabled for account {account} in {region}: run "
                "the report in the administrator's aggregation region "
                f"({describe_error(error)})"
            ) from error
        raise ReportUnavailable(
            f"cannot read Security Hub CSPM in {region}: {describe_error(error)}"
        ) from error
    return build_report(findings, {account: ADMINISTRATOR, **members}, statuses, covered, controls)
