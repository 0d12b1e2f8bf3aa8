"""Version parsing for the support gates (pure).

EKS reports add-on versions as `v1.14.0-eksbuild.3`, Kubernetes versions as `1.29`
and platform versions as `eks.7`; comparisons are done on integer tuples.
"""

from __future__ import annotations

import re

_ADDON_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-eksbuild\.(\d+))?$")
_K8S_VERSION = re.compile(r"^(\d+)\.(\d+)$")
_PLATFORM_VERSION = re.compile(r"^eks\.(\d+)$")

# EKS user guide, "Limit pod traffic with Kubernetes network policies" (cni-network-policy.html):
# network policy needs VPC CNI v1.14.0 or later; the first managed add-on build that carries
# it is v1.14.0-eksbuild.3. Whether .1/.2 accepted the key is not documented, so we take the
# stricter reading and require eksbuild.3 for 1.14.0.
MIN_ADDON_VERSION = (1, 14, 0, 3)
MIN_KUBERNETES_VERSION = (1, 25)
# Same page: "minimum platform versions" for clusters that predate network policy support.
MIN_PLATFORM_VERSIONS = {(1, 25): 7, (1, 26): 6, (1, 27): 5}


def parse_addon_version(text: str) -> tuple[int, int, int, int] | None:
    match = _ADDON_VERSION.match(text.strip())
    if not match:
        return None
    major, minor, patch, build = match.groups()
    return int(major), int(minor), int(patch), int(build or 0)


def parse_kubernetes_version(text: str) -> tuple[int, int] | None:
    match = _K8S_VERSION.match(text.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def parse_platform_version(text: str) -> int | None:
    match = _PLATFORM_VERSION.match(text.strip())
    return int(match.group(1)) if match else None


def addon_supports_network_policy(version: str) -> bool:
    parsed = parse_addon_version(version)
    return parsed is not None and parsed >= MIN_ADDON_VERSION


def platform_version_required(version: str | None) -> bool:
    """Whether this Kubernetes version has a minimum platform version for network policy."""
    return parse_kubernetes_version(version or "") in MIN_PLATFORM_VERSIONS


def kubernetes_supports_network_policy(version: str | None, platform: str | None) -> bool:
    """True when the control plane can run the network policy controller.

    An unknown version is treated as unsupported: we would rather ask a human than pass.
    On 1.25/1.26/1.27 that includes the platform version: the user guide requires a minimum
    platform there, so an absent or unreadable one (not `eks.N`) cannot show it is met.
    From 1.28 on every platform version qualifies and the platform is not read at all.
    """
    parsed = parse_kubernetes_version(version or "")
    if parsed is None or parsed < MIN_KUBERNETES_VERSION:
        return False
    minimum_platform = MIN_PLATFORM_VERSIONS.get(parsed)
    if minimum_platform is None:
        return True
    platform_number = parse_platform_version(platform or "")
    return platform_number is not None and platform_number >= minimum_platform
