"""``make release``: the self-contained, reproducible release artifact in ``dist/``.

Why: organizations deploy with the CloudFormation console, StackSets, Control Tower
customizations or Landing Zone Accelerator, none of which has a CDK bootstrap in the
target account. So the release template has no BootstrapVersion rule, no asset
parameters and no bootstrap bucket (``BootstraplessSynthesizer``); the function's code
comes from ``CodeBucketPrefix``/``CodeKey`` (``infra.release_code``). The same commit
must give the same bytes, so that ``SHA256SUMS`` can be checked by anyone who rebuilds:
the zip has sorted entries, one fixed timestamp and fixed permissions, and PyYAML must
be the pinned version.

Layout (``aws s3 cp dist/ s3://PREFIX-REGION/eks-netpol-auditor/VERSION/ --recursive``):

* ``eks-netpol-auditor-VERSION.template.json``: the auditor stack;
* ``eks-netpol-auditor-forwarder-VERSION.template.json``: the event forwarder
  (``infra.forwarder``) for every audited region other than the home region;
* ``eks-netpol-auditor-org-VERSION.template.json``: the organization stack
  (``infra.org``), whose StackSets deploy the two templates above;
* ``eks-netpol-auditor-lambda-SHA256.zip``: the function's code, named by its content;
* ``SHA256SUMS``: ``sha256sum -c`` format.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import aws_cdk as cdk
import yaml

from eks_netpol_auditor import __version__
from eks_netpol_auditor.names import AUDITOR_STACK_NAME, PRODUCT
from infra.app_context import load_cdk_json_context
from infra.bundling import LocalPythonBundler
from infra.forwarder import EventForwarderStack
from infra.org import ORG_STACK_NAME, EksNetpolAuditorOrgStack
from infra.policy_plugins import add_policy_plugins
from infra.release_code import CodeFromParameters
from infra.stack import LAMBDA_DIR, REPO_ROOT, EksNetpolAuditorStack

FORWARDER_STACK_NAME = "EksNetpolAuditorForwarder"
SUMS_FILE = "SHA256SUMS"
# The earliest timestamp a zip entry can carry (MS-DOS epoch): nothing of the build
# machine's clock reaches the artifact.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
ZIP_FILE_MODE = 0o100644  # regular file, rw-r--r--
ZIP_UNIX = 3  # "created by" system: Unix, so external_attr carries the mode

Json = dict[str, Any]


def project_version() -> str:
    """The release version: ``eks_netpol_auditor.__version__``, its one home (pyproject.toml
    reads it as a dynamic version, ``--version`` prints it)."""
    return __version__


def pinned_version(package: str, requirements: Path = REPO_ROOT / "requirements.txt") -> str:
    """The exact version ``requirements.txt`` pins for ``package``."""
    for line in requirements.read_text(encoding="utf-8").splitlines():
        name, sep, version = line.partition("==")
        if sep and name.strip().lower() == package.lower():
            return version.strip()
    msg = f"{requirements}: no '{package}==' pin"
    raise LookupError(msg)


def deterministic_zip(files: Mapping[str, bytes]) -> bytes:
    """A zip whose bytes depend only on the paths and contents given.

    Entries are sorted, carry ``ZIP_EPOCH`` and mode 0644, no directory entries (Lambda
    needs none), deflate at a fixed level.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.create_system = ZIP_UNIX
            info.external_attr = ZIP_FILE_MODE << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name], compresslevel=9)
    return buffer.getvalue()


def bundled_files(source_dir: Path = LAMBDA_DIR) -> dict[str, bytes]:
    """The files of the Lambda asset, exactly as ``infra.bundling`` bundles them for CDK."""
    expected = pinned_version("PyYAML")
    if yaml.__version__ != expected:
        msg = f"PyYAML {yaml.__version__} is installed, requirements.txt pins {expected}"
        raise RuntimeError(msg)
    with tempfile.TemporaryDirectory() as tmp:
        LocalPythonBundler(source_dir).try_bundle(tmp)
        root = Path(tmp)
        return {
            path.relative_to(root).as_posix(): path.read_bytes()
            for path in root.rglob("*")
            if path.is_file()
        }


@dataclass(frozen=True)
class ReleaseNames:
    """File names and S3 keys of one release (one home for the layout)."""

    version: str
    code_sha256: str

    @property
    def key_prefix(self) -> str:
        return f"{PRODUCT}/{self.version}/"

    @property
    def zip_file(self) -> str:
        return f"{PRODUCT}-lambda-{self.code_sha256}.zip"

    @property
    def template_file(self) -> str:
        return f"{PRODUCT}-{self.version}.template.json"

    @property
    def org_template_file(self) -> str:
        return f"{PRODUCT}-org-{self.version}.template.json"

    @property
    def forwarder_template_file(self) -> str:
        return f"{PRODUCT}-forwarder-{self.version}.template.json"

    @property
    def forwarder_template_key(self) -> str:
        return self.key_prefix + self.forwarder_template_file

    @property
    def code_key(self) -> str:
        return self.key_prefix + self.zip_file

    @property
    def template_key(self) -> str:
        return self.key_prefix + self.template_file


class ReleaseApp(NamedTuple):
    """The release's app and its three stacks."""

    app: cdk.App
    auditor: EksNetpolAuditorStack
    forwarder: EventForwarderStack
    org: EksNetpolAuditorOrgStack


def release_app(names: ReleaseNames) -> ReleaseApp:
    """The app of the release: same feature flags and policy plugins as ``app.py``.

    Path metadata, version reporting and analytics are off: they would put CDK's
    construct paths and a metadata resource into a template meant for other tools.
    """
    context = {
        **load_cdk_json_context(),
        "aws:cdk:enable-path-metadata": False,
        "aws:cdk:version-reporting": False,
    }
    app = cdk.App(context=context, analytics_reporting=False, outdir=tempfile.mkdtemp())
    stack = EksNetpolAuditorStack(
        app,
        AUDITOR_STACK_NAME,
        code=CodeFromParameters(names.code_key),
        synthesizer=cdk.BootstraplessSynthesizer(),
        description=f"{PRODUCT} {names.version}: audits EKS vpc-cni enableNetworkPolicy "
        "(CIS EKS 5.4.4) in every region, publishes ASFF findings to Security Hub, "
        "optional remediation.",
    )
    forwarder = EventForwarderStack(
        app,
        FORWARDER_STACK_NAME,
        synthesizer=cdk.BootstraplessSynthesizer(),
        description=f"{PRODUCT} {names.version}: forwards EKS change events of this region "
        "to the auditor's event bus in the home region.",
    )
    org = EksNetpolAuditorOrgStack(
        app,
        ORG_STACK_NAME,
        auditor=stack,
        template_key=names.template_key,
        forwarder_template_key=names.forwarder_template_key,
        synthesizer=cdk.BootstraplessSynthesizer(),
        description=f"{PRODUCT} {names.version}: the auditor in every account of the "
        "organization's OUs (service-managed StackSet), its code bucket, and insights.",
    )
    add_policy_plugins(app)
    return ReleaseApp(app, stack, forwarder, org)


# CreateStack/UpdateStack TemplateBody: "a maximum length of 51,200 bytes" (botocore
# model of CloudFormation, TemplateBody). `aws cloudformation deploy --template-file`
# sends the file as TemplateBody unless --s3-bucket is given (AWS CLI reference,
# "cloudformation deploy"); the release keeps every template under the limit with room
# to grow (test_release).
TEMPLATE_BODY_LIMIT = 51_200


def template_bytes(template: Json) -> bytes:
    """Stable, minified serialization: CDK's key order, no whitespace, trailing newline.

    Minified because the indented auditor template had grown to within 616 bytes of
    ``TEMPLATE_BODY_LIMIT`` (issue 17, item 19); ``python -m json.tool`` shows it indented.
    """
    return (json.dumps(template, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


def sha256sums(files: Mapping[str, bytes]) -> bytes:
    """``sha256sum`` output for ``files``, sorted by name (``sha256sum -c`` reads it)."""
    lines = (
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items())
    )
    return "".join(lines).encode()


def build(version: str | None = None) -> dict[str, bytes]:
    """Every file of ``dist/`` by name (pure of the file system except the inputs)."""
    code_zip = deterministic_zip(bundled_files())
    names = ReleaseNames(version or project_version(), hashlib.sha256(code_zip).hexdigest())
    release = release_app(names)
    assembly = release.app.synth()

    def template(stack: cdk.Stack) -> bytes:
        return template_bytes(assembly.get_stack_by_name(stack.stack_name).template)

    files = {
        names.zip_file: code_zip,
        names.template_file: template(release.auditor),
        names.forwarder_template_file: template(release.forwarder),
        names.org_template_file: template(release.org),
    }
    return {**files, SUMS_FILE: sha256sums(files)}


def write(dist: Path, files: Mapping[str, bytes]) -> None:
    """Write ``files`` into ``dist`` (created; existing files of the same name replaced)."""
    dist.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (dist / name).write_bytes(data)


def main(argv: list[str] | None = None) -> int:
    """``python -m infra.release [DIST]``: write the release into DIST (default dist/)."""
    args = sys.argv[1:] if argv is None else argv
    dist = Path(args[0]) if args else REPO_ROOT / "dist"
    files = build()
    write(dist, files)
    for name in sorted(files):
        print(dist / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
