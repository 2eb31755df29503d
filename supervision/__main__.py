"""Run every process of the assistant under supervisord: `python -m supervision`.

The one place `make run` reads `.env` (variables already in the environment win), so
supervisord.conf's %(ENV_X)s values and every program see the same settings.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from dotenv import load_dotenv

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG = Path(__file__).with_name("supervisord.conf")


def main(argv: list[str] | None = None) -> None:
    """Load the env file, then become supervisord in the foreground (Ctrl-C stops all)."""
    parser = argparse.ArgumentParser(prog="python -m supervision", description=__doc__)
    parser.add_argument(
        "--env-file", type=Path, default=REPO_ROOT / ".env", help="default: the repo's .env"
    )
    args = parser.parse_args(argv)
    load_dotenv(args.env_file, override=False)
    os.chdir(REPO_ROOT)
    Path(os.environ.setdefault("SUPERVISOR_DIR", "var")).mkdir(parents=True, exist_ok=True)
    supervisord = Path(sys.executable).with_name("supervisord")
    os.execv(supervisord, [str(supervisord), "--nodaemon", "--configuration", str(CONFIG)])


if __name__ == "__main__":
    main()
