"""``python -m sandbox --port N [--seed demo] [--host 127.0.0.1]``.

Prints the endpoint URL as the first stdout line (``--port 0`` picks a free port), then
serves until killed (SIGTERM/SIGINT).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from sandbox.client import SandboxClient
from sandbox.seeds import SEEDS
from sandbox.server import SandboxServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (loopback only)")
    parser.add_argument("--seed", choices=sorted(SEEDS), help="seed data set to load")
    args = parser.parse_args(argv)

    server = SandboxServer(args.host, args.port).start()
    if args.seed:
        # Seed through the control API, like any other driver would.
        SEEDS[args.seed](SandboxClient(server.endpoint))
    print(server.endpoint, flush=True)
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
