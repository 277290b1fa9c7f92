"""The node's private CA, its server certificate and its bearer token.

kubectl sends a bearer token only over TLS, and Go's TLS stack checks the server's name against the
certificate's SubjectAlternativeName (a CN alone is ignored), so the node needs a real certificate for
127.0.0.1/localhost/::1. No public CA can issue one, hence a private CA made at first start and trusted only
through the kubeconfig's `certificate-authority-data`.

The files are made once and reused: every command calls `ensure_credentials`, so reusing them must be cheap,
and regenerating a CA would invalidate every kubeconfig already handed out. Only what is missing, unreadable or
no longer fits (expired, or not issued by the current CA) is made again.

Reusing them does not import `cryptography` (about 70 ms, a good part of the node's start): the standard
library's `ssl` checks the files by a TLS handshake in memory, with the server certificate and key on one side
and a client trusting only the CA on the other. OpenSSL then checks that each key belongs to its certificate,
that both certificates are within their validity and that the CA signed the server's. Only when that check
fails, or the files are not in the shape we write (one certificate per file, PKCS#8 EC keys), does the slow path
below decide, with `cryptography`, what to make again; so the check can only ever save work, not change what
is made.

Making them is serialised by an flock on `credentials.lock`: the CLI makes them before it starts the daemon
(so the daemon, which runs for long, never loads `cryptography`'s bindings, about 12 MiB of its memory), and two
commands starting a node at once must not each make a CA and leave a certificate of one beside the key of the
other. Whoever gets the lock second finds the first one's files usable and keeps them.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime
import fcntl
import os
import secrets
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from minikubelet.node.paths import NodePaths, write_private

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["CA_NAME", "SERVER_NAME", "Credentials", "ensure_credentials"]

CA_NAME = "minikubelet-ca"
SERVER_NAME = "minikubelet"
VALIDITY = datetime.timedelta(days=3650)  # a local tool: nobody wants to rotate certificates by hand
_BACKDATE = datetime.timedelta(hours=1)  # tolerate a little clock skew
_SERVER_DNS = ("localhost",)
_SERVER_IPS = ("127.0.0.1", "::1")
_PEM_CERT = "-----BEGIN CERTIFICATE-----"
_PEM_KEY = "-----BEGIN PRIVATE KEY-----"  # PKCS#8, as `_write_pair` writes keys
_EC_PUBLIC_KEY_OID = bytes.fromhex("06072a8648ce3d0201")  # id-ecPublicKey in a PKCS#8 AlgorithmIdentifier


@dataclass(frozen=True)
class Credentials:
    """What the API server serves with and what clients need to trust and authenticate to it."""

    ca_pem: bytes
    server_cert: Path
    server_key: Path
    token: str


@dataclass(frozen=True)
class _Pair:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def ensure_credentials(paths: NodePaths) -> Credentials:
    """Load the node's CA, server certificate and token, making whichever is missing or unusable."""
    paths.ensure_home()
    ca_pem, token = _reusable_ca_pem(paths), _read_token(paths.token_file)
    if ca_pem is None or not token:
        with _locked(paths.credentials_lock):  # then look again: another process may have made them meanwhile
            ca_pem = _reusable_ca_pem(paths) or _ensure_pairs(paths)
            token = _read_token(paths.token_file) or _new_token(paths.token_file)
    return Credentials(ca_pem=ca_pem, server_cert=paths.server_cert, server_key=paths.server_key, token=token)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _reusable_ca_pem(paths: NodePaths) -> bytes | None:
    """The CA certificate's PEM if the CA and the server certificate on disk can be used as they are, else None."""
    try:
        ca_text = paths.ca_cert.read_text(encoding="ascii")
        if not (_one_cert(ca_text) and _one_cert(paths.server_cert.read_text(encoding="ascii"))):
            return None
        if not (_ec_key(paths.ca_key.read_text(encoding="ascii")) and _ec_key(paths.server_key.read_text(encoding="ascii"))):
            return None
        ca_pem = ssl.DER_cert_to_PEM_cert(ssl.PEM_cert_to_DER_cert(ca_text))  # as `_ensure_pairs` would write it
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(paths.ca_cert, paths.ca_key)  # the CA's key fits
        server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server.load_cert_chain(paths.server_cert, paths.server_key)
        client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies the chain, validity times and the name
        client.load_verify_locations(cadata=ca_pem)
        _handshake(client, server)
    except (OSError, ValueError):  # ssl.SSLError and UnicodeError included
        return None
    return ca_pem.encode("ascii")


def _one_cert(text: str) -> bool:
    return text.count(_PEM_CERT) == 1


def _ec_key(text: str) -> bool:
    """Whether `text` is one PKCS#8 PEM key of an elliptic curve (`_load_pair` accepts no other kind)."""
    if text.count("-----BEGIN") != 1 or _PEM_KEY not in text:
        return False
    body = text.split(_PEM_KEY, 1)[1].split("-----END", 1)[0]
    try:
        der = base64.b64decode("".join(body.split()), validate=True)
    except binascii.Error:
        return False
    return _EC_PUBLIC_KEY_OID in der[:32]


def _handshake(client: ssl.SSLContext, server: ssl.SSLContext) -> None:
    """A TLS handshake between the two contexts in memory, as a client connecting to 127.0.0.1; raises ssl.SSLError."""
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    ends = [
        client.wrap_bio(to_client, to_server, server_hostname="127.0.0.1"),
        server.wrap_bio(to_server, to_client, server_side=True),
    ]
    for _ in range(8):  # TLS 1.3 needs 3 flights
        pending = False
        for end in ends:
            try:
                end.do_handshake()
            except ssl.SSLWantReadError:
                pending = True
        if not pending:
            return
    raise ssl.SSLError("the TLS handshake did not finish")


def _ensure_pairs(paths: NodePaths) -> bytes:
    """Load the CA and server certificate with `cryptography`, make whichever does not fit, return the CA's PEM."""
    from cryptography.hazmat.primitives import serialization

    ca = _load_pair(paths.ca_cert, paths.ca_key)
    server: _Pair | None = None  # a new CA always needs a new server certificate
    if ca is None or _expired(ca.cert):
        ca = _write_pair(paths.ca_cert, paths.ca_key, _make_ca())
    else:
        server = _load_pair(paths.server_cert, paths.server_key)
    if server is None or _expired(server.cert) or not _issued_by(server.cert, ca.cert):
        _write_pair(paths.server_cert, paths.server_key, _make_server(ca))
    return ca.cert.public_bytes(serialization.Encoding.PEM)


def _read_token(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeError):
        return ""


def _new_token(path: Path) -> str:
    token = secrets.token_urlsafe(32)
    write_private(path, token + "\n")
    return token


def _load_pair(cert_path: Path, key_path: Path) -> _Pair | None:
    """The certificate and its key, or None if either is missing, unreadable, or they do not belong together."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != cert.public_key():
        return None
    return _Pair(cert, key)


def _write_pair(cert_path: Path, key_path: Path, pair: _Pair) -> _Pair:
    from cryptography.hazmat.primitives import serialization

    key_pem = pair.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    write_private(key_path, key_pem)
    write_private(cert_path, pair.cert.public_bytes(serialization.Encoding.PEM))
    return pair


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _expired(cert: x509.Certificate) -> bool:
    now = _now()
    return not cert.not_valid_before_utc <= now < cert.not_valid_after_utc


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _name(common_name: str) -> x509.Name:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
    from cryptography import x509

    now = _now()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )


def _key_usage(*, digital_signature: bool = False, cert_sign: bool = False) -> x509.KeyUsage:
    from cryptography import x509

    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _make_ca() -> _Pair:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _builder(_name(CA_NAME), _name(CA_NAME), key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .sign(key, hashes.SHA256())
    )
    return _Pair(cert, key)


def _make_server(ca: _Pair) -> _Pair:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in _SERVER_DNS]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in _SERVER_IPS]
    authority = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key())
    cert = (
        _builder(_name(SERVER_NAME), ca.cert.subject, key)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(authority, critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return _Pair(cert, key)
