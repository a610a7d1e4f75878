"""Fixtures of the delivery tests: local HTTP and SMTP servers, a TLS certificate, databases.

``db_url`` is the state-store suite's fixture (SQLite always, PostgreSQL when configured), so
the outbox runs on every backend the state store does.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from opsplane.adapters.notify import http_client
from tests.adapters.notify.http_server import RecordingServer, recording_server
from tests.adapters.sql.conftest import db_url  # noqa: F401 - pytest fixture, re-exported

CLIENT_TIMEOUT_S = 2.0


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    """A recording HTTP server on 127.0.0.1 that answers 200 unless scripted otherwise."""
    with recording_server() as running:
        yield running


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """The shared HTTP client, with short timeouts."""
    with http_client(timeout=CLIENT_TIMEOUT_S) as shared:
        yield shared


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        """A TLS server context that presents the certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A certificate valid for the IP address 127.0.0.1 (what the clients connect to)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "opsplane-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    paths = Certificate(directory / "cert.pem", directory / "key.pem")
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths
