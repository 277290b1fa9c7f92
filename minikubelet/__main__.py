"""`python -m minikubelet` runs the CLI."""

from __future__ import annotations

from minikubelet.cli.main import main

if __name__ == "__main__":
    main()
