"""py-spy profiles of minikubelet, taken when a target is missed, boiled down to their top findings.

py-spy samples another process from outside (no change to the daemon, `--nonblocking` so it is not even
paused) and writes "raw" collapsed stacks: one line per distinct stack, `frame;frame;...;frame count`, each
frame `function (file:line)`. A summary keeps two views: where the samples were (the innermost frame, "self"),
and which of our own functions were on the stack ("inclusive", counted once per stack), both as shares of all
samples. Idle threads are left out (by py-spy, and stacks that end in a wait by us), so the shares are of the
time the process was busy.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Profile", "py_spy"]

_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^:()]*)(?::\d+)?\)$")
_OURS = "minikubelet/"
# Innermost frames of a thread that waits (py-spy's idle detection misses some under load): such stacks are
# left out, so that the shares are of the work done.
# Frames at the root of every stack of the process (the entry point, the daemon's main): they say nothing.
_ROOTS = {
    "<module> (minikubelet/__main__.py)",
    "main (minikubelet/cli/main.py)",
    "_exit_1_on_our_errors.<locals>.run_command (minikubelet/cli/main.py)",
    "up_command (minikubelet/cli/node.py)",
    "serve (minikubelet/daemon.py)",
}
_WAITING = {"select", "poll", "readinto", "recv", "recv_into", "accept", "wait", "acquire", "sleep", "_worker", "run_forever"}


def py_spy() -> str | None:
    """The py-spy executable next to this interpreter, else on PATH (None: not installed)."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def _frame(text: str) -> str:
    """`function (file)` without the line number, the file shortened to its package path."""
    match = _FRAME.match(text)
    if match is None:
        return text
    file = match["file"]
    for anchor in ("site-packages/", "python3.11/", "/work/main/"):
        if anchor in file:
            file = file.split(anchor, 1)[1]
    return f"{match['function']} ({file})"


@dataclass
class Profile:
    path: Path
    process: subprocess.Popen[bytes] | None = None
    seconds: float = 0.0  # run_command: the command's wall time under the profiler
    rate: int = 200  # samples per second
    error: str = ""
    summary: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def attach(cls, pid: int, path: Path, *, rate: int = 200) -> Profile:
        """Start sampling process `pid` (and its threads) until `stop()`."""
        executable = py_spy()
        if executable is None:
            return cls(path, error="py-spy is not installed (pip install py-spy)")
        argv = [executable, "record", "--pid", str(pid), "--rate", str(rate), "--format", "raw", "--output", str(path)]
        process = subprocess.Popen([*argv, "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.5)  # let it attach
        return cls(path, process, rate=rate)

    @classmethod
    def run_command(
        cls, argv: list[str], path: Path, *, env: dict[str, str], rate: int = 500, duration: int | None = None
    ) -> Profile:
        """Run `argv` under py-spy until it exits; with `duration`, its children too, for that many seconds
        (`minikubelet up` leaves the daemon it starts running: py-spy would follow it forever)."""
        executable = py_spy()
        if executable is None:
            return cls(path, error="py-spy is not installed (pip install py-spy)")
        started = time.monotonic()
        spy = [executable, "record", "--rate", str(rate), "--format", "raw", "--output", str(path)]
        if duration is not None:
            spy += ["--subprocesses", "--duration", str(duration)]
        result = subprocess.run([*spy, "--", *argv], env=env, capture_output=True, timeout=300)
        profile = cls(path, seconds=time.monotonic() - started, rate=rate)
        if result.returncode:
            profile.error = result.stderr.decode(errors="replace")[-500:]
        profile.summarize()
        return profile

    @classmethod
    def from_raw(cls, path: Path, *, rate: int) -> Profile:
        profile = cls(path, rate=rate)
        profile.summarize()
        return profile

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGINT)
        try:
            _, stderr = self.process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, stderr = self.process.communicate()
        if not self.path.exists():
            self.error = stderr.decode(errors="replace")[-500:]
        self.process = None
        self.summarize()

    def summarize(self, top: int = 10) -> dict[str, Any]:
        if not self.path.exists():
            return self.summary
        own: Counter[str] = Counter()
        ours: Counter[str] = Counter()
        total = 0
        for line in self.path.read_text().splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not stack or not count_text.isdigit():
                continue
            count = int(count_text)
            # With --subprocesses each stack starts with `process <pid>:"<command line>"`: not a frame.
            frames = [_frame(f) for f in stack.split(";") if not f.startswith("process ")]
            if not frames:
                continue
            if frames[-1].split(" (")[0].rsplit(".", 1)[-1] in _WAITING:
                continue
            total += count
            own[frames[-1]] += count
            for frame in set(frames):
                if _OURS in frame and frame not in _ROOTS:
                    ours[frame] += count
        if not total:
            return self.summary
        self.summary = {
            "samples": total,
            "busy_seconds": total / self.rate,
            "self": [(frame, 100 * n / total) for frame, n in own.most_common(top)],
            "inclusive": [(frame, 100 * n / total) for frame, n in ours.most_common(top)],
        }
        return self.summary
