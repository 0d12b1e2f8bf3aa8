"""Keep the auditor and the sandbox on different CPUs while the main benchmark runs.

In Lambda the auditor runs at 512 MB (`infra.stack.FUNCTION_MEMORY_MB`), a share of one
vCPU: "At 1,769 MB, a function has the equivalent of one vCPU" (Lambda developer guide,
"Configure Lambda function memory"). AWS answers from other machines. Unpinned, the two
processes share both CPUs of this 2-core machine and a worker's wake-up may cross CPUs;
measured on 2026-11-27 (1,000 clusters, realistic model, six runs each): 3x fewer context
switches, half the system time and about 7% less auditor CPU per cluster, with less spread.

The organization case is left unpinned: its member runs stand for separate accounts'
functions, each with its own vCPU.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


@contextlib.contextmanager
def cpus_apart(sandbox_pid: int) -> Iterator[str]:
    """Pin this process to its first allowed CPU and the sandbox to the others; restore
    this process's CPUs afterwards. Yields a line for the report saying what was done."""
    if not hasattr(os, "sched_setaffinity"):
        yield "not pinned (no sched_setaffinity on this platform)"
        return
    ours = sorted(os.sched_getaffinity(0))
    if len(ours) < 2:
        yield f"not pinned (only CPU {ours[0]} available)"
        return
    auditor, sandbox = {ours[0]}, set(ours[1:])
    os.sched_setaffinity(sandbox_pid, sandbox)
    os.sched_setaffinity(0, auditor)
    try:
        yield (
            f"auditor (this process) on CPU {ours[0]}, sandbox on CPU"
            f" {', '.join(map(str, sorted(sandbox)))} (`bench/cpus.py`: Lambda runs the"
            " function on a share of one vCPU, and AWS answers from elsewhere)"
        )
    finally:
        os.sched_setaffinity(0, set(ours))
