"""The release artifact: self-contained (no CDK bootstrap), reproducible, checkable.

Why: the people who deploy it through StackSets, Control Tower customizations or LZA
have no CDK bootstrap in their accounts and verify what they deploy with SHA256SUMS; a
template that needs a bootstrap bucket, or a rebuild that gives other bytes, fails them.
The release is built twice (the same way ``make release`` does) and compared byte for
byte.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra import release
from infra.release_code import CODE_BUCKET_PREFIX_PARAMETER, CODE_KEY_PARAMETER
from infra.stack import LAMBDA_DIR

Json = dict[str, Any]


@pytest.fixture(scope="module")
def builds() -> tuple[dict[str, bytes], dict[str, bytes]]:
    """Two complete builds of the release in this process."""
    return release.build(), release.build()


@pytest.fixture(scope="module")
def files(builds: tuple[dict[str, bytes], dict[str, bytes]]) -> dict[str, bytes]:
    return builds[0]


def _named(files: dict[str, bytes], suffix: str) -> tuple[str, bytes]:
    [(name, data)] = [(n, d) for n, d in files.items() if n.endswith(suffix)]
    return name, data


@pytest.fixture(scope="module")
def template(files: dict[str, bytes]) -> Json:
    [data] = [
        d
        for n, d in files.items()
        if n == f"eks-netpol-auditor-{release.project_version()}.template.json"
    ]
    loaded: Json = json.loads(data)
    return loaded


def test_two_builds_are_byte_identical(
    builds: tuple[dict[str, bytes], dict[str, bytes]],
) -> None:
    first, second = builds
    assert sorted(first) == sorted(second)
    for name in first:
        assert first[name] == second[name], name


def test_dist_holds_template_zip_and_sums(files: dict[str, bytes]) -> None:
    version = release.project_version()
    zip_name, code = _named(files, ".zip")
    assert zip_name == f"eks-netpol-auditor-lambda-{hashlib.sha256(code).hexdigest()}.zip"
    assert set(files) == {
        zip_name,
        f"eks-netpol-auditor-{version}.template.json",
        f"eks-netpol-auditor-forwarder-{version}.template.json",
        f"eks-netpol-auditor-org-{version}.template.json",
        "SHA256SUMS",
    }


def test_sha256sums_lists_every_other_file(files: dict[str, bytes]) -> None:
    listed = {}
    for line in files["SHA256SUMS"].decode().splitlines():
        digest, name = line.split("  ", 1)
        listed[name] = digest
    expected = {n: hashlib.sha256(d).hexdigest() for n, d in files.items() if n != "SHA256SUMS"}
    assert listed == expected


def templates_of(files: dict[str, bytes]) -> dict[str, bytes]:
    return {n: d for n, d in files.items() if n.endswith(".template.json")}


def test_templates_need_no_cdk_bootstrap(files: dict[str, bytes]) -> None:
    assert len(templates_of(files)) == 3
    for name, text in templates_of(files).items():
        template = json.loads(text)
        assert "CheckBootstrapVersion" not in template.get("Rules", {}), name
        assert "BootstrapVersion" not in template.get("Parameters", {}), name
        assert b"cdk-hnb659fds" not in text, name
        assert b"AssetParameters" not in text, name
        assert b"aws:cdk:path" not in text, name
        assert not [r for r in template["Resources"].values() if r["Type"] == "AWS::CDK::Metadata"]


def test_function_code_comes_from_regional_bucket_parameters(
    files: dict[str, bytes], template: Json
) -> None:
    # The scheduled and the event-driven function run the same code.
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert len(functions) == 2
    for function in functions:
        assert function["Properties"]["Code"] == {
            "S3Bucket": {
                "Fn::Join": ["-", [{"Ref": CODE_BUCKET_PREFIX_PARAMETER}, {"Ref": "AWS::Region"}]]
            },
            "S3Key": {"Ref": CODE_KEY_PARAMETER},
        }
    zip_name, _ = _named(files, ".zip")
    parameters = template["Parameters"]
    assert parameters[CODE_KEY_PARAMETER]["Default"] == (
        f"eks-netpol-auditor/{release.project_version()}/{zip_name}"
    )
    assert "Default" not in parameters[CODE_BUCKET_PREFIX_PARAMETER]


def test_each_functions_handler_is_defined_in_the_released_zip(
    files: dict[str, bytes], template: Json
) -> None:
    """Both entry points (scheduled, event) ship: a handler string that names a module or
    function missing from the zip would fail every invocation with Runtime.ImportModuleError."""
    _, code = _named(files, ".zip")
    handlers = sorted(
        r["Properties"]["Handler"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    )
    assert handlers == [
        "eks_netpol_auditor.handler.event_handler",
        "eks_netpol_auditor.handler.scheduled_handler",
    ]
    with zipfile.ZipFile(io.BytesIO(code)) as archive:
        for name in handlers:
            module, function = name.rsplit(".", 1)
            tree = ast.parse(archive.read(module.replace(".", "/") + ".py"))
            defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
            assert function in defined, name


# Room for the templates to grow before `aws cloudformation deploy --template-file`
# (TemplateBody) refuses them: 10 % of the limit.
TEMPLATE_SIZE_MARGIN = release.TEMPLATE_BODY_LIMIT // 10


def test_templates_fit_template_body_with_a_margin(files: dict[str, bytes]) -> None:
    """TemplateBody holds at most 51,200 bytes (botocore model, CreateStack); the
    README deploys with --template-file, which sends it as TemplateBody (issue 17
    item 19: the auditor template was 50,584 bytes)."""
    for name, data in templates_of(files).items():
        assert len(data) <= release.TEMPLATE_BODY_LIMIT - TEMPLATE_SIZE_MARGIN, (name, len(data))


def test_templates_are_versioned(files: dict[str, bytes]) -> None:
    for text in templates_of(files).values():
        description = json.loads(text)["Description"]
        assert description.startswith(f"eks-netpol-auditor {release.project_version()}:")


def test_zip_entries_are_normalized_and_complete(files: dict[str, bytes]) -> None:
    _, code = _named(files, ".zip")
    with zipfile.ZipFile(io.BytesIO(code)) as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert {(i.date_time, i.external_attr >> 16, i.create_system) for i in infos} == {
        (release.ZIP_EPOCH, 0o100644, 3)
    }
    assert "eks_netpol_auditor/handler.py" in names
    assert "yaml/__init__.py" in names
    assert not [
        n for n in names if "__pycache__" in n or n.endswith((".so", ".pyc")) or "/tests/" in n
    ]


def test_zip_ignores_mtimes_and_modes_of_the_checkout(tmp_path: Path) -> None:
    """Another checkout of the same commit (other clock, other umask) gives the same zip."""
    copy = tmp_path / "lambda"
    shutil.copytree(LAMBDA_DIR, copy)
    for path in copy.rglob("*"):
        if path.is_file():
            path.chmod(0o600)
            os.utime(path, (1_700_000_000, 1_700_000_000))
    assert release.deterministic_zip(release.bundled_files(copy)) == release.deterministic_zip(
        release.bundled_files(LAMBDA_DIR)
    )


def test_zip_changes_with_content() -> None:
    assert release.deterministic_zip({"a.py": b"1"}) != release.deterministic_zip({"a.py": b"2"})


def test_build_refuses_a_pyyaml_other_than_the_pin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yaml, "__version__", "0.0.1")
    with pytest.raises(RuntimeError, match=r"PyYAML 0\.0\.1 is installed"):
        release.bundled_files()


def test_release_templates_are_cfn_lint_clean(tmp_path: Path, files: dict[str, bytes]) -> None:
    from cfnlint.api import ManualArgs, lint_file

    for name, data in templates_of(files).items():
        (tmp_path / name).write_bytes(data)
        matches = lint_file(tmp_path / name, config=ManualArgs())
        assert not matches, [str(m) for m in matches]
