"""Run settings from the environment, overridable by CLI flags or a manual Lambda event.

One contract for every front end, so the CLI in CI and the scheduled Lambda behave alike.
Every invalid value becomes a one-line ConfigError naming the variable or flag.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache

import boto3

from .incluster.model import DEFAULT_EXCLUDED_NAMESPACES
from .model import ComplianceStatus
from .names import FINDINGS_REFRESH_HOURS_DEFAULT, FINDINGS_REFRESH_HOURS_MAX, Env
from .settings_table import MAX_REMEDIATIONS_DEFAULT, REMEDIATION_COOLDOWN_MINUTES_DEFAULT

DEFAULT_HOME_REGION = "us-east-1"


class ConfigError(ValueError):
    """A setting is invalid; the message names it and is safe to show as one line."""


@dataclass(frozen=True)
class Settings:
    regions: tuple[str, ...] | None = None  # None means every enabled region
    publish: bool = False
    findings_region: str | None = None
    findings_refresh_hours: int = FINDINGS_REFRESH_HOURS_DEFAULT  # 0: re-import every run
    auto_remediate: bool = False
    dry_run: bool = False
    max_remediations: int = MAX_REMEDIATIONS_DEFAULT
    require_tag: bool = False
    remediation_cooldown_minutes: int = REMEDIATION_COOLDOWN_MINUTES_DEFAULT  # event runs only
    home_region: str = DEFAULT_HOME_REGION
    cluster_names: frozenset[str] | None = None  # narrows a manual run; disables archiving
    # The in-cluster check (issue 18): off by default; the exclusions always hold the
    # control plane's own namespaces, plus IN_CLUSTER_EXCLUDE_NAMESPACES.
    in_cluster_check: bool = False
    in_cluster_exclude_namespaces: frozenset[str] = DEFAULT_EXCLUDED_NAMESPACES
    in_cluster_enrol: bool = False
    # Threads shared by every region, and EKS calls in flight per region. EKS publishes no
    # API rate limits; 16 per region is a conservative share that botocore's standard
    # retries absorb if AWS throttles. The pool is sized so that this per-region cap, not
    # our thread count, bounds discovery: with 64 threads the pool was the bound at 1,000
    # clusters (bench/RESULTS.md, realistic model: 6.1 s against 4.5-4.7 s with 128, and no
    # more CPU). In flight stays at most 16 per region, so AWS sees no more load per region.
    # Lambda allows 1,024 threads and 1,024 file descriptors (Lambda quotas page); open
    # connections are bounded by the per-region cap (16 per region and service).
    max_workers: int = 128
    per_region_concurrency: int = 16


@cache
def known_regions() -> frozenset[str]:
    """Every region botocore knows EKS in, across partitions (offline endpoint data)."""
    session = boto3.session.Session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("eks", partition_name=partition)
    )


def parse_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise ConfigError(f"{name} must be true or false, got {value!r}")


def parse_count(name: str, value: str) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from None
    if number < 0:
        raise ConfigError(f"{name} must not be negative, got {number}")
    return number


def parse_region(name: str, value: str) -> str:
    region = value.strip()
    if region not in known_regions():
        raise ConfigError(f"{name}: unknown region {region!r}")
    return region


def parse_regions(name: str, value: str) -> tuple[str, ...] | None:
    """`all` means every enabled region; otherwise a comma list of known regions.

    An empty or blank value is an error, not "all": `--regions ""` or `AUDIT_REGIONS="  "`
    is far more likely a script whose variable came out empty than a wish to audit every
    region (issue 10, item 14).
    """
    text = value.strip()
    if text.lower() == "all":
        return None
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise ConfigError(
            f"{name} must be 'all' or a comma-separated list of regions, got {value!r}"
        )
    return tuple(dict.fromkeys(parse_region(name, region) for region in names))


# A namespace name is an RFC 1123 DNS label: at most 63 characters, lower-case letters,
# digits and '-', starting and ending with a letter or digit (Kubernetes documentation,
# "Namespaces" and "Object Names and IDs", DNS Label Names).
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def parse_namespaces(name: str, value: str) -> frozenset[str]:
    """A comma list of namespace names, added to the always-excluded defaults."""
    names = [part.strip() for part in value.split(",") if part.strip()]
    for namespace in names:
        if not _DNS_LABEL.fullmatch(namespace):
            raise ConfigError(
                f"{name}: {namespace!r} is not a namespace name (lower-case letters, digits "
                "and '-', at most 63, starting and ending with a letter or digit)"
            )
    return DEFAULT_EXCLUDED_NAMESPACES | frozenset(names)


def parse_statuses(name: str, values: Sequence[str]) -> frozenset[ComplianceStatus]:
    """`--status FAILED --status warning,not_available`: repeatable, comma lists, any case."""
    statuses: set[ComplianceStatus] = set()
    for value in values:
        for part in value.split(","):
            word = part.strip().upper()
            if word not in ComplianceStatus.__members__:
                known = ", ".join(ComplianceStatus.__members__)
                raise ConfigError(f"{name}: unknown status {part.strip()!r} (one of {known})")
            statuses.add(ComplianceStatus(word))
    return frozenset(statuses)


def configured_region(environ: Mapping[str, str]) -> str | None:
    """The caller's region as the AWS CLI finds it (AWS_REGION, AWS_DEFAULT_REGION, the
    profile's `region`), or None when none is configured."""
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if region := environ.get(variable):
            return parse_region(variable, region)
    region = boto3.session.Session().region_name
    return parse_region("the configured AWS region", region) if region else None


def home_region_from(environ: Mapping[str, str]) -> str:
    """Where the auditor runs: the Lambda's region, or the caller's configured region."""
    return configured_region(environ) or DEFAULT_HOME_REGION


# A value from a front end that takes precedence over a variable: (label, raw text). The
# label (a flag such as "--regions") is what an error message names.
Override = tuple[str, str]


def settings_from_env(
    environ: Mapping[str, str] | None = None, overrides: Mapping[Env, Override] | None = None
) -> Settings:
    """Settings from the environment, with `overrides` (CLI flags) replacing variables.

    An overridden variable is not read at all, so an invalid value in the environment does
    not stop a run whose flag says otherwise (docs/configuration.md: flags override).
    Blank variables count as unset, except AUDIT_REGIONS, where blank is an error.
    """
    env = os.environ if environ is None else environ
    given = overrides or {}

    def get(variable: Env) -> Override | None:
        if variable in given:
            return given[variable]
        value = env.get(variable)
        if value is None or (value.strip() == "" and variable is not Env.AUDIT_REGIONS):
            return None
        return variable.value, value

    settings = Settings(home_region=home_region_from(env))
    changes: dict[str, object] = {}
    if (found := get(Env.AUDIT_REGIONS)) is not None:
        changes["regions"] = parse_regions(*found)
    for variable, attribute in (
        (Env.PUBLISH_FINDINGS, "publish"),
        (Env.AUTO_REMEDIATE, "auto_remediate"),
        (Env.REMEDIATION_DRY_RUN, "dry_run"),
        (Env.REMEDIATION_REQUIRE_TAG, "require_tag"),
        (Env.IN_CLUSTER_CHECK, "in_cluster_check"),
        (Env.IN_CLUSTER_ENROL, "in_cluster_enrol"),
    ):
        if (found := get(variable)) is not None:
            changes[attribute] = parse_bool(*found)
    if (found := get(Env.FINDINGS_REGION)) is not None:
        changes["findings_region"] = parse_region(*found)
    if (found := get(Env.FINDINGS_REFRESH_HOURS)) is not None:
        hours = parse_count(*found)
        if hours > FINDINGS_REFRESH_HOURS_MAX:
            raise ConfigError(
                f"{found[0]} must be at most {FINDINGS_REFRESH_HOURS_MAX}, got {hours}"
            )
        changes["findings_refresh_hours"] = hours
    if (found := get(Env.MAX_REMEDIATIONS_PER_RUN)) is not None:
        changes["max_remediations"] = parse_count(*found)
    if (found := get(Env.REMEDIATION_COOLDOWN_MINUTES)) is not None:
        changes["remediation_cooldown_minutes"] = parse_count(*found)
    if (found := get(Env.IN_CLUSTER_EXCLUDE_NAMESPACES)) is not None:
        changes["in_cluster_exclude_namespaces"] = parse_namespaces(*found)
    return replace(settings, **changes)  # type: ignore[arg-type]
