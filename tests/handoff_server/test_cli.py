"""The command line: migrate, and create-agent reading the password from standard input."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from handoff_server.__main__ import main
from handoff_server.db import MIGRATIONS_DIR, agents

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_cli(database_url, *args, stdin=""):
    """Run `python -m handoff_server` as `make` does, in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "handoff_server", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        timeout=60,
    )


@pytest.fixture
def cli(app, database_url, monkeypatch):
    """Run the command line in this process, on the emptied test database."""
    monkeypatch.setenv("DATABASE_URL", database_url)

    def run(*args, stdin=""):
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        return main(list(args))

    return run


def test_migrate_is_idempotent(app, database_url):
    first = run_cli(database_url, "migrate")
    second = run_cli(database_url, "migrate")

    assert (first.returncode, second.returncode) == (0, 0), first.stderr
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert second.stdout.strip().endswith(f"is at revision {head}")


def test_create_agent_reads_a_piped_password(client, database_url):
    result = run_cli(
        database_url,
        "create-agent",
        "carol",
        "--role",
        "supervisor",
        "--name",
        "Carol Cruz",
        stdin="a long enough password\n",
    )

    assert result.returncode == 0, result.stderr
    login = client.post(
        "/api/auth/token", json={"username": "carol", "password": "a long enough password"}
    )
    assert login.status_code == 200
    assert login.json["agent"] == {
        "username": "carol",
        "name": "Carol Cruz",
        "role": "supervisor",
        "team": "general",
        "active": True,
        "on_duty": True,
    }


@pytest.mark.parametrize("password", ["", "short", "       \n"])
def test_create_agent_refuses_empty_and_short_passwords(cli, services, capsys, password):
    assert cli("create-agent", "carol", "--role", "agent", stdin=password) == 1

    assert "at least 8 characters" in capsys.readouterr().err
    with services.db.read() as conn:
        assert conn.execute(sa.select(agents).where(agents.c.username == "carol")).first() is None


def test_create_agent_refuses_an_existing_username(cli, capsys):
    assert cli("create-agent", "alice", "--role", "agent", stdin="another password\n") == 1

    assert capsys.readouterr().err.strip() == "error: agent 'alice' already exists"


def test_create_agent_refuses_unknown_roles(cli, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli("create-agent", "carol", "--role", "owner", stdin="a long password\n")

    assert exit_info.value.code == 2
    assert "invalid choice: 'owner'" in capsys.readouterr().err
