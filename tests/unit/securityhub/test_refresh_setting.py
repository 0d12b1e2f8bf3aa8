"""FINDINGS_REFRESH_HOURS: how often an unchanged finding is re-imported (ingestion cost)."""

from __future__ import annotations

import pytest

from eks_netpol_auditor.config import ConfigError, settings_from_env
from eks_netpol_auditor.names import Env

BASE = {"AWS_REGION": "us-east-1"}


def test_default_is_once_a_day() -> None:
    assert settings_from_env(BASE).findings_refresh_hours == 24


@pytest.mark.parametrize(("value", "hours"), [("0", 0), (" 6 ", 6), ("720", 720)])
def test_accepted_values(value: str, hours: int) -> None:
    env = {**BASE, Env.FINDINGS_REFRESH_HOURS: value}
    assert settings_from_env(env).findings_refresh_hours == hours


@pytest.mark.parametrize("value", ["-1", "1.5", "day", "721"])
def test_refused_values_name_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match=r"^FINDINGS_REFRESH_HOURS"):
        settings_from_env({**BASE, Env.FINDINGS_REFRESH_HOURS: value})
