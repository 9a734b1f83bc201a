"""Fixtures every test tier shares: the storage backends a storage test runs against, and a
certificate authority of the test's own for the TLS tests.

SQLite always. PostgreSQL too when TEST_POSTGRES_URL is set (CI sets it; then a PostgreSQL test
never skips: an unreachable server fails it), or else in a testcontainers PostgreSQL where a
Docker engine answers. Each PostgreSQL test gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from infra.db import Database, Migration, normalize_url


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


def _backends() -> list[str]:
    if os.environ.get("TEST_POSTGRES_URL") or _docker_answers():
        return ["sqlite", "postgresql"]
    return ["sqlite"]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url = os.environ.get("TEST_POSTGRES_URL")
    if url:
        yield url
        return
    from testcontainers.postgres import PostgresContainer

    with PostgresContainer("postgres:16-alpine", driver=None) as container:
        yield container.get_connection_url()


STORAGE_BACKENDS = _backends()


class DatabaseFactory:
    """Makes migrated, empty databases on one backend and cleans them up."""

    def __init__(self, backend: str, tmp_path: Path, postgres_url: str | None) -> None:
        self.backend = backend
        self._tmp_path = tmp_path
        self._postgres_url = postgres_url
        self._created: list[Database] = []
        self._schemas: list[str] = []

    async def __call__(
        self, migrations: Sequence[Migration] = (), *, infra_tables: bool = True
    ) -> Database:
        if self._postgres_url is None:
            url = f"sqlite:///{self._tmp_path}/db-{len(self._created)}.sqlite"
            db = Database.from_url(url, migrations, infra_tables=infra_tables)
        else:
            schema = f"t_{uuid.uuid4().hex[:16]}"
            self._schemas.append(schema)
            db = Database.from_url(
                self._postgres_url, migrations, schema=schema, infra_tables=infra_tables
            )
        await db.migrate()
        self._created.append(db)
        return db

    async def close(self) -> None:
        for db in self._created:
            await db.dispose()
        if self._postgres_url is not None and self._schemas:
            engine = create_async_engine(normalize_url(self._postgres_url))
            async with engine.begin() as conn:
                for schema in self._schemas:
                    await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            await engine.dispose()


@asynccontextmanager
async def database_factory(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[DatabaseFactory]:
    """For fixtures parametrized over STORAGE_BACKENDS (plus their own extra backends)."""
    url = request.getfixturevalue("postgres_url") if backend == "postgresql" else None
    factory = DatabaseFactory(backend, tmp_path, url)
    try:
        yield factory
    finally:
        await factory.close()


@pytest.fixture(params=STORAGE_BACKENDS)
async def make_database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[DatabaseFactory]:
    """A factory of migrated, empty databases on each storage backend in turn."""
    async with database_factory(request.param, request, tmp_path) as factory:
        yield factory


@pytest.fixture
async def database(make_database: DatabaseFactory) -> Database:
    """One migrated, empty database with the infra tables only, on each backend in turn."""
    return await make_database(())


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key, PEM-encoded, and the files they were written to."""

    certificate: bytes
    private_key: bytes
    certificate_file: Path
    key_file: Path


class CertificateAuthority:
    """A certificate authority of the test's own, issuing TLS certificates into `folder`: for
    servers (valid for 127.0.0.1 and localhost) and for clients."""

    def __init__(self, folder: Path, name: str = "Continuum test CA") -> None:
        self._folder = folder
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = dt.datetime.now(dt.UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(self._name)
            .issuer_name(self._name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_usage(cert_sign=True), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        self.pem = self.certificate.public_bytes(serialization.Encoding.PEM)
        self.file = folder / f"{name.replace(' ', '-').lower()}.pem"
        self.file.write_bytes(self.pem)

    def server(self, name: str = "localhost") -> Issued:
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        return self._issue(name, ExtendedKeyUsageOID.SERVER_AUTH, names)

    def client(self, name: str = "staff-app") -> Issued:
        return self._issue(name, ExtendedKeyUsageOID.CLIENT_AUTH, [x509.DNSName(name)])

    def _issue(self, name: str, purpose: x509.ObjectIdentifier, names: list[Any]) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(self._name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage([purpose]), critical=False)
            .add_extension(_usage(digital_signature=True), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        issued = Issued(
            certificate=certificate.public_bytes(serialization.Encoding.PEM),
            private_key=key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            certificate_file=self._folder / f"{name}.crt",
            key_file=self._folder / f"{name}.key",
        )
        issued.certificate_file.write_bytes(issued.certificate)
        issued.key_file.write_bytes(issued.private_key)
        return issued


def _usage(*, cert_sign: bool = False, digital_signature: bool = False) -> x509.KeyUsage:
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


@pytest.fixture
def certificate_authority(tmp_path: Path) -> CertificateAuthority:
    """A fresh authority for the test, its certificates written under tmp_path."""
    folder = tmp_path / "tls"
    folder.mkdir()
    return CertificateAuthority(folder)
