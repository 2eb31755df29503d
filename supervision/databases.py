"""Create a PostgreSQL database a setting names, if it is missing (scaled-out stacks)."""

from __future__ import annotations

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

# Where a database is created from: every PostgreSQL server has it.
MAINTENANCE_DATABASE = "postgres"


def ensure_database(url: str) -> bool:
    """Create the database of a PostgreSQL `url` unless it exists; say whether it was created.

    Any other URL (SQLite: its file is created on first use) is left alone.
    """
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql") or not parsed.database:
        return False
    maintenance = parsed.set(drivername="postgresql", database=MAINTENANCE_DATABASE, query={})
    conninfo = maintenance.render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)
        ).fetchone()
        if exists:
            return False
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(parsed.database)))
        return True


def drop_database(url: str) -> None:
    """Drop the database of a PostgreSQL `url` (a test stack's), closing its connections."""
    parsed = make_url(url)
    if parsed.database is None:
        raise ValueError(f"{url} names no database")
    maintenance = parsed.set(drivername="postgresql", database=MAINTENANCE_DATABASE, query={})
    with psycopg.connect(
        maintenance.render_as_string(hide_password=False), autocommit=True
    ) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(parsed.database)
            )
        )
