"""bench.floors: the floors' arithmetic and the gates `make bench` exits on (ratios and
counts, never absolute times)."""

from __future__ import annotations

import pytest

from bench import floors
from bench.floors import Gate, gates
from tests.unit.bench.builders import measurement, ours


def gate(found: list[Gate], start: str) -> Gate:
    (match,) = [g for g in found if g.target.startswith(start)]
    return match


def ratio_gate(*ms: object) -> Gate:
    return gate(gates(ms), "auditor CPU per cluster")  # type: ignore[arg-type]


def test_chain_floor_is_the_home_calls_then_the_slowest_regions_dependent_steps() -> None:
    m = measurement(clusters=300)
    # Home: STS + DescribeRegions at 27 ms. us-east-1 (150 clusters): 2 list pages, both
    # describes, 1 GetFindings, 1 import = 6 steps x 27 ms; eu-west-1 the same 6 x 100 ms.
    assert floors.chain_floor(m) == pytest.approx(2 * 0.027 + 6 * 0.100)


def test_pool_floor_is_the_larger_bound_and_says_which() -> None:
    m = measurement(clusters=300)
    # eu-west-1: 300 describe calls x 100 ms / 16 in flight; all calls' latency / 128 workers.
    seconds, region = floors.region_floor(m)
    assert seconds == pytest.approx(300 * 0.1 / 16)
    assert region == "eu-west-1"
    # Per region: 2 list pages, 300 describes, 1 GetFindings, 2 imports; STS + regions at home.
    work = (2 + 300 + 1 + 2 + 2) * 0.027 + (2 + 300 + 1 + 2) * 0.100
    assert floors.work_floor(m) == pytest.approx(work / 128)
    assert floors.pool_floor(m) == pytest.approx(300 * 0.1 / 16)
    assert not floors.pool_bound_is_workers(m)
    narrow = measurement(clusters=300, workers=8)
    assert floors.pool_bound_is_workers(narrow)
    assert floors.pool_floor(narrow) == pytest.approx(work / 8)


def test_cpu_ratio_divides_cpu_per_cluster_by_cpu_per_pair() -> None:
    m = measurement(cpu_ms=4.0, pair_ms=2.5)
    assert floors.cpu_ms_per_cluster(m) == pytest.approx(4.0)
    assert floors.pair_cpu_ms(m) == pytest.approx(2.5)
    assert floors.cpu_ratio(m) == pytest.approx(1.6)
    assert floors.cpu_ratio(measurement(pair_ms=None)) is None


def test_the_ratio_gate_passes_at_two_and_misses_above() -> None:
    assert ratio_gate(measurement(cpu_ms=5.0, pair_ms=2.5)).passed
    missed = ratio_gate(measurement(cpu_ms=5.25, pair_ms=2.5))
    assert not missed.passed
    assert "2.10 (5.25 ms per cluster / 2.50 ms per pair)" in missed.evidence


def test_absolute_times_never_decide_a_gate() -> None:
    """50 ms of CPU per cluster and a 10-minute run pass when the ratio holds: a loaded
    machine slows both sides of the ratio alike."""
    slow = measurement(cpu_ms=50.0, pair_ms=30.0, wall=600.0, baseline=60_000.0)
    assert all(g.passed for g in gates([slow])), gates([slow])


def test_the_ratio_is_gated_at_the_largest_size_on_every_model() -> None:
    small = measurement(clusters=100, cpu_ms=15.0, pair_ms=3.0)  # fixed cost dominates
    big = measurement(cpu_ms=4.0, pair_ms=2.5)
    assert ratio_gate(small, big).passed
    uniform_bad = measurement(model="uniform-20ms", cpu_ms=6.0, pair_ms=2.5)
    assert not ratio_gate(small, big, uniform_bad).passed


def test_a_ratio_not_measured_is_a_miss_not_a_pass() -> None:
    assert not ratio_gate(measurement(pair_ms=None)).passed
    assert not ratio_gate(measurement(), measurement(model="uniform-20ms", pair_ms=None)).passed


def test_speedup_gate_at_the_target_size_on_the_realistic_model() -> None:
    def speed(baseline: float) -> Gate:
        return gate(gates([measurement(wall=10.0, baseline=baseline)]), ">= 10x")

    assert speed(100.0).passed
    assert not speed(99.0).passed
    assert not [g for g in gates([measurement(clusters=100)]) if g.target.startswith(">= 10x")]


def test_count_gates_catch_extra_describes_imports_and_lost_clusters() -> None:
    good = measurement(clusters=200)
    assert floors.invariant_violations(good) == []
    calls = dict(good.ours.api_calls, **{"eks:DescribeAddon": 201})
    twice = ours(good, api_calls=calls)
    assert floors.invariant_violations(twice)
    assert not gate(gates([twice]), "<= 2 EKS calls").passed

    sandbox = {r: dict(ops) for r, ops in good.ours.sandbox_calls.items()}
    sandbox["eu-west-1"]["securityhub:BatchImportFindings"] = 2  # 100 findings: 1 expected
    split = ours(good, sandbox_calls=sandbox)
    assert floors.import_violations(split) == ["eu-west-1: 2 imports for 100 findings"]
    assert not gate(gates([split]), "Security Hub imports").passed

    lost = ours(good, clusters_accounted=199)
    assert floors.invariant_violations(lost) == ["199 clusters accounted for, 200 seeded"]


def test_extra_list_pages_are_caught() -> None:
    good = measurement(clusters=200)  # 100 per region: one page each
    paged = ours(good, api_calls=dict(good.ours.api_calls, **{"eks:ListClusters": 3}))
    assert floors.page_violations(paged) == ["3 ListClusters pages, expected 2"]


def test_throttling_that_surfaces_misses_and_absorbed_throttling_does_not() -> None:
    absorbed = ours(measurement(), throttled=12)
    assert gate(gates([absorbed]), "zero throttling").passed
    surfaced = ours(measurement(), surfaced_errors=("eu-west-1/c1: ThrottlingException",))
    assert not gate(gates([surfaced]), "zero throttling").passed


def test_marginal_cpu_leaves_out_the_fixed_cost() -> None:
    small = measurement(clusters=100, cpu_ms=10.0)  # 1.0 s
    big = measurement(clusters=1000, cpu_ms=4.0)  # 4.0 s
    ((model, value),) = floors.marginal_cpu_ms([small, big])
    assert model == "realistic"
    assert value == pytest.approx(3000 / 900)
