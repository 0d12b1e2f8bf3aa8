"""Seed data for the sandbox: the demo estate and a generated estate for benchmarks.

Why through the control API: seeding exercises the same path tests use, and works the same
whether the sandbox runs in-process or as a separate process.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable

from sandbox.client import AddonSeed, ClusterSeed, SandboxClient

# The tags a user puts on a cluster. The sandbox shares no code with the auditor it checks
# (tests/unit/test_imports.py), so these mirror eks_netpol_auditor.model's; a test pins them.
EXEMPT_TAG = "eks-netpol-auditor:exempt"
AUTO_REMEDIATE_TAG = "eks-netpol-auditor:auto-remediate"
DEMO_REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")

_ENABLED_JSON = json.dumps({"enableNetworkPolicy": "true"})
_ENABLED_YAML = 'enableNetworkPolicy: "true"\nnodeAgent:\n  enablePolicyEventLogs: "true"\n'
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
        addon=AddonSeed(version="v1.18.3-eksbuild.3", configuration_values=_ENABLED_YAML),
    )  # compliant: enabled via YAML
    add(use1, "analytics-dev", addon=AddonSeed())  # non-compliant: absent key means off
    add(
        use1,
        "legacy-batch",
        version="1.27",
        platform_version="eks.4",
        addon=AddonSeed(version="v1.12.6-eksbuild.2"),
    )  # add-on too old to enable
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
    add(euw1, "cilium-edge", addon=None, tags={"cni": "cilium"})  # no vpc-cni (Cilium)
    add(
        euw1,
        "k8s124-legacy",
        version="1.24",
        platform_version="eks.15",
        omit_compute_config=True,
        addon=AddonSeed(version="v1.14.1-eksbuild.1"),
    )  # Kubernetes too old
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
        },
        outputs=DEMO_STACK_OUTPUTS,
    )
    now = time.time()
    function = {"FunctionName": DEMO_STACK_OUTPUTS["FunctionName"]}
    client.add_datapoints(home, "AWS/Lambda", "Errors", function, [(now - 6 * 3600, 1.0)])
    queue = {"QueueName": DEMO_STACK_OUTPUTS["EventQueueUrl"].rsplit("/", 1)[-1]}
    age = [(now - 600, 40.0), (now - 120, 95.0)]
    client.add_datapoints(home, "AWS/SQS", "ApproximateAgeOfOldestMessage", queue, age)
    client.put_trail("management-events", home_region=home, multi_region=True)
    client.add_fault("access_denied", service="cloudtrail", operation="GetEventSelectors")


def seed_scale(
    client: SandboxClient, clusters: int, regions: list[str], *, seed: int = 7
) -> list[tuple[str, str]]:
    """``clusters`` clusters spread round-robin over ``regions`` with a realistic mix.

    Mix (deterministic for a given ``seed``): ~45% enabled, ~30% default, ~10% explicit
    false, ~5% old add-on, ~5% no add-on, ~5% Auto Mode.
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
    return [(c.region, c.name) for c in batch]


SEEDS: dict[str, Callable[[SandboxClient], object]] = {"demo": seed_demo}
