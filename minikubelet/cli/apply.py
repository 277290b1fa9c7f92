"""`minikubelet apply` and `create`: kubectl's client-side apply, with the last-applied annotation.

apply: a new object is created carrying `kubectl.kubernetes.io/last-applied-configuration` (the manifest
as written, in JSON); an existing one gets the three-way strategic merge patch of (last applied, manifest,
live), or nothing at all when that patch is empty (`unchanged`). `--dry-run=client` only validates.
A write that loses a race with another client (AlreadyExists, Conflict, NotFound) is retried from a fresh GET.
"""

from __future__ import annotations

import copy
import enum
import json
import random
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from minikubelet.cli.common import connect, eprint, format_status_error
from minikubelet.client import ApiClient, resource_path
from minikubelet.errors import AlreadyExistsError, ConflictError, NotFoundError, StatusError

if TYPE_CHECKING:
    from minikubelet.api.loading import Loaded

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
APPLY_ATTEMPTS = 5  # kubectl's maxPatchRetry
RETRY_DELAY = 0.05  # seconds; the n-th retry waits up to n times this (jittered, so racing clients spread out)


class DryRun(enum.StrEnum):
    NONE = "none"
    CLIENT = "client"
    SERVER = "server"


FilenameOption = Annotated[
    list[str], typer.Option("--filename", "-f", help="File, directory or '-' (stdin) holding the manifests.")
]
RecursiveOption = Annotated[bool, typer.Option("--recursive", "-R", help="Process directories under -f recursively.")]
NamespaceOption = Annotated[str, typer.Option("--namespace", "-n", help="Namespace for objects that name none.")]
DryRunOption = Annotated[DryRun, typer.Option("--dry-run", help="'client': only validate; 'server': validate on the node.")]


def apply_command(
    filenames: FilenameOption,
    dry_run: DryRunOption = DryRun.NONE,
    recursive: RecursiveOption = False,
    namespace: NamespaceOption = "default",
) -> None:
    """Apply a configuration to pods by file name or stdin (YAML or JSON)."""
    _run(filenames, recursive, namespace, dry_run, create_only=False)


def create_command(
    filenames: FilenameOption,
    dry_run: DryRunOption = DryRun.NONE,
    recursive: RecursiveOption = False,
    namespace: NamespaceOption = "default",
) -> None:
    """Create pods from manifests; an existing pod is an error (AlreadyExists)."""
    _run(filenames, recursive, namespace, dry_run, create_only=True)


def _run(filenames: list[str], recursive: bool, namespace: str, dry_run: DryRun, *, create_only: bool) -> None:
    from minikubelet.manifest import read_manifests

    result = read_manifests(filenames, recursive=recursive)
    for line in result.error_lines():
        eprint(line)
    failed = bool(result.errors)
    if not result.objects and not failed:
        eprint("error: no objects passed to " + ("create" if create_only else "apply"))
        raise typer.Exit(1)
    if dry_run is DryRun.CLIENT:
        for loaded in result.objects:
            typer.echo(f"pod/{_name(loaded)} created (dry run)")
    elif result.objects and not failed:
        # Nothing is sent unless every document is valid: a bad manifest leaves nothing half-applied.
        with connect() as client:
            for loaded in result.objects:
                try:
                    verb = (
                        _create(client, loaded, namespace, dry_run)
                        if create_only
                        else apply_object(client, loaded, namespace, dry_run)
                    )
                except StatusError as exc:
                    creating = create_only or getattr(exc, _WHILE_CREATING, False)
                    eprint(_with_context(format_status_error(exc), loaded, creating))
                    failed = True
                    continue
                suffix = " (server dry run)" if dry_run is DryRun.SERVER else ""
                typer.echo(f"pod/{_name(loaded)} {verb}{suffix}")
    if failed:
        raise typer.Exit(1)


def _name(loaded: Loaded) -> str:
    return loaded.obj.metadata.name or loaded.obj.metadata.generate_name


def _with_context(message: str, loaded: Loaded, creating: bool) -> str:
    prefix = "Error from server ("
    if message.startswith(prefix):
        verb = "creating" if creating else "applying patch to"
        reason, rest = message[len(prefix) :].split("): ", 1)
        return f'{prefix}{reason}): error when {verb} "{loaded.source}": {rest}'
    return message


def _params(dry_run: DryRun, manager: str) -> dict[str, Any]:
    params: dict[str, Any] = {"fieldManager": manager, "fieldValidation": "Strict"}
    if dry_run is DryRun.SERVER:
        params["dryRun"] = "All"
    return params


def _namespace_of(loaded: Loaded, namespace: str) -> str:
    return loaded.obj.metadata.namespace or namespace


def _create(client: ApiClient, loaded: Loaded, namespace: str, dry_run: DryRun) -> str:
    path = resource_path("pods", _namespace_of(loaded, namespace))
    client.request("POST", path, params=_params(dry_run, "kubectl-create"), body=loaded.raw)
    return "created"


def apply_object(client: ApiClient, loaded: Loaded, namespace: str, dry_run: DryRun = DryRun.NONE) -> str:
    """Apply one object: "created", "configured" or "unchanged". A write that lost a race with another
    client (the pod was created, changed or deleted between our GET and our write: AlreadyExists, Conflict,
    NotFound) is tried again from a fresh GET, up to `APPLY_ATTEMPTS` times, as kubectl retries a patch."""
    for attempt in range(1, APPLY_ATTEMPTS + 1):
        try:
            return _apply(client, loaded, namespace, dry_run)
        except _LostRace as race:
            if attempt == APPLY_ATTEMPTS:
                raise race.error from None
            time.sleep(random.uniform(0, RETRY_DELAY * attempt))
    raise AssertionError("unreachable")


_WHILE_CREATING = "minikubelet_while_creating"


class _LostRace(Exception):
    """Another client wrote the object between our GET and our write."""

    def __init__(self, error: StatusError) -> None:
        super().__init__(str(error))
        self.error = error


def _apply(client: ApiClient, loaded: Loaded, namespace: str, dry_run: DryRun) -> str:
    ns = _namespace_of(loaded, namespace)
    modified = _with_last_applied(loaded.raw, ns)
    try:
        current = client.get(resource_path("pods", ns, loaded.obj.metadata.name))
    except NotFoundError:
        try:
            client.request("POST", resource_path("pods", ns), params=_params(dry_run, "kubectl-client-side-apply"), body=modified)
        except AlreadyExistsError as exc:
            raise _LostRace(exc) from exc
        except StatusError as exc:
            setattr(exc, _WHILE_CREATING, True)  # kubectl says "error when creating" for this write
            raise
        return "created"
    from minikubelet.apiserver.patching import three_way_merge_patch

    annotation = current.get("metadata", {}).get("annotations", {}).get(LAST_APPLIED)
    original = json.loads(annotation) if annotation else None
    patch = three_way_merge_patch(original, modified, current, "Pod")
    if not patch:
        return "unchanged"
    try:
        client.request(
            "PATCH",
            resource_path("pods", ns, loaded.obj.metadata.name),
            params=_params(dry_run, "kubectl-client-side-apply"),
            body=patch,
            content_type="application/strategic-merge-patch+json",
        )
    except (ConflictError, NotFoundError) as exc:  # changed (a resourceVersion in the manifest) or deleted meanwhile
        raise _LostRace(exc) from exc
    return "configured"


def _with_last_applied(raw: dict[str, Any], namespace: str) -> dict[str, Any]:
    """The manifest, in its namespace, plus the annotation holding itself: byte for byte what kubectl
    writes (sorted keys, `"annotations":{}` even when empty), so kubectl and we agree on "unchanged"."""
    modified = copy.deepcopy(raw)
    meta = modified.setdefault("metadata", {})
    meta["namespace"] = namespace
    annotations = dict(meta.get("annotations") or {})
    annotations.pop(LAST_APPLIED, None)
    meta["annotations"] = annotations
    snapshot = json.dumps(modified, separators=(",", ":"), sort_keys=True, ensure_ascii=False) + "\n"
    annotations[LAST_APPLIED] = snapshot
    return modified
