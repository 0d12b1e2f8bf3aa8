"""Seed data for the sandbox: the demo estate and a generated estate for benchmarks.

Why through the control API: seeding exercises the same path tests use, and works the same
whether the sandbox runs in-process or as a separate process.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence

from sandbox.client import AddonSeed, ClusterSeed, SandboxClient
from sandbox.services.kubernetes.objects import aws_node_daemonset

# The tags a user puts on a cluster. The sandbox shares no code with the auditor it checks
# (tests/unit/test_imports.py), so these mirror eks_netpol_auditor.model's; a test pins them.
EXEMPT_TAG = "eks-netpol-auditor:exempt"
AUTO_REMEDIATE_TAG = "eks-netpol-auditor:auto-remediate"
DEMO_REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")

_ENABLED_JSON = json.dumps({"enableNetworkPolicy": "true"})
_ENABLED_YAML = 'enableNetworkPolicy: "true"\nnodeAgent:\n  enablePolicyEventLogs: "true"\n'
# Strict enforcing mode: pods no NetworkPolicy selects are denied (vpc-cni
# NETWORK_POLICY_ENFORCING_MODE, v1.17.1+).
_STRICT_YAML = _ENABLED_YAML + "env:\n  NETWORK_POLICY_ENFORCING_MODE: strict\n"
_DISABLED_JSON = json.dumps(
    {"enableNetworkPolicy": "false", "env": {"ENABLE_PREFIX_DELEGATION": "true"}}
)


def seed_demo(client: SandboxClient) -> list[tuple[str, str]]:
    """~12 clusters across 3 regions covering every case the auditor distinguishes.

    Returns the (region, name) pairs present afterwards. Expected verdicts are in comments.
    """
    team = {"team": "platform"}
    add = client.add_cluster
    use1, euw1, apse2 = DEMO_REGIONS
    # us-east-1
    add(
        use1,
        "payments-prod",
        addon=AddonSeed(configuration_values=_ENABLED_JSON),
        tags={**team, "env": "prod"},
    )  # compliant: enabled via JSON
    add(
        use1,
        "checkout-staging",
        version="1.30",
        addon=AddonSeed(version="v1.18.3-eksbuild.3", configuration_values=_STRICT_YAML),
    )  # compliant: enabled via YAML, strict mode
    add(use1, "analytics-dev", addon=AddonSeed())  # non-compliant: absent key means off
    add(
        use1,
        "legacy-batch",
        version="1.27",
        platform_version="eks.4",
        addon=AddonSeed(version="v1.12.6-eksbuild.2"),
        authentication_mode="CONFIG_MAP",
    )  # add-on too old to enable; aws-auth only
    add(
        use1, "automode-web", version="1.32", auto_mode=True, addon=None
    )  # Auto Mode: no add-on, not visible through the EKS API
    # eu-west-1
    add(
        euw1,
        "ml-training",
        version="1.29",
        addon=AddonSeed(version="v1.16.4-eksbuild.2", configuration_values=_DISABLED_JSON),
    )  # non-compliant: explicitly "false"
    add(
        euw1, "cilium-edge", addon=None, tags={"cni": "cilium"}, endpoint_public_access=False
    )  # no vpc-cni (Cilium); private endpoint only
    add(
        euw1,
        "k8s124-legacy",
        version="1.24",
        platform_version="eks.15",
        omit_compute_config=True,
        addon=AddonSeed(version="v1.14.1-eksbuild.1"),
        public_access_cidrs=("203.0.113.0/24",),
    )  # Kubernetes too old; public endpoint for one office range only
    add(euw1, "research-sandbox", addon=AddonSeed(), tags={EXEMPT_TAG: "calico"})  # exempted by tag
    # ap-southeast-2
    add(
        apse2,
        "mobile-api",
        addon=AddonSeed(
            configuration_values=_ENABLED_JSON,
            status="DEGRADED",
            health_issues=(
                {
                    "code": "InsufficientNumberOfReplicas",
                    "message": "The add-on is unhealthy because it doesn't have the desired "
                    "number of replicas.",
                    "resourceIds": [],
                },
            ),
        ),
    )  # enabled, but the add-on is DEGRADED
    add(
        apse2, "new-cluster", status="CREATING", addon=AddonSeed(status="CREATING")
    )  # still being created
    add(
        apse2,
        "sydney-prod",
        tags={AUTO_REMEDIATE_TAG: "true"},
        addon=AddonSeed(
            version="v1.19.2-eksbuild.1",
            configuration_values=json.dumps({"env": {"WARM_IP_TARGET": "5"}}),
        ),
    )  # non-compliant with custom config to preserve; opted in to remediation
    seed_demo_deployment(client)
    seed_demo_kubernetes(client)
    return [(c["region"], c["name"]) for c in client.clusters()]


# What `cdk deploy` of the auditor stack leaves in the demo account (physical names in the
# form CloudFormation gives them). Mirrors eks_netpol_auditor.names.StackOutput.
DEMO_STACK_OUTPUTS = {
    "FunctionName": "EksNetpolAuditor-AuditorFunction3E6E0C0A-8fJ2kQ1mXb7Z",
    "LogGroupName": "EksNetpolAuditor-AuditorLogs8C1D4F2E-Qw3Er5Ty7Ui9",
    "AlarmTopicArn": "arn:aws:sns:us-east-1:123456789012:EksNetpolAuditor-AlarmTopic-Zx8Cv6Bn4Ml2",
    "DeadLetterQueueUrl": (
        "https://sqs.us-east-1.amazonaws.com/123456789012/EksNetpolAuditor-DeadLetters-Hj5Kl"
    ),
    "DashboardUrl": "https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards",
    "FailedByRegionInsightUrl": "https://console.aws.amazon.com/securityhub/home#/insights",
    "FindingsUrl": "https://console.aws.amazon.com/securityhub/home?region=us-east-1#/findings",
    "EventFunctionName": "EksNetpolAuditor-EventsFunction5A7B9C1D-Lm4Np6Qr8St0",
    "EventLogGroupName": "EksNetpolAuditor-EventsLogs2B4D6F8H-Uv1Wx3Yz5Ab7",
    "EventBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/eks-netpol-auditor-events",
    "EventQueueUrl": (
        "https://sqs.us-east-1.amazonaws.com/123456789012/EksNetpolAuditor-EventQueue-Cd9Ef1"
    ),
    "EventDeadLetterQueueUrl": (
        "https://sqs.us-east-1.amazonaws.com/123456789012/EksNetpolAuditor-EventDlq-Gh2Ij4"
    ),
    "EventPrerequisite": (
        "A CloudTrail trail with logging on must record this account's management events "
        "in every audited region."
    ),
}


# The Outputs the stack adds with InClusterCheck=true (infra/in_cluster.py).
_DEMO_ROLE = "arn:aws:iam::123456789012:role/EksNetpolAuditor-AuditorRole1A2B3C4D-Ef5Gh6Ij7Kl8"
DEMO_IN_CLUSTER_OUTPUTS = {
    "InClusterRoleArn": _DEMO_ROLE,
    "InClusterEnrolCommands": (
        "aws eks create-access-entry --region REGION --cluster-name CLUSTER --principal-arn "
        f"{_DEMO_ROLE} --type STANDARD && aws eks associate-access-policy --region REGION "
        f"--cluster-name CLUSTER --principal-arn {_DEMO_ROLE} --policy-arn "
        "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy --access-scope type=cluster"
    ),
}


def seed_demo_deployment(client: SandboxClient) -> None:
    """The auditor stack as deployed in the demo account, for `eks-netpol-audit doctor`:
    a healthy stack with the event path on; the scheduled function failed once last night
    (one ✗); a multi-region trail whose event selectors the caller may not read (one ?)."""
    home = DEMO_REGIONS[0]
    client.put_stack(
        home,
        "EksNetpolAuditor",
        status="UPDATE_COMPLETE",
        parameters={
            "AuditRegions": ",".join(DEMO_REGIONS),
            "FindingsRegion": "",
            "EventDrivenMode": "true",
            "CreateInsight": "true",
            "AutoRemediate": "false",
            "RemediationDryRun": "false",
            "ScheduleExpression": "rate(1 day)",
            # The demo scans with --in-cluster, so its stack has the check on too and
            # doctor's in-cluster line agrees with what the demo shows.
            "InClusterCheck": "true",
            "InClusterExcludeNamespaces": "",
            "InClusterEnrol": "false",
        },
        outputs={**DEMO_STACK_OUTPUTS, **DEMO_IN_CLUSTER_OUTPUTS},
    )
    now = time.time()
    function = {"FunctionName": DEMO_STACK_OUTPUTS["FunctionName"]}
    client.add_datapoints(home, "AWS/Lambda", "Errors", function, [(now - 6 * 3600, 1.0)])
    queue = {"QueueName": DEMO_STACK_OUTPUTS["EventQueueUrl"].rsplit("/", 1)[-1]}
    age = [(now - 600, 40.0), (now - 120, 95.0)]
    client.add_datapoints(home, "AWS/SQS", "ApproximateAgeOfOldestMessage", queue, age)
    client.put_trail("management-events", home_region=home, multi_region=True)
    client.add_fault("access_denied", service="cloudtrail", operation="GetEventSelectors")


# ---------------------------------------------------------------------- inside the clusters
# Who `make demo` runs as (the default account's principal): enrolled with
# AmazonEKSViewPolicy at cluster scope where the demo should be readable.
DEMO_AUDITOR = "arn:aws:iam::123456789012:user/sandbox"
# Second control (in-cluster) verdict each demo cluster shows with the check on:
DEMO_IN_CLUSTER = {
    ("us-east-1", "payments-prod"): "NAMESPACES_COVERED",
    ("us-east-1", "checkout-staging"): "DEFAULT_DENY",  # strict mode, agent running
    ("us-east-1", "analytics-dev"): "ENFORCEMENT_NOT_RUNNING",  # controller "false"
    ("us-east-1", "legacy-batch"): "ACCESS_ENTRIES_UNAVAILABLE",  # CONFIG_MAP
    ("us-east-1", "automode-web"): "NAMESPACES_WITHOUT_POLICY",  # namespace batch
    ("eu-west-1", "ml-training"): "NOT_ENROLLED",  # no access entry
    ("eu-west-1", "cilium-edge"): "ENDPOINT_PRIVATE",
    ("eu-west-1", "k8s124-legacy"): "ENDPOINT_UNREACHABLE",  # publicAccessCidrs
    ("eu-west-1", "research-sandbox"): "EXEMPTED",
    ("ap-southeast-2", "mobile-api"): "ENFORCEMENT_NOT_RUNNING",  # 1 of 3 agents ready
    ("ap-southeast-2", "new-cluster"): "CLUSTER_NOT_READY",
    ("ap-southeast-2", "sydney-prod"): "ENFORCEMENT_NOT_RUNNING",  # controller "false"
}
_NOT_ENROLLED = {("eu-west-1", "ml-training"), ("us-east-1", "legacy-batch")}


def _namespace(name: str, **labels: str) -> dict[str, object]:
    return {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": name, "labels": labels}}


def _policy(
    namespace: str, name: str, match: dict[str, str], types: list[str]
) -> dict[str, object]:
    """A NetworkPolicy; an empty ``match`` selects every pod of the namespace."""
    spec: dict[str, object] = {"podSelector": {"matchLabels": match} if match else {}}
    spec["policyTypes"] = types
    if "Ingress" in types and match:
        spec["ingress"] = [{"from": [{"podSelector": {}}]}]
    return {
        "kind": "NetworkPolicy",
        "apiVersion": "networking.k8s.io/v1",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


# An EKS admin network policy (EKS user guide, "Limit Pod traffic with Kubernetes network
# policies", ClusterNetworkPolicy): AmazonEKSViewPolicy cannot read it, as on EKS.
_DENY_IMDS: dict[str, object] = {
    "kind": "ClusterNetworkPolicy",
    "apiVersion": "networking.k8s.aws/v1alpha1",
    "metadata": {"name": "deny-instance-metadata"},
    "spec": {
        "tier": "Admin",
        "priority": 10,
        "subject": {"namespaces": {}},
        "egress": [
            {
                "name": "deny-imds",
                "action": "Deny",
                "to": [{"networks": ["169.254.169.254/32"]}],
            }
        ],
    },
}


def _workloads(
    client: SandboxClient,
    region: str,
    cluster: str,
    namespaces: dict[str, dict[str, int]],
    policies: Sequence[dict[str, object]] = (),
) -> None:
    """Namespaces with ``{app: pod count}``, CoreDNS in kube-system, and ``policies``."""
    objects = [_namespace(ns, team=ns) for ns in namespaces]
    client.put_kube_objects(region, cluster, [*objects, *policies])
    client.add_pods(
        region, cluster, "kube-system", prefix="coredns", count=2, labels={"k8s-app": "kube-dns"}
    )
    for ns, apps in namespaces.items():
        for app, count in apps.items():
            client.add_pods(region, cluster, ns, prefix=app, count=count, labels={"app": app})


def seed_demo_kubernetes(client: SandboxClient) -> None:
    """What is inside the demo clusters, so that the in-cluster check shows every row of
    its table (``DEMO_IN_CLUSTER``); the auditor is enrolled where it should read."""
    use1, euw1, apse2 = DEMO_REGIONS
    for region, name in DEMO_IN_CLUSTER:
        if (region, name) not in _NOT_ENROLLED and name != "new-cluster":
            client.put_access_entry(region, name, DEMO_AUDITOR)
    _workloads(
        client,
        use1,
        "payments-prod",
        {"payments": {"api": 3, "worker": 2}, "ledger": {"ledger": 2, "ledger-batch": 1}},
        [
            _policy("payments", "default-deny", {}, ["Ingress", "Egress"]),
            _policy("payments", "allow-api", {"app": "api"}, ["Ingress"]),
            _policy("ledger", "allow-ledger", {"app": "ledger"}, ["Ingress"]),
            _DENY_IMDS,
        ],
    )  # covered; ledger-batch is selected by no policy
    _workloads(client, use1, "checkout-staging", {"checkout": {"web": 2}, "cart": {"cart": 2}})
    _workloads(client, use1, "analytics-dev", {"analytics": {"spark": 3}})
    _workloads(client, use1, "legacy-batch", {"batch": {"job": 2}})
    # Auto Mode turns network policy on with this ConfigMap (EKS user guide, "Use Network
    # Policies with EKS Auto Mode"); there is no aws-node DaemonSet.
    client.put_kube_objects(
        use1,
        "automode-web",
        [
            {
                "kind": "ConfigMap",
                "apiVersion": "v1",
                "metadata": {"name": "amazon-vpc-cni", "namespace": "kube-system"},
                "data": {"enable-network-policy-controller": "true"},
            }
        ],
    )
    _workloads(
        client,
        use1,
        "automode-web",
        {"web": {"frontend": 3}, "batch": {"report": 2}},
        [_policy("web", "default-deny", {}, ["Ingress"])],
    )  # batch has pods and no policy
    _workloads(client, euw1, "ml-training", {"training": {"trainer": 2}})
    _workloads(client, euw1, "research-sandbox", {"research": {"notebook": 1}})
    _workloads(client, apse2, "mobile-api", {"mobile": {"api": 3}})
    # The add-on is DEGRADED: only one node agent of three is ready.
    client.put_kube_objects(apse2, "mobile-api", [_aws_node_degraded()])
    _workloads(client, apse2, "sydney-prod", {"mobile-backend": {"api": 2}})


def _aws_node_degraded() -> dict[str, object]:
    daemonset = aws_node_daemonset(
        version="v1.19.0-eksbuild.1", created=0, rv=1, agent=True, network_policy="true", ready=1
    )
    return {k: v for k, v in daemonset.items() if k != "metadata"} | {
        "metadata": {
            "name": "aws-node",
            "namespace": "kube-system",
            "labels": {"k8s-app": "aws-node"},
        }
    }


def seed_scale(
    client: SandboxClient,
    clusters: int,
    regions: list[str],
    *,
    seed: int = 7,
    pods_per_cluster: int = 0,
    auditor: str = DEMO_AUDITOR,
) -> list[tuple[str, str]]:
    """``clusters`` clusters spread round-robin over ``regions`` with a realistic mix.

    Mix (deterministic for a given ``seed``): ~45% enabled, ~30% default, ~10% explicit
    false, ~5% old add-on, ~5% no add-on, ~5% Auto Mode. With ``pods_per_cluster``, each
    cluster also holds that many pods (``seed_scale_kubernetes``) and ``auditor`` is
    enrolled with AmazonEKSViewPolicy, for the in-cluster check at scale.
    """
    if not regions:
        raise ValueError("regions must not be empty")
    rng = random.Random(seed)
    batch: list[ClusterSeed] = []
    for i in range(clusters):
        region = regions[i % len(regions)]
        name = f"bench-{i:05d}"
        roll = rng.random()
        auto_mode = False
        addon: AddonSeed | None
        if roll < 0.45:
            addon = AddonSeed(configuration_values=_ENABLED_JSON)
        elif roll < 0.75:
            addon = AddonSeed()
        elif roll < 0.85:
            addon = AddonSeed(configuration_values=_DISABLED_JSON)
        elif roll < 0.90:
            addon = AddonSeed(version="v1.12.6-eksbuild.2")
        elif roll < 0.95:
            addon = None
        else:
            addon, auto_mode = None, True
        batch.append(ClusterSeed(region, name, addon=addon, auto_mode=auto_mode))
    client.add_clusters(batch)
    if pods_per_cluster:
        for cluster in batch:
            seed_scale_kubernetes(client, cluster.region, cluster.name, pods_per_cluster, auditor)
    return [(c.region, c.name) for c in batch]


SCALE_NAMESPACES = 3  # application namespaces per cluster; the first one has no policy


def seed_scale_kubernetes(
    client: SandboxClient, region: str, name: str, pods: int, auditor: str
) -> None:
    """``pods`` pods over ``SCALE_NAMESPACES`` namespaces, a default-deny policy in all but
    the first, and ``auditor`` enrolled: five control calls per cluster."""
    client.put_access_entry(region, name, auditor)
    namespaces = [f"team-{i}" for i in range(SCALE_NAMESPACES)]
    policies = [_policy(ns, "default-deny", {}, ["Ingress"]) for ns in namespaces[1:]]
    client.put_kube_objects(region, name, [*(_namespace(ns) for ns in namespaces), *policies])
    for index, ns in enumerate(namespaces):
        count = pods // SCALE_NAMESPACES + (1 if index < pods % SCALE_NAMESPACES else 0)
        if count:
            client.add_pods(region, name, ns, prefix="app", count=count, labels={"app": ns})


SEEDS: dict[str, Callable[[SandboxClient], object]] = {"demo": seed_demo}
