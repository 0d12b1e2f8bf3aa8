"""The baseline: the audit as the CIS EKS Benchmark text describes it, one call at a time.

CIS Amazon EKS Benchmark 5.4.4 ("Ensure Network Policy is Enabled and set as
appropriate") audits with `aws eks list-clusters` and, per cluster,
`aws eks describe-addon --cluster-name NAME --addon-name vpc-cni` (then reads
`enableNetworkPolicy` in the configuration values). Scripted over an account, that is:
region by region, ListClusters, then DescribeAddon for each cluster, sequentially, with
plain boto3 (default client configuration). It publishes nothing and does not call
DescribeCluster, so it does strictly less work than our audit.

`sample_per_region` measures only the first N clusters of each region and extrapolates
each region linearly (listing time + N-cluster time x clusters / N); the result says so.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3
import yaml
from botocore.exceptions import ClientError

VPC_CNI = "vpc-cni"


@dataclass
class BaselineResult:
    wall_seconds: float  # measured, or extrapolated when `extrapolated`
    measured_seconds: float  # what actually ran
    clusters: int  # clusters listed
    clusters_measured: int  # clusters whose DescribeAddon ran
    extrapolated: bool
    enabled: int = 0  # clusters with enableNetworkPolicy "true"
    api_calls: Counter[str] = field(default_factory=Counter)


def network_policy_enabled(configuration_values: str | None) -> bool:
    """The CIS check: `enableNetworkPolicy` is "true" (JSON or YAML; absent means off)."""
    if not configuration_values:
        return False
    try:
        parsed: Any = yaml.safe_load(configuration_values)
    except yaml.YAMLError:
        return False
    return isinstance(parsed, dict) and str(parsed.get("enableNetworkPolicy")).lower() == "true"


def run_baseline(
    home_region: str,
    regions: Sequence[str] | None = None,
    *,
    sample_per_region: int | None = None,
) -> BaselineResult:
    """Audit every cluster sequentially; `regions` None means DescribeRegions decides."""
    started = time.perf_counter()
    session = boto3.session.Session()
    calls: Counter[str] = Counter()
    if regions is None:
        calls["ec2:DescribeRegions"] += 1
        response = session.client("ec2", region_name=home_region).describe_regions()
        regions = sorted(r["RegionName"] for r in response["Regions"] if "RegionName" in r)
    estimated = in_regions = 0.0
    total = measured = enabled = 0
    for region in regions:
        region_started = time.perf_counter()
        eks = session.client("eks", region_name=region)
        names: list[str] = []
        for page in eks.get_paginator("list_clusters").paginate():
            calls["eks:ListClusters"] += 1
            names.extend(page.get("clusters", []))
        listed = time.perf_counter()
        sample = names if sample_per_region is None else names[:sample_per_region]
        for name in sample:
            calls["eks:DescribeAddon"] += 1
            try:
                addon = eks.describe_addon(clusterName=name, addonName=VPC_CNI)["addon"]
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                    raise
                continue  # no managed vpc-cni: network policy not verifiable, not enabled
            enabled += network_policy_enabled(addon.get("configurationValues"))
        done = time.perf_counter()
        total += len(names)
        measured += len(sample)
        per_cluster = (done - listed) / len(sample) if sample else 0.0
        estimated += (listed - region_started) + per_cluster * len(names)
        in_regions += done - region_started
    measured_seconds = time.perf_counter() - started
    extrapolated = measured < total
    return BaselineResult(
        # Outside the regions (session, DescribeRegions) was measured; inside, estimated.
        wall_seconds=measured_seconds - in_regions + estimated
        if extrapolated
        else measured_seconds,
        measured_seconds=measured_seconds,
        clusters=total,
        clusters_measured=measured,
        extrapolated=extrapolated,
        enabled=enabled,
        api_calls=calls,
    )
