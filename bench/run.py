"""`python -m bench.run [--quick] [--sizes 100,400,1000]`: the benchmark's driver.

Measure (`bench/measure.py`) -> raw JSON in bench/out/run.json (gitignored) -> render
(`bench/render.py`) -> bench/RESULTS.md; the exit code comes from the gates
(`bench/floors.py`), which are ratios and counts only, never absolute times.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from bench import incluster, org, records
from bench.environment import publishing_available
from bench.floors import run_gates
from bench.latency import MODELS, REALISTIC, UNIFORM_20
from bench.markdown import RESULTS_PATH
from bench.measure import Plan, measure_all
from bench.render import JSON_PATH, render, write

DEFAULT_SIZES = (100, 400, 1000)
QUICK_SIZES = (100,)


def parse_sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes whole numbers: {text!r}") from None
    if not sizes or any(s <= 0 for s in sizes):
        raise argparse.ArgumentTypeError("must list positive numbers")
    return sizes


def parse_in_cluster(text: str) -> tuple[int, int]:
    clusters, sep, pods = text.lower().partition("x")
    try:
        size = (int(clusters), int(pods))
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes CLUSTERSxPODS, e.g. 1000x300: {text!r}") from None
    if not sep or min(size) <= 0:
        raise argparse.ArgumentTypeError(f"takes CLUSTERSxPODS, e.g. 1000x300: {text!r}")
    return size


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    p.add_argument("--quick", action="store_true", help="100 clusters, no file, exit 0")
    p.add_argument("--sizes", type=parse_sizes, help="account sizes, e.g. 100,400,1000")
    p.add_argument(
        "--models",
        default=f"{REALISTIC.name},{UNIFORM_20.name}",
        help=f"latency models, from {', '.join(MODELS)}",
    )
    p.add_argument("--workers", type=int, help="override Settings.max_workers")
    p.add_argument("--per-region", type=int, help="override Settings.per_region_concurrency")
    p.add_argument("--no-baseline", action="store_true", help="skip the baseline")
    p.add_argument("--no-events", action="store_true", help="skip the event-run case")
    p.add_argument(
        "--sweep-workers",
        type=parse_sizes,
        help="Settings.max_workers values to try at the largest size, realistic model"
        " (default 16,32,64; none with --quick)",
    )
    p.add_argument("--no-sweep", action="store_true", help="skip the worker sweep")
    p.add_argument(
        "--in-cluster",
        action=argparse.BooleanOptionalAction,
        help="the in-cluster check case against the check-off run (default on; off with"
        " --quick unless asked)",
    )
    p.add_argument(
        "--in-cluster-size",
        type=parse_in_cluster,
        default=(incluster.CLUSTERS, incluster.PODS),
        help=f"its account, CLUSTERSxPODS (default {incluster.CLUSTERS}x{incluster.PODS})",
    )
    p.add_argument("--output", type=Path, help=f"the report (default {RESULTS_PATH})")
    p.add_argument("--json", type=Path, default=JSON_PATH, help="the raw measurements")
    p.add_argument(
        "--org-accounts",
        type=int,
        help=f"member accounts of the organization case (default {org.ACCOUNTS},"
        " 0 with --quick); 0 skips it",
    )
    return p


def plan_of(args: argparse.Namespace, command: str) -> Plan:
    sweep: tuple[int, ...] = args.sweep_workers or (() if args.quick else (16, 32, 64))
    return Plan(
        # Ascending: the worker sweep reuses the last (largest) account.
        sizes=tuple(sorted(args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES))),
        models=tuple(MODELS[name.strip()] for name in args.models.split(",") if name.strip()),
        command=command,
        workers=args.workers,
        per_region=args.per_region,
        with_baseline=not args.no_baseline,
        with_events=not args.no_events,
        sweep_workers=() if args.no_sweep else sweep,
        org_accounts=args.org_accounts
        if args.org_accounts is not None
        else (0 if args.quick else org.ACCOUNTS),
    )


def with_in_cluster(args: argparse.Namespace) -> bool:
    """The in-cluster case runs unless --no-in-cluster, or --quick without --in-cluster."""
    return not args.quick if args.in_cluster is None else bool(args.in_cluster)


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    p = parser()
    args = p.parse_args(given)
    unknown = [n.strip() for n in args.models.split(",") if n.strip() not in MODELS]
    if unknown:
        p.error(f"unknown model {unknown[0]!r}; choose from {', '.join(MODELS)}")
    if not publishing_available():
        print("warning: securityhub/publisher.py is absent: publishing off", file=sys.stderr)
    run = measure_all(
        plan_of(args, shlex.join(["python", "-m", "bench.run", *given])),
        incluster.case(*args.in_cluster_size) if with_in_cluster(args) else None,
    )
    records.dump(run, args.json)
    report = render(run)
    print(report)
    output = args.output or (None if args.quick else RESULTS_PATH)
    if output is not None:
        write(report, output)
        print(f"wrote {args.json} and {output}", file=sys.stderr)
    missed = [gate.target for gate in run_gates(run) if not gate.passed]
    for target in missed:
        print(f"MISS: {target}", file=sys.stderr)
    return 1 if missed and not args.quick else 0


if __name__ == "__main__":
    sys.exit(main())
