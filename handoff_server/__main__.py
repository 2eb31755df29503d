"""Command line: `python -m handoff_server migrate`, `check-config`, `create-agent NAME`."""

from __future__ import annotations

import argparse
import getpass
import sys

from handoff_server import accounts
from handoff_server.assistant_config import AssistantConfigError, load_assistant_config
from handoff_server.db import Database, make_engine, migrate, resolve_url
from handoff_server.domain_errors import HandoffError
from handoff_server.settings import load_env_file, load_settings


def _read_password() -> str:
    """Prompt twice without echo on a terminal; read one line when piped."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Repeat the password: ") != password:
        raise SystemExit("error: the passwords differ")
    return password


def main(argv: list[str] | None = None) -> int:
    """Run one command and return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m handoff_server")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="create or upgrade the database schema")
    commands.add_parser(
        "check-config", help="check the business's configuration (ASSISTANT_CONFIG)"
    )
    create = commands.add_parser(
        "create-agent", help="create an agent account; the password is read from standard input"
    )
    create.add_argument("username")
    create.add_argument("--role", required=True, choices=accounts.ROLES)
    create.add_argument("--name", help="display name shown to customers (default: username)")
    create.add_argument("--team", help="team (default: general)")
    args = parser.parse_args(argv)

    load_env_file()
    if args.command == "check-config":
        path = load_settings().assistant_config
        try:
            config = load_assistant_config(path)
        except AssistantConfigError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        print(f"{path}: {config.business_name}, {len(config.kiosks)} kiosks")
        return 0
    database_url = load_settings().database_url
    engine = make_engine(database_url)
    if args.command == "migrate":
        revision = migrate(engine)
        shown = resolve_url(database_url).render_as_string(hide_password=True)
        print(f"database {shown} is at revision {revision}")
        return 0
    try:
        agent = accounts.create_agent(
            Database(engine),
            args.username,
            _read_password(),
            args.role,
            display_name=args.name,
            team=args.team,
        )
    except HandoffError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    print(f"created {agent['role']} {agent['username']} ({agent['display_name']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
