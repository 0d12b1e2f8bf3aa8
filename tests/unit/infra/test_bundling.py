"""The asset's S3 key follows what is shipped, PyYAML included (issue 10 item 9).

Why: CloudFormation updates the function's code only when the S3 key changes. If the
key were computed over ``lambda/`` alone, a synth from an environment with another
PyYAML would keep the old key and the deploy would silently keep the old code.
"""

from __future__ import annotations

from importlib.metadata import Distribution, PathDistribution
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

from eks_netpol_auditor.names import SCHEDULED_HANDLER
from infra.bundling import LocalPythonBundler, asset_code, yaml_distribution
from infra.stack import LAMBDA_DIR, RUNTIME


def fake_pyyaml(root: Path, version: str) -> Distribution:
    """An installed-looking PyYAML ``version`` (package, METADATA, licence, RECORD)."""
    site = root / version
    dist_info = site / f"pyyaml-{version}.dist-info"
    (site / "yaml").mkdir(parents=True)
    (dist_info / "licenses").mkdir(parents=True)
    (site / "yaml" / "__init__.py").write_text("__version__ = 'same code'\n")
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: PyYAML\nVersion: {version}\n"
    )
    (dist_info / "licenses" / "LICENSE").write_text("MIT\n")
    record = [
        "yaml/__init__.py,,",
        f"{dist_info.name}/METADATA,,",
        f"{dist_info.name}/licenses/LICENSE,,",
        f"{dist_info.name}/RECORD,,",
    ]
    (dist_info / "RECORD").write_text("\n".join(record) + "\n")
    return PathDistribution(dist_info)


def s3_key(yaml_dist: Distribution) -> str:
    app = cdk.App()
    stack = cdk.Stack(app, "AssetKey")
    bundler = LocalPythonBundler(LAMBDA_DIR, yaml_dist=yaml_dist)
    lambda_.Function(
        stack,
        "Function",
        runtime=RUNTIME,
        handler=SCHEDULED_HANDLER,
        code=asset_code(LAMBDA_DIR, RUNTIME.bundling_image, bundler),
    )
    template = Template.from_stack(stack).to_json()
    (function,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    ]
    key: str = function["Properties"]["Code"]["S3Key"]
    return key


def test_same_environment_same_key() -> None:
    assert s3_key(yaml_distribution()) == s3_key(yaml_distribution())


def test_another_pyyaml_version_changes_the_key(tmp_path: Path) -> None:
    # Identical code, only the version differs: the key must still change.
    old, new = fake_pyyaml(tmp_path, "6.0.1"), fake_pyyaml(tmp_path, "6.0.2")
    assert s3_key(old) != s3_key(new)
    assert s3_key(yaml_distribution()) not in {s3_key(old), s3_key(new)}


def test_pyyaml_licence_and_version_ship_in_the_asset(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    dist = fake_pyyaml(tmp_path, "6.0.2")
    assert LocalPythonBundler(LAMBDA_DIR, yaml_dist=dist).try_bundle(str(out), None)
    assert (out / "pyyaml-6.0.2.dist-info" / "licenses" / "LICENSE").read_text() == "MIT\n"
    assert "Version: 6.0.2" in (out / "pyyaml-6.0.2.dist-info" / "METADATA").read_text()
    # RECORD lists files of another install; shipping it would be wrong.
    assert not (out / "pyyaml-6.0.2.dist-info" / "RECORD").exists()
