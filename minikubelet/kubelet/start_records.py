"""How long each image's containers took to start on this node: the record rule `slow-start-image` of
`minikubelet lint` reads (docs/lint.md#slow-start-image).

A *start* is the time from a container instance's `state.running.startedAt` to its first successful attempt of
the probe that says it is up: its startupProbe, else its readinessProbe, else its livenessProbe. Only a start
the prober saw happen is recorded: at least one attempt of that probe failed on the instance before the success.
An instance whose first attempt already passed was up before anyone looked, and how long it took is not known
(it is at most the probe's initialDelaySeconds plus a period): recording it would make every image behind a
long initialDelaySeconds look slow. `startedAt` is in whole seconds (as the API writes it, truncated), so a start
reads up to a second longer than it was.

Per image reference, normalized (`busybox` is `docker.io/library/busybox:latest`), the file keeps the longest
start ever recorded and the last `KEEP_STARTS`; at most `KEEP_IMAGES` images, the least recently started
dropped first. It is `<state dir>/start-records.json` (NodePaths.start_records), mode 0600, replaced atomically
(write_private) at each new start, which is rare: once per container instance at most.

`StartRecorder.observe` is the prober's hook (ProbeManager's `on_attempt`): it sees every attempt, keeps a
bounded count of failures per container instance, and never raises (a probe worker must go on probing whatever
happens here). `load` is the reader; it needs no node.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from minikubelet.api import wire
from minikubelet.api.images import parse_image
from minikubelet.api.podutil import all_statuses, pod_status, probe_of
from minikubelet.api.wire import Container, Pod
from minikubelet.node.paths import write_private
from minikubelet.prober.history import Attempt
from minikubelet.prober.results import ProbeKind

__all__ = [
    "API_VERSION",
    "KEEP_IMAGES",
    "KEEP_STARTS",
    "KIND",
    "ImageStarts",
    "Start",
    "StartRecorder",
    "StartRecords",
    "StartRecordsError",
    "image_key",
    "load",
    "start_probe",
]

log = logging.getLogger(__name__)

KIND = "StartRecords"
API_VERSION = "minikubelet.dev/v1alpha1"
KEEP_STARTS = 5  # the last starts kept per image, beside the longest
KEEP_IMAGES = 200  # images kept, the least recently started dropped first
_INSTANCES = 4096  # container instances whose failures are counted at once (the oldest forgotten first)
_START_PROBES: tuple[tuple[ProbeKind, wire.ProbeKind], ...] = (
    (ProbeKind.STARTUP, "startup"),
    (ProbeKind.READINESS, "readiness"),
    (ProbeKind.LIVENESS, "liveness"),
)
_DONE = -1  # an instance whose start was seen (or not seeable): nothing more to learn from it


class StartRecordsError(ValueError):
    """A record file that cannot be read or is not a start record."""


@dataclass(frozen=True, slots=True)
class Start:
    """One start seen: `seconds` from `started_at` to `passed_at`, the first success of `probe` (Startup,
    Readiness or Liveness) after `failures` failed attempts of it."""

    seconds: float
    probe: str
    failures: int
    pod: str  # namespace/name
    container: str
    container_id: str
    started_at: str
    passed_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "probe": self.probe,
            "failuresBefore": self.failures,
            "pod": self.pod,
            "container": self.container,
            "containerID": self.container_id,
            "startedAt": self.started_at,
            "passedAt": self.passed_at,
        }

    @classmethod
    def from_json(cls, raw: Any) -> Start:
        if not isinstance(raw, dict):
            raise StartRecordsError(f"a start must be an object, not {type(raw).__name__}")
        try:
            seconds = raw["seconds"]
            if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
                raise StartRecordsError(f"seconds must be a number >= 0, not {seconds!r}")
            return cls(
                float(seconds),
                str(raw["probe"]),
                int(raw.get("failuresBefore", 0)),
                str(raw.get("pod", "")),
                str(raw.get("container", "")),
                str(raw.get("containerID", "")),
                str(raw.get("startedAt", "")),
                str(raw.get("passedAt", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, StartRecordsError):
                raise
            raise StartRecordsError(f"a start lacks or mistypes {exc}") from None


@dataclass(frozen=True, slots=True)
class ImageStarts:
    """The starts of one image: the longest ever recorded, and the last few (oldest first)."""

    longest: Start
    recent: tuple[Start, ...]

    def to_json(self) -> dict[str, Any]:
        return {"longest": self.longest.to_json(), "recent": [start.to_json() for start in self.recent]}

    @classmethod
    def from_json(cls, raw: Any) -> ImageStarts:
        if not isinstance(raw, dict) or not isinstance(raw.get("recent"), list):
            raise StartRecordsError("an image's entry must be an object with `longest` and a list `recent`")
        return cls(Start.from_json(raw.get("longest")), tuple(Start.from_json(s) for s in raw["recent"]))

    def add(self, start: Start) -> ImageStarts:
        longest = start if start.seconds > self.longest.seconds else self.longest
        return ImageStarts(longest, (*self.recent, start)[-KEEP_STARTS:])


@dataclass(frozen=True, slots=True)
class StartRecords:
    """A record file's content; `source` is where it was read from (for messages)."""

    source: str
    images: Mapping[str, ImageStarts]

    def for_image(self, image: str) -> ImageStarts | None:
        return self.images.get(image_key(image))

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": KIND,
            "apiVersion": API_VERSION,
            "images": {image: starts.to_json() for image, starts in self.images.items()},
        }


def image_key(image: str) -> str:
    """The reference as Docker normalizes it: `busybox` -> `docker.io/library/busybox:latest`; a digest is kept
    and a tag beside it dropped (the digest is what runs). An invalid reference is its own key."""
    ref = parse_image(image)
    if ref is None:
        return image
    domain = ref.domain or "docker.io"
    path = f"library/{ref.path}" if domain == "docker.io" and "/" not in ref.path else ref.path
    if ref.digest:
        return f"{domain}/{path}@{ref.digest}"
    return f"{domain}/{path}:{ref.tag or 'latest'}"


def start_probe(container: Container) -> ProbeKind | None:
    """The probe whose first success says the container is up: startup, else readiness, else liveness."""
    for kind, wire_kind in _START_PROBES:
        if probe_of(container, wire_kind) is not None:
            return kind
    return None


def load(path: Path) -> StartRecords:
    """The record at `path`. FileNotFoundError when there is none; StartRecordsError when it cannot be read or
    is not a start record."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise StartRecordsError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StartRecordsError(f"{path} is not JSON: {exc}") from None
    if not isinstance(raw, dict) or raw.get("kind") != KIND or not isinstance(raw.get("images"), dict):
        raise StartRecordsError(f'{path} is not a start record (kind "{KIND}" with an object `images`)')
    try:
        images = {str(image): ImageStarts.from_json(entry) for image, entry in raw["images"].items()}
    except StartRecordsError as exc:
        raise StartRecordsError(f"{path}: {exc}") from None
    return StartRecords(str(path), images)


class StartRecorder:
    """The writer: fed every probe attempt (`observe`), it adds each start it sees to the file at `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._instances: dict[str, int] = {}  # container ID -> failures so far, or _DONE
        self._images: dict[str, ImageStarts] | None = None  # loaded at the first start seen

    def observe(self, attempt: Attempt, container: Container, pod: Callable[[], Pod | None]) -> None:
        """One attempt of `container`'s probe; `pod` reads the pod (its status), called only for a start."""
        try:
            self._observe(attempt, container, pod)
        except Exception:  # never into the probe worker
            log.exception("recording the start of %s failed", attempt.container_id)

    def _observe(self, attempt: Attempt, container: Container, pod: Callable[[], Pod | None]) -> None:
        if attempt.kind is not start_probe(container):
            return
        cid = attempt.container_id
        failures = self._instances.get(cid, 0)
        if failures == _DONE or attempt.result == "Unknown":  # seen already; an errored attempt tells nothing
            return
        if attempt.result == "Failure":
            self._count(cid, failures + 1)
            return
        self._count(cid, _DONE)
        if failures == 0:
            return  # up before the first look: how long it took is not known
        found = pod()
        if found is None:
            return
        started_at = _started_at(found, cid)
        if started_at is None:
            return
        meta = found["metadata"]
        start = Start(
            seconds=round(max(0.0, attempt.start - started_at.timestamp()), 1),
            probe=str(attempt.kind),
            failures=failures,
            pod=f"{meta['namespace']}/{meta['name']}",
            container=attempt.container,
            container_id=cid,
            started_at=_rfc3339(started_at.timestamp()),
            passed_at=_rfc3339(attempt.start),
        )
        self.add(container["image"], start)

    def add(self, image: str, start: Start) -> None:
        """Add one start of `image` and write the file."""
        images = self._loaded()
        key = image_key(image)
        previous = images.pop(key, None)  # re-inserted last: the most recently started
        images[key] = previous.add(start) if previous is not None else ImageStarts(start, (start,))
        while len(images) > KEEP_IMAGES:
            del images[next(iter(images))]
        document = StartRecords(str(self.path), images).to_json()
        write_private(self.path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")

    def _loaded(self) -> dict[str, ImageStarts]:
        if self._images is None:
            try:
                self._images = dict(load(self.path).images)
            except FileNotFoundError:
                self._images = {}
            except StartRecordsError as exc:
                log.warning("starting a new start record: %s", exc)
                self._images = {}
        return self._images

    def _count(self, cid: str, value: int) -> None:
        self._instances.pop(cid, None)
        self._instances[cid] = value
        while len(self._instances) > _INSTANCES:
            del self._instances[next(iter(self._instances))]


def _started_at(pod: Pod, container_id: str) -> datetime | None:
    for status in all_statuses(pod_status(pod)):
        if str(status.get("containerID", "")).removeprefix("docker://") != container_id:
            continue
        running = (status.get("state") or {}).get("running") or {}
        stamp = running.get("startedAt")
        if stamp:
            parsed = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
            return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    return None


def _rfc3339(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
