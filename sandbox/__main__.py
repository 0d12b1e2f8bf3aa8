"""``python -m sandbox --port N [--seed demo] [--host 127.0.0.1] [--settle-seconds S]
[--print-env]``.

Binds first, then prints the endpoint URL as the first stdout line (``--port 0`` picks a
free port), or with ``--print-env`` the shell lines ``make sandbox`` shows; then serves
until killed (SIGTERM/SIGINT). A port already in use is one line naming SANDBOX_PORT, exit 2.

Pending EKS work (UpdateAddon, CreateAddon, CreateCluster, the deletions) finishes
``--settle-seconds`` after it started, as EKS finishes it on its own: an add-on is UPDATING,
then ACTIVE (EKS user guide, "Update an Amazon EKS add-on"; API_DescribeAddon ``status``).
EKS documents no duration (real updates take minutes); the sandbox default is short so that
remediate-then-scan shows the change. ``never`` leaves it to ``POST /_sandbox/settle``.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
import threading
from types import FrameType

from sandbox.client import SandboxClient
from sandbox.environment import shell_lines
from sandbox.seeds import SEEDS
from sandbox.server import SandboxServer

DEFAULT_SETTLE_SECONDS = 10.0
EXIT_USAGE = 2


def _settle_seconds(text: str) -> float | None:
    if text == "never":
        return None
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds or 'never': {text!r}") from None
    if not 0 <= seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, got {text!r}")
    return seconds


def _bind(host: str, port: int) -> SandboxServer | str:
    """The bound server, or the one line that says why the port cannot be used."""
    try:
        return SandboxServer(host, port)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            return (
                f"{host}:{port} is already in use (LocalStack listens on 4566 too): choose a "
                "free port with SANDBOX_PORT, e.g. make sandbox SANDBOX_PORT=4567 "
                "(python -m sandbox --port N)"
            )
        return f"cannot listen on {host}:{port}: {error.strerror or error}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (loopback only)")
    parser.add_argument("--seed", choices=sorted(SEEDS), help="seed data set to load")
    parser.add_argument(
        "--settle-seconds",
        type=_settle_seconds,
        default=DEFAULT_SETTLE_SECONDS,
        metavar="S",
        help=f"pending EKS work finishes S seconds after it started (default "
        f"{DEFAULT_SETTLE_SECONDS:g}); 'never': only through POST /_sandbox/settle",
    )
    parser.add_argument(
        "--print-env",
        action="store_true",
        help="print the shell lines that point eks-netpol-audit and the AWS CLI at the "
        "sandbox, instead of the bare endpoint",
    )
    args = parser.parse_args(argv)

    server = _bind(args.host, args.port)
    if isinstance(server, str):
        print(f"sandbox: error: {server}", file=sys.stderr)
        return EXIT_USAGE
    server.app.eks.set_default_auto_settle(args.settle_seconds)
    server.start()
    if args.seed:
        # Seed through the control API, like any other driver would.
        SEEDS[args.seed](SandboxClient(server.endpoint))
    if args.print_env:
        print("\n".join(shell_lines(server.endpoint, os.environ, args.settle_seconds)))
    else:
        print(server.endpoint)
    sys.stdout.flush()
    print(f"AWS sandbox serving on {server.endpoint} (SIGTERM/Ctrl-C stops it)", file=sys.stderr)

    stop = threading.Event()

    def _on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
