"""bench.render and bench.records: the raw JSON survives a round trip and renders the
report the gates decide, with the absolute figures beside them."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from bench import ingestion, records
from bench.events import SECTION as EVENTS
from bench.events import EventBench, Invocation
from bench.org import OrgMeasurement
from bench.render import main, render, write
from tests.unit.bench.builders import bench_run, measurement


def test_a_run_survives_its_json(tmp_path: Path) -> None:
    run = bench_run(measurement(clusters=100, cpu_ms=11.0), measurement())
    records.dump(run, tmp_path / "out" / "run.json")
    assert records.load(tmp_path / "out" / "run.json") == run


def test_the_report_gates_the_ratio_and_shows_the_absolute_figures() -> None:
    report = render(bench_run(measurement(cpu_ms=4.0, pair_ms=2.5)))
    assert "| 1000 | 5.00 | 130.0 | 26.0x |" in report
    assert "| 4.00 |" in report and "| **1.60** |" in report
    assert "| PASS | realistic 1.60 (4.00 ms per cluster / 2.50 ms per pair) |" in report
    assert "auditor 4.00 ms CPU per cluster (least of 4.00, 4.80); bare pair 2.50 ms" in report
    assert "**MISS**" not in report

    missed = render(bench_run(measurement(cpu_ms=6.0, pair_ms=2.5)))
    assert "| **MISS** | realistic 2.40 (6.00 ms per cluster / 2.50 ms per pair) |" in missed


def test_events_and_org_cases_render_from_their_json() -> None:
    calls = {"eks:DescribeCluster@eu-west-1": 1}
    events = EventBench(0.5, Invocation(0.8, calls), [Invocation(0.3, calls)], 0.6, {}, 5)
    org = OrgMeasurement(3, 4, 2, 3, 0.1, 5.0, [1.0, 2.0, 3.0], 24, 1.0, 24, 4, 1, 1, 0, 1)
    run = bench_run(events=asdict(events), org=asdict(org))
    report = render(records.load_text(records.dump_text(run)))
    assert EVENTS in report
    assert "| handler, warm (median of 1) | 0.300 s | <= 1 s: met |" in report
    assert "## Organization report" in report
    assert "3 member accounts x 4 regions x 2 clusters = 24 clusters" in report
    assert EVENTS not in render(bench_run())


def test_writing_keeps_the_ingestion_section(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    section = f"{ingestion.SECTION}\n\n| 0 | 12 |\n"
    path.write_text("# old report\n\n" + section)
    write(render(bench_run()), path)
    text = path.read_text()
    assert "# old report" not in text
    assert text.endswith(section)
    assert text.startswith("# Benchmark results")


def test_render_refuses_a_missing_or_foreign_file_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(tmp_path / "absent.json"), "--output", str(tmp_path / "R.md")]) == 2
    (tmp_path / "other.json").write_text('{"hello": 1}')
    assert main([str(tmp_path / "other.json"), "--output", str(tmp_path / "R.md")]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 2
    assert errors[0].startswith("error: cannot read")
    assert errors[1].startswith("error: ") and "is not a bench run" in errors[1]
    assert not (tmp_path / "R.md").exists()
