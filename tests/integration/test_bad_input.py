"""Bad input, end to end through the sandbox: clear errors, no traceback, nothing half-done.

* Malformed vpc-cni configuration values (unparseable, not a mapping, nested too deep,
  expanding through YAML aliases, oversized): the cluster is FAILED
  NETWORK_POLICY_DISABLED with a message naming the problem, its finding is still
  published, remediation skips it (fail closed) and the rest of the run is unaffected.
* Invalid environment values: the CLI exits 2 with one line on stderr before any AWS call,
  and nothing is written anywhere (no finding, no add-on update).
* Malformed manual Lambda events not covered by test_handler.py: non-object payloads
  and region entries that would widen the run.
* Oversized and unicode tags: the finding still imports within Security Hub's limits.
* The caller's AWS setup (unknown profile, malformed config, broken role or SSO profile,
  an endpoint that is not AWS): one line, exit 2; an account AWS will not identify: exit 3.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from eks_netpol_auditor import cli, handler
from eks_netpol_auditor.audit import run_audit
from eks_netpol_auditor.config import Settings
from eks_netpol_auditor.model import AUTO_REMEDIATE_TAG
from eks_netpol_auditor.securityhub.asff import finding_id
from sandbox.client import AddonSeed, SandboxClient
from sandbox.environment import sandbox_environ
from tests.builders import ACCOUNT, ENABLED
from tests.integration.lambda_support import CurrentStdout, FakeContext

HOME = "us-east-1"
OTHER = "eu-west-1"
PRODUCT_FIELD = "eks-netpol-auditor/"


def fid(region: str, cluster: str) -> str:
    return finding_id("aws", ACCOUNT, region, cluster)


def billion_laughs(levels: int) -> str:
    """~50 bytes per level; written out as JSON it would be 9**levels * 5 bytes."""
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"l{i}: &l{i} [{','.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


# name -> (configurationValues, words the verdict message must contain)
MALFORMED: dict[str, tuple[str, str]] = {
    "yaml-syntax": (
        'enableNetworkPolicy: "true"\nnodeAgent: [unclosed\n',
        "neither JSON nor YAML at line",
    ),
    "json-truncated": ('{"enableNetworkPolicy": "true", "env": {', "neither JSON nor YAML"),
    "json-list": ('[{"enableNetworkPolicy": "true"}]', "must be a mapping, found list"),
    "yaml-scalar": ("enableNetworkPolicy=true", "must be a mapping, found str"),
    "deep-json": ('{"a":' * 2000 + "1" + "}" * 2000, "nested more than 64 levels deep"),
    "deep-yaml": (
        "a:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 300)) + " " * 300 + "v\n",
        "nested more than 64 levels deep",
    ),
    "alias-bomb": (billion_laughs(10), "expands to more than 100000 values"),
    "alias-cycle": ("env: &loop [*loop]\n", "refers to itself"),
}


def settings(*regions: str, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "regions": regions or (HOME,),
        "publish": True,
        "auto_remediate": True,
        "home_region": HOME,
        "max_workers": 16,
    }
    values.update(changes)
    return Settings(**values)


def findings_anywhere(sandbox: SandboxClient) -> list[dict[str, Any]]:
    return [f for region in (HOME, OTHER) for f in sandbox.findings(region)]


# ---------------------------------------------------------------------------------------
# Malformed configuration values


def test_malformed_configuration_fails_closed_and_spoils_nothing_else(
    sandbox: SandboxClient,
) -> None:
    for name, (text, _) in MALFORMED.items():
        sandbox.add_cluster(HOME, name, addon=AddonSeed(configuration_values=text))
    sandbox.add_cluster(HOME, "healthy", addon=ENABLED)
    sandbox.add_cluster(HOME, "plain-off", addon=AddonSeed())  # the control: remediable

    result = run_audit(settings())

    assert result.errors == []
    by_name = {r.facts.name: r for r in result.results}
    assert set(by_name) == {*MALFORMED, "healthy", "plain-off"}
    assert by_name["healthy"].verdict.status.value == "PASSED"
    stored = {f["Id"]: f for f in sandbox.findings(HOME)}
    for name, (_, words) in MALFORMED.items():
        cluster = by_name[name]
        verdict = cluster.verdict
        assert (verdict.status.value, verdict.reason.value) == (
            "FAILED",
            "NETWORK_POLICY_DISABLED",
        ), name
        assert words in verdict.message, (name, verdict.message)
        assert "cannot be confirmed" in verdict.message
        assert "\n" not in verdict.message
        assert len(verdict.message) < 300, name  # the problem, not the document
        # Fail closed: never rewritten, and the reason says why.
        assert cluster.remediation is not None
        assert (cluster.remediation.action, cluster.remediation.guard) == (
            "skipped",
            "configuration",
        ), name
        # Still published, as FAILED, without a (wrong) command to paste.
        finding = stored[fid(HOME, name)]
        assert finding["RecordState"] == "ACTIVE"
        assert finding["Compliance"]["Status"] == "FAILED"
        assert finding["ProductFields"][PRODUCT_FIELD + "Reason"] == "NETWORK_POLICY_DISABLED"
        assert PRODUCT_FIELD + "RemediationCommand" not in finding["ProductFields"]
        assert "--configuration-values" not in finding["Remediation"]["Recommendation"]["Text"]
    assert result.findings_published == len(MALFORMED) + 2
    # Remediation was live (the control cluster was updated), yet none of the malformed ones.
    assert [u["clusterName"] for u in sandbox.updates()] == ["plain-off"]
    assert sandbox.calls().count("eks", "UpdateAddon") == 1


def test_oversized_configuration_is_refused_by_the_schema_not_sent(
    sandbox: SandboxClient,
) -> None:
    """A large, readable document (~60 KB): verdict as usual, but UpdateAddon would have to
    carry a key the add-on's schema does not allow, so remediation skips it."""
    bulk = {"bulk": {f"K{i:04d}": "v" * 40 for i in range(1_000)}}
    sandbox.add_cluster(HOME, "bulky", addon=AddonSeed(configuration_values=json.dumps(bulk)))

    result = run_audit(settings())

    (cluster,) = result.results
    assert (cluster.verdict.status.value, cluster.verdict.reason.value) == (
        "FAILED",
        "NETWORK_POLICY_DISABLED",
    )
    assert cluster.remediation is not None
    assert cluster.remediation.guard == "schema_rejects_config"
    assert "'bulk'" in cluster.remediation.reason
    assert sandbox.updates() == []
    assert result.errors == []
    (finding,) = sandbox.findings(HOME)
    assert finding["Compliance"]["Status"] == "FAILED"
    assert len(finding["Description"]) <= 1024


def test_a_long_remediation_command_is_never_published_truncated(
    sandbox: SandboxClient,
) -> None:
    env = {f"VAR_{i:03d}": "x" * 20 for i in range(150)}  # ~5 KB, a plausible env block
    sandbox.add_cluster(
        HOME, "long-env", addon=AddonSeed(configuration_values=json.dumps({"env": env}))
    )
    run_audit(settings(auto_remediate=False))
    (finding,) = sandbox.findings(HOME)
    command = finding["ProductFields"].get(PRODUCT_FIELD + "RemediationCommand")
    assert command is None or not command.endswith("...")
    text = finding["Remediation"]["Recommendation"]["Text"]
    assert "--format json" in text
    assert not text.endswith("...")


# ---------------------------------------------------------------------------------------
# Invalid environment values (the CLI; test_cli_integration.py covers AUDIT_REGIONS,
# PUBLISH_FINDINGS=maybe, MAX_REMEDIATIONS_PER_RUN=lots and bad flags)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("AUTO_REMEDIATE", "yes", "AUTO_REMEDIATE must be true or false, got 'yes'"),
        ("REMEDIATION_DRY_RUN", "1", "REMEDIATION_DRY_RUN must be true or false, got '1'"),
        ("REMEDIATION_REQUIRE_TAG", "on", "REMEDIATION_REQUIRE_TAG must be true or false"),
        ("FINDINGS_REGION", "mars-1", "FINDINGS_REGION: unknown region 'mars-1'"),
        ("AWS_REGION", "moon-1", "AWS_REGION: unknown region 'moon-1'"),
        ("AUDIT_REGIONS", " , ,", "AUDIT_REGIONS must be 'all' or a comma-separated list"),
        ("MAX_REMEDIATIONS_PER_RUN", "-1", "MAX_REMEDIATIONS_PER_RUN must not be negative"),
        ("MAX_REMEDIATIONS_PER_RUN", "1.5", "MAX_REMEDIATIONS_PER_RUN must be a whole number"),
        # A value smuggling a second line stays on one line (repr), so logs can't be forged.
        ("PUBLISH_FINDINGS", "true\nfalse", r"got 'true\nfalse'"),
        (  # fullwidth "true"
            "PUBLISH_FINDINGS",
            "\uff54\uff52\uff55\uff45",
            "PUBLISH_FINDINGS must be true or false, got '\uff54\uff52\uff55\uff45'",
        ),
        ("AUTO_REMEDIATE", "t" * 5_000, "AUTO_REMEDIATE must be true or false"),
        ("AWS_ENDPOINT_URL", "not a url", "invalid AWS client configuration: Invalid endpoint"),
    ],
)
def test_invalid_environment_exits_2_with_one_line_and_writes_nothing(
    sandbox: SandboxClient,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    value: str,
    message: str,
) -> None:
    sandbox.add_cluster(HOME, "would-be-fixed", addon=AddonSeed())
    sandbox.add_cluster(OTHER, "would-be-published", addon=None)
    # Everything on, so a run that started anyway would publish and remediate.
    monkeypatch.setenv("PUBLISH_FINDINGS", "true")
    monkeypatch.setenv("AUTO_REMEDIATE", "true")
    monkeypatch.setenv(name, value)
    sandbox.reset_calls()

    code = cli.main(["scan", "--format", "json"])

    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.endswith("\n")
    assert captured.err.startswith("eks-netpol-audit: error: ")
    assert message in captured.err
    assert "Traceback" not in captured.err
    assert sandbox.calls().total == 0
    assert findings_anywhere(sandbox) == []
    assert sandbox.updates() == []


# ---------------------------------------------------------------------------------------
# Malformed manual Lambda events (test_handler.py covers extra fields, wrong types,
# unknown regions and malformed EventBridge events)


@pytest.fixture
def lambda_env(sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch) -> SandboxClient:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("AWS_REGION", HOME)
    monkeypatch.setenv("PUBLISH_FINDINGS", "true")
    monkeypatch.setenv("AUTO_REMEDIATE", "true")
    monkeypatch.setattr(handler.logger.registered_handler, "stream", CurrentStdout())
    sandbox.add_cluster(HOME, "would-be-fixed", addon=AddonSeed())
    sandbox.add_cluster(OTHER, "would-be-published", addon=None)
    sandbox.reset_calls()
    return sandbox


def rejections(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    return [line for line in lines if line.get("message") == "rejected invocation"]


@pytest.mark.parametrize(
    ("event", "message"),
    [
        # Never read as {} (a full run): each of these was meant as something narrower.
        (None, "the event must be a JSON object ({} for a full run), got NoneType"),
        ([], "must be a JSON object ({} for a full run), got list"),
        (["eu-west-1"], "must be a JSON object ({} for a full run), got list"),
        ("scan eu-west-1", "must be a JSON object ({} for a full run), got str"),
        (42, "must be a JSON object ({} for a full run), got int"),
        # Region entries that would have meant "every enabled region" or two regions.
        ({"regions": [""]}, "event.regions: unknown region ''"),
        ({"regions": ["all"]}, "event.regions: unknown region 'all'"),
        ({"regions": ["us-east-1,eu-west-1"]}, "unknown region 'us-east-1,eu-west-1'"),
        ({"regions": ["us-east-1", "\u200beu-west-1"]}, r"unknown region '\u200beu-west-1'"),
        # Shapes and sizes.
        ({"regions": []}, "regions: List should have at least 1 item"),
        ({"clusters": []}, "clusters: List should have at least 1 item"),
        ({"regions": ["us-east-1"] * 41}, "regions: List should have at most 40 items"),
        ({"clusters": [f"c{i}" for i in range(1_001)]}, "at most 1000 items"),
        ({"clusters": [["nested"]]}, "clusters.0: Input should be a valid string"),
        ({"dry_run": None}, "dry_run: Input should be a valid boolean"),
    ],
)
def test_malformed_manual_events_are_rejected_before_any_call(
    lambda_env: SandboxClient,
    capsys: pytest.CaptureFixture[str],
    event: Any,
    message: str,
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as raised:
        handler.scheduled_handler(event, FakeContext())
    text = str(raised.value)
    assert "\n" not in text
    assert len(text) < 300
    assert lambda_env.calls().total == 0
    assert findings_anywhere(lambda_env) == []
    assert lambda_env.updates() == []
    (logged,) = rejections(capsys)
    assert logged["level"] == "ERROR"
    assert logged["error"] == text


def test_invalid_environment_in_the_lambda_is_rejected_before_any_call(
    lambda_env: SandboxClient, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FINDINGS_REGION", "us-east-1 ")  # whitespace is fine...
    monkeypatch.setenv("REMEDIATION_DRY_RUN", "sometimes")  # ...this is not
    with pytest.raises(ValueError, match="REMEDIATION_DRY_RUN must be true or false"):
        handler.scheduled_handler({}, FakeContext())
    assert lambda_env.calls().total == 0
    assert findings_anywhere(lambda_env) == []
    assert rejections(capsys)


# ---------------------------------------------------------------------------------------
# Oversized and unicode tags


def test_tags_at_and_beyond_the_aws_limits_still_import_whole(sandbox: SandboxClient) -> None:
    at_limit = {  # EKS's own maxima: 50 tags, 128-character keys, 256-character values
        f"{'k' * 120}-{i:03d}-é": ("ünïcødé-日本語-" * 30)[:256] for i in range(50)
    }
    beyond = {  # what a lenient source could hand us: more, longer, blank, multi-line
        **{f"team-{i:02d}": "🙂" * 300 for i in range(60)},
        "x" * 200: "key too long",
        "blank-value": "   ",
        "line\nbreak": "key with a line break",
        AUTO_REMEDIATE_TAG: "false",
    }
    sandbox.add_cluster(HOME, "at-limit", addon=ENABLED, tags=at_limit)
    sandbox.add_cluster(HOME, "beyond", addon=AddonSeed(), tags=beyond)

    result = run_audit(settings())

    assert result.errors == []
    assert (result.findings_published, result.findings_failed) == (2, 0)
    stored = {f["Id"]: f for f in sandbox.findings(HOME)}
    assert len(stored) == 2
    exact = stored[fid(HOME, "at-limit")]["Resources"][0]["Tags"]
    assert exact == at_limit  # within the limits nothing is lost or altered
    clipped = stored[fid(HOME, "beyond")]["Resources"][0]["Tags"]
    assert len(clipped) == 50
    assert clipped[AUTO_REMEDIATE_TAG] == "false"  # the auditor's own tag is kept first
    for key, value in clipped.items():
        assert len(key) <= 128 and "\n" not in key and key.strip()
        assert 0 < len(value) <= 256
        assert beyond[key].startswith(value.removesuffix("..."))
    # The opt-out was honoured from the untruncated tags: nothing was changed.
    assert sandbox.updates() == []
    beyond_result = next(r for r in result.results if r.facts.name == "beyond")
    assert beyond_result.remediation is not None
    assert beyond_result.remediation.guard == "opt_out_tag"
    assert len(json.dumps(stored[fid(HOME, "beyond")]).encode()) <= 240 * 1024


# ---------------------------------------------------------------------------------------
# The caller's own AWS setup (issue 10, item 13): one line, exit 2, no traceback, no call.
# Config files live in tmp dirs (AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE, HOME); the
# only endpoint is loopback.

ROLE_PROFILE = """[profile auditor]
role_arn = arn:aws:iam::123456789012:role/auditor
source_profile = missing
"""
SSO_PROFILE = """[profile dev]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = SecurityAudit
region = us-east-1

[sso-session corp]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
"""
NOT_INI = "[default\nregion = us-east-1\n"


def scan_setup_error(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str]:
    sandbox.reset_calls()
    code = cli.main(["scan", "--format", "json", *args])
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1, captured.err
    assert captured.err.startswith("eks-netpol-audit: error: ")
    assert "Traceback" not in captured.err
    assert sandbox.calls().total == 0
    return code, captured.err


@pytest.fixture
def aws_home(
    sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> Callable[..., None]:
    """Point the AWS config chain at a tmp dir; credentials only from what a test writes."""

    def configure(config: str | None = None, *, profile: str | None = None) -> None:
        monkeypatch.setenv("HOME", str(tmp_path))
        monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
        if config is not None:
            (tmp_path / "config").write_text(config)
            monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
        if profile is not None:
            monkeypatch.setenv("AWS_PROFILE", profile)

    return configure


@pytest.mark.parametrize("with_region", [True, False])
def test_unknown_profile_is_a_usage_error(
    sandbox: SandboxClient,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    aws_home: Callable[..., None],
    with_region: bool,
) -> None:
    aws_home("[default]\nregion = us-east-1\n", profile="nope")
    if not with_region:  # then the home region comes from the (missing) profile itself
        monkeypatch.delenv("AWS_REGION")
        monkeypatch.delenv("AWS_DEFAULT_REGION")
    code, err = scan_setup_error(sandbox, capsys)
    assert code == 2
    assert "The config profile (nope) could not be found" in err
    assert "AWS_PROFILE" in err


@pytest.mark.parametrize("with_region", [True, False])
def test_malformed_config_file_is_a_usage_error(
    sandbox: SandboxClient,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    aws_home: Callable[..., None],
    with_region: bool,
) -> None:
    aws_home(NOT_INI)
    if not with_region:
        monkeypatch.delenv("AWS_REGION")
        monkeypatch.delenv("AWS_DEFAULT_REGION")
    code, err = scan_setup_error(sandbox, capsys)
    assert code == 2
    assert "Unable to parse config file" in err


def test_role_profile_with_a_missing_source_profile_is_a_usage_error(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str], aws_home: Callable[..., None]
) -> None:
    aws_home(ROLE_PROFILE, profile="auditor")
    code, err = scan_setup_error(sandbox, capsys)
    assert code == 2
    assert 'The source_profile "missing" referenced in the profile "auditor"' in err


def test_sso_profile_not_logged_in_says_how_to_log_in(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str], aws_home: Callable[..., None]
) -> None:
    aws_home(SSO_PROFILE, profile="dev")  # HOME is empty: no ~/.aws/sso/cache token
    code, err = scan_setup_error(sandbox, capsys)
    assert code == 2
    assert "run `aws sso login --profile dev`" in err


class _NotAws(BaseHTTPRequestHandler):
    """What a captive portal or a mistyped endpoint answers: an HTML page, status 200."""

    PAGE = b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><br></body></html>"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(self.PAGE)))
        self.end_headers()
        self.wfile.write(self.PAGE)

    do_GET = do_POST

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def html_endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotAws)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_endpoint_that_is_not_aws_is_a_usage_error(
    sandbox: SandboxClient,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    html_endpoint: str,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", html_endpoint)
    code, err = scan_setup_error(sandbox, capsys)  # the sandbox is not called: HTML server is
    assert code == 2
    assert f"the endpoint {html_endpoint} (AWS_ENDPOINT_URL) did not answer like AWS" in err


def test_an_account_that_cannot_be_identified_exits_3_with_one_line(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 9, item 7: AWS answered, and said no. Not the caller's setup: exit 3."""
    sandbox.add_cluster(HOME, "unseen", addon=ENABLED)
    sandbox.add_fault("access_denied", service="sts")
    code = cli.main(["scan", "--format", "json"])
    captured = capsys.readouterr()
    assert code == 3
    assert captured.out == ""
    assert captured.err.startswith("eks-netpol-audit: error: cannot identify the account: ")
    assert "AccessDenied" in captured.err
    assert captured.err.count("\n") == 1
    assert sandbox.calls().count("eks") == 0


# ---------------------------------------------------------------------------------------
# Issue 17, items 26 and 29: the variable to blame is the one the user can change.


@pytest.mark.parametrize("via_variable", [True, False])
def test_a_malformed_credentials_file_is_blamed_on_the_credentials_file(
    sandbox: SandboxClient,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    aws_home: Callable[..., None],
    tmp_path: Any,
    via_variable: bool,
) -> None:
    aws_home("[default]\nregion = us-east-1\n")
    credentials = tmp_path / "credentials"
    if not via_variable:  # botocore's default place, ~/.aws/credentials
        monkeypatch.delenv("AWS_SHARED_CREDENTIALS_FILE")
        credentials = tmp_path / ".aws" / "credentials"
        credentials.parent.mkdir()
    credentials.write_text(NOT_INI)
    code, err = scan_setup_error(sandbox, capsys)
    assert code == 2
    assert f"Unable to parse config file: {credentials}" in err
    assert "point AWS_SHARED_CREDENTIALS_FILE elsewhere" in err
    assert "AWS_CONFIG_FILE" not in err


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("command", ["scan", "report"])
def test_an_endpoint_nothing_answers_on_is_named_in_seconds(
    sandbox: SandboxClient, command: str
) -> None:
    """AWS_ENDPOINT_URL at a closed port: exit 2 naming the variable, like an endpoint that
    is not AWS, and in seconds (it took 11.6 s for scan and 22.6 s for report, exit 3)."""
    endpoint = f"http://127.0.0.1:{closed_port()}"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "eks_netpol_auditor.cli", command],
        env=sandbox_environ(endpoint),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(
        f"eks-netpol-audit: error: the endpoint {endpoint} (AWS_ENDPOINT_URL) could not be "
        "reached (Could not connect to the endpoint URL"
    )
    assert done.stderr.count("\n") == 1
    # 3 attempts with standard-mode backoff (at most 1 s, then 2 s) plus interpreter start.
    assert elapsed < 10, elapsed


def test_an_endpoint_that_never_answers_is_named_in_bounded_time(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """It accepts the connection and says nothing: the identity probe gives up after its
    3 attempts of 10 s (aws.py) instead of 10 attempts of 30 s."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # the kernel accepts; nobody ever reads or answers
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        started = time.monotonic()
        code, err = scan_setup_error(sandbox, capsys)
        elapsed = time.monotonic() - started
    assert code == 2
    assert f"the endpoint {endpoint} (AWS_ENDPOINT_URL) could not be reached (Read timeout" in err
    assert elapsed < 45, elapsed
