"""`python -m minikubelet` runs the CLI, or the node daemon directly for the command line `up` starts it with."""

from __future__ import annotations

import sys


def _run() -> None:
    argv = sys.argv[1:]
    if argv[:2] == ["up", "--foreground"]:  # the daemon (node/process.py): skip the CLI's libraries when we can
        from minikubelet.daemon import foreground_config, main

        config = foreground_config(argv[2:])
        if config is not None:
            sys.exit(main(config))
    from minikubelet.cli.main import main as cli_main

    cli_main()


if __name__ == "__main__":
    _run()
