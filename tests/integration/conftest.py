"""Fixtures for the Docker-backed integration tests.

Every object a test creates carries the label ``minikubelet.test=1`` (``TEST_LABELS``) and a name made by
``unique_name()`` (``mk-test-<uuid8>``), so that ``cleanup_containers`` -- and a developer, with
``docker ps -a --filter label=minikubelet.test=1`` -- can find and remove leftovers. ``run_container``
starts such a container and removes it at teardown.

Without a Docker engine the tests skip locally (run ``make docker images``) but FAIL under ``CI=true``:
Docker-backed tests never skip in CI.
"""

from __future__ import annotations

import gc
import os
import uuid
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import docker
import docker.errors
import pytest
from docker.models.containers import Container

TEST_LABEL_KEY = "minikubelet.test"
TEST_LABELS = {TEST_LABEL_KEY: "1"}

BUSYBOX_IMAGE = "minikubelet.local/busybox:1.35"
PAUSE_IMAGE = "minikubelet.local/pause:3.10"
ECHO_IMAGE = "minikubelet.local/echo:v1"
LOCAL_IMAGES = (BUSYBOX_IMAGE, PAUSE_IMAGE, ECHO_IMAGE)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def skip_or_fail(message: str) -> None:
    """Skip the test locally; fail it under CI=true, where Docker-backed tests must never skip."""
    if in_ci():
        pytest.fail(f"{message} (CI=true: Docker-backed tests are not allowed to skip)", pytrace=False)
    pytest.skip(f"{message}; run `make docker images` first")


def unique_name(prefix: str = "mk-test") -> str:
    """A fresh object name, ``mk-test-<uuid8>``."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _connect() -> docker.DockerClient | str:
    """A client whose engine answered ``ping()``, or why there is none."""
    try:
        client = docker.from_env()
    except docker.errors.DockerException as exc:  # also a missing socket: from_env() asks the API version
        return f"no Docker engine answers ({exc})"
    try:
        client.ping()
    except Exception as exc:  # requests' ConnectionError, an APIError, ...
        client.close()
        return f"no Docker engine answers ({type(exc).__name__}: {exc})"
    return client


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """A Docker SDK client whose engine answered ``ping()``; closed at the end of the session."""
    with warnings.catch_warnings():
        # When from_env() fails, the SDK leaves its half-open socket to the garbage collector; collect it
        # here so its ResourceWarning does not surface later as an unraisable-exception error.
        warnings.simplefilter("ignore", ResourceWarning)
        result = _connect()
        if isinstance(result, str):
            gc.collect()
    if isinstance(result, str):
        skip_or_fail(result)
        raise AssertionError("unreachable")
    try:
        yield result
    finally:
        result.close()


@pytest.fixture(scope="session")
def local_images(docker_client: docker.DockerClient) -> tuple[str, ...]:
    """The tags built by `make images`; skips (fails under CI) when one is missing."""
    missing = []
    for tag in LOCAL_IMAGES:
        try:
            docker_client.images.get(tag)
        except docker.errors.ImageNotFound:
            missing.append(tag)
    if missing:
        skip_or_fail(f"local image(s) missing: {', '.join(missing)}")
    return LOCAL_IMAGES


def remove_test_containers(client: docker.DockerClient) -> None:
    """Force-remove every container (running or not) labelled ``minikubelet.test=1``."""
    containers: list[Container] = client.containers.list(all=True, filters={"label": f"{TEST_LABEL_KEY}=1"}, ignore_removed=True)
    for container in containers:
        try:
            container.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            # "removal already in progress" and the like: nothing left for us to do.
            if exc.status_code != 409:
                raise


@pytest.fixture
def cleanup_containers(docker_client: docker.DockerClient) -> Iterator[docker.DockerClient]:
    """Yield the client; at teardown remove every container labelled ``minikubelet.test=1``."""
    try:
        yield docker_client
    finally:
        remove_test_containers(docker_client)


RunContainer = Callable[..., Container]


@pytest.fixture
def run_container(cleanup_containers: docker.DockerClient) -> Iterator[RunContainer]:
    """A function starting a detached, labelled ``mk-test-<uuid8>`` container: ``run(image, command, **kw)``
    (keyword arguments go to ``containers.run``). Every such container is force-removed at teardown."""

    def run(image: str, command: Any = None, **kwargs: Any) -> Container:
        labels = {**TEST_LABELS, **kwargs.pop("labels", {})}
        kwargs.setdefault("name", unique_name())
        return cleanup_containers.containers.run(image, command, detach=True, labels=labels, **kwargs)

    yield run
