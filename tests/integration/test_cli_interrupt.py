"""Ctrl-C (issue 10, item 13): one line, exit 130, no new work, Security Hub consistent.

In-process tests raise a real SIGINT at a chosen point of the run (the CLI's handler runs
in pytest's main thread, as it would in the console); one test drives the console entry
point in a child process, as a user at a terminal would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from eks_netpol_auditor import audit, cli
from eks_netpol_auditor.discovery import describe_cluster as real_describe_cluster
from eks_netpol_auditor.evaluate import evaluate as real_evaluate
from eks_netpol_auditor.remediation import apply as remediation_apply
from eks_netpol_auditor.securityhub import publish as real_publish
from sandbox.client import AddonSeed, SandboxClient
from sandbox.environment import sandbox_environ

REGION = "us-east-1"
CLUSTERS = 80


def seed(sandbox: SandboxClient) -> None:
    for index in range(CLUSTERS):  # every one FAILED and remediable: plenty to write
        sandbox.add_cluster(REGION, f"c{index:02}", addon=AddonSeed())


def test_ctrl_c_while_describing_stops_scheduling_and_writes_nothing(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(sandbox)

    once = threading.Lock()

    def interrupt_then_describe(*args: Any) -> Any:
        if once.acquire(blocking=False):  # one Ctrl-C (a second one means "abandon")
            os.kill(os.getpid(), signal.SIGINT)  # delivered to the main thread, as Ctrl-C is
        return real_describe_cluster(*args)

    monkeypatch.setattr(audit, "describe_cluster", interrupt_then_describe)
    sandbox.reset_calls()
    code = cli.main(["scan", "--regions", REGION, "--publish", "--remediate"])
    captured = capsys.readouterr()
    assert code == 130
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("eks-netpol-audit: interrupted after evaluating ")
    assert "no add-on was changed; nothing was published" in captured.err
    calls = sandbox.calls()
    # Only what was already in flight (at most the per-region share) was described.
    assert calls.count("eks", "DescribeCluster") <= 16 < CLUSTERS
    assert calls.count("securityhub") == 0
    assert calls.count("eks", "UpdateAddon") == 0
    assert sandbox.findings(REGION) == []


def test_ctrl_c_while_publishing_finishes_the_batch_and_says_so(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Security Hub never keeps a half-applied batch that nobody was told about."""
    seed(sandbox)

    def interrupt_then_publish(*args: Any) -> Any:
        os.kill(os.getpid(), signal.SIGINT)
        return real_publish(*args)

    monkeypatch.setattr(audit, "publish", interrupt_then_publish)
    code = cli.main(["scan", "--regions", REGION, "--publish"])
    captured = capsys.readouterr()
    assert code == 130
    assert captured.out == ""
    assert captured.err == (
        f"eks-netpol-audit: interrupted after evaluating {CLUSTERS} clusters; no add-on was "
        f"changed; publishing had started and was completed ({CLUSTERS} published, 0 failed, "
        "0 archived)\n"
    )
    stored = sandbox.findings(REGION)
    assert len(stored) == CLUSTERS
    assert {f["Compliance"]["Status"] for f in stored} == {"FAILED"}


def test_ctrl_c_before_remediation_changes_no_cluster(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(sandbox)
    evaluated: list[Any] = []
    counting = threading.Lock()

    def interrupt_once_evaluating(facts: Any) -> Any:
        # Clusters are judged by the workers that described them: Ctrl-C while the last
        # one is judged, i.e. after every cluster was evaluated and before remediation.
        with counting:
            evaluated.append(facts)
            if len(evaluated) == CLUSTERS:
                os.kill(os.getpid(), signal.SIGINT)
        return real_evaluate(facts)

    monkeypatch.setattr(audit, "evaluate", interrupt_once_evaluating)
    code = cli.main(["scan", "--regions", REGION, "--remediate", "--publish"])
    err = capsys.readouterr().err
    assert code == 130
    assert f"interrupted after evaluating {CLUSTERS} clusters; no add-on was changed" in err
    assert sandbox.updates() == []
    assert sandbox.findings(REGION) == []


def test_ctrl_c_at_the_console_exits_130_promptly_without_a_traceback(
    sandbox: SandboxClient,
) -> None:
    """The console entry point (`python -m eks_netpol_auditor.cli` runs the same `run()`)."""
    for index in range(300):
        sandbox.add_cluster(REGION, f"c{index:03}", addon=AddonSeed())
    sandbox.set_latency(base_ms=100)  # ~300 * 2 calls / 16 in flight * 0.1 s: ~4 s of work
    sandbox.reset_calls()
    child = subprocess.Popen(
        [sys.executable, "-m", "eks_netpol_auditor.cli", "scan", "--regions", REGION, "--publish"],
        env=sandbox_environ(sandbox.endpoint),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(600):  # until the run is describing clusters (bounded: 60 s)
            if sandbox.calls().count("eks", "DescribeCluster") > 0:
                break
            time.sleep(0.1)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130
    assert out == ""
    assert "Traceback" not in err
    assert err.count("\n") == 1
    assert err.startswith("eks-netpol-audit: interrupted after evaluating ")
    described = sandbox.calls().count("eks", "DescribeCluster")
    assert described < 300  # scheduling stopped; the queue was not worked off first
    assert sandbox.calls().count("securityhub") == 0
    assert sandbox.findings(REGION) == []


def test_a_second_ctrl_c_abandons_at_once_with_one_line(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(sandbox)
    once = threading.Lock()

    def interrupt_then_describe(*args: Any) -> Any:
        if once.acquire(blocking=False):
            os.kill(os.getpid(), signal.SIGINT)
        return real_describe_cluster(*args)

    again = threading.Lock()

    def interrupt_again(facts: Any) -> Any:  # a worker, after the first was handled
        # Once: the abandoned run's workers still judge what they had described, and a
        # SIGINT from those after the CLI returned would interrupt the test process.
        if again.acquire(blocking=False):
            os.kill(os.getpid(), signal.SIGINT)
        return real_evaluate(facts)

    monkeypatch.setattr(audit, "describe_cluster", interrupt_then_describe)
    monkeypatch.setattr(audit, "evaluate", interrupt_again)
    code = cli.main(["scan", "--regions", REGION, "--publish"])
    captured = capsys.readouterr()
    assert code == 130
    assert captured.out == ""
    assert captured.err.startswith("eks-netpol-audit: interrupted twice: abandoned")
    assert captured.err.count("\n") == 1
    assert sandbox.findings(REGION) == []


@pytest.mark.parametrize("command", ["scan", "report"])
def test_ctrl_c_while_an_endpoint_never_answers_the_account_lookup(command: str) -> None:
    """Issue 17, item 25: a server that accepts and never answers held the account lookup
    for 310 s (10 attempts of 30 s), and a single Ctrl-C was ignored until then (exit 3)."""
    accepted = threading.Event()
    held: list[socket.socket] = []
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)

        def accept() -> None:
            connection, _ = silent.accept()  # keep it open, never answer
            held.append(connection)
            accepted.set()

        threading.Thread(target=accept, daemon=True).start()
        child = subprocess.Popen(
            [sys.executable, "-m", "eks_netpol_auditor.cli", command],
            env=sandbox_environ(f"http://127.0.0.1:{silent.getsockname()[1]}"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert accepted.wait(60), "the CLI never connected"
            child.send_signal(signal.SIGINT)
            started = time.monotonic()
            out, err = child.communicate(timeout=15)
            elapsed = time.monotonic() - started
        finally:
            if child.poll() is None:
                child.kill()
            for connection in held:
                connection.close()
    assert child.returncode == 130
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("eks-netpol-audit: interrupted")
    assert elapsed < 5, elapsed  # not after the endpoint's timeouts


def test_ctrl_c_during_remediation_starts_no_further_update(
    sandbox: SandboxClient, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 16, point 8: the update in flight completes; no other UpdateAddon starts."""
    seed(sandbox)
    monkeypatch.setattr(remediation_apply, "UPDATE_SPACING_SECONDS", 0.0)
    real_apply = remediation_apply._apply

    def apply_then_interrupt(*args: Any) -> Any:
        outcome = real_apply(*args)
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the first update is answered
        return outcome

    monkeypatch.setattr(remediation_apply, "_apply", apply_then_interrupt)
    code = cli.main(["scan", "--regions", REGION, "--remediate", "--max-remediations", "10"])
    err = capsys.readouterr().err
    assert code == 130
    assert len(sandbox.updates()) == 1
    assert f"interrupted after evaluating {CLUSTERS} clusters; 1 add-on update started" in err
