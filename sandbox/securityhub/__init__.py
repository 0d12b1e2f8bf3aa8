"""AWS Security Hub CSPM emulator for the local AWS sandbox (see ``emulator.py`` for why and
for the documents each behaviour comes from)."""

from sandbox.securityhub.emulator import SecurityHubEmulator, default_product_arn, parse_timestamp

__all__ = ["SecurityHubEmulator", "default_product_arn", "parse_timestamp"]
