"""Run Alembic migrations on the connection that handoff_server.db.migrate hands over."""

from __future__ import annotations

from alembic import context

from handoff_server.db import metadata

if context.is_offline_mode():
    raise SystemExit(
        "offline (--sql) migrations are not supported: run `python -m handoff_server migrate`"
    )

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite alters tables by copying them; batch mode does that for later migrations.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
