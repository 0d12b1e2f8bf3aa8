"""bench.cpus: the auditor and the sandbox on different CPUs, and ours given back after."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench.cpus import cpus_apart

pytestmark = pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs sched_setaffinity and at least two CPUs",
)


def test_auditor_and_sandbox_get_disjoint_cpus_and_ours_come_back() -> None:
    ours = os.sched_getaffinity(0)
    stand_in = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with cpus_apart(stand_in.pid) as placement:
            auditor, sandbox = os.sched_getaffinity(0), os.sched_getaffinity(stand_in.pid)
            assert len(auditor) == 1
            assert sandbox == ours - auditor
            assert f"on CPU {min(ours)}" in placement
        assert os.sched_getaffinity(0) == ours
    finally:
        stand_in.kill()
        stand_in.wait()


def test_our_cpus_come_back_when_the_benchmark_fails_inside() -> None:
    ours = os.sched_getaffinity(0)
    stand_in = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with pytest.raises(RuntimeError), cpus_apart(stand_in.pid):
            raise RuntimeError("a measurement failed")
        assert os.sched_getaffinity(0) == ours
    finally:
        stand_in.kill()
        stand_in.wait()
