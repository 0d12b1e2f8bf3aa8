"""Docker-free bundling of the Lambda asset.

Why this exists: the Python Lambda runtime ships boto3 but not PyYAML, and the
audit engine parses vpc-cni ``configurationValues`` written as YAML as well as
JSON. Powertools comes from the AWS-managed layer, so PyYAML is the only
third-party dependency. PyYAML falls back to pure Python when its C extension
(``yaml/_yaml*.so``) is missing, so copying the ``yaml`` package of the
installed (synthesizing) environment, minus the compiled extension, gives an
asset that works on any Python 3 Lambda runtime and any architecture.

CDK's ``BundlingOptions`` always requires a Docker image; ``try_bundle``
returning ``True`` tells CDK the local bundler did the work, so Docker is never
started. This keeps ``make synth`` working on machines without Docker.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import jsii
import yaml
from aws_cdk import ILocalBundling

PACKAGE_NAME = "eks_netpol_auditor"

# What must never ship: tests, byte code, tool caches, packaging metadata and
# compiled extensions built for the synthesizing machine, not for Lambda.
EXCLUDE_PATTERNS: tuple[str, ...] = (
    "tests",
    "test_*.py",
    "*_test.py",
    "conftest.py",
    "__pycache__",
    "*.pyc",
    "*.pyo",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".hypothesis",
    "*.egg-info",
    "*.so",
    "*.pyd",
)


def yaml_package_dir() -> Path:
    """Directory of the pure-Python ``yaml`` package in the current environment."""
    return Path(yaml.__file__).resolve().parent


@jsii.implements(ILocalBundling)
class LocalPythonBundler:
    """Copy the auditor package and pure-Python PyYAML into the asset directory."""

    def __init__(self, source_dir: Path, package_name: str = PACKAGE_NAME) -> None:
        self._package_src = source_dir / package_name
        self._package_name = package_name

    def try_bundle(self, output_dir: str, options: Any = None) -> bool:
        """Bundle locally; always succeeds, so the Docker image is never used.

        jsii passes the ``BundlingOptions`` as one positional struct; they are not
        needed here.
        """
        del options
        if not self._package_src.is_dir():
            msg = f"Lambda package not found: {self._package_src}"
            raise FileNotFoundError(msg)
        ignore = shutil.ignore_patterns(*EXCLUDE_PATTERNS)
        out = Path(output_dir)
        shutil.copytree(
            self._package_src, out / self._package_name, ignore=ignore, dirs_exist_ok=True
        )
        shutil.copytree(yaml_package_dir(), out / "yaml", ignore=ignore, dirs_exist_ok=True)
        return True
