"""The node's CA, server certificate and token: made once, reused, and good enough for a real TLS handshake."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from minikubelet.node.kubeconfig import Connection
from minikubelet.node.paths import NodePaths
from minikubelet.node.tls import Credentials, ensure_credentials


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> NodePaths:
    monkeypatch.setenv("MINIKUBELET_HOME", str(tmp_path / "state"))
    return NodePaths.from_env()


@pytest.fixture
def creds(paths: NodePaths) -> Credentials:
    return ensure_credentials(paths)


def files(paths: NodePaths) -> list[Path]:
    return [paths.ca_cert, paths.ca_key, paths.server_cert, paths.server_key, paths.token_file]


def snapshot(paths: NodePaths) -> dict[Path, tuple[int, bytes]]:
    return {path: (path.stat().st_mtime_ns, path.read_bytes()) for path in files(paths)}


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_first_call_makes_private_files(paths: NodePaths, creds: Credentials) -> None:
    assert stat.S_IMODE(paths.home.stat().st_mode) == 0o700
    assert {stat.S_IMODE(path.stat().st_mode) for path in files(paths)} == {0o600}
    assert creds.ca_pem == paths.ca_cert.read_bytes()
    assert (creds.server_cert, creds.server_key) == (paths.server_cert, paths.server_key)
    assert creds.token == paths.token_file.read_text().strip()
    assert len(creds.token) >= 40


def test_second_call_reuses_everything(paths: NodePaths, creds: Credentials) -> None:
    before = snapshot(paths)
    started = time.perf_counter()
    again = ensure_credentials(paths)
    elapsed = time.perf_counter() - started
    assert again == creds
    assert snapshot(paths) == before
    assert elapsed < 0.1


def test_ca_certificate(creds: Credentials) -> None:
    ca = x509.load_pem_x509_certificate(creds.ca_pem)
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "minikubelet-ca"
    assert ca.issuer == ca.subject
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign
    key = ca.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    assert ca.not_valid_after_utc - ca.not_valid_before_utc > datetime.timedelta(days=3649)
    ca.verify_directly_issued_by(ca)


def test_server_certificate_is_issued_by_the_ca_for_the_loopback_names(creds: Credentials) -> None:
    ca, leaf = x509.load_pem_x509_certificate(creds.ca_pem), load(creds.server_cert)
    leaf.verify_directly_issued_by(ca)
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "minikubelet"
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
    assert {str(ip) for ip in sans.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    assert ExtendedKeyUsageOID.SERVER_AUTH in leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc > datetime.timedelta(days=3649)


@pytest.mark.parametrize(
    "name",
    [
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
        x509.DNSName("localhost"),
    ],
)
def test_server_certificate_passes_path_validation(creds: Credentials, name: x509.DNSName | x509.IPAddress) -> None:
    store = Store([x509.load_pem_x509_certificate(creds.ca_pem)])
    verifier = PolicyBuilder().store(store).build_server_verifier(name)
    chain = verifier.verify(load(creds.server_cert), [])
    assert len(chain) == 2


def test_server_certificate_is_not_valid_for_other_names(creds: Credentials) -> None:
    store = Store([x509.load_pem_x509_certificate(creds.ca_pem)])
    verifier = PolicyBuilder().store(store).build_server_verifier(x509.DNSName("example.com"))
    with pytest.raises(VerificationError):
        verifier.verify(load(creds.server_cert), [])


def test_a_missing_token_is_the_only_thing_made_again(paths: NodePaths, creds: Credentials) -> None:
    before = snapshot(paths)
    paths.token_file.unlink()
    again = ensure_credentials(paths)
    assert again.token != creds.token
    assert again.ca_pem == creds.ca_pem
    after = snapshot(paths)
    assert [after[path] for path in files(paths) if path != paths.token_file] == [
        before[path] for path in files(paths) if path != paths.token_file
    ]


def test_an_unreadable_server_certificate_is_made_again_with_the_same_ca(paths: NodePaths, creds: Credentials) -> None:
    paths.server_cert.write_bytes(b"garbage")
    again = ensure_credentials(paths)
    assert again.ca_pem == creds.ca_pem and again.token == creds.token
    load(paths.server_cert).verify_directly_issued_by(x509.load_pem_x509_certificate(creds.ca_pem))


def test_a_lost_ca_key_makes_a_new_ca_and_server_certificate(paths: NodePaths, creds: Credentials) -> None:
    old_server = paths.server_cert.read_bytes()
    paths.ca_key.unlink()
    again = ensure_credentials(paths)
    assert again.ca_pem != creds.ca_pem and again.token == creds.token
    assert paths.server_cert.read_bytes() != old_server
    load(paths.server_cert).verify_directly_issued_by(x509.load_pem_x509_certificate(again.ca_pem))


def test_a_server_certificate_of_another_ca_is_replaced(paths: NodePaths, creds: Credentials, tmp_path: Path) -> None:
    other = NodePaths(tmp_path / "other")
    ensure_credentials(other)
    paths.server_cert.write_bytes(other.server_cert.read_bytes())
    paths.server_key.write_bytes(other.server_key.read_bytes())
    ensure_credentials(paths)
    load(paths.server_cert).verify_directly_issued_by(x509.load_pem_x509_certificate(creds.ca_pem))


# --- a real handshake -------------------------------------------------------------------------------------------


@pytest.fixture
def tls_port(creds: Credentials) -> Iterator[int]:
    """A TLS server on 127.0.0.1 that serves the node's certificate and says hello to whoever completes a handshake."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(creds.server_cert, creds.server_key)
    stop = threading.Event()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(0.05)

        def serve() -> None:
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                with conn:
                    conn.settimeout(5)
                    try:
                        with context.wrap_socket(conn, server_side=True) as tls:
                            tls.sendall(b"hello")
                    except OSError:  # ssl.SSLError included: a client that refused our certificate
                        pass

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            yield listener.getsockname()[1]
        finally:
            stop.set()
            thread.join(timeout=5)


def handshake(port: int, context: ssl.SSLContext, server_hostname: str) -> bytes:
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=server_hostname) as tls,
    ):
        return tls.recv(5)


@pytest.mark.parametrize("server_hostname", ["127.0.0.1", "localhost"])
def test_handshake_succeeds_with_the_connection_context(creds: Credentials, tls_port: int, server_hostname: str) -> None:
    connection = Connection(server=f"https://127.0.0.1:{tls_port}", ca_pem=creds.ca_pem, token=creds.token)
    assert handshake(tls_port, connection.ssl_context(), server_hostname) == b"hello"


def test_handshake_fails_with_the_default_context(tls_port: int) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(tls_port, ssl.create_default_context(), "127.0.0.1")


def test_handshake_fails_for_a_name_not_in_the_certificate(creds: Credentials, tls_port: int) -> None:
    connection = Connection(server="https://example.com", ca_pem=creds.ca_pem, token=creds.token)
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(tls_port, connection.ssl_context(), "example.com")


def test_processes_making_them_at_once_agree_on_one_set(paths: NodePaths) -> None:
    """Two commands starting a node at once: one makes the credentials, the others wait for it and keep them."""
    barrier = threading.Barrier(6)
    results: list[Credentials] = []

    def make() -> None:
        barrier.wait()
        results.append(ensure_credentials(paths))

    threads = [threading.Thread(target=make) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 6
    assert len({(c.ca_pem, c.token) for c in results}) == 1, "each maker kept a CA or token of its own"
    assert results[0].ca_pem == paths.ca_cert.read_bytes()
    assert results[0].token == paths.token_file.read_text().strip()
    before = snapshot(paths)
    assert ensure_credentials(paths) == results[0]  # the files on disk fit together: they are reused as they are
    assert snapshot(paths) == before
    assert stat.S_IMODE(paths.credentials_lock.stat().st_mode) == 0o600
