"""Check the venue data: `python -m venue check data/venue` (exit 1 naming file and entry)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from venue.data import VenueError, load_venue
from venue.routes import unreachable


def main(argv: list[str] | None = None) -> int:
    """Load the venue, check that every place can be reached, and say what was found."""
    parser = argparse.ArgumentParser(prog="python -m venue")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="validate a venue directory")
    check.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    try:
        venue = load_venue(args.directory)
    except VenueError as error:
        print(f"venue data: {error}", file=sys.stderr)
        return 1
    cut_off = unreachable(venue)
    if cut_off:
        print(
            f"venue data: {args.directory / 'connections.yml'}: no way from "
            f"{venue.information_desk} to {', '.join(cut_off)}",
            file=sys.stderr,
        )
        return 1
    print(f"{venue.name}: {len(venue.places)} places, {len(venue.events)} events: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
