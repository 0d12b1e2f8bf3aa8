"""The in-cluster case's arithmetic and gates (bench/floors.py), its JSON record, its
RESULTS.md section (bench/render.py) and its command-line switch (bench/run.py): issue 18,
"Speed and memory"."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bench import floors, records
from bench.render import IN_CLUSTER_SECTION, render
from bench.run import parse_in_cluster, parser, plan_of, with_in_cluster
from tests.unit.bench.builders import KUBE_READ, bench_run, in_cluster_case


def passed(case: records.InClusterCase) -> dict[str, bool]:
    return {g.target.split(" (")[0]: g.passed for g in floors.in_cluster_gates(case)}


WALL = "in-cluster: wall time with the check <= 1.5x without"
CALLS = "in-cluster: <= 8 Kubernetes calls per cluster plus pages"
MEMORY = "in-cluster: peak memory <= 256 MiB"


def test_the_figures_are_the_difference_with_the_check_off_run() -> None:
    case = in_cluster_case(clusters=1000, off_wall=14.0, on_wall=18.0, off_cpu_ms=8, on_cpu_ms=20)
    assert floors.added_wall_seconds(case) == pytest.approx(4.0)
    assert floors.in_cluster_wall_ratio(case) == pytest.approx(18 / 14)
    assert floors.added_cpu_ms_per_cluster(case) == pytest.approx(12.0)
    assert floors.kube_calls_per_cluster(case) == (6.0, 6)
    assert floors.kube_requests(case) == 6000
    assert floors.peak_rss_mib(case) == pytest.approx(180.0)
    assert floors.rss_growth_mib(case) == pytest.approx(50.0)
    assert floors.growth_bytes_per_pod(case) == pytest.approx(50 * 2**20 / 300_000)
    assert floors.on_cpu_over_off_wall(case) == pytest.approx(20.0 / 14.0)
    assert passed(case) == {WALL: True, CALLS: True, MEMORY: True}


def test_the_wall_gate_is_a_ratio_of_the_same_run() -> None:
    assert passed(in_cluster_case(off_wall=10.0, on_wall=15.0))[WALL]
    assert not passed(in_cluster_case(off_wall=10.0, on_wall=15.1))[WALL]
    # Slow machine, same ratio: the same verdict (never an absolute time).
    assert passed(in_cluster_case(off_wall=100.0, on_wall=150.0))[WALL]


def test_continue_pages_are_not_calls_but_other_requests_are() -> None:
    paged = {**KUBE_READ, "list:pods": 4}  # three continue pages of pods
    case = in_cluster_case(clusters=10, reads=paged)
    assert floors.kube_calls_per_cluster(case) == (6.0, 6)
    assert floors.kube_pages_total(case) == 30
    assert passed(case)[CALLS]
    extra = {**KUBE_READ, "get:pods": 3}  # gets are never pages
    assert floors.kube_calls_per_cluster(in_cluster_case(clusters=10, reads=extra)) == (9.0, 9)
    assert not passed(in_cluster_case(clusters=10, reads=extra))[CALLS]


def test_no_cluster_read_is_no_pass() -> None:
    assert not passed(in_cluster_case(kube_calls={}))[CALLS]


def test_memory_is_the_fresh_process_peak_not_the_growth() -> None:
    assert passed(in_cluster_case(peak_mib=256.0))[MEMORY]
    assert not passed(in_cluster_case(peak_mib=257.0))[MEMORY]  # growth 127 MiB: still a miss
    assert not passed(in_cluster_case(peak_mib=None))[MEMORY]  # not measured is no pass


def test_the_case_survives_its_json_and_renders_with_its_gates(tmp_path: Path) -> None:
    run = bench_run(in_cluster=in_cluster_case(on_wall=25.0))
    records.dump(run, tmp_path / "run.json")
    assert records.load(tmp_path / "run.json") == run
    report = render(run)
    assert IN_CLUSTER_SECTION in report
    assert "| on | 25.00 | 20.00 | 20.00 |" in report
    assert "- Added wall time: 11.00 s (1.79x the check-off run)." in report
    assert "- Added auditor CPU: 12.00 ms per cluster" in report
    assert "mean 6.00, max 6, pages excluded; 0 more list pages" in report
    assert "180 MiB, the peak RSS (VmHWM) of a fresh Python process" in report
    assert "+50 MiB over the same check-off process, about 175 bytes per pod read" in report
    assert "auditor CPU alone, 20.00 s on one CPU, is 1.43x the check-off run's wall" in report
    assert f"| {WALL} (1000 clusters x 300 pods, realistic) | **MISS** | 1.79x" in report
    assert {g.target for g in floors.run_gates(run) if not g.passed} == {
        f"{WALL} (1000 clusters x 300 pods, realistic)"
    }
    assert IN_CLUSTER_SECTION not in render(bench_run())


def test_the_switch_is_on_by_default_and_off_under_quick_unless_asked() -> None:
    def on(*argv: str) -> bool:
        return with_in_cluster(parser().parse_args(list(argv)))

    assert on() and not on("--no-in-cluster")
    assert not on("--quick") and on("--quick", "--in-cluster")
    args = parser().parse_args(["--quick", "--in-cluster", "--in-cluster-size", "4x5"])
    assert args.in_cluster_size == (4, 5)
    assert parser().parse_args([]).in_cluster_size == (1000, 300)
    assert plan_of(args, "cmd").sizes == (100,)
    assert parse_in_cluster("1000X300") == (1000, 300)
    for bad in ("1000", "x300", "0x300", "ax3"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_in_cluster(bad)
