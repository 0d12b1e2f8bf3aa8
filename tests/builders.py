"""Values and builders that many test modules share, so each has one home.

ACCOUNT is the sandbox's account (sandbox.server.DEFAULT_ACCOUNT); ENABLED_CONFIG is the VPC CNI
add-on configuration that turns network policy enforcement on, and ENABLED seeds it in the sandbox.
"""

from __future__ import annotations

from sandbox.client import AddonSeed

ACCOUNT = "123456789012"
ENABLED_CONFIG = '{"enableNetworkPolicy":"true"}'
ENABLED = AddonSeed(configuration_values=ENABLED_CONFIG)
