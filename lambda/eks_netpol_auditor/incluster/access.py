"""The access the in-cluster check needs, stated once: the EKS access policy, the access
entry's shape and the AWS CLI commands that grant and remove it.

Stdlib only: the NOT_ENROLLED message (`verdict.py`), self-enrolment (`enrol.py`), the
stack's Output and its conditional IAM policy (`infra/in_cluster.py`) and the docs all
read these, so the commands a user is told to run are the requests the auditor would make.

Sources: EKS user guide, "Create access entries" (creating-access-entries.html) and
"Associate access policies with access entries" (access-policies.html); AWS CLI reference
`aws eks create-access-entry` (`--type STANDARD`), `aws eks associate-access-policy`
(`--access-scope` shorthand `type=cluster`) and `aws eks delete-access-entry`;
"Review access policy permissions": AmazonEKSViewPolicy reads namespaces, pods,
configmaps, daemonsets and networkpolicies, and no secrets.
"""

from __future__ import annotations

import shlex
from typing import Final

VIEW_POLICY_NAME: Final = "AmazonEKSViewPolicy"
ENTRY_TYPE: Final = "STANDARD"  # the only type that takes access policies (access-policies.html)
SCOPE_TYPE: Final = "cluster"  # every namespace: the check reads them all


def view_policy_arn(partition: str = "aws") -> str:
    """`arn:<partition>:eks::aws:cluster-access-policy/AmazonEKSViewPolicy` (the
    access-policy resource type, Service Authorization Reference for Amazon EKS)."""
    return f"arn:{partition}:eks::aws:cluster-access-policy/{VIEW_POLICY_NAME}"


def partition_of(arn: str) -> str:
    """The partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`); `aws` if it has none."""
    parts = arn.split(":", 2)
    return parts[1] if len(parts) == 3 and parts[0] == "arn" and parts[1] else "aws"


def _where(cluster: str, region: str | None, principal: str) -> str:
    """The arguments every command shares, in the order the EKS user guide's examples give them."""
    where = f"--region {region} " if region else ""
    return f"{where}--cluster-name {shlex.quote(cluster)} --principal-arn {shlex.quote(principal)}"


def enrolment_commands(
    role_arn: str, cluster: str, region: str | None = None, *, partition: str | None = None
) -> list[str]:
    """The two AWS CLI commands that let `role_arn` read `cluster`: a STANDARD access entry
    (no Kubernetes groups, the default username) and AmazonEKSViewPolicy at cluster scope.
    `partition` defaults to the role ARN's (give it when `role_arn` is a placeholder)."""
    where = _where(cluster, region, role_arn)
    return [
        f"aws eks create-access-entry {where} --type {ENTRY_TYPE}",
        f"aws eks associate-access-policy {where} "
        f"--policy-arn {view_policy_arn(partition or partition_of(role_arn))} "
        f"--access-scope type={SCOPE_TYPE}",
    ]


def removal_command(role_arn: str, cluster: str, region: str | None = None) -> str:
    """Deleting the access entry deletes its policy associations with it (EKS user guide,
    "Delete access entries")."""
    return f"aws eks delete-access-entry {_where(cluster, region, role_arn)}"


def access_entry_principal(caller_arn: str) -> str:
    """The IAM principal an access entry names, from a GetCallerIdentity ARN: a role session
    `arn:<p>:sts::<acct>:assumed-role/<role>/<session>` becomes `arn:<p>:iam::<acct>:role/<role>`
    (access entries cannot name an STS session: CreateAccessEntry, principalArn). The session
    ARN carries no role path (IAM identifiers), so a role with a path must be named in full."""
    parts = caller_arn.split(":", 5)
    if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        role = parts[5].split("/")[1]
        return f"arn:{parts[1]}:iam::{parts[4]}:role/{role}"
    return caller_arn
