"""Start the action server: `python -m actions --actions actions --port 5055`.

rasa-sdk's own command line, behind the one place where the action server reads `.env`
(`make run` passes it through supervisord already; a bare start still finds it). Sanic's
worker processes inherit the environment.
"""

from __future__ import annotations

from dotenv import load_dotenv

from actions.settings import ENV_FILE


def main() -> None:
    """Load `.env` (real environment variables win), then run rasa-sdk's server."""
    load_dotenv(ENV_FILE, override=False)
    from rasa_sdk.__main__ import main as serve

    serve()


if __name__ == "__main__":
    main()
