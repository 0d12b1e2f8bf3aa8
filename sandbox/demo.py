"""`make demo`: a real table in one command, against the local sandbox, no AWS account.

Starts the sandbox as its own process seeded with ~10 varied clusters in 3 regions (and
what is inside them, for the in-cluster check), then runs the installed `eks-netpol-audit`
CLI against it exactly as a user would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from sandbox.environment import sandbox_environ
from sandbox.process import start_sandbox_process

SCANS: list[tuple[str, list[str]]] = [
    ("Read-only audit of every enabled region", ["scan"]),
    (
        "Both CIS controls: also read each cluster's Kubernetes API (every row of the "
        "in-cluster table appears once)",
        ["scan", "--in-cluster"],
    ),
    (
        "Publish findings to Security Hub and plan remediation without changing anything",
        ["scan", "--publish", "--remediate", "--dry-run", "--format", "table"],
    ),
    ("Check the account's setup for the auditor (read-only)", ["doctor"]),
]
MEANINGS = {
    "scan": "0 all pass/warn, 1 something FAILED, 3 incomplete",
    "doctor": "0 every check passed, 1 a check failed or is unknown",
}


def main() -> int:
    cli = shutil.which("eks-netpol-audit") or os.path.join(
        os.path.dirname(sys.executable), "eks-netpol-audit"
    )
    with start_sandbox_process(seed="demo") as sandbox:
        env = sandbox_environ(sandbox.endpoint)
        print(f"Sandbox: {sandbox.endpoint} (loopback only)\n", flush=True)
        for title, args in SCANS:
            print(f"$ eks-netpol-audit {' '.join(args)}    # {title}", flush=True)
            code = subprocess.run([cli, *args], env=env, check=False).returncode
            print(f"(exit code {code}: {MEANINGS[args[0]]})\n")
            if code not in (0, 1, 3):
                return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
