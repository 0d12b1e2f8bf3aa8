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

The asset's hash (its S3 key) is computed over the bundling *output*
(``AssetHashType.OUTPUT``), not over ``lambda/``: a synth from an environment with
another PyYAML must upload a new object, or CloudFormation would see an unchanged
key and silently keep the old code. PyYAML's ``.dist-info`` (METADATA with its
version, and its licence file, which the MIT licence requires to travel with
copies) is shipped beside the package, so the version is part of that hash too.
"""

from __future__ import annotations

import shutil
from importlib.metadata import Distribution, distribution
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

PACKAGE_NAME = "eks_netpol_auditor"
YAML_DISTRIBUTION = "PyYAML"
YAML_PACKAGE = "yaml"

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


def yaml_distribution() -> Distribution:
    """The PyYAML installed in the synthesizing environment."""
    return distribution(YAML_DISTRIBUTION)


def dist_info_files(dist: Distribution) -> list[Path]:
    """METADATA and licence files of ``dist``, relative to its install root."""
    wanted = []
    for file in dist.files or []:
        parts = file.parts
        if not parts[0].endswith(".dist-info"):
            continue
        if file.name == "METADATA" or "licenses" in parts or file.name.startswith("LICENSE"):
            wanted.append(Path(str(file)))
    return sorted(wanted)


@jsii.implements(ILocalBundling)
class LocalPythonBundler:
    """Copy the auditor package and pure-Python PyYAML (with its licence) into the asset."""

    def __init__(
        self,
        source_dir: Path,
        package_name: str = PACKAGE_NAME,
        yaml_dist: Distribution | None = None,
    ) -> None:
        self._package_src = source_dir / package_name
        self._package_name = package_name
        self._yaml = yaml_dist or yaml_distribution()

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
        yaml_root = Path(str(self._yaml.locate_file(""))).resolve()
        shutil.copytree(
            yaml_root / YAML_PACKAGE, out / YAML_PACKAGE, ignore=ignore, dirs_exist_ok=True
        )
        for relative in dist_info_files(self._yaml):
            target = out / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(yaml_root / relative, target)
        return True


def asset_code(
    source_dir: Path, image: DockerImage, bundler: LocalPythonBundler | None = None
) -> lambda_.Code:
    """The function's code: bundled locally, keyed by the hash of what is shipped."""
    return lambda_.Code.from_asset(
        str(source_dir),
        exclude=list(EXCLUDE_PATTERNS),
        asset_hash_type=AssetHashType.OUTPUT,
        bundling=BundlingOptions(
            # Required by the API, never pulled: the local bundler always succeeds.
            image=image,
            # jsii calls try_bundle(output_dir, options) positionally, which the
            # generated keyword-only protocol signature cannot express.
            local=bundler or LocalPythonBundler(source_dir),  # type: ignore[arg-type]
            command=["false"],
        ),
    )
