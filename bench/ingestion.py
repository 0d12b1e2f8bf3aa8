"""`python -m bench.ingestion`: Security Hub CSPM finding ingestion events, before and after
FINDINGS_REFRESH_HOURS, counted by the sandbox (the billed unit: every finding
BatchImportFindings accepts, new or updated).

The demo account (12 clusters, 3 regions) is audited on the stack's default schedule (every
6 hours) for two simulated days, with one cluster fixed at hour 30; the publisher's clock is
moved 6 hours per run (`Publisher(now=...)`), nothing sleeps. Once with
FINDINGS_REFRESH_HOURS=0 (every run re-imports, the behaviour before) and once with the
default 24. Replaces its section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from bench.latency import HOME_REGION
from bench.markdown import RESULTS_PATH, replace_section
from eks_netpol_auditor.audit import run_audit
from eks_netpol_auditor.aws import AwsClients
from eks_netpol_auditor.config import Settings
from eks_netpol_auditor.securityhub.publisher import Publisher
from sandbox import AddonSeed, SandboxClient
from sandbox.environment import sandbox_overrides
from sandbox.seeds import DEMO_REGIONS, seed_demo
from sandbox.server import SandboxServer

SECTION = "## Security Hub CSPM ingestion events (FINDINGS_REFRESH_HOURS)"
STEP_HOURS = 6
DAYS = 2
FIXED = ("eu-west-1", "ml-training")  # FAILED -> PASSED at hour 30, between refreshes
FIX_AT_RUN = 5
ENABLED = '{"enableNetworkPolicy":"true"}'


@dataclass(frozen=True)
class Simulation:
    refresh_hours: int
    clusters: int
    events_per_run: list[int]

    @property
    def per_cluster_month(self) -> float:
        return sum(self.events_per_run) / self.clusters * 30 / DAYS


def clock(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def simulate(client: SandboxClient, refresh_hours: int) -> Simulation:
    client.reset()
    clusters = seed_demo(client)
    start = datetime.now(UTC)
    settings = Settings(
        regions=DEMO_REGIONS,
        home_region=HOME_REGION,
        max_workers=16,
        findings_refresh_hours=refresh_hours,
    )
    runs = DAYS * 24 // STEP_HOURS
    events: list[int] = []
    for run in range(runs):
        if run == FIX_AT_RUN:
            client.set_addon(*FIXED, AddonSeed(configuration_values=ENABLED))
        client.reset_ingestion_events()
        clients = AwsClients()
        result = run_audit(settings, clients)  # publish is off: published below, at `moment`
        moment = start + timedelta(hours=STEP_HOURS * run)
        Publisher(replace(settings, publish=True), clients, result, now=clock(moment)).run()
        assert not result.errors, result.errors
        events.append(client.ingestion_events())
    return Simulation(refresh_hours, len(clusters), events)


def render(before: Simulation, after: Simulation) -> str:
    lines = [
        SECTION,
        "",
        f"Demo account ({before.clusters} clusters, 3 regions), audited every {STEP_HOURS} "
        f"hours for {DAYS} simulated days, `{FIXED[1]}` fixed half-way; ingestion events "
        "counted by the sandbox per run (`python -m bench.ingestion`).",
        "",
        "| FINDINGS_REFRESH_HOURS | events per run | total | per cluster per month |",
        "|---:|---|---:|---:|",
    ]
    for sim in (before, after):
        lines.append(
            f"| {sim.refresh_hours} | {', '.join(map(str, sim.events_per_run))} "
            f"| {sum(sim.events_per_run)} | {sim.per_cluster_month:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingestion", description=__doc__)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    with SandboxServer() as server:
        to_set, to_remove = sandbox_overrides(server.endpoint, os.environ)
        for name in to_remove:
            os.environ.pop(name, None)
        os.environ.update(to_set)
        client = SandboxClient(server.endpoint)
        section = render(simulate(client, 0), simulate(client, 24))
    print(section)
    if not args.no_write:
        RESULTS_PATH.write_text(replace_section(RESULTS_PATH.read_text(), SECTION, section))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
