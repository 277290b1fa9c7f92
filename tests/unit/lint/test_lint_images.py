"""Rule `exec-binary` (`--check-images`) with a scripted engine: where programs are looked for, what is skipped."""

from __future__ import annotations

from typing import Any

import pytest

from minikubelet.api.loading import decode_pod
from minikubelet.lint.images import exec_binary_findings
from minikubelet.runtime.docker import LocalImageFiles, local_image_files


class Files:
    """An engine with these images (name -> (PATH, files)); records what it was asked."""

    def __init__(self, images: dict[str, tuple[str, set[str]]]) -> None:
        self.images = images
        self.asked: list[list[str]] = []

    def image_path(self, image: str) -> str | None:
        return self.images[image][0] if image in self.images else None

    def existing(self, image: str, paths: list[str]) -> set[str]:
        self.asked.append(paths)
        return self.images[image][1] & set(paths)


BUSYBOX = ("/bin:/usr/bin", {"/bin/sh", "/bin/cat", "/usr/bin/wget"})


def spec(container: dict[str, Any]) -> Any:
    return decode_pod({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [container]}}).spec


def probe(*command: str) -> dict[str, Any]:
    return {"exec": {"command": list(command)}}


def findings(container: dict[str, Any], files: Files) -> list[tuple[str, str]]:
    return [(f.field, f.message) for f in exec_binary_findings(spec(container), "spec", files)]


def test_a_program_on_the_image_path_is_found() -> None:
    files = Files({"bb": BUSYBOX})
    assert findings({"name": "a", "image": "bb", "readinessProbe": probe("cat", "/tmp/x")}, files) == []
    assert files.asked == [["/bin/cat", "/usr/bin/cat"]]


def test_a_missing_program_is_an_error_naming_the_path_searched() -> None:
    files = Files({"bb": BUSYBOX})
    container = {"name": "a", "image": "bb", "livenessProbe": probe("curl", "-f", "localhost")}
    [(field, message)] = findings(container, files)
    assert field == "spec.containers[0].livenessProbe.exec.command[0]"
    assert message.startswith('"curl" is not in PATH /bin:/usr/bin in the local image bb: every attempt fails or errors')


def test_absolute_paths_hooks_and_the_container_s_own_path() -> None:
    files = Files({"bb": BUSYBOX})
    container = {
        "name": "a",
        "image": "bb",
        "env": [{"name": "PATH", "value": "/opt/bin"}],
        "startupProbe": probe("wget", "-q", "localhost"),  # on the image's PATH, not on the container's
        "lifecycle": {"postStart": probe("/bin/sh", "-c", "true"), "preStop": probe("/usr/local/bin/drain")},
    }
    assert [field for field, _ in findings(container, files)] == [
        "spec.containers[0].startupProbe.exec.command[0]",
        "spec.containers[0].lifecycle.preStop.exec.command[0]",
    ]


@pytest.mark.parametrize("program", ["./check", "$(TOOL)", "bin/check"])
def test_what_cannot_be_known_is_skipped(program: str) -> None:
    files = Files({"bb": BUSYBOX})
    assert findings({"name": "a", "image": "bb", "readinessProbe": probe(program)}, files) == []


def test_an_image_not_present_locally_is_skipped() -> None:
    files = Files({})
    assert findings({"name": "a", "image": "elsewhere:1", "readinessProbe": probe("curl")}, files) == []
    assert files.asked == []


class FakeApi:
    """The SDK's low-level client, as far as LocalImageFiles uses it."""

    def __init__(self, env: list[str] | None, files: set[str]) -> None:
        self.env, self.files = env, files
        self.removed: list[str] = []

    def inspect_image(self, image: str) -> dict[str, Any]:
        if self.env is None:
            raise LookupError("No such image")
        return {"Config": {"Env": self.env}}

    def create_container(self, image: str, **kwargs: Any) -> dict[str, str]:
        return {"Id": "c1"}

    def get_archive(self, container: str, path: str) -> tuple[Any, dict[str, Any]]:
        if path not in self.files:
            raise FileNotFoundError(path)
        return iter(()), {"name": path}

    def remove_container(self, container: str, force: bool = False) -> None:
        self.removed.append(container)


def test_the_docker_side() -> None:
    api = FakeApi(["HOME=/root", "PATH=/sbin:/bin"], {"/bin/sh"})
    files = LocalImageFiles(api)
    assert files.image_path("bb") == "/sbin:/bin"
    assert files.existing("bb", ["/bin/sh", "/bin/curl"]) == {"/bin/sh"}
    assert api.removed == ["c1"], "the created container is removed"
    assert LocalImageFiles(FakeApi([], set())).image_path("x") == "", "no PATH of its own: lint takes Docker's default"
    assert LocalImageFiles(FakeApi(None, set())).image_path("x") is None


def test_no_docker_means_no_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    assert local_image_files(timeout=0.5) is None
