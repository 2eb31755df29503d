"""The migrations build exactly the tables the code queries, and keep the rows already there."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from handoff_server.db import MIGRATIONS_DIR, make_engine, metadata, migrate


def test_migrated_schema_matches_the_table_definitions(services):
    with services.db.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)

    assert differences == []


def test_questions_recorded_before_teaching_existed_are_open_after_the_upgrade(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
        connection.execute(
            sa.text(
                "INSERT INTO unanswered_questions"
                " (sender_id, channel, text, outcome, suggestions, created_at)"
                " VALUES ('old', 'web', 'is there a sauna', 'none', '[]', 0)"
            )
        )

    assert migrate(engine) == "0007"
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT text, status FROM unanswered_questions")).all()
        taught = connection.execute(sa.text("SELECT count(*) FROM taught_paraphrases")).scalar()
    assert [tuple(row) for row in rows] == [("is there a sauna", "open")]
    assert taught == 0
