"""EKS wire handlers: a decoded request (operation + input by botocore member name) in, a
restJson1 response out. State and rules live in ``clusters``/``addons``/``backend``; every
mutating call is journaled as its CloudTrail event (``journal.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.errors import AwsError
from sandbox.services.eks import access, addons, clusters
from sandbox.services.eks.backend import EksBackend
from sandbox.services.eks.clusters import Caller
from sandbox.services.eks.journal import build_event, is_mutating
from sandbox.wire import SandboxRequest, SandboxResponse

Operation = Callable[[EksBackend, Caller, dict[str, Any]], dict[str, Any]]

OPERATIONS: dict[str, Operation] = {
    "ListClusters": clusters.list_clusters,
    "DescribeCluster": clusters.describe_cluster,
    "CreateCluster": access.create_cluster,  # clusters.create_cluster + accessConfig
    "DeleteCluster": clusters.delete_cluster,
    "UpdateClusterConfig": clusters.update_cluster_config,
    "TagResource": clusters.tag_resource,
    "UntagResource": clusters.untag_resource,
    "ListTagsForResource": clusters.list_tags,
    "ListAddons": addons.list_addons,
    "DescribeAddon": addons.describe_addon,
    "DescribeAddonConfiguration": addons.describe_addon_configuration,
    "CreateAddon": addons.create_addon,
    "DeleteAddon": addons.delete_addon,
    "UpdateAddon": addons.update_addon,
    "DescribeUpdate": addons.describe_update,
    "CreateAccessEntry": access.create_access_entry,
    "DescribeAccessEntry": access.describe_access_entry,
    "DeleteAccessEntry": access.delete_access_entry,
    "ListAccessEntries": access.list_access_entries,
    "AssociateAccessPolicy": access.associate_access_policy,
    "ListAssociatedAccessPolicies": access.list_associated_access_policies,
}


# EKS rejects a clientRequestToken outside 33-126 characters on the operations that take
# one (InvalidParameterException "The client request token parameter must be between 33
# and 126 characters", reported for CreateCluster in ansible-collections/community.aws#817
# and #844); the botocore model and the API reference give no limit. botocore fills an
# absent token with a 36-character UUID (the model's idempotencyToken trait).
TOKEN_LENGTH = (33, 126)


def _check_token(params: dict[str, Any]) -> None:
    token = params.get("clientRequestToken")
    low, high = TOKEN_LENGTH
    if token is not None and not low <= len(str(token)) <= high:
        raise AwsError(
            400,
            "InvalidParameterException",
            f"The client request token parameter must be between {low} and {high} characters.",
        )


class EksResponses:
    """The EKS service of the sandbox, over one ``EksBackend`` shared with the control API."""

    def __init__(self, backend: EksBackend) -> None:
        self.backend = backend

    def reset(self) -> None:
        self.backend.reset()

    def journal(
        self, request: SandboxRequest, response: SandboxResponse, request_id: str, user_agent: str
    ) -> None:
        """Record a mutating call, failed ones included, as its CloudTrail event. The front
        end calls this for every answered call (faults included), never for one that failed
        authentication (``wire.Journaled``)."""
        if request.caller is None or not is_mutating(request.operation):
            return
        outcome = (response.status, response.body)
        event = build_event("eks", request, request.caller, outcome, request_id, user_agent)
        self.backend.journal.record(event)

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        operation = OPERATIONS.get(request.operation)
        if operation is None:
            # A real EKS operation the sandbox does not emulate: fail loudly, not silently.
            raise AwsError(
                400,
                "InvalidRequestException",
                f"The sandbox does not emulate eks:{request.operation}",
            )
        _check_token(request.params)
        with self.backend.lock:
            self.backend.settle_due()
            principal = request.caller.arn if request.caller else None
            caller = Caller(request.account, request.region, principal)
            body = operation(self.backend, caller, request.params)
        return SandboxResponse(200, body)
