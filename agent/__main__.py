"""The agent's one entry point: `python -m traycourier.agent`, the `traycourier` command
(pyproject.toml) and the frozen program (packaging/launcher.py) all start in `main`, which
loads the command with OpenSSL left out (`agent/system/loading.py`)."""

from traycourier.agent.system.loading import lean_imports


def main() -> int:
    with lean_imports():
        from traycourier.agent.cli.main import main as run_command
    return run_command()


if __name__ == "__main__":
    raise SystemExit(main())
