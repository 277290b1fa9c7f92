"""Rule `exec-binary` (`minikubelet lint --check-images`): an exec probe or hook whose program is not in the image.

Only for images present locally, and only when Docker answers; otherwise nothing is said (lint stays offline
unless asked). Nothing is pulled and nothing runs: per image, one container is *created* (never started), the
program is looked for with the engine's archive call (`GET /containers/{id}/archive?path=...`, which resolves
symbolic links in the directories on the way, as `docker cp` does), and the container is removed.

Where the program is looked for: a `command[0]` with a `/` is that path (a relative one is skipped: it depends on
the working directory); a bare name is looked for in each directory of `PATH`: the container's `env` PATH when the
manifest sets one with a literal value, else the image's, else Docker's default. A `command[0]` holding a
`$(VAR)` reference is skipped (the kubelet expands it first).

The check talks to Docker through the SDK (imported only for --check-images). minikubelet's import contracts give
Docker to minikubelet.runtime.docker; this module is the one other place, until the runtime grows a call for it.
"""

from __future__ import annotations

import contextlib
import gc
import warnings
from collections.abc import Iterator
from typing import Any, Protocol

from minikubelet.api.pod import Container, PodSpec
from minikubelet.lint.findings import Finding, Severity
from minikubelet.lint.run import ImageCheck

__all__ = ["DEFAULT_PATH", "ImageFiles", "docker_image_check", "exec_binary_findings"]

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
    for at, container in _containers(spec, path):
        wanted = list(_exec_programs(container, at))
        if not wanted:
            continue
        image_path = files.image_path(container.image)
        if image_path is None:
            continue  # not present locally: nothing to look at, and lint pulls nothing
        search = _container_path(container) or image_path
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


def _containers(spec: PodSpec, path: str) -> Iterator[tuple[str, Container]]:
    for index, init in enumerate(spec.init_containers):
        yield f"{path}.initContainers[{index}]", init
    for index, container in enumerate(spec.containers):
        yield f"{path}.containers[{index}]", container


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


class _DockerImageFiles:
    """ImageFiles on the local Docker engine (the SDK's low-level client)."""

    def __init__(self, api: Any) -> None:
        self.api = api

    def image_path(self, image: str) -> str | None:
        try:
            info = self.api.inspect_image(image)
        except Exception:  # not present (NotFound), or any engine error: say nothing
            return None
        env = (info.get("Config") or {}).get("Env") or []
        return next((item.split("=", 1)[1] for item in env if item.startswith("PATH=")), DEFAULT_PATH)

    def existing(self, image: str, paths: list[str]) -> set[str]:
        found: set[str] = set()
        container = self.api.create_container(image, command=["/minikubelet-lint"], labels={"minikubelet.lint": "check-images"})
        try:
            for candidate in paths:
                try:
                    stream, _stat = self.api.get_archive(container["Id"], candidate)
                except Exception:  # NotFound: not there
                    continue
                with contextlib.suppress(Exception):
                    stream.close()
                found.add(candidate)
        finally:
            with contextlib.suppress(Exception):
                self.api.remove_container(container["Id"], force=True)
        return found


def docker_image_check(timeout: float = 5.0) -> ImageCheck | None:
    """The rule on the local engine, or None when Docker does not answer (then lint says nothing about images)."""
    client: Any = None
    with warnings.catch_warnings():
        # When from_env() fails (it asks the engine's API version), the SDK leaves its half-open socket to the
        # garbage collector: collect it here, so that its ResourceWarning does not surface later.
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            import docker

            client = docker.from_env(timeout=timeout)
            client.ping()
        except Exception:
            if client is not None:
                with contextlib.suppress(Exception):
                    client.close()
            client = None
        if client is None:
            gc.collect()  # out of the except block: the exception's frames no longer hold the socket
            return None
    files = _DockerImageFiles(client.api)
    return lambda spec, path: exec_binary_findings(spec, path, files)
