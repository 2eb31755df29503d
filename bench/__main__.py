"""Run every registered benchmark in sequence: `python -m bench [NAME ...]`."""

from __future__ import annotations

import argparse
import importlib
import sys

# Each entry is a module of this package with `main(argv) -> int`; add new benchmarks here.
BENCHMARKS = [
    "nlu",
    "routing",
    "turns",
    "handoff",
    "faq",
    "db_lock",
    "fan_out",
    "kiosk",
    "pages",
    "console",
    "message_size",
    "reports",
]


def main(argv: list[str] | None = None) -> int:
    """Run the named benchmarks (all by default) and return the worst exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help=f"default: all of {', '.join(BENCHMARKS)}")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    status = 0
    for name in args.names or BENCHMARKS:
        print(f"==> bench.{name}", flush=True)
        module = importlib.import_module(f"bench.{name}")
        status = max(status, int(module.main([])))
    return status


if __name__ == "__main__":
    sys.exit(main())
