"""The node's state: Kubernetes objects in one SQLite file, one resourceVersion counter, a watch feed.

Why it is shaped this way:

- Objects are plain wire-format dicts stored as JSON text under (kind, namespace, name). The store reads
  nothing but `metadata` and, for selectors, a few fields by path, so a new kind costs nothing here and the
  API server can hand bodies straight through.
- One connection, guarded by one `threading.RLock`. SQLite serializes writers anyway; one connection is the
  "one writer" of DESIGN.md and makes commit order, resourceVersion order and notification order the same
  thing. Every write is a single `BEGIN IMMEDIATE` transaction that also bumps the counter in `meta`, so a
  write that fails (a conflict, a raising `mutate`) consumes no resourceVersion and leaves nothing behind.
  WAL with `synchronous=NORMAL` makes a commit a page append without fsync (durable at checkpoints), which
  keeps a write well under a millisecond: cheap enough to call from the event loop directly.
- The watch feed is in-process and push-based. After a commit, still under the lock, the change goes into a
  ring of the last 10,000 changes (to replay a watch that starts at an older resourceVersion) and is offered
  to every open `Watch`; a watch filters it and hands it to its own event loop with `call_soon_threadsafe`,
  into an unbounded `asyncio.Queue`. So a writer on any thread never waits for a reader: a slow consumer
  costs memory, not latency, and whoever serves a watch should close it when its client goes away.
- Selector transitions follow the API server's watch cache: an update that makes an object stop matching
  a watch's selectors is sent to it as DELETED (the old content, the new resourceVersion), one that makes it
  start matching as ADDED.
- No raw sqlite3 exception leaves this module: storage failures become `UnavailableError`, so callers deal
  only with the error tree of `minikubelet.errors`.
- Opening a file checks it before trusting it: another program's SQLite file is refused before anything is
  written to it (WAL is switched on only afterwards), and a damaged one (`PRAGMA quick_check`) is refused at
  once rather than at the first read of a bad page, so `up` can say why in one line. A SIGKILL loses nothing
  acknowledged: a commit is in the WAL (in the page cache) before the write returns.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import random
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

from minikubelet.errors import (
    AlreadyExistsError,
    BadRequestError,
    ConflictError,
    FieldError,
    GoneError,
    InvalidError,
    NotFoundError,
    UnavailableError,
)
from minikubelet.store.selectors import ObjectSelector

__all__ = [
    "CLUSTER_SCOPED_KINDS",
    "HISTORY_SIZE",
    "EventType",
    "Object",
    "Store",
    "Watch",
    "WatchEvent",
    "resource_for",
]

Object = dict[str, Any]
"""A Kubernetes object in wire format: `{"apiVersion", "kind", "metadata": {...}, ...}`."""
EventType = Literal["ADDED", "MODIFIED", "DELETED"]
WatchEvent = tuple[EventType, Object]
Mutation = Callable[[Object], Object | None]
_Objects = list[Object]  # (`list` is a method name inside Store)

HISTORY_SIZE = 10_000
CLUSTER_SCOPED_KINDS = frozenset({"Node", "Namespace"})
_RESOURCES = {"Pod": "pods", "Event": "events", "Node": "nodes", "Namespace": "namespaces"}

_APPLICATION_ID = 0x6D6B6C74  # "mklt" in the SQLite header marks our files
_SCHEMA_VERSION = 1
_SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value NOT NULL) WITHOUT ROWID",
    """CREATE TABLE objects (
        kind TEXT NOT NULL,
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        uid TEXT NOT NULL,
        resource_version INTEGER NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (kind, namespace, name)
    ) WITHOUT ROWID""",
    f"INSERT INTO meta (key, value) VALUES ('schema_version', {_SCHEMA_VERSION}), ('resource_version', 0)",
    f"PRAGMA application_id = {_APPLICATION_ID}",
)
_BUSY_TIMEOUT_MS = 5_000
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # apimachinery's utilrand, as generateName uses


def resource_for(kind: str) -> str:
    """The lowercase plural the API and its error messages use: Pod -> pods."""
    return _RESOURCES.get(kind, kind.lower() + "s")


def _scope(kind: str, namespace: str) -> str:
    return "" if kind in CLUSTER_SCOPED_KINDS else namespace


def _stamp(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _dumps(obj: Object) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


# --- one change, as the history and the watches see it ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Change:
    """One committed write. Bodies are kept as text: the ring holds 10,000 of them."""

    type: EventType
    kind: str
    namespace: str
    rv: int
    body: str
    prev_body: str | None = None  # MODIFIED only: the object before the write


@dataclass(slots=True)
class _Published:
    """A change being offered to watches, with its objects parsed once (live) or on demand (replay)."""

    change: _Change
    obj: Object | None = None
    prev: Object | None = None

    def current(self) -> Object:
        if self.obj is None:
            self.obj = json.loads(self.change.body)
        return self.obj

    def previous(self) -> Object:
        if self.prev is None:
            self.prev = json.loads(self.change.prev_body or "{}")
        return self.prev


_Delivery = tuple[EventType, str, int]  # event type, body text, resourceVersion to stamp on it


class Watch:
    """An async iterator of `(type, object)` for one kind, namespace and selector; `close()` ends it.

    Created by `Store.watch()` on a running event loop, consumed on that loop. Events may come from writes
    on any thread. The queue is unbounded (writers never block); close the watch when nobody reads it.
    """

    def __init__(self, store: Store, kind: str, namespace: str | None, selector: ObjectSelector, start: int):
        self._store = store
        self._kind = kind
        self._namespace = namespace
        self._selector = selector
        self._start = start
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[_Delivery | None] = asyncio.Queue()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Stop the watch: the iterator ends (pending events are dropped). Safe from any thread, idempotent."""
        if self._closed:
            return
        self._closed = True
        self._store._unsubscribe(self)
        self._send(None)

    def __aiter__(self) -> Watch:
        return self

    async def __anext__(self) -> WatchEvent:
        item = None if self._closed else await self._queue.get()
        if item is None or self._closed:
            raise StopAsyncIteration
        event_type, body, rv = item
        obj: Object = json.loads(body)
        obj["metadata"]["resourceVersion"] = str(rv)
        return event_type, obj

    async def __aenter__(self) -> Watch:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    # Called by the store, under its lock.

    def _replay(self, history: collections.deque[_Change]) -> None:
        """Queue the changes after the start resourceVersion (on the loop's thread, before any live one)."""
        for change in history:
            if change.rv > self._start and (delivery := self._translate(_Published(change))):
                self._queue.put_nowait(delivery)

    def _offer(self, published: _Published) -> None:
        """Hand a live change to the watch's loop if the watch wants it (from the writer's thread)."""
        if delivery := self._translate(published):
            self._send(delivery)

    def _send(self, item: _Delivery | None) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the loop is closed: nobody can read this watch any more
            self._closed = True
            self._store._unsubscribe(self)

    def _translate(self, published: _Published) -> _Delivery | None:
        """What this watch sees of a change: nothing, or an event (selector transitions included)."""
        change = published.change
        if change.kind != self._kind or change.rv <= self._start:
            return None
        if self._namespace is not None and change.namespace != self._namespace:
            return None
        if self._selector.empty:
            return change.type, change.body, change.rv
        now = self._selector.matches(published.current())
        if change.type != "MODIFIED":
            return (change.type, change.body, change.rv) if now else None
        before = self._selector.matches(published.previous())
        if now:
            return ("MODIFIED" if before else "ADDED"), change.body, change.rv
        return ("DELETED", change.prev_body or "{}", change.rv) if before else None


# --- the store -------------------------------------------------------------------------------------------


class Store:
    """Create, get, list, update, delete and watch Kubernetes objects in a SQLite file.

    Thread-safe: the daemon's threads and its event loop share one instance. Calls are synchronous and
    short (one indexed statement and a commit), so the event loop may call them directly; `update_with`
    runs its `mutate` inside the write transaction, so a mutate must be quick and must not use the store.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        history_size: int = HISTORY_SIZE,
        clock: Callable[[], float] = time.time,
        new_uid: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        """Open (or create, mode 0600) the file at `path`; its directory must exist.

        UnavailableError if the file cannot be opened or is not a minikubelet state database.
        `history_size` is how many changes a watch can replay (tests make it small). `clock` (seconds since the
        epoch) stamps creationTimestamp and a finalizer-held deletion's deletionTimestamp (`simulate` passes a
        virtual one), `new_uid` makes a new object's uid (`simulate` passes a seeded one, for repeatable runs).
        """
        self._clock = clock
        self._new_uid = new_uid
        self._path = os.fspath(path)
        self._lock = threading.RLock()
        self._history: collections.deque[_Change] = collections.deque(maxlen=history_size)
        self._watches: set[Watch] = set()
        _create_private_file(self._path)
        self._conn: sqlite3.Connection | None = _connect(self._path)
        with self._reading() as conn:
            self._rv = int(conn.execute("SELECT value FROM meta WHERE key = 'resource_version'").fetchone()[0])

    @property
    def path(self) -> str:
        return self._path

    @property
    def resource_version(self) -> str:
        """The resourceVersion of the last write (of any kind), as Kubernetes spells it: a decimal string."""
        return str(self._rv)

    def close(self) -> None:
        """End every watch and close the file. Idempotent."""
        with self._lock:
            for watch in list(self._watches):
                watch.close()
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    # --- reads -------------------------------------------------------------------------------------------

    def get(self, kind: str, namespace: str, name: str) -> Object:
        """The object, or NotFoundError. Cluster-scoped kinds (Node, Namespace) ignore `namespace`."""
        with self._reading() as conn:
            body = _select(conn, kind, _scope(kind, namespace), name)
        if body is None:
            raise NotFoundError.of(resource_for(kind), name)
        result: Object = json.loads(body)
        return result

    def list(
        self, kind: str, namespace: str | None = None, *, label_selector: str = "", field_selector: str = ""
    ) -> tuple[_Objects, str]:
        """The matching objects, sorted by namespace then name, and the resourceVersion they are current at.

        `namespace=None` lists all namespaces. Bad selectors raise BadRequestError.
        """
        selector = ObjectSelector.parse(kind, label_selector, field_selector)
        query, params = "SELECT body FROM objects WHERE kind = ?", [kind]
        if namespace is not None and kind not in CLUSTER_SCOPED_KINDS:
            query, params = query + " AND namespace = ?", [kind, namespace]
        with self._reading() as conn:
            rows = conn.execute(query + " ORDER BY namespace, name", params).fetchall()
            rv = self._rv
        items = [json.loads(body) for (body,) in rows]
        return [item for item in items if selector.matches(item)], str(rv)

    # --- writes ------------------------------------------------------------------------------------------

    def create(self, obj: Object) -> Object:
        """Store a new object; sets uid, creationTimestamp, generation (when absent) and resourceVersion.

        The name comes from `metadata.name`, or from `metadata.generateName` plus 5 random characters.
        A namespaced object without a namespace goes to "default". AlreadyExistsError if the name is taken.
        """
        kind = _kind_of(obj)
        new = {**obj, "metadata": dict(_metadata_of(obj))}
        meta = new["metadata"]
        namespace = _settle_namespace(kind, meta, meta.get("namespace") or "default")
        name = _settle_name(kind, meta)
        meta["uid"] = meta.get("uid") or self._new_uid()
        meta["creationTimestamp"] = meta.get("creationTimestamp") or _stamp(self._clock())
        meta.setdefault("generation", 1)

        def insert(conn: sqlite3.Connection) -> tuple[Object, _Published]:
            meta["resourceVersion"] = str(_next_rv(conn))
            body = _dumps(new)
            row = (kind, namespace, name, meta["uid"], int(meta["resourceVersion"]), body)
            try:
                conn.execute("INSERT INTO objects VALUES (?, ?, ?, ?, ?, ?)", row)
            except sqlite3.IntegrityError:
                raise AlreadyExistsError.of(resource_for(kind), name) from None
            change = _Change("ADDED", kind, namespace, int(meta["resourceVersion"]), body)
            return json.loads(body), _Published(change, new)

        return self._write(insert)

    def update(self, obj: Object) -> Object:
        """Replace an object. A non-empty `metadata.resourceVersion` (or `uid`) must match the stored one,
        else ConflictError; an empty one updates unconditionally. uid and creationTimestamp are kept,
        generation is bumped when `spec` changes. An update that changes nothing writes nothing (as
        Kubernetes does): it returns the stored object with its current resourceVersion.
        """
        kind = _kind_of(obj)
        meta = _metadata_of(obj)
        name = _required_name(kind, meta)
        namespace = _scope(kind, meta.get("namespace") or "default")

        def replace(conn: sqlite3.Connection) -> tuple[Object, _Published | None]:
            old_body = _existing(conn, kind, namespace, name)
            old = json.loads(old_body)
            _check_preconditions(old, uid=meta.get("uid"), resource_version=meta.get("resourceVersion"))
            return _replace(conn, old, old_body, obj)

        return self._write(replace)

    def update_with(self, kind: str, namespace: str, name: str, mutate: Mutation, *, keep_generation: bool = False) -> Object:
        """Read-modify-write in one transaction, so it never conflicts.

        `mutate` gets a private copy of the current object and returns the new one (it may change the copy
        in place and return it), or None to leave the object alone (then the current object is returned).
        If `mutate` raises, nothing is written. NotFoundError if the object does not exist. `keep_generation`:
        a spec change that is no update of the spec by its owner (pods/binding's nodeName) leaves it alone.
        """
        namespace = _scope(kind, namespace)

        def read_modify_write(conn: sqlite3.Connection) -> tuple[Object, _Published | None]:
            old_body = _existing(conn, kind, namespace, name)
            old = json.loads(old_body)
            new = mutate(json.loads(old_body))
            if new is None:
                return old, None
            _check_identity(old, new)
            return _replace(conn, old, old_body, new, keep_generation=keep_generation)

        return self._write(read_modify_write)

    def delete(
        self, kind: str, namespace: str, name: str, *, uid: str | None = None, resource_version: str | None = None
    ) -> Object:
        """Remove an object; returns its last state with a new resourceVersion (that of the DELETED event).

        `uid` / `resource_version`, when given, are preconditions: ConflictError if they differ.
        """
        namespace = _scope(kind, namespace)

        def remove(conn: sqlite3.Connection) -> tuple[Object, _Published | None]:
            old_body = _existing(conn, kind, namespace, name)
            old = json.loads(old_body)
            _check_preconditions(old, uid=uid, resource_version=resource_version)
            if old["metadata"].get("finalizers"):
                # The registry's deletion of an object with finalizers only marks it (deletionTimestamp, a grace
                # period of 0); the update that removes its last finalizer removes it (_replace).
                marked = json.loads(old_body)
                marked["metadata"].setdefault("deletionTimestamp", _stamp(self._clock()))
                marked["metadata"]["deletionGracePeriodSeconds"] = 0
                return _replace(conn, old, old_body, marked)
            rv = _next_rv(conn)
            old["metadata"]["resourceVersion"] = str(rv)
            conn.execute("DELETE FROM objects WHERE kind = ? AND namespace = ? AND name = ?", (kind, namespace, name))
            change = _Change("DELETED", kind, namespace, rv, _dumps(old))
            return old, _Published(change, old)

        return self._write(remove)

    # --- watch -------------------------------------------------------------------------------------------

    def watch(
        self,
        kind: str,
        namespace: str | None = None,
        *,
        resource_version: str = "",
        label_selector: str = "",
        field_selector: str = "",
    ) -> Watch:
        """Changes to `kind` objects (in `namespace`, or all when None) that match the selectors.

        Call it on the event loop that will consume the watch. `resource_version` "" or "0" starts from
        now; "N" first replays every change after N, then goes on live. GoneError if the changes after N
        are no longer kept (more than 10,000 writes ago, or before the store was opened).
        """
        selector = ObjectSelector.parse(kind, label_selector, field_selector)
        requested = _parse_resource_version(resource_version)
        if namespace is not None:
            namespace = _scope(kind, namespace)
        with self._lock:
            start = self._rv if requested is None else requested
            oldest = self._history[0].rv - 1 if self._history else self._rv
            if start < oldest:
                raise GoneError(f"too old resource version: {start} ({oldest})")
            watch = Watch(self, kind, namespace, selector, start)
            watch._replay(self._history)
            self._watches.add(watch)
        return watch

    def _unsubscribe(self, watch: Watch) -> None:
        with self._lock:
            self._watches.discard(watch)

    # --- transactions ------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._storage_errors():
            yield self._connection()

    def _write(self, work: Callable[[sqlite3.Connection], tuple[Object, _Published | None]]) -> Object:
        """Run `work` in one IMMEDIATE transaction; after the commit, publish its change to watches."""
        with self._lock, self._storage_errors():
            conn = self._connection()
            if conn.in_transaction:
                raise RuntimeError("a store write inside another one (update_with's mutate must not write)")
            conn.execute("BEGIN IMMEDIATE")
            try:
                result, published = work(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            if published is not None:
                self._publish(published)
            return result

    def _publish(self, published: _Published) -> None:
        self._rv = published.change.rv
        self._history.append(published.change)
        for watch in list(self._watches):
            watch._offer(published)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise UnavailableError(f"{self._path}: the store is closed")
        return self._conn

    @contextlib.contextmanager
    def _storage_errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise UnavailableError(f"{self._path}: {exc}") from exc


# --- opening the file ------------------------------------------------------------------------------------


def _create_private_file(path: str) -> None:
    """Create the file owner-only before SQLite does (its -wal and -shm files copy the mode)."""
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    except OSError as exc:
        raise UnavailableError(f"{path}: cannot open the state database: {exc.strerror}") from exc


def _connect(path: str) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    except sqlite3.Error as exc:
        raise UnavailableError(f"{path}: cannot open the state database: {exc}") from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        _check_schema(conn, path)  # first: another program's file is refused before WAL would convert it
        _use_wal(conn, path)
        conn.execute("PRAGMA synchronous = NORMAL")
        _check_integrity(conn, path)
    except sqlite3.OperationalError as exc:  # locked, read-only, I/O error: the file may be fine
        conn.close()
        raise UnavailableError(f"{path}: cannot open the state database: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise UnavailableError(f"{path}: not a minikubelet state database: {exc}") from exc
    except BaseException:
        conn.close()
        raise
    return conn


def _use_wal(conn: sqlite3.Connection, path: str) -> None:
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise UnavailableError(f"{path}: cannot use WAL journal mode (SQLite kept {mode!r})")


def _check_schema(conn: sqlite3.Connection, path: str) -> None:
    """Create the schema in an empty file; refuse a file that some other program (or version) wrote."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        application_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if application_id == 0 and tables == 0:
            for statement in _SCHEMA:
                conn.execute(statement)
        elif application_id != _APPLICATION_ID:
            raise UnavailableError(f"{path}: not a minikubelet state database: it holds another application's data")
        else:
            _check_schema_version(conn, path)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _check_integrity(conn: sqlite3.Connection, path: str) -> None:
    """Refuse a damaged file now rather than fail at the first read of a bad page (a whole-file scan: some
    tens of milliseconds for thousands of objects)."""
    try:
        problems = [str(row[0]) for row in conn.execute("PRAGMA quick_check").fetchall()]
    except sqlite3.OperationalError:
        raise
    except sqlite3.DatabaseError as exc:
        problems = [str(exc)]
    if problems != ["ok"]:
        raise UnavailableError(f"{path}: the state database is damaged: {problems[0]}")


def _check_schema_version(conn: sqlite3.Connection, path: str) -> None:
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None or row[0] != _SCHEMA_VERSION:
        version = "none" if row is None else row[0]
        raise UnavailableError(
            f"{path}: not a minikubelet state database of this version: schema version {version}, "
            f"this minikubelet reads {_SCHEMA_VERSION}"
        )


# --- the pieces of a write -------------------------------------------------------------------------------


def _next_rv(conn: sqlite3.Connection) -> int:
    rows = conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'resource_version' RETURNING value").fetchall()
    return int(rows[0][0])


def _select(conn: sqlite3.Connection, kind: str, namespace: str, name: str) -> str | None:
    row = conn.execute(
        "SELECT body FROM objects WHERE kind = ? AND namespace = ? AND name = ?", (kind, namespace, name)
    ).fetchone()
    return None if row is None else str(row[0])


def _existing(conn: sqlite3.Connection, kind: str, namespace: str, name: str) -> str:
    body = _select(conn, kind, namespace, name)
    if body is None:
        raise NotFoundError.of(resource_for(kind), name)
    return body


def _replace(
    conn: sqlite3.Connection, old: Object, old_body: str, obj: Object, *, keep_generation: bool = False
) -> tuple[Object, _Published | None]:
    """Write `obj` over `old` (identity and preconditions already checked); a no-op writes nothing."""
    kind, old_meta = old["kind"], old["metadata"]
    new = {**obj, "metadata": dict(_metadata_of(obj))}
    meta = new["metadata"]
    for key in ("uid", "creationTimestamp", "resourceVersion"):  # immutable, or ours to assign
        if key in old_meta:
            meta[key] = old_meta[key]
        else:
            meta.pop(key, None)
    _settle_namespace(kind, meta, old_meta.get("namespace", ""))
    meta["generation"] = int(old_meta.get("generation") or 1) if keep_generation else _next_generation(old, new)
    if new == old:
        return old, None
    rv = _next_rv(conn)
    meta["resourceVersion"] = str(rv)
    body = _dumps(new)
    namespace = _scope(kind, old_meta.get("namespace", ""))
    if old_meta.get("finalizers") and not meta.get("finalizers") and _deleted_now(meta):
        # ShouldDeleteDuringUpdate: the last finalizer of an object whose deletion is due went: it goes.
        conn.execute("DELETE FROM objects WHERE kind = ? AND namespace = ? AND name = ?", (kind, namespace, old_meta["name"]))
        return json.loads(body), _Published(_Change("DELETED", kind, namespace, rv, body), new)
    conn.execute(
        "UPDATE objects SET resource_version = ?, body = ? WHERE kind = ? AND namespace = ? AND name = ?",
        (rv, body, kind, namespace, old_meta["name"]),
    )
    change = _Change("MODIFIED", kind, namespace, rv, body, old_body)
    return json.loads(body), _Published(change, new, old)


def _deleted_now(meta: dict[str, Any]) -> bool:
    """A deletion that waits for nothing but finalizers: marked, with no grace period left to run."""
    return "deletionTimestamp" in meta and not meta.get("deletionGracePeriodSeconds")


def _next_generation(old: Object, new: Object) -> int:
    """Kept across updates, +1 when the spec changes (what the API server's strategies do), and +1 when the object
    starts being deleted: a deletionTimestamp appears (rest.BeforeDelete's bump on the first graceful deletion)."""
    generation = int(old["metadata"].get("generation") or 1)
    deleting = "deletionTimestamp" in new["metadata"] and "deletionTimestamp" not in old["metadata"]
    return generation + 1 if old.get("spec") != new.get("spec") or deleting else generation


def _check_preconditions(old: Object, *, uid: str | None, resource_version: str | None) -> None:
    kind, meta = old["kind"], old["metadata"]
    if uid and uid != meta.get("uid"):
        message = f"Precondition failed: UID in precondition: {uid}, UID in object meta: {meta.get('uid')}"
        raise ConflictError(message, kind=resource_for(kind), name=meta["name"])
    if resource_version and str(resource_version) != meta.get("resourceVersion"):
        raise ConflictError.of(resource_for(kind), meta["name"])


def _check_identity(old: Object, new: Object) -> None:
    meta = new.get("metadata") if isinstance(new, dict) else None
    if not isinstance(meta, dict) or new.get("kind") != old["kind"] or meta.get("name") != old["metadata"]["name"]:
        raise ValueError("update_with: mutate must return the object with its kind and metadata.name unchanged")
    if _scope(old["kind"], meta.get("namespace") or "") != _scope(old["kind"], old["metadata"].get("namespace", "")):
        raise ValueError("update_with: mutate must not change metadata.namespace")


# --- reading identity from a caller's object -------------------------------------------------------------


def _kind_of(obj: Object) -> str:
    kind = obj.get("kind") if isinstance(obj, dict) else None
    if not isinstance(kind, str) or not kind:
        raise BadRequestError("Object 'Kind' is missing")
    return kind


def _metadata_of(obj: Object) -> dict[str, Any]:
    meta = obj.get("metadata", {})
    if not isinstance(meta, dict):
        raise BadRequestError("metadata must be an object")
    return meta


def _required_name(kind: str, meta: dict[str, Any]) -> str:
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidError(kind, "", [FieldError.required("metadata.name", "name or generateName is required")])
    return name


def _settle_name(kind: str, meta: dict[str, Any]) -> str:
    """`metadata.name`, or one made from `metadata.generateName` (written into `meta`)."""
    prefix = meta.get("generateName")
    if not meta.get("name") and isinstance(prefix, str) and prefix:
        meta["name"] = prefix[:58] + "".join(random.choices(_NAME_ALPHABET, k=5))
    return _required_name(kind, meta)


def _settle_namespace(kind: str, meta: dict[str, Any], namespace: str) -> str:
    """Cluster-scoped objects carry no namespace; namespaced ones always carry theirs."""
    if kind in CLUSTER_SCOPED_KINDS:
        meta.pop("namespace", None)
        return ""
    meta["namespace"] = namespace
    return namespace


def _parse_resource_version(text: str) -> int | None:
    """None for "" and "0" (start now), else the number; BadRequestError for anything else."""
    if text in ("", "0"):
        return None
    if not text.isascii() or not text.isdigit():
        raise BadRequestError(f'invalid resource version "{text}"')
    return int(text)
