"""Run the sandbox as a separate process (benchmark, ``make demo``).

Why a process: the benchmark must not share a GIL with the server it measures, and the
demo wants a sandbox that outlives one Python call. The child prints its endpoint as its
first stdout line (``python -m sandbox --port 0``); we read it and hand back a
handle that stops the child by its own pid.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sandbox.client import SandboxClient

_REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class SandboxProcess:
    """A running sandbox child process."""

    endpoint: str
    process: subprocess.Popen[str]

    @property
    def client(self) -> SandboxClient:
        return SandboxClient(self.endpoint)

    def stop(self, timeout: float = 5.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def start_sandbox_process(
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    seed: str | None = None,
    python: str | None = None,
    startup_timeout: float = 30.0,
    settle_seconds: str | None = None,
) -> SandboxProcess:
    """Start ``python -m sandbox`` and wait until it answers on its endpoint.

    ``seed`` is ``"demo"`` or None; ``settle_seconds`` is passed as ``--settle-seconds``
    (seconds or ``never``; None: the process's default). stderr is inherited so crashes
    stay visible.
    """
    args = [python or sys.executable, "-m", "sandbox", "--port", str(port), "--host", host]
    if seed:
        args += ["--seed", seed]
    if settle_seconds is not None:
        args += ["--settle-seconds", settle_seconds]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(_REPO_ROOT), env.get("PYTHONPATH", "")) if p
    )
    env["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen(args, cwd=_REPO_ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("http://"):
        process.kill()
        process.wait()
        raise RuntimeError(f"sandbox did not start (exit {process.returncode}): {line!r}")
    handle = SandboxProcess(endpoint=line, process=process)
    deadline = time.monotonic() + startup_timeout
    while True:
        try:
            handle.client.health()
            return handle
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                handle.stop()
                raise
            time.sleep(0.05)
