"""``python -m forensics.emulator --logs PATH [--port PORT] [--grpc-port PORT] [--faults PLAN]``: serve an export locally."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from forensics.cli import add_input_limit_options, input_limits
from forensics.emulator.faults import FaultPlan
from forensics.emulator.server import LoggingEmulator
from forensics.emulator.store import load_export
from forensics.exceptions import ForensicsError

DEFAULT_PORT = 8086


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until interrupted; exit 2 with one line on unusable input."""
    parser = argparse.ArgumentParser(
        prog="python -m forensics.emulator",
        description="A local Cloud Logging v2 API (entries.list over HTTP/JSON) serving a log export.",
    )
    parser.add_argument("--logs", action="append", required=True, metavar="PATH",
                        help="export file or folder to serve (repeatable)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, metavar="PORT",
                        help=f"HTTP port on 127.0.0.1 (default: {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--project", metavar="ID",
                        help="project for entries whose logName names none (default: the export's)")
    parser.add_argument("--grpc-port", type=int, metavar="PORT",
                        help="also serve ListLogEntries over gRPC (insecure) on this port "
                             "(default: no gRPC; 0 picks a free one)")
    parser.add_argument("--faults", metavar="PLAN",
                        help="fault plan: a JSON file or JSON text, e.g. '[{\"kind\": \"429\", \"retry_after\": 1}]'")
    add_input_limit_options(parser)
    args = parser.parse_args(argv)
    try:
        store = load_export(*args.logs, default_project=args.project, limits=input_limits(args),
                            follow_links=args.follow_links)
        faults = FaultPlan.from_option(args.faults) if args.faults else FaultPlan()
        server = LoggingEmulator(store, port=args.port, faults=faults)
    except ForensicsError as err:
        print(f"forensics.emulator: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"forensics.emulator: error: cannot listen on 127.0.0.1:{args.port}: {err.strerror}", file=sys.stderr)
        return 2
    grpc_server = None
    if args.grpc_port is not None:
        from forensics.emulator.grpc_api import GrpcLoggingServer

        try:
            grpc_server = GrpcLoggingServer(server, port=args.grpc_port).start()
        except (OSError, RuntimeError) as err:
            print(f"forensics.emulator: error: {err}", file=sys.stderr)
            server.server_close()
            return 2
    skipped = sum(store.skipped.values())
    print(f"serving {len(store.entries)} entries of project(s) {', '.join(sorted(store.project_ids))}"
          + (f" ({skipped} non-entries skipped)" if skipped else "")
          + f" on {server.url}", flush=True)
    print(f"export LOGGING_EMULATOR_HOST={server.host}", flush=True)
    if grpc_server is not None:
        print(f"gRPC ListLogEntries on {grpc_server.host} (insecure channel)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if grpc_server is not None:
            grpc_server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
