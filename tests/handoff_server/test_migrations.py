"""The migrations build exactly the tables the code queries."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from handoff_server.db import metadata


def test_migrated_schema_matches_the_table_definitions(services):
    with services.db.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)

    assert differences == []
