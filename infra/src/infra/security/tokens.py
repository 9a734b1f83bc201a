"""Signed bearer tokens: verification against a JWKS (a file or an identity provider's URL),
and minting with a development key (`python -m infra.security.tokens mint ...`).

Verification pins the algorithm to the one the *key* declares, never the token's header, from
an allow-list of asymmetric algorithms (EdDSA, ES256, RS256): `none` and HMAC are refused, so a
public key can never be used as a shared secret. Development keys are Ed25519 (EdDSA): small,
fast to verify, with no parameters to get wrong. iss, aud, exp, nbf and sub are required and
checked; the key is chosen by the token's `kid`.

A verified token is cached by its string until it expires: the command path verifies each
call, and a signature check costs more than the rest of a small command's bookkeeping.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from contracts.fields import check_id
from infra.security.principal import Principal

ALLOWED_ALGORITHMS = frozenset({"EdDSA", "ES256", "RS256"})
REQUIRED_CLAIMS = ("iss", "aud", "exp", "nbf", "sub")
DEFAULT_ISSUER = "continuum-dev"
DEFAULT_AUDIENCE = "continuum"
LEEWAY_SECONDS = 30
CACHE_LIMIT = 8192


class InvalidToken(Exception):
    """A bearer token that does not prove who is calling; the message says why."""


class KeySet(Protocol):
    """Where verification keys come from."""

    remote: bool
    """Whether finding a key may wait on the network (then it is looked up off the event
    loop)."""

    def key_for(self, kid: str) -> jwt.PyJWK:
        """The key with this id; raises InvalidToken when there is none."""
        ...


def _by_kid(document: Mapping[str, Any]) -> dict[str, jwt.PyJWK]:
    return {key.key_id: key for key in jwt.PyJWKSet.from_dict(dict(document)).keys if key.key_id}


class StaticKeySet:
    """The keys of a JWKS document held in memory."""

    remote = False

    def __init__(self, document: Mapping[str, Any]) -> None:
        self._keys = _by_kid(document)

    def key_for(self, kid: str) -> jwt.PyJWK:
        key = self._keys.get(kid)
        if key is None:
            raise InvalidToken(f"no verification key has the id {kid!r}")
        return key


class FileKeySet:
    """The keys of a JWKS file, read once; read again when a token names an unknown kid (a
    rotated key)."""

    remote = False

    def __init__(self, path: Path) -> None:
        self._path = path
        self._keys = self._read()

    def _read(self) -> dict[str, jwt.PyJWK]:
        return _by_kid(json.loads(self._path.read_text()))

    def key_for(self, kid: str) -> jwt.PyJWK:
        key = self._keys.get(kid)
        if key is None:
            self._keys = self._read()
            key = self._keys.get(kid)
        if key is None:
            raise InvalidToken(f"no verification key has the id {kid!r}")
        return key


class UrlKeySet:
    """The keys an identity provider publishes at a JWKS URL, cached by PyJWKClient, which
    fetches them with blocking I/O: `TokenVerifier.verify_call` runs a lookup in a thread."""

    remote = True

    def __init__(self, url: str, cache_seconds: int = 300) -> None:
        self._client = jwt.PyJWKClient(url, cache_keys=True, lifespan=cache_seconds)

    def key_for(self, kid: str) -> jwt.PyJWK:
        try:
            return self._client.get_signing_key(kid)
        except jwt.PyJWKClientError as error:
            raise InvalidToken(f"no verification key has the id {kid!r}: {error}") from None


def key_set(location: str) -> KeySet:
    """The key set at a JWKS location: an http(s) URL or a file path."""
    if location.startswith(("https://", "http://")):
        return UrlKeySet(location)
    return FileKeySet(Path(location))


class TokenVerifier:
    """Turns a bearer token into the Principal it names, or raises InvalidToken."""

    def __init__(
        self,
        keys: KeySet,
        *,
        issuer: str,
        audience: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._clock = clock
        self._verified: dict[str, tuple[float, Principal]] = {}

    def verify(self, token: str) -> Principal:
        known = self._verified.get(token)
        if known is not None:
            if known[0] > self._clock():
                return known[1]
            del self._verified[token]
        expires, principal = self._verify(token)
        if len(self._verified) >= CACHE_LIMIT:
            self._verified.clear()
        self._verified[token] = (expires, principal)
        return principal

    async def verify_call(self, token: str) -> Principal:
        """`verify` for a server's event loop: a known token at once; an unknown one, where
        its key may have to be fetched, in a worker thread, so other calls go on meanwhile."""
        known = self._verified.get(token)
        if known is not None and known[0] > self._clock():
            return known[1]
        if self._keys.remote:
            return await asyncio.to_thread(self.verify, token)
        return self.verify(token)

    def _verify(self, token: str) -> tuple[float, Principal]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise InvalidToken(f"the token is malformed: {error}") from None
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("the token names no key id (kid)")
        key = self._keys.key_for(kid)
        algorithm = key.algorithm_name
        if algorithm not in ALLOWED_ALGORITHMS:
            raise InvalidToken(f"the key {kid!r} uses {algorithm}, which is not allowed")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                audience=self._audience,
                issuer=self._issuer,
                # Expiry and not-before are judged below, by this verifier's clock.
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "verify_exp": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(f"the token is not valid: {error}") from None
        self._check_times(claims)
        principal = _principal(claims)
        # Cached no longer than the token is valid, leeway excluded.
        return float(claims["exp"]), principal

    def _check_times(self, claims: Mapping[str, Any]) -> None:
        now = self._clock()
        try:
            expires, starts = float(claims["exp"]), float(claims["nbf"])
        except (TypeError, ValueError):
            raise InvalidToken("the token's exp and nbf must be numeric dates") from None
        if expires <= now - LEEWAY_SECONDS:
            raise InvalidToken("the token has expired")
        if starts > now + LEEWAY_SECONDS:
            raise InvalidToken("the token is not yet valid (nbf)")


def _principal(claims: Mapping[str, Any]) -> Principal:
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject.strip():
        raise InvalidToken("the token's subject (sub) is empty")
    # The subject is the actor every event the caller causes records: an id, as stores hold it.
    try:
        check_id(subject)
    except ValueError as error:
        raise InvalidToken(f"the token's subject (sub) {error}") from None
    roles = _names(claims, "roles")
    if not roles:
        raise InvalidToken("the token carries no roles")
    expires = dt.datetime.fromtimestamp(float(claims["exp"]), dt.UTC)
    starts = dt.datetime.fromtimestamp(float(claims["nbf"]), dt.UTC)
    return Principal(
        subject=subject,
        roles=roles,
        sites=_names(claims, "sites"),
        expires_at=expires,
        lifetime=expires - starts,
    )


def _names(claims: Mapping[str, Any], claim: str) -> frozenset[str]:
    value = claims.get(claim, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise InvalidToken(f"the token's {claim} claim must be a list of names")
    return frozenset(value)


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A private Ed25519 key that mints tokens, and the JWKS that verifies them."""

    kid: str
    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls, kid: str = "continuum-dev-1") -> SigningKey:
        return cls(kid, Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, path: Path, kid: str = "continuum-dev-1") -> SigningKey:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 private key")
        return cls(kid, private)

    def pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def jwks(self) -> dict[str, Any]:
        public = OKPAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": self.kid, "alg": "EdDSA", "use": "sig"}]}

    def mint(
        self,
        subject: str,
        roles: Iterable[str],
        sites: Iterable[str] = (),
        *,
        issuer: str = DEFAULT_ISSUER,
        audience: str = DEFAULT_AUDIENCE,
        lifetime: dt.timedelta = dt.timedelta(hours=12),
        now: dt.datetime | None = None,
    ) -> str:
        issued = now or dt.datetime.now(dt.UTC)
        claims = {
            "iss": issuer,
            "aud": audience,
            "sub": subject,
            "iat": int(issued.timestamp()),
            "nbf": int(issued.timestamp()),
            "exp": int((issued + lifetime).timestamp()),
            "roles": sorted(roles),
            "sites": sorted(sites),
        }
        return jwt.encode(claims, self.private_key, algorithm="EdDSA", headers={"kid": self.kid})


def verifier_for(key: SigningKey) -> TokenVerifier:
    """A verifier of what `key` mints with the default issuer and audience (development and
    tests)."""
    return TokenVerifier(StaticKeySet(key.jwks()), issuer=DEFAULT_ISSUER, audience=DEFAULT_AUDIENCE)


SIGNING_KEY_FILE = "signing-key.pem"
JWKS_FILE = "jwks.json"


def development_key(folder: Path) -> SigningKey:
    """The development signing key under `folder`, created (with its JWKS) on first use; the
    private key is readable by its owner only."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = folder / SIGNING_KEY_FILE
    if pem.exists():
        key = SigningKey.from_pem(pem)
    else:
        key = SigningKey.generate()
        descriptor = os.open(pem, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(key.pem())
    (folder / JWKS_FILE).write_text(json.dumps(key.jwks(), indent=2))
    return key


def main(argv: list[str] | None = None) -> None:
    """`python -m infra.security.tokens mint --subject ID --role ROLE [--site SITE ...]`."""
    parser = argparse.ArgumentParser(prog="python -m infra.security.tokens")
    commands = parser.add_subparsers(dest="command", required=True)
    mint = commands.add_parser("mint", help="print a development token signed by the dev key")
    mint.add_argument("--subject", required=True, help="the caller's id (the events' actor)")
    mint.add_argument("--role", action="append", required=True, dest="roles")
    mint.add_argument("--site", action="append", default=[], dest="sites")
    mint.add_argument("--hours", type=float, default=12.0, help="lifetime (default 12)")
    default_folder = Path(os.environ.get("CONTINUUM_DATA_DIR", ".data")) / "security"
    mint.add_argument("--key-folder", type=Path, default=default_folder)
    mint.add_argument("--issuer", default=os.environ.get("CONTINUUM_TOKEN_ISSUER", DEFAULT_ISSUER))
    mint.add_argument(
        "--audience", default=os.environ.get("CONTINUUM_TOKEN_AUDIENCE", DEFAULT_AUDIENCE)
    )
    args = parser.parse_args(argv)
    key = development_key(args.key_folder)
    sys.stdout.write(
        key.mint(
            args.subject,
            args.roles,
            args.sites,
            issuer=args.issuer,
            audience=args.audience,
            lifetime=dt.timedelta(hours=args.hours),
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
