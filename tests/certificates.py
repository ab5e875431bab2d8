"""Certificates made at test time, and the demo agent served over TLS on loopback.

The doctor's TLS tests (good, expired, self-signed, for another host) and the mutual TLS
tests (a CA that signs the server's and the client's certificates) share these.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from services.demo_agent import build_app

__all__ = [
    "LOOPBACK",
    "MutualTls",
    "https_demo_agent",
    "make_certificates",
    "make_mutual_tls",
]

DAY = datetime.timedelta(days=1)
LOOPBACK = [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _certificate(
    subject_key: ec.EllipticCurvePrivateKey,
    subject: str,
    issuer_key: ec.EllipticCurvePrivateKey,
    issuer: str,
    *,
    sans: list[x509.GeneralName],
    ca: bool = False,
    expired: bool = False,
    client: bool = False,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    start, end = (now - 30 * DAY, now - DAY) if expired else (now - DAY, now + 30 * DAY)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if client:
        usage = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])
        builder = builder.add_extension(usage, critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def make_certificates(tmp: Path, kind: str) -> tuple[Path, Path, Path]:
    """(certificate, key, CA bundle) for `kind`: good, expired, self-signed, other-host."""
    ca_key, leaf_key = _key(), _key()
    ca = _certificate(ca_key, "Doctor Test CA", ca_key, "Doctor Test CA", sans=[], ca=True)
    if kind == "self-signed":
        leaf = _certificate(leaf_key, "127.0.0.1", leaf_key, "127.0.0.1", sans=LOOPBACK)
    else:
        sans = [x509.DNSName("agent.example")] if kind == "other-host" else LOOPBACK
        leaf = _certificate(
            leaf_key, "agent", ca_key, "Doctor Test CA", sans=sans, expired=kind == "expired"
        )
    cert, key, bundle = tmp / "cert.pem", tmp / "key.pem", tmp / "ca.pem"
    cert.write_bytes(_cert_pem(leaf))
    key.write_bytes(_key_pem(leaf_key))
    bundle.write_bytes(_cert_pem(ca))
    return cert, key, bundle


@dataclass(frozen=True)
class MutualTls:
    """One CA, the server certificate it signed for 127.0.0.1 and a client certificate it
    signed, as files; plus a client certificate from a CA nobody trusts."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    stranger_cert: Path
    stranger_key: Path


def make_mutual_tls(tmp: Path) -> MutualTls:
    """The certificates for a server that requires clients signed by its own CA."""
    ca_key, server_key, client_key = _key(), _key(), _key()
    ca = _certificate(ca_key, "mTLS Test CA", ca_key, "mTLS Test CA", sans=[], ca=True)
    server = _certificate(server_key, "agent", ca_key, "mTLS Test CA", sans=LOOPBACK)
    client = _certificate(client_key, "app", ca_key, "mTLS Test CA", sans=[], client=True)
    other_ca_key, stranger_key = _key(), _key()
    stranger = _certificate(
        stranger_key, "stranger", other_ca_key, "Other CA", sans=[], client=True
    )
    files = {
        "ca": _cert_pem(ca),
        "server_cert": _cert_pem(server),
        "server_key": _key_pem(server_key),
        "client_cert": _cert_pem(client),
        "client_key": _key_pem(client_key),
        "stranger_cert": _cert_pem(stranger),
        "stranger_key": _key_pem(stranger_key),
    }
    for name, content in files.items():
        (tmp / f"{name}.pem").write_bytes(content)
    return MutualTls(**{name: tmp / f"{name}.pem" for name in files})


@contextmanager
def https_demo_agent(cert: Path, key: Path, *, client_ca: Path | None = None) -> Iterator[str]:
    """The demo agent over https on 127.0.0.1, on its own uvicorn thread; with
    `client_ca`, it requires a client certificate signed by that CA (mutual TLS)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"https://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(
        build_app(url),
        ssl_certfile=str(cert),
        ssl_keyfile=str(key),
        ssl_cert_reqs=ssl.CERT_REQUIRED if client_ca else ssl.CERT_NONE,
        ssl_ca_certs=str(client_ca) if client_ca else None,
        log_config=None,
        log_level="critical",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "https server did not start"
            time.sleep(0.01)
        yield url
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()
