"""The kubeconfig: how kubectl and our own CLI find and trust the node.

One file serves both: kubectl reads it with `--kubeconfig`, and the CLI, which keeps no state of its own,
reads the server address, CA and token back from it with `read_connection`. Keeping a single source means the
two can never disagree about where the node is or which credentials it takes.

It is written as JSON, which is YAML too (kubectl reads either): every CLI command reads it, and `json` is
already loaded where PyYAML would cost a command ~15 ms of its start-up. A kubeconfig someone rewrote as YAML
is still read, through PyYAML.
"""

from __future__ import annotations

import base64
import binascii
import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from minikubelet.errors import UnavailableError
from minikubelet.node.paths import NodePaths, write_private

__all__ = ["NAME", "Connection", "read_connection", "write_kubeconfig"]

NAME = "minikubelet"  # the cluster, user and context name


@dataclass(frozen=True)
class Connection:
    """Where the node's API server listens, the CA that signed its certificate, and the bearer token."""

    server: str
    ca_pem: bytes
    token: str

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this CA and nothing else (for `http.client` and websockets)."""
        return ssl.create_default_context(cadata=self.ca_pem.decode("ascii"))


def write_kubeconfig(paths: NodePaths, *, server: str, ca_pem: bytes, token: str) -> Path:
    """Write the node's kubeconfig (0600: it holds the token) and return its path."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": NAME,
                "cluster": {"server": server, "certificate-authority-data": base64.b64encode(ca_pem).decode("ascii")},
            }
        ],
        "users": [{"name": NAME, "user": {"token": token}}],
        "contexts": [{"name": NAME, "context": {"cluster": NAME, "user": NAME, "namespace": "default"}}],
        "current-context": NAME,
        "preferences": {},
    }
    paths.ensure_home()
    write_private(paths.kubeconfig, json.dumps(config, indent=2) + "\n")
    return paths.kubeconfig


def read_connection(paths: NodePaths) -> Connection:
    """The connection the kubeconfig's current context describes; UnavailableError if there is none usable."""
    try:
        return _connection(_parse(paths.kubeconfig.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise UnavailableError(f"the node is not running: {paths.kubeconfig} does not exist") from None
    except (OSError, UnicodeError, binascii.Error, KeyError, TypeError, ValueError) as err:
        raise UnavailableError(f"cannot read the node's kubeconfig {paths.kubeconfig}: {err}") from None


def _parse(text: str) -> object:
    """JSON as written; YAML if someone rewrote it so (a YAML syntax error comes back as a ValueError)."""
    try:
        return json.loads(text)
    except ValueError:
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise ValueError(str(err)) from None


def _connection(config: object) -> Connection:
    if not isinstance(config, Mapping):
        raise ValueError("not a kubeconfig")
    context = _named(config, "contexts", str(config["current-context"]))["context"]
    cluster = _named(config, "clusters", str(context["cluster"]))["cluster"]
    user = _named(config, "users", str(context["user"]))["user"]
    ca_pem = base64.b64decode(str(cluster["certificate-authority-data"]), validate=True)
    if b"-----BEGIN CERTIFICATE-----" not in ca_pem:
        raise ValueError("certificate-authority-data holds no PEM certificate")
    return Connection(server=str(cluster["server"]), ca_pem=ca_pem, token=str(user["token"]))


def _named(config: Mapping[str, object], section: str, name: str) -> Mapping[str, Mapping[str, object]]:
    entries = config.get(section)
    if not isinstance(entries, list):
        raise ValueError(f"no {section}")
    for entry in entries:
        if isinstance(entry, Mapping) and entry.get("name") == name:
            return entry
    raise ValueError(f"no entry named {name!r} in {section}")
