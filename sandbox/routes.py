"""The control API's route table: the one list the server dispatches by
(``sandbox/control``), the client builds its URLs from (``sandbox/client.py``) and the
sandbox page documents (``docs/snippets/sandbox-control-api.md``, written by
``python -m tests.doc_samples``; tests/unit/sandbox/test_routes.py fails when they differ).

Why a table: the endpoints were listed three times (the control modules' route lists, the
client's URL strings and a docstring), and nothing kept the three in step.

Stdlib only: the client imports it, and importing the client must not pull in botocore.
``account``, where a row takes it, may be a body field or a query parameter; without it,
the default account 123456789012, unless the row says every account. Errors are
``{"error": "..."}`` with 400, 404 or 405.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

PREFIX = "/_sandbox"
_LABEL = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class Route:
    """One control endpoint. ``name`` is its handler's name in ``sandbox/control/`` and the
    client's key for it; ``template`` labels path segments as ``{region}``."""

    name: str
    method: str
    template: str
    takes: str  # body or query parameters, as the docs show them
    does: str

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(_LABEL.findall(self.template))

    def regex(self) -> re.Pattern[str]:
        """The full path (prefix included) with one group per label, in order."""
        parts = _LABEL.split(self.template)
        # split() alternates literal text and label names: escape the text, group the labels.
        pattern = "".join(re.escape(p) if i % 2 == 0 else "([^/]+)" for i, p in enumerate(parts))
        return re.compile(f"^{re.escape(PREFIX)}{pattern}$")

    def path(self, **labels: str) -> str:
        """The URL path for these label values, each percent-encoded as one segment."""
        if set(labels) != set(self.labels):
            raise TypeError(f"{self.name} needs {self.labels}, got {sorted(labels)}")
        return PREFIX + _LABEL.sub(lambda m: quote(labels[m.group(1)], safe=""), self.template)


def _r(name: str, method: str, template: str, takes: str, does: str) -> Route:
    return Route(name, method, template, takes, does)


ROUTES: tuple[Route, ...] = (
    # the sandbox as a whole (control/general.py)
    _r("health", "GET", "/health", "", "liveness and the default account"),
    _r("reset", "POST", "/reset", "", "everything back to defaults"),
    _r("get_settings", "GET", "/settings", "", "`auto_settle_seconds`, `enforce_enabled_regions`"),
    _r(
        "put_settings",
        "PUT",
        "/settings",
        "`{auto_settle_seconds?, enforce_enabled_regions?}`",
        "change them",
    ),
    _r("list_accounts", "GET", "/accounts", "", "every account"),
    _r(
        "create_account",
        "POST",
        "/accounts",
        "`{account, access_key_id, secret_access_key, principal_arn?, enabled_regions?}`",
        "add an account",
    ),
    _r("get_account", "GET", "/accounts/{account}", "", "one account"),
    _r("get_regions", "GET", "/regions", "`?account=`", "the account's enabled regions"),
    _r("put_regions", "PUT", "/regions", "`{enabled: [...]}`, `?account=`", "set them"),
    _r("get_faults", "GET", "/faults", "", "the fault rules"),
    _r(
        "add_fault",
        "POST",
        "/faults",
        "`{kind, service?, operation?, region?, cluster?, account?, when?, probability?, "
        "count?, seed?, message?, seconds?}`",
        "add a rule; answers its `id`",
    ),
    _r("clear_faults", "DELETE", "/faults", "", "remove every rule"),
    _r("delete_fault", "DELETE", "/faults/{id}", "", "remove one rule"),
    _r("get_latency", "GET", "/latency", "", "the latency model"),
    _r("put_latency", "PUT", "/latency", "`{base_ms?, region_ms?, service_ms?}`", "set it"),
    _r("clear_latency", "DELETE", "/latency", "", "no latency"),
    _r("get_calls", "GET", "/calls", "", "AWS call counts and peak concurrency"),
    _r("reset_calls", "DELETE", "/calls", "", "reset them"),
    # EKS (control/eks.py)
    _r("list_clusters", "GET", "/clusters", "`?region=&account=`", "cluster states with add-ons"),
    _r(
        "add_cluster",
        "POST",
        "/clusters",
        "`{region, name, account?, status?, version?, platform_version?, tags?, auto_mode?, "
        "omit_compute_config?, connector?, addon?, authentication_mode?, "
        "endpoint_public_access?, public_access_cidrs?}` (`addon`: as the add-on's `PUT`)",
        "seed a cluster",
    ),
    _r(
        "add_clusters",
        "POST",
        "/clusters:batch",
        "`{clusters: [...]}`",
        "seed many (each as above)",
    ),
    _r("get_cluster", "GET", "/clusters/{region}/{name}", "`?account=`", "one cluster's state"),
    _r(
        "patch_cluster",
        "PATCH",
        "/clusters/{region}/{name}",
        "`{status?, version?, platform_version?, tags?, auto_mode?, omit_compute_config?, "
        "authentication_mode?, endpoint_public_access?, public_access_cidrs?}`, "
        "`?account=`",
        "change it",
    ),
    _r("delete_cluster", "DELETE", "/clusters/{region}/{name}", "`?account=`", "remove it"),
    _r(
        "put_addon",
        "PUT",
        "/clusters/{region}/{name}/addon",
        "`{version?, status?, configuration_values?, health_issues?, "
        "service_account_role_arn?, tags?}`, `?account=`",
        "install or replace its vpc-cni add-on",
    ),
    _r(
        "delete_addon",
        "DELETE",
        "/clusters/{region}/{name}/addon",
        "`?account=`",
        "remove the add-on",
    ),
    _r(
        "updates",
        "GET",
        "/updates",
        "`?region=&cluster=&account=`",
        "the UpdateAddon calls accepted (every account without `account`)",
    ),
    _r(
        "settle",
        "POST",
        "/settle",
        "`{region?, cluster?, outcome?, account?}`",
        "finish pending EKS work as `Successful` or `Failed` (every account without `account`)",
    ),
    _r(
        "get_events",
        "GET",
        "/events",
        "`?account=&region=&event_name=`",
        "CloudTrail events of mutating EKS calls, as EventBridge delivers them (every account "
        "without `account`)",
    ),
    _r("clear_events", "DELETE", "/events", "", "forget them"),
    _r(
        "put_access_entry",
        "POST",
        "/clusters/{region}/{name}/access-entries",
        "`{principal_arn, policies?: [{policy_arn, scope?, namespaces?}], account?}`",
        "seed an EKS access entry (STANDARD) with its access policies",
    ),
    # inside the clusters: their Kubernetes APIs (control/kubernetes.py)
    _r(
        "put_kube_objects",
        "PUT",
        "/kubernetes/{region}/{name}/objects",
        "`{objects: [manifest, ...], account?}`",
        "create or replace Namespaces, ConfigMaps, DaemonSets, NetworkPolicies, "
        "ClusterNetworkPolicies (a stored `amazon-vpc-cni`/`aws-node` replaces the add-on's)",
    ),
    _r(
        "delete_kube_object",
        "DELETE",
        "/kubernetes/{region}/{name}/objects",
        "`?kind=&name=&namespace=&account=`",
        "remove one (also the add-on's ConfigMap or DaemonSet)",
    ),
    _r(
        "add_pods",
        "POST",
        "/kubernetes/{region}/{name}/pods",
        "`{namespace, names?, prefix?, count?, labels?, account?}`",
        "add running pods to an existing namespace",
    ),
    _r(
        "compact_kube",
        "POST",
        "/kubernetes/{region}/{name}/compact",
        "`?account=`",
        "etcd compaction: continue tokens issued so far answer 410 Expired",
    ),
    # Security Hub (control/securityhub.py); `account` is not checked against the accounts
    _r(
        "put_enabled",
        "PUT",
        "/securityhub/{region}",
        "`{enabled}`, `?account=` (every account without it)",
        "enable or disable Security Hub",
    ),
    _r(
        "findings",
        "GET",
        "/securityhub/{region}/findings",
        "`?account=`",
        "stored findings (every account's without `account`)",
    ),
    _r("ingestion", "GET", "/securityhub:ingestion", "", "finding ingestion events"),
    _r("reset_ingestion", "DELETE", "/securityhub:ingestion", "", "reset them"),
    _r("expire", "POST", "/securityhub:expire", "`{as_of}`", "apply finding retention"),
    _r("get_organization", "GET", "/securityhub:organization", "", "the organization"),
    _r(
        "put_organization",
        "PUT",
        "/securityhub:organization",
        "`{administrator, members, aggregation_region, linked_regions, member_statuses?}`",
        "set it",
    ),
    _r("delete_organization", "DELETE", "/securityhub:organization", "", "no organization"),
    # what a deployed stack leaves, read by `doctor` (control/deployment.py)
    _r("get_stacks", "GET", "/cloudformation/{region}/stacks", "`?account=`", "deployed stacks"),
    _r(
        "put_stack",
        "PUT",
        "/cloudformation/{region}/stacks/{name}",
        "`{status, reason, parameters, outputs, account?}`",
        "place a stack",
    ),
    _r(
        "delete_stack",
        "DELETE",
        "/cloudformation/{region}/stacks/{name}",
        "`?account=`",
        "remove it",
    ),
    _r(
        "add_datapoints",
        "POST",
        "/cloudwatch/datapoints",
        "`{region, namespace, metric, dimensions, points: [[epoch, value]], account?}`",
        "add CloudWatch datapoints",
    ),
    _r(
        "put_trail",
        "PUT",
        "/cloudtrail/trails/{name}",
        "`{home_region, multi_region, organization?, logging, event_selectors?, "
        "advanced_event_selectors?, account?}`",
        "place a CloudTrail trail",
    ),
    _r("delete_trail", "DELETE", "/cloudtrail/trails/{name}", "`?account=`", "remove it"),
)

ROUTE = {route.name: route for route in ROUTES}


def markdown() -> str:
    """The docs table (docs/snippets/sandbox-control-api.md)."""

    def rows() -> Iterator[str]:
        yield "| method | path | takes | does |"
        yield "|---|---|---|---|"
        for route in ROUTES:
            path = (PREFIX + route.template).replace("|", "\\|")
            takes = route.takes.replace("|", "\\|")
            yield f"| `{route.method}` | `{path}` | {takes} | {route.does} |"

    return "\n".join(rows()) + "\n"
