"""`make setup` writes .env: secrets generated once, never defaulted, edits kept."""

from __future__ import annotations

from pathlib import Path

from scripts.ensure_env import SECRETS, ensure_env

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def values(path: Path) -> dict[str, str]:
    return dict(
        line.split("=", 1) for line in path.read_text().splitlines() if line and line[0] != "#"
    )


def test_first_setup_fills_every_variable_and_random_secrets(tmp_path):
    first, second = tmp_path / "a.env", tmp_path / "b.env"
    ensure_env(EXAMPLE, first)
    ensure_env(EXAMPLE, second)
    env = values(first)
    assert set(env) == set(values(EXAMPLE))
    for secret in SECRETS:
        assert len(env[secret]) >= 32
        assert env[secret] != values(second)[secret]
    assert first.stat().st_mode & 0o077 == 0


def test_a_second_setup_changes_nothing(tmp_path):
    target = tmp_path / ".env"
    ensure_env(EXAMPLE, target)
    before = target.read_text()
    assert ensure_env(EXAMPLE, target) == []
    assert target.read_text() == before


def test_local_edits_are_kept_and_an_emptied_secret_is_regenerated(tmp_path):
    target = tmp_path / ".env"
    target.write_text("HANDOFF_PORT=9000\nSECRET_KEY=\n")
    changed = ensure_env(EXAMPLE, target)
    env = values(target)
    assert env["HANDOFF_PORT"] == "9000"
    assert len(env["SECRET_KEY"]) >= 32
    assert "SECRET_KEY" in changed
    assert "HANDOFF_PORT" not in changed


def test_no_generated_secret_could_be_taken_for_a_command_line_option(tmp_path):
    # Rasa gets its token as `--auth-token=...`; a value starting with "-" was an option.
    for _ in range(200):
        target = tmp_path / ".env"
        target.unlink(missing_ok=True)
        ensure_env(EXAMPLE, target)
        assert not any(values(target)[key].startswith("-") for key in SECRETS)
