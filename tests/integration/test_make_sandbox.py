"""`make sandbox` as a new user meets it (issue 17, items 22, 23 and 28): the lines it prints
find the CLI from any shell, a port in use is one line naming SANDBOX_PORT, and add-on
updates finish on their own so remediate-then-scan shows the change.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sandbox import start_sandbox_process
from sandbox.environment import sandbox_environ

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_sandbox(port: int, *variables: str) -> subprocess.Popen[str]:
    """`make sandbox` in its own process group (the venv exists: its stamp is not rebuilt),
    as typed at a shell: under `make test` the child would otherwise inherit MAKELEVEL and
    MAKEFLAGS and speak as a sub-make (`make[1]: ***`), which no user sees."""
    shell = {k: v for k, v in os.environ.items() if k not in {"MAKELEVEL", "MAKEFLAGS", "MFLAGS"}}
    return subprocess.Popen(
        [
            "make",
            "--no-print-directory",
            "-o",
            ".venv/.installed",
            "sandbox",
            f"SANDBOX_PORT={port}",
            *variables,
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env=shell,
    )


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # make and the sandbox it started
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()


def test_the_printed_lines_find_the_cli_in_a_fresh_shell(tmp_path: Path) -> None:
    """A shell with only the system PATH, as in a new terminal: after pasting the lines,
    `eks-netpol-audit scan` runs against the sandbox (it exited 127 before)."""
    process = make_sandbox(free_port())
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not lines or not lines[-1].startswith("# then:"):
            line = process.stdout.readline()
            assert line, f"make sandbox ended early: {lines}"
            lines.append(line.rstrip("\n"))
        pasted = "\n".join(lines)
        fresh = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
        if "PYTHONPATH" in os.environ:  # the code under test, not another checkout's
            fresh["PYTHONPATH"] = os.environ["PYTHONPATH"]
        done = subprocess.run(
            [
                "bash",
                "--noprofile",
                "--norc",
                "-c",
                f"{pasted}\neks-netpol-audit scan --regions us-east-1 --format json",
            ],
            env=fresh,
            cwd=tmp_path,  # the PATH line is absolute: it works from any directory
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        stop(process)
    assert done.stderr == ""
    assert done.returncode == 1  # the demo's FAILED clusters
    names = {row["cluster"] for row in json.loads(done.stdout)["results"]}
    assert "analytics-dev" in names
    assert any(line.startswith("export PATH=/") for line in lines)


def test_a_port_in_use_is_one_line_naming_sandbox_port_and_nothing_to_paste() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        process = make_sandbox(taken.getsockname()[1])
        try:
            out, err = process.communicate(timeout=60)
        finally:
            stop(process)
    assert out == ""  # no export lines for a sandbox that never started
    ours = [line for line in err.splitlines() if not line.startswith("make: ***")]
    assert len(ours) == 1, err
    assert ours[0].startswith("sandbox: error: 127.0.0.1:")
    assert "already in use" in ours[0] and "SANDBOX_PORT" in ours[0]
    assert process.returncode != 0


def scan(endpoint: str, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "eks_netpol_auditor.cli",
            "scan",
            "--regions",
            "us-east-1",
            "--format",
            "json",
            *args,
        ],
        env=sandbox_environ(endpoint),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stderr == ""
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def status(document: dict[str, Any], cluster: str) -> str:
    return str(next(r["status"] for r in document["results"] if r["cluster"] == cluster))


def test_remediate_then_scan_shows_the_change_once_the_update_settles() -> None:
    """UpdateAddon leaves the add-on UPDATING and EKS finishes it on its own; the sandbox
    does so after --settle-seconds (1 s here), with no POST /_sandbox/settle."""
    with start_sandbox_process(seed="demo", settle_seconds="1") as sandbox:
        fixed = scan(sandbox.endpoint, "--remediate")
        applied = [
            r["cluster"]
            for r in fixed["results"]
            if (r.get("remediation") or {}).get("action") == "applied"
        ]
        assert "analytics-dev" in applied
        time.sleep(1.5)
        assert status(scan(sandbox.endpoint), "analytics-dev") == "PASSED"


def test_the_sandbox_settles_on_its_own_by_default_and_a_reset_keeps_it() -> None:
    with start_sandbox_process() as sandbox:
        assert sandbox.client.auto_settle() == 10  # documented in docs/sandbox.md
        sandbox.client.reset()
        assert sandbox.client.auto_settle() == 10
    with start_sandbox_process(settle_seconds="never") as sandbox:
        assert sandbox.client.auto_settle() is None
