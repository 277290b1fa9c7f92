"""Driving a command on a pseudo-terminal, as a person at a terminal would (shared test helper)."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import termios
import time
from collections.abc import Callable

Action = bytes | Callable[[int, "subprocess.Popen[bytes]"], None]  # what to type, or what to do to the terminal


def run_in_pty(
    argv: list[str], env: dict[str, str], script: list[tuple[bytes, Action]], *, timeout: float = 30
) -> tuple[int, bytes]:
    """Run `argv` on a 40x100 pseudo-terminal; each time the output since the last step shows `script[i][0]`,
    do `script[i][1]` (type it, or call it with the terminal and the process). The exit code and everything
    the terminal showed."""
    master, child_side = os.openpty()
    fcntl.ioctl(child_side, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    process = subprocess.Popen(argv, stdin=child_side, stdout=child_side, stderr=child_side, env=env, start_new_session=True)
    os.close(child_side)
    output, seen, steps = b"", 0, list(script)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: every process on the terminal closed it
                    break
                if not chunk:
                    break
                output += chunk
            if steps and steps[0][0] in output[seen:]:
                seen = len(output)
                action = steps.pop(0)[1]
                if isinstance(action, bytes):
                    os.write(master, action)
                else:
                    action(master, process)
        return process.wait(timeout=max(1.0, deadline - time.monotonic())), output
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait()
