"""The configuration contract: env vars, one-line errors naming the variable."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from eks_netpol_auditor import __version__, cli
from eks_netpol_auditor.config import ConfigError, Settings, parse_statuses, settings_from_env
from eks_netpol_auditor.model import ComplianceStatus
from eks_netpol_auditor.names import Env

BASE = {"AWS_REGION": "us-east-1"}


def test_defaults_are_read_only_all_regions() -> None:
    assert settings_from_env(BASE) == Settings(home_region="us-east-1")


def test_every_variable_is_read() -> None:
    settings = settings_from_env(
        {
            **BASE,
            "AUDIT_REGIONS": "eu-west-1, us-east-2,eu-west-1",
            "PUBLISH_FINDINGS": "TRUE",
            "FINDINGS_REGION": "eu-central-1",
            "AUTO_REMEDIATE": "true",
            "REMEDIATION_DRY_RUN": "False",
            "MAX_REMEDIATIONS_PER_RUN": "7",
            "REMEDIATION_REQUIRE_TAG": "true",
        }
    )
    assert settings.regions == ("eu-west-1", "us-east-2")
    assert settings.publish and settings.auto_remediate and settings.require_tag
    assert not settings.dry_run
    assert settings.findings_region == "eu-central-1"
    assert settings.max_remediations == 7


def test_in_cluster_is_off_by_default_and_excludes_the_control_planes_namespaces() -> None:
    settings = settings_from_env(BASE)
    assert not settings.in_cluster_check and not settings.in_cluster_enrol
    assert settings.in_cluster_exclude_namespaces == {
        "kube-system",
        "kube-public",
        "kube-node-lease",
    }


def test_in_cluster_variables_are_read_and_exclusions_add_to_the_defaults() -> None:
    settings = settings_from_env(
        {
            **BASE,
            "IN_CLUSTER_CHECK": "true",
            "IN_CLUSTER_ENROL": "TRUE",
            "IN_CLUSTER_EXCLUDE_NAMESPACES": " monitoring,istio-system ,, monitoring",
        }
    )
    assert settings.in_cluster_check and settings.in_cluster_enrol
    assert settings.in_cluster_exclude_namespaces == {
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "monitoring",
        "istio-system",
    }


def test_all_means_every_enabled_region() -> None:
    assert settings_from_env({**BASE, "AUDIT_REGIONS": "ALL"}).regions is None


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("AUDIT_REGIONS", "us-east-1,mars-north-1", "AUDIT_REGIONS: unknown region 'mars-north-1'"),
        ("AUDIT_REGIONS", ",,", "AUDIT_REGIONS must be"),
        ("FINDINGS_REGION", "nowhere", "FINDINGS_REGION: unknown region"),
        ("PUBLISH_FINDINGS", "yes", "PUBLISH_FINDINGS must be true or false"),
        ("AUTO_REMEDIATE", "1", "AUTO_REMEDIATE must be true or false"),
        ("MAX_REMEDIATIONS_PER_RUN", "five", "MAX_REMEDIATIONS_PER_RUN must be a whole number"),
        ("MAX_REMEDIATIONS_PER_RUN", "-1", "MAX_REMEDIATIONS_PER_RUN must not be negative"),
        ("AWS_REGION", "moon-1", "AWS_REGION: unknown region"),
        ("IN_CLUSTER_CHECK", "on", "IN_CLUSTER_CHECK must be true or false"),
        ("IN_CLUSTER_ENROL", "yes", "IN_CLUSTER_ENROL must be true or false"),
        # Namespace names are DNS-1123 labels (Kubernetes "Object Names and IDs").
        ("IN_CLUSTER_EXCLUDE_NAMESPACES", "ok,Monitoring", "'Monitoring' is not a namespace"),
        ("IN_CLUSTER_EXCLUDE_NAMESPACES", "-lead", "'-lead' is not a namespace name"),
        ("IN_CLUSTER_EXCLUDE_NAMESPACES", "trail-", "'trail-' is not a namespace name"),
        ("IN_CLUSTER_EXCLUDE_NAMESPACES", "a.b", "'a.b' is not a namespace name"),
        ("IN_CLUSTER_EXCLUDE_NAMESPACES", "x" * 64, "is not a namespace name"),
    ],
)
def test_invalid_values_name_the_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        settings_from_env({**BASE, variable: value})
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_an_invalid_default_region_is_named_as_such() -> None:
    with pytest.raises(ConfigError, match="AWS_DEFAULT_REGION: unknown region 'moon-2'"):
        settings_from_env({"AWS_DEFAULT_REGION": "moon-2"})


@pytest.mark.parametrize("value", ["", "  ", " , ", "\t"])
def test_blank_audit_regions_is_an_error_not_all(value: str) -> None:
    with pytest.raises(ConfigError, match="AUDIT_REGIONS must be 'all' or a comma-separated"):
        settings_from_env({**BASE, "AUDIT_REGIONS": value})


def test_other_blank_variables_still_mean_unset() -> None:
    blank = dict.fromkeys(("PUBLISH_FINDINGS", "FINDINGS_REGION", "AUTO_REMEDIATE"), " ")
    assert settings_from_env({**BASE, **blank}) == Settings(home_region="us-east-1")


def test_an_override_replaces_the_variable_before_it_is_read() -> None:
    settings = settings_from_env(
        {**BASE, "AUDIT_REGIONS": "xx", "PUBLISH_FINDINGS": "maybe", "AUTO_REMEDIATE": "true"},
        overrides={
            Env.AUDIT_REGIONS: ("--regions", "eu-west-1"),
            Env.PUBLISH_FINDINGS: ("--no-publish", "false"),
            Env.AUTO_REMEDIATE: ("--no-remediate", "false"),
        },
    )
    assert settings.regions == ("eu-west-1",)
    assert not settings.publish
    assert not settings.auto_remediate


def test_an_invalid_override_names_the_flag() -> None:
    with pytest.raises(ConfigError, match="--regions: unknown region 'nowhere'"):
        settings_from_env(BASE, overrides={Env.AUDIT_REGIONS: ("--regions", "nowhere")})


def test_statuses_are_repeatable_comma_lists_in_any_case() -> None:
    assert parse_statuses("--status", ["failed", " WARNING,not_available "]) == {
        ComplianceStatus.FAILED,
        ComplianceStatus.WARNING,
        ComplianceStatus.NOT_AVAILABLE,
    }
    assert parse_statuses("--status", []) == frozenset()
    with pytest.raises(ConfigError, match="--status: unknown status 'OK'"):
        parse_statuses("--status", ["OK"])


def test_the_version_has_one_home_and_a_changelog_entry(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """pyproject reads __version__ (dynamic), --version prints it, CHANGELOG has it."""
    root = Path(__file__).resolve().parents[2]
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"]
    assert "version" in pyproject["project"]["dynamic"]
    attr = pyproject["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "eks_netpol_auditor.__version__"
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out == f"eks-netpol-audit {__version__}\n"
    changelog = (root / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in changelog
    assert f"## [{__version__}] - " in changelog
    assert "Apache License" in (root / "LICENSE").read_text()[:200]
    assert pyproject["project"]["license"] == "Apache-2.0"
