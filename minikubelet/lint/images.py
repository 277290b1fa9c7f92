"""Rule `exec-binary` (`minikubelet lint --check-images`): an exec probe or hook whose program is not in the image.

Only for images present locally, and only when Docker answers; otherwise nothing is said (lint stays offline
unless asked). Nothing is pulled and nothing runs: per image, one container is *created* (never started), the
program is looked for with the engine's archive call (`GET /containers/{id}/archive?path=...`, which resolves
symbolic links in the directories on the way, as `docker cp` does), and the container is removed.

Where the program is looked for: a `command[0]` with a `/` is that path (a relative one is skipped: it depends on
the working directory); a bare name is looked for in each directory of `PATH`: the container's `env` PATH when the
manifest sets one with a literal value, else the image's, else Docker's default. A `command[0]` holding a
`$(VAR)` reference is skipped (the kubelet expands it first).

The files are looked for through `ImageFiles`; the CLI gives it the engine's (`runtime.docker.local_image_files`,
since only minikubelet.runtime.docker talks to Docker).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from minikubelet.api.pod import Container, PodSpec
from minikubelet.lint.findings import Finding, Severity
from minikubelet.lint.rules import containers_at
from minikubelet.lint.run import ImageCheck

__all__ = ["DEFAULT_PATH", "ImageFiles", "exec_binary_findings", "image_check"]

#: Docker's PATH for an image that sets none.
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

_CONSEQUENCE = {
    "livenessProbe": "every attempt fails or errors, so liveness kills the container again and again, or never checks it",
    "readinessProbe": "every attempt fails or errors, so the container never becomes Ready",
    "startupProbe": "every attempt fails or errors, so the container is killed or never counts as started",
    "postStart": "the hook fails and the kubelet kills the container (FailedPostStartHook)",
    "preStop": "the hook fails (FailedPreStopHook) and the container is killed without it",
}


class ImageFiles(Protocol):
    """What the rule needs from the engine."""

    def image_path(self, image: str) -> str | None:
        """The image's PATH (DEFAULT_PATH when it sets none); None when the image is not present locally."""
        ...

    def existing(self, image: str, paths: list[str]) -> set[str]:
        """Which of `paths` exist in the image's file system."""
        ...


def exec_binary_findings(spec: PodSpec, path: str, files: ImageFiles) -> list[Finding]:
    findings: list[Finding] = []
    for at, container in containers_at(spec, path):
        wanted = list(_exec_programs(container, at))
        if not wanted:
            continue
        image_path = files.image_path(container.image)
        if image_path is None:
            continue  # not present locally: nothing to look at, and lint pulls nothing
        search = _container_path(container) or image_path or DEFAULT_PATH
        candidates = {field: _candidates(program, search) for field, program, _ in wanted}
        existing = files.existing(container.image, sorted({c for paths in candidates.values() for c in paths}))
        for field, program, what in wanted:
            paths = candidates[field]
            if not paths or any(p in existing for p in paths):
                continue
            where = f"at {program}" if "/" in program else f"in PATH {search}"
            message = (
                f'"{program}" is not {where} in the local image {container.image}:'
                f" {_CONSEQUENCE[what]} (`executable file not found`)"
            )
            findings.append(Finding("exec-binary", Severity.ERROR, field, message, container=container.name))
    return findings




def _exec_programs(container: Container, at: str) -> Iterator[tuple[str, str, str]]:
    """(field path, program, what) of every exec probe and exec hook with a program."""
    for name, probe in (
        ("livenessProbe", container.liveness_probe),
        ("readinessProbe", container.readiness_probe),
        ("startupProbe", container.startup_probe),
    ):
        if probe is not None and probe.exec is not None and probe.exec.command:
            yield f"{at}.{name}.exec.command[0]", probe.exec.command[0], name
    lifecycle = container.lifecycle
    if lifecycle is not None:
        for name, hook in (("postStart", lifecycle.post_start), ("preStop", lifecycle.pre_stop)):
            if hook is not None and hook.exec is not None and hook.exec.command:
                yield f"{at}.lifecycle.{name}.exec.command[0]", hook.exec.command[0], name


def _container_path(container: Container) -> str:
    return next((var.value for var in container.env if var.name == "PATH" and var.value and "$(" not in var.value), "")


def _candidates(program: str, search: str) -> list[str]:
    if not program or "$(" in program:
        return []
    if "/" in program:
        return [program] if program.startswith("/") else []
    return [f"{directory.rstrip('/')}/{program}" for directory in search.split(":") if directory.startswith("/")]


def image_check(files: ImageFiles) -> ImageCheck:
    """The rule, looking for the programs through `files`."""
    return lambda spec, path: exec_binary_findings(spec, path, files)
