"""The node's private CA, its server certificate and its bearer token.

kubectl sends a bearer token only over TLS, and Go's TLS stack checks the server's name against the
certificate's SubjectAlternativeName (a CN alone is ignored), so the node needs a real certificate for
127.0.0.1/localhost/::1. No public CA can issue one, hence a private CA made at first start and trusted only
through the kubeconfig's `certificate-authority-data`.

The files are made once and reused: every command calls `ensure_credentials`, so reusing them must be cheap,
and regenerating a CA would invalidate every kubeconfig already handed out. Only what is missing, unreadable or
no longer fits (expired, or not issued by the current CA) is made again.
"""

from __future__ import annotations

import datetime
import ipaddress
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from minikubelet.node.paths import NodePaths, write_private

__all__ = ["CA_NAME", "SERVER_NAME", "Credentials", "ensure_credentials"]

CA_NAME = "minikubelet-ca"
SERVER_NAME = "minikubelet"
VALIDITY = datetime.timedelta(days=3650)  # a local tool: nobody wants to rotate certificates by hand
_BACKDATE = datetime.timedelta(hours=1)  # tolerate a little clock skew
_SERVER_DNS = ("localhost",)
_SERVER_IPS = ("127.0.0.1", "::1")


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
    ca = _load_pair(paths.ca_cert, paths.ca_key)
    server: _Pair | None = None  # a new CA always needs a new server certificate
    if ca is None or _expired(ca.cert):
        ca = _write_pair(paths.ca_cert, paths.ca_key, _make_ca())
    else:
        server = _load_pair(paths.server_cert, paths.server_key)
    if server is None or _expired(server.cert) or not _issued_by(server.cert, ca.cert):
        _write_pair(paths.server_cert, paths.server_key, _make_server(ca))
    return Credentials(
        ca_pem=ca.cert.public_bytes(serialization.Encoding.PEM),
        server_cert=paths.server_cert,
        server_key=paths.server_key,
        token=_ensure_token(paths.token_file),
    )


def _ensure_token(path: Path) -> str:
    try:
        token = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeError):
        token = ""
    if not token:
        token = secrets.token_urlsafe(32)
        write_private(path, token + "\n")
    return token


def _load_pair(cert_path: Path, key_path: Path) -> _Pair | None:
    """The certificate and its key, or None if either is missing, unreadable, or they do not belong together."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != cert.public_key():
        return None
    return _Pair(cert, key)


def _write_pair(cert_path: Path, key_path: Path, pair: _Pair) -> _Pair:
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
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
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
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _builder(_name(CA_NAME), _name(CA_NAME), key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .sign(key, hashes.SHA256())
    )
    return _Pair(cert, key)


def _make_server(ca: _Pair) -> _Pair:
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
