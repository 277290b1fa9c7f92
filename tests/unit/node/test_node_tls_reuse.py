"""Reusing the node's credentials needs no `cryptography` (the standard library checks them); anything the
check refuses still goes to the full check, which makes again only what does not fit."""

from __future__ import annotations

import datetime
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from minikubelet.node import tls
from minikubelet.node.paths import NodePaths
from minikubelet.node.tls import ensure_credentials


@pytest.fixture
def paths(tmp_path: Path) -> NodePaths:
    return NodePaths(tmp_path / "state")


def test_reuse_does_not_import_cryptography(paths: NodePaths) -> None:
    made = ensure_credentials(paths)
    script = (
        "import sys; from pathlib import Path; from minikubelet.node.paths import NodePaths;"
        "from minikubelet.node.tls import ensure_credentials;"
        f"creds = ensure_credentials(NodePaths(Path({str(paths.home)!r})));"
        "sys.stdout.write(creds.ca_pem.decode() + str('cryptography' in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout == made.ca_pem.decode() + "False"


def test_the_quick_check_accepts_what_it_made(paths: NodePaths) -> None:
    made = ensure_credentials(paths)
    assert tls._reusable_ca_pem(paths) == made.ca_pem


def test_an_expired_server_certificate_is_made_again(paths: NodePaths, monkeypatch: pytest.MonkeyPatch) -> None:
    made = ensure_credentials(paths)
    monkeypatch.setattr(tls, "VALIDITY", datetime.timedelta(minutes=-30))  # valid from 1 h ago until 30 min ago
    ca = tls._load_pair(paths.ca_cert, paths.ca_key)
    assert ca is not None
    tls._write_pair(paths.server_cert, paths.server_key, tls._make_server(ca))
    monkeypatch.undo()
    assert tls._reusable_ca_pem(paths) is None
    again = ensure_credentials(paths)
    assert again.ca_pem == made.ca_pem
    server = x509.load_pem_x509_certificate(paths.server_cert.read_bytes())
    assert server.not_valid_after_utc > datetime.datetime.now(datetime.UTC)
    assert tls._reusable_ca_pem(paths) == made.ca_pem


def test_an_expired_ca_is_made_again(paths: NodePaths, monkeypatch: pytest.MonkeyPatch) -> None:
    paths.ensure_home()
    monkeypatch.setattr(tls, "VALIDITY", datetime.timedelta(minutes=-30))
    ca = tls._write_pair(paths.ca_cert, paths.ca_key, tls._make_ca())
    monkeypatch.undo()
    tls._write_pair(paths.server_cert, paths.server_key, tls._make_server(ca))  # itself still valid
    assert tls._reusable_ca_pem(paths) is None
    again = ensure_credentials(paths)
    assert again.ca_pem != ca.cert.public_bytes(Encoding.PEM)
    assert tls._reusable_ca_pem(paths) == again.ca_pem


def test_a_key_of_another_shape_goes_to_the_full_check(paths: NodePaths) -> None:
    made = ensure_credentials(paths)
    paths.server_key.write_text(paths.server_key.read_text().replace("PRIVATE KEY", "EC PRIVATE KEY"))
    assert tls._reusable_ca_pem(paths) is None
    assert ensure_credentials(paths).ca_pem == made.ca_pem
