"""Run every process of the assistant under supervisord: `python -m supervision`.

The one place `make run` reads `.env` (variables already in the environment win), so the
generated supervisord.conf's %(ENV_X)s values and every program see the same settings.
`--scaled` (`make run-scaled`) reads deploy/scaled.env first, whose values win over .env's:
several Rasa and action servers, a multi-worker handoff server, nginx in front, PostgreSQL
and Redis; it creates the PostgreSQL databases if missing and migrates the handoff database.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from dotenv import load_dotenv

from supervision import nginx
from supervision.databases import ensure_database
from supervision.programs import Scale, program_sections

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).with_name("supervisord.conf")
SCALED_ENV = REPO_ROOT / "deploy" / "scaled.env"
HANDOFF_PYTHON = REPO_ROOT / ".venv-handoff" / "bin" / "python"


def write_config(env: Mapping[str, str]) -> Path:
    """Write supervisord's configuration (and nginx's, if it runs) under SUPERVISOR_DIR."""
    directory = Path(env["SUPERVISOR_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    if Scale.from_env(env).proxy:
        nginx.write(env, directory / "nginx")
    config = directory / "supervisord.conf"
    config.write_text(f"{TEMPLATE.read_text()}\n{program_sections(env)}")
    return config


def prepare_storage(env: Mapping[str, str]) -> None:
    """Create the PostgreSQL databases the settings name, if missing; migrate the handoff's."""
    for name in ("DATABASE_URL", "RASA_TRACKER_URL"):
        ensure_database(env[name])
    subprocess.run(
        [str(HANDOFF_PYTHON), "-m", "handoff_server", "migrate"],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        check=True,
    )


def main(argv: list[str] | None = None) -> None:
    """Load the env files, then become supervisord in the foreground (Ctrl-C stops all)."""
    parser = argparse.ArgumentParser(prog="python -m supervision", description=__doc__)
    parser.add_argument(
        "--env-file", type=Path, default=REPO_ROOT / ".env", help="default: the repo's .env"
    )
    parser.add_argument(
        "--scaled", action="store_true", help=f"scale out: {SCALED_ENV.relative_to(REPO_ROOT)}"
    )
    args = parser.parse_args(argv)
    if args.scaled:
        load_dotenv(SCALED_ENV, override=False)
    load_dotenv(args.env_file, override=False)
    os.chdir(REPO_ROOT)
    os.environ.setdefault("SUPERVISOR_DIR", "var")
    if args.scaled:
        prepare_storage(os.environ)
    config = write_config(os.environ)
    supervisord = Path(sys.executable).with_name("supervisord")
    os.execv(supervisord, [str(supervisord), "--nodaemon", "--configuration", str(config)])


if __name__ == "__main__":
    main()
