"""EC2 backend, DescribeRegions only: which regions the calling account has enabled.

Why own code rather than moto: moto's DescribeRegions lists every region moto knows and
cannot model "this account has these regions enabled". Follows
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeRegions.html . The
regions themselves belong to each account (``sandbox.accounts``, ``sandbox.regions``).
"""

from __future__ import annotations

import re

from sandbox.errors import AwsError
from sandbox.regions import RegionInfo, RegionState

_FILTER_NAME = re.compile(r"^Filter\.(\d+)\.Name$")


def _indexed(params: dict[str, str], prefix: str) -> list[str]:
    """Values of ``Prefix.1``, ``Prefix.2``... in index order (EC2 list serialisation)."""
    pattern = re.compile(rf"^{re.escape(prefix)}\.(\d+)$")
    found = [(int(m.group(1)), v) for k, v in params.items() if (m := pattern.match(k))]
    return [v for _, v in sorted(found)]


def describe_regions(regions: RegionState, params: dict[str, str]) -> list[RegionInfo]:
    """DescribeRegions over one account's regions (``AllRegions``, ``RegionName.N``,
    filters region-name / opt-in-status / endpoint)."""
    if params.get("DryRun", "").lower() == "true":
        raise AwsError(
            412, "DryRunOperation", "Request would have succeeded, but DryRun flag is set."
        )
    infos = regions.catalogue()
    if params.get("AllRegions", "").lower() != "true":
        infos = [i for i in infos if i.enabled]
    wanted = _indexed(params, "RegionName")
    if wanted:
        unknown = [n for n in wanted if n not in {i.name for i in infos}]
        if unknown:
            raise AwsError(400, "InvalidParameterValue", f"Invalid region: {unknown[0]}")
        infos = [i for i in infos if i.name in wanted]
    for key, name in params.items():
        m = _FILTER_NAME.match(key)
        if not m:
            continue
        values = set(_indexed(params, f"Filter.{m.group(1)}.Value"))
        if name == "region-name":
            infos = [i for i in infos if i.name in values]
        elif name == "opt-in-status":
            infos = [i for i in infos if i.opt_in_status in values]
        elif name == "endpoint":
            infos = [i for i in infos if i.endpoint in values]
        else:
            raise AwsError(400, "InvalidParameterValue", f"The filter '{name}' is invalid")
    return infos
