"""The CLI end to end against the sandbox: real boto3, real wire protocol, loopback only."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from eks_netpol_auditor import audit, cli
from eks_netpol_auditor.discovery import list_clusters as real_list_clusters
from eks_netpol_auditor.names import Env
from sandbox.client import AddonSeed, SandboxClient
from sandbox.environment import sandbox_environ
from sandbox.seeds import seed_demo
from tests.builders import ENABLED_CONFIG

EXPECTED_DEMO = {
    ("us-east-1", "payments-prod"): ("PASSED", "NETWORK_POLICY_ENABLED"),
    ("us-east-1", "checkout-staging"): ("PASSED", "NETWORK_POLICY_ENABLED"),
    ("us-east-1", "analytics-dev"): ("FAILED", "NETWORK_POLICY_DISABLED"),
    ("us-east-1", "legacy-batch"): ("FAILED", "KUBERNETES_VERSION_UNSUPPORTED"),
    ("us-east-1", "automode-web"): ("WARNING", "AUTO_MODE_NOT_VERIFIABLE"),
    ("eu-west-1", "ml-training"): ("FAILED", "NETWORK_POLICY_DISABLED"),
    ("eu-west-1", "cilium-edge"): ("FAILED", "ADDON_NOT_INSTALLED"),
    ("eu-west-1", "k8s124-legacy"): ("FAILED", "KUBERNETES_VERSION_UNSUPPORTED"),
    ("eu-west-1", "research-sandbox"): ("WARNING", "EXEMPTED"),
    ("ap-southeast-2", "mobile-api"): ("WARNING", "ADDON_UNHEALTHY"),
    ("ap-southeast-2", "new-cluster"): ("NOT_AVAILABLE", "CLUSTER_NOT_READY"),
    ("ap-southeast-2", "sydney-prod"): ("FAILED", "NETWORK_POLICY_DISABLED"),
}

Run = Callable[..., tuple[int, Any, str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """Run the CLI in-process; JSON output is decoded."""

    def invoke(*args: str) -> tuple[int, Any, str]:
        code = cli.main(["scan", *args])
        captured = capsys.readouterr()
        output = json.loads(captured.out) if "json" in args and code != 2 else captured.out
        return code, output, captured.err

    return invoke


def verdicts(document: dict[str, Any]) -> dict[tuple[str, str], tuple[str, str]]:
    return {(r["region"], r["cluster"]): (r["status"], r["reason"]) for r in document["results"]}


def test_demo_account_every_verdict_and_the_json_contract(sandbox: SandboxClient, run: Run) -> None:
    seed_demo(sandbox)
    code, document, _ = run("--format", "json")
    assert code == 1  # at least one FAILED
    assert verdicts(document) == EXPECTED_DEMO
    assert document["account"] == "123456789012"
    assert document["errors"] == []
    assert document["summary"] == {"PASSED": 2, "FAILED": 6, "WARNING": 3, "NOT_AVAILABLE": 1}
    first = next(r for r in document["results"] if r["cluster"] == "payments-prod")
    assert first["arn"] == "arn:aws:eks:us-east-1:123456789012:cluster/payments-prod"
    assert first["addon_version"] == "v1.19.0-eksbuild.1"
    assert first["kubernetes_version"] == "1.31"
    assert first["remediation"] is None
    sydney = next(r for r in document["results"] if r["cluster"] == "sydney-prod")
    assert '{"env":{"WARM_IP_TARGET":"5"},"enableNetworkPolicy":"true"}' in sydney["message"]


def test_table_lists_every_cluster_with_status_and_reason(sandbox: SandboxClient, run: Run) -> None:
    seed_demo(sandbox)
    code, table, _ = run("--regions", "eu-west-1")
    assert code == 1
    lines = table.splitlines()
    assert lines[0].split() == ["CLUSTER", "REGION", "STATUS", "REASON"]
    rows = {tuple(line.split()) for line in lines[1:5]}
    assert rows == {
        (name, region, *verdict)
        for (region, name), verdict in EXPECTED_DEMO.items()
        if region == "eu-west-1"
    }


def test_at_most_two_eks_calls_per_cluster_plus_list_pages(
    sandbox: SandboxClient, run: Run
) -> None:
    for index in range(150):
        sandbox.add_cluster(
            "us-east-2", f"c{index:03}", addon=AddonSeed(configuration_values=ENABLED_CONFIG)
        )
    sandbox.reset_calls()
    code, document, _ = run("--regions", "us-east-2", "--format", "json")
    assert code == 0
    assert document["summary"]["PASSED"] == 150
    calls = sandbox.calls()
    assert calls.count("eks", "ListClusters") == 2  # pages of 100
    assert calls.count("eks", "DescribeCluster") == 150
    assert calls.count("eks", "DescribeAddon") == 150
    assert calls.count("eks") == 302


def test_only_requested_regions_are_called(sandbox: SandboxClient, run: Run) -> None:
    seed_demo(sandbox)
    sandbox.reset_calls()
    run("--regions", "us-east-1", "--format", "json")
    calls = sandbox.calls()
    assert calls.count("eks", region="eu-west-1") == 0
    assert calls.count("eks", region="ap-southeast-2") == 0
    assert calls.count("ec2", "DescribeRegions") == 0


def test_denied_region_is_reported_and_the_others_still_audited(
    sandbox: SandboxClient, run: Run
) -> None:
    sandbox.add_cluster("us-east-1", "ok", addon=AddonSeed(configuration_values=ENABLED_CONFIG))
    sandbox.add_cluster("eu-west-1", "hidden", addon=AddonSeed(configuration_values=ENABLED_CONFIG))
    sandbox.deny_region("eu-west-1", service="eks")
    code, document, _ = run("--format", "json")
    assert code == 3  # something not evaluated, nothing FAILED
    assert verdicts(document) == {("us-east-1", "ok"): ("PASSED", "NETWORK_POLICY_ENABLED")}
    assert [(e["region"], e["cluster"]) for e in document["errors"]] == [("eu-west-1", None)]
    assert document["errors"][0]["error"].startswith("AccessDeniedException")


def test_region_not_enabled_is_reported_not_fatal(sandbox: SandboxClient, run: Run) -> None:
    sandbox.add_cluster("us-east-1", "ok", addon=AddonSeed(configuration_values=ENABLED_CONFIG))
    sandbox.add_fault("unrecognized_client", region="me-south-1")
    code, document, _ = run("--regions", "us-east-1,me-south-1", "--format", "json")
    assert code == 3
    assert document["summary"]["PASSED"] == 1
    assert document["errors"][0]["region"] == "me-south-1"
    assert "UnrecognizedClientException" in document["errors"][0]["error"]


def test_throttled_run_still_accounts_for_every_cluster(sandbox: SandboxClient, run: Run) -> None:
    for index in range(20):
        sandbox.add_cluster(
            "us-west-2", f"c{index}", addon=AddonSeed(configuration_values=ENABLED_CONFIG)
        )
    sandbox.add_fault("throttle", service="eks", probability=0.3, seed=7)
    code, document, _ = run("--regions", "us-west-2", "--format", "json")
    assert code == 0
    assert document["errors"] == []
    assert document["summary"]["PASSED"] == 20
    assert sandbox.calls().count("eks", status=429) > 0  # throttling really happened


def test_cluster_deleted_between_list_and_describe_is_not_reported(
    sandbox: SandboxClient, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox.add_cluster("us-east-1", "stays", addon=AddonSeed(configuration_values=ENABLED_CONFIG))
    sandbox.add_cluster(
        "us-east-1", "vanishes", addon=AddonSeed(configuration_values=ENABLED_CONFIG)
    )

    def list_then_delete(clients: Any, region: str) -> list[str]:
        names = real_list_clusters(clients, region)
        sandbox.delete_cluster("us-east-1", "vanishes")
        return names

    monkeypatch.setattr(audit, "list_clusters", list_then_delete)
    code, document, _ = run("--regions", "us-east-1", "--format", "json")
    assert code == 0
    assert [r["cluster"] for r in document["results"]] == ["stays"]
    assert document["errors"] == []


def test_denied_describe_addon_marks_only_that_cluster(sandbox: SandboxClient, run: Run) -> None:
    sandbox.add_cluster("us-east-1", "fine", addon=AddonSeed(configuration_values=ENABLED_CONFIG))
    sandbox.add_cluster("us-east-1", "secret", addon=AddonSeed(configuration_values=ENABLED_CONFIG))
    sandbox.deny_describe_addon("us-east-1", "secret")
    code, document, _ = run("--regions", "us-east-1", "--format", "json")
    assert code == 3
    assert verdicts(document) == {
        ("us-east-1", "fine"): ("PASSED", "NETWORK_POLICY_ENABLED"),
        ("us-east-1", "secret"): ("NOT_AVAILABLE", "EVALUATION_ERROR"),
    }
    assert [(e["region"], e["cluster"]) for e in document["errors"]] == [("us-east-1", "secret")]


def test_deleting_clusters_are_not_reported(sandbox: SandboxClient, run: Run) -> None:
    sandbox.add_cluster("us-east-1", "going", status="DELETING")
    code, document, _ = run("--regions", "us-east-1", "--format", "json")
    assert code == 0
    assert document["results"] == []


@pytest.mark.parametrize(
    ("env", "args", "message"),
    [
        (
            {"AUDIT_REGIONS": "us-east-1,atlantis-1"},
            [],
            "AUDIT_REGIONS: unknown region 'atlantis-1'",
        ),
        ({}, ["--regions", "nowhere"], "--regions: unknown region 'nowhere'"),
        ({"PUBLISH_FINDINGS": "maybe"}, [], "PUBLISH_FINDINGS must be true or false"),
        ({}, ["--max-remediations", "-2"], "--max-remediations must not be negative"),
        ({"MAX_REMEDIATIONS_PER_RUN": "lots"}, [], "MAX_REMEDIATIONS_PER_RUN must be a whole"),
        ({}, ["--format", "xml"], "invalid choice: 'xml'"),
    ],
)
def test_bad_configuration_exits_2_with_one_line(
    sandbox: SandboxClient,
    run: Run,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    args: list[str],
    message: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    sandbox.reset_calls()
    code, _, err = run(*args)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert sandbox.calls().total == 0  # nothing was called, nothing half-done


def test_one_large_region_gets_a_bounded_share_of_concurrent_calls(
    sandbox: SandboxClient, run: Run
) -> None:
    for index in range(60):
        sandbox.add_cluster(
            "eu-west-1", f"c{index:02}", addon=AddonSeed(configuration_values=ENABLED_CONFIG)
        )
    sandbox.set_latency(base_ms=20)
    sandbox.reset_calls()
    code, document, _ = run("--regions", "eu-west-1", "--format", "json")
    assert code == 0
    assert document["summary"]["PASSED"] == 60
    peak = sandbox.calls().peak_concurrency
    assert 8 <= peak <= 16  # concurrent, but never more than the per-region share


# ---------------------------------------------------------------------------------------
# Issue 10, items 14-17: flags override the environment, empty regions, exit codes, the
# fixes section, the status filter, --help, plurals.


@pytest.mark.parametrize(
    ("env", "args", "message"),
    [
        ({}, ["--regions", ""], "--regions must be 'all' or a comma-separated list"),
        ({}, ["--regions", " , "], "--regions must be 'all' or a comma-separated list"),
        ({"AUDIT_REGIONS": "  "}, [], "AUDIT_REGIONS must be 'all' or a comma-separated list"),
        ({"AUDIT_REGIONS": ""}, [], "AUDIT_REGIONS must be 'all' or a comma-separated list"),
        ({}, ["--dry-run"], "--dry-run plans remediation, which is off: add --remediate"),
        ({"AUTO_REMEDIATE": "true"}, ["--dry-run", "--no-remediate"], "--dry-run plans"),
        # Issue 17, item 29: a cap on remediation that is off is as misleading as --dry-run.
        (
            {},
            ["--max-remediations", "3"],
            "--max-remediations limits remediation, which is off: add --remediate",
        ),
        ({"AUTO_REMEDIATE": "true"}, ["--max-remediations", "1", "--no-remediate"], "limits"),
        ({}, ["--status", "FAILED,broken"], "--status: unknown status 'broken'"),
        ({}, ["--publish", "--no-publish"], "not allowed with argument"),
    ],
)
def test_empty_regions_and_contradictions_exit_2(
    sandbox: SandboxClient,
    run: Run,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    args: list[str],
    message: str,
) -> None:
    sandbox.add_cluster("us-east-1", "ok", addon=AddonSeed(configuration_values=ENABLED_CONFIG))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    sandbox.reset_calls()
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert sandbox.calls().total == 0


def test_a_flag_overrides_an_invalid_environment_value(
    sandbox: SandboxClient, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_demo(sandbox)
    monkeypatch.setenv("AUDIT_REGIONS", "xx")
    monkeypatch.setenv("PUBLISH_FINDINGS", "maybe")
    monkeypatch.setenv("MAX_REMEDIATIONS_PER_RUN", "lots")
    code, document, err = run(
        "--regions",
        "eu-west-1",
        "--no-publish",
        "--remediate",  # --max-remediations needs remediation on (issue 17, item 29)
        "--dry-run",
        "--max-remediations",
        "1",
        "--format",
        "json",
    )
    assert err == ""
    assert code == 1
    assert {region for region, _ in verdicts(document)} == {"eu-west-1"}
    assert document["regions"] == ["eu-west-1"]


def test_no_publish_and_no_remediate_switch_off_what_the_environment_switched_on(
    sandbox: SandboxClient, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox.add_cluster("us-east-1", "off", addon=AddonSeed())  # remediable, publishable
    monkeypatch.setenv("PUBLISH_FINDINGS", "true")
    monkeypatch.setenv("AUTO_REMEDIATE", "true")
    sandbox.reset_calls()
    code, document, _ = run(
        "--regions", "us-east-1", "--no-publish", "--no-remediate", "--format", "json"
    )
    assert code == 1
    (only,) = document["results"]
    assert only["remediation"] is None
    assert only["finding_region"] is None
    assert sandbox.calls().count("securityhub") == 0
    assert sandbox.calls().count("eks", "UpdateAddon") == 0
    assert sandbox.findings("us-east-1") == []
    # And the environment alone does switch them on: the flags are what made the difference.
    code, document, _ = run("--regions", "us-east-1", "--format", "json")
    assert document["results"][0]["remediation"]["action"] == "applied"
    assert len(sandbox.findings("us-east-1")) == 1


def test_a_cluster_being_created_does_not_make_the_run_incomplete(
    sandbox: SandboxClient, run: Run
) -> None:
    sandbox.add_cluster("us-east-1", "ok", addon=AddonSeed(configuration_values=ENABLED_CONFIG))
    sandbox.add_cluster("us-east-1", "new", status="CREATING")
    code, document, _ = run("--regions", "us-east-1", "--format", "json")
    assert verdicts(document)[("us-east-1", "new")] == ("NOT_AVAILABLE", "CLUSTER_NOT_READY")
    assert code == 0  # exit 3 is for what could not be read; this cluster was read fine


def test_failed_clusters_are_followed_by_the_command_that_fixes_each(
    sandbox: SandboxClient, run: Run
) -> None:
    seed_demo(sandbox)
    code, table, _ = run("--regions", "us-east-1,eu-west-1")
    assert code == 1
    table_part, fixes = table.split("\nHow to fix the 5 FAILED clusters:\n")
    assert "update-addon" not in table_part
    blocks = {block.splitlines()[0]: block for block in fixes.strip().split("\n\n")}
    assert set(blocks) == {
        f"{region}/{name} ({reason})"
        for (region, name), (status, reason) in EXPECTED_DEMO.items()
        if status == "FAILED" and region in {"us-east-1", "eu-west-1"}
    }
    fix = blocks["us-east-1/analytics-dev (NETWORK_POLICY_DISABLED)"].splitlines()[1].strip()
    assert fix == (
        "aws eks update-addon --region us-east-1 --cluster-name analytics-dev --addon-name "
        "vpc-cni --resolve-conflicts PRESERVE --configuration-values "
        '\'{"enableNetworkPolicy":"true"}\''
    )
    # No safe command exists for a missing add-on: what to do instead.
    assert "install it as a managed add-on" in blocks["eu-west-1/cilium-edge (ADDON_NOT_INSTALLED)"]
    assert "dry run" not in fixes


def test_a_dry_run_shows_the_exact_request_under_each_fix(sandbox: SandboxClient, run: Run) -> None:
    seed_demo(sandbox)
    code, table, _ = run("--regions", "ap-southeast-2", "--remediate", "--dry-run")
    assert code == 1
    fixes = table.split("How to fix the 1 FAILED cluster:\n")[1]
    request_line = next(line for line in fixes.splitlines() if "UpdateAddon" in line)
    request = json.loads(request_line.split("UpdateAddon ", 1)[1])
    assert request["clusterName"] == "sydney-prod"
    assert request["configurationValues"] == (
        '{"env":{"WARM_IP_TARGET":"5"},"enableNetworkPolicy":"true"}'
    )
    assert request["resolveConflicts"] == "PRESERVE"
    assert request["clientRequestToken"].startswith("enp1-")
    assert sandbox.updates() == []


def test_status_filter_narrows_the_rows_but_not_the_summary_or_exit_code(
    sandbox: SandboxClient, run: Run
) -> None:
    seed_demo(sandbox)
    code, document, _ = run("--status", "failed", "--status", "NOT_AVAILABLE", "--format", "json")
    assert code == 1
    assert {r["status"] for r in document["results"]} == {"FAILED", "NOT_AVAILABLE"}
    assert len(document["results"]) == 7
    assert document["summary"] == {"PASSED": 2, "FAILED": 6, "WARNING": 3, "NOT_AVAILABLE": 1}
    code, table, _ = run("--status", "WARNING,PASSED", "--regions", "us-east-1")
    rows = [line.split() for line in table.split("\n\n")[0].splitlines()[1:]]
    assert sorted(row[0] for row in rows) == ["automode-web", "checkout-staging", "payments-prod"]
    assert code == 1  # analytics-dev FAILED, though not shown
    assert "How to fix" not in table


def test_one_cluster_in_one_region_is_singular(sandbox: SandboxClient, run: Run) -> None:
    sandbox.add_cluster("us-east-1", "ok", addon=AddonSeed(configuration_values=ENABLED_CONFIG))
    _, table, _ = run("--regions", "us-east-1")
    assert "\n1 cluster in 1 region: 1 PASSED," in table


def test_scan_help_lists_exit_codes_and_environment(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["scan", "--help"]) == 0
    text = capsys.readouterr().out
    for code in ("0", "1", "2", "3", "130"):
        assert f"\n  {code} " in text
    for variable in set(Env) - cli.LAMBDA_ONLY:
        assert f"\n  {variable.value} " in text
    for flag in ("--no-publish", "--no-remediate", "--status"):
        assert flag in text


def test_an_error_is_printed_once(sandbox: SandboxClient) -> None:
    """Through the console entry point: a region's error is in the output, not also logged."""
    sandbox.add_cluster("us-east-1", "ok", addon=AddonSeed(configuration_values=ENABLED_CONFIG))
    sandbox.deny_region("eu-west-1", service="eks")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "eks_netpol_auditor.cli",
            "scan",
            "--regions",
            "us-east-1,eu-west-1",
        ],
        env=sandbox_environ(sandbox.endpoint),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 3
    assert done.stderr == ""
    assert done.stdout.count("not authorized to perform: eks:ListClusters") == 1


# ---------------------------------------------------------------------------------------
# Issue 17, items 24 and 29: the command line itself, and output nobody reads to the end.


def console(
    sandbox: SandboxClient, *args: str, stdout: Any = subprocess.PIPE
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eks_netpol_auditor.cli", *args],
        env=sandbox_environ(sandbox.endpoint),
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("args", [["--badflag"], ["--badflag", "scan"], ["scan", "--badflag"]])
def test_an_unknown_flag_is_named_in_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    assert cli.main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "eks-netpol-audit: error: unrecognized arguments: --badflag\n"


def test_no_command_prints_the_usage_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("usage: eks-netpol-audit ")
    for command in ("scan", "report"):
        assert f"\n    {command} " in captured.err  # each command with what it does


@pytest.mark.parametrize("command", ["scan", "report"])
def test_help_wraps_to_the_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """argparse wraps to $COLUMNS (less 2); `report --help` printed a 300-character line."""
    monkeypatch.setenv("COLUMNS", "80")
    assert cli.main([command, "--help"]) == 0
    text = capsys.readouterr().out
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "\n  130  interrupted (Ctrl-C)" in text  # the tables keep their layout


def test_output_to_a_closed_pipe_keeps_the_exit_code_and_says_nothing(
    sandbox: SandboxClient,
) -> None:
    """`scan | head`: the reader left early. Python's signal docs ("Note on SIGPIPE") advise
    pointing stdout at devnull and exiting; the run's own verdict stays the exit code."""
    seed_demo(sandbox)  # FAILED clusters: exit 1
    child = subprocess.Popen(
        [sys.executable, "-m", "eks_netpol_auditor.cli", "scan", "--format", "json"],
        env=sandbox_environ(sandbox.endpoint),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    child.stdout.close()  # before anything is written: every write meets a closed pipe
    try:
        _, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    assert err == ""
    assert child.returncode == 1


def test_a_full_disk_is_one_line_and_keeps_the_failed_exit_code(sandbox: SandboxClient) -> None:
    seed_demo(sandbox)
    with open("/dev/full", "w") as full:
        done = console(sandbox, "scan", stdout=full)
    assert done.stderr == (
        "eks-netpol-audit: error: cannot write the output to stdout: No space left on device\n"
    )
    assert done.returncode == 1  # clusters FAILED; the lost output does not hide that


def test_a_full_disk_without_failures_is_incomplete(sandbox: SandboxClient) -> None:
    sandbox.add_cluster("us-east-1", "ok", addon=AddonSeed(configuration_values=ENABLED_CONFIG))
    with open("/dev/full", "w") as full:
        done = console(sandbox, "scan", "--regions", "us-east-1", stdout=full)
    assert done.stderr == (
        "eks-netpol-audit: error: cannot write the output to stdout: No space left on device\n"
    )
    assert done.returncode == 3  # nobody saw the result: not a clean pass


def test_every_key_of_the_json_document_is_documented(sandbox: SandboxClient, run: Run) -> None:
    """Issue 17, item 29: the JSON output had a `findings` key no document mentioned."""
    seed_demo(sandbox)
    code, document, _ = run("--regions", "us-east-1", "--publish", "--format", "json")
    assert code == 1
    page = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text()
    described = page.split("`--format json` prints one document:")[1].split("\n- ")[0]
    keys = {*document, *document["results"][0], *document["findings"]}
    assert keys  # not vacuous
    # With the in-cluster check on, the `in_cluster` object's keys too (issue 18).
    _, checked, _ = run("--regions", "us-east-1", "--in-cluster", "--format", "json")
    second = [r["in_cluster"] for r in checked["results"] if r["in_cluster"] is not None]
    assert second  # not vacuous
    keys |= {key for verdict in second for key in verdict}
    undocumented = sorted(key for key in keys if f'"{key}"' not in described)
    assert not undocumented, f"docs/cli.md does not describe the JSON keys {undocumented}"
