"""Bearer tokens: what proves a caller, and every way a token fails to."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import jwt
import pytest

from infra.security.tokens import (
    DEFAULT_AUDIENCE,
    DEFAULT_ISSUER,
    FileKeySet,
    InvalidToken,
    SigningKey,
    StaticKeySet,
    TokenVerifier,
    development_key,
    main,
    verifier_for,
)

pytestmark = pytest.mark.unit

KEY = SigningKey.generate(kid="k-1")
NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)


def claims(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": DEFAULT_ISSUER,
        "aud": DEFAULT_AUDIENCE,
        "sub": "sup-1",
        "nbf": int(NOW.timestamp()),
        "exp": int((NOW + dt.timedelta(hours=1)).timestamp()),
        "roles": ["supervisor"],
        "sites": ["site-a"],
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def signed(body: dict[str, Any], key: SigningKey = KEY, kid: str | None = "k-1") -> str:
    headers = {} if kid is None else {"kid": kid}
    return jwt.encode(body, key.private_key, algorithm="EdDSA", headers=headers)


def verifier(at: dt.datetime = NOW) -> TokenVerifier:
    return TokenVerifier(
        StaticKeySet(KEY.jwks()),
        issuer=DEFAULT_ISSUER,
        audience=DEFAULT_AUDIENCE,
        clock=lambda: at.timestamp(),
    )


def refusal(token: str, at: dt.datetime = NOW) -> str:
    with pytest.raises(InvalidToken) as refused:
        verifier(at).verify(token)
    return str(refused.value).lower()


def test_a_valid_token_names_the_caller_their_roles_and_sites() -> None:
    principal = verifier().verify(signed(claims()))

    assert principal.subject == "sup-1"
    assert principal.roles == frozenset({"supervisor"})
    assert principal.sites == frozenset({"site-a"})
    assert principal.expires_at == NOW + dt.timedelta(hours=1)
    assert principal.lifetime == dt.timedelta(hours=1)


def test_an_expired_token_is_refused() -> None:
    token = signed(claims())

    assert "expired" in refusal(token, at=NOW + dt.timedelta(hours=2))


def test_a_token_not_yet_valid_is_refused() -> None:
    token = signed(claims(nbf=int((NOW + dt.timedelta(minutes=10)).timestamp())))

    assert "not yet valid" in refusal(token)


def test_a_token_from_another_issuer_is_refused() -> None:
    assert "issuer" in refusal(signed(claims(iss="https://elsewhere.example")))


def test_a_token_for_another_audience_is_refused() -> None:
    assert "audience" in refusal(signed(claims(aud="another-system")))


def test_a_token_signed_by_an_unknown_key_id_is_refused() -> None:
    assert "'k-9'" in refusal(signed(claims(), kid="k-9"))


def test_a_token_without_a_key_id_is_refused() -> None:
    assert "kid" in refusal(signed(claims(), kid=None))


def test_a_token_signed_by_another_key_under_a_known_id_is_refused() -> None:
    forger = SigningKey.generate(kid="k-1")

    assert "signature" in refusal(signed(claims(), key=forger))


@pytest.mark.parametrize("claim", ["iss", "aud", "exp", "nbf", "sub"])
def test_a_token_missing_a_required_claim_is_refused(claim: str) -> None:
    assert claim in refusal(signed(claims(**{claim: None})))


@pytest.mark.parametrize("subject", ["a" * 65, "sup\u00001", "sup 1", "x" * 10_240])
def test_a_token_whose_subject_is_no_id_is_refused(subject: str) -> None:
    # The subject is the actor of every event the caller causes: stores hold it as an id.
    assert "subject (sub) must be 1 to 64 characters" in refusal(signed(claims(sub=subject)))


def test_a_token_without_roles_is_refused() -> None:
    assert "roles" in refusal(signed(claims(roles=None)))


def test_roles_that_are_not_a_list_of_names_are_refused() -> None:
    assert "roles" in refusal(signed(claims(roles="supervisor")))


def test_an_unsigned_token_alg_none_is_refused() -> None:
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "kid": "k-1"}).encode())
    body = base64.urlsafe_b64encode(json.dumps(claims()).encode())
    token = f"{header.decode().rstrip('=')}.{body.decode().rstrip('=')}."

    assert refusal(token)


def test_a_token_signed_with_the_public_key_as_an_hmac_secret_is_refused() -> None:
    x = KEY.jwks()["keys"][0]["x"]
    public = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
    token = jwt.encode(claims(), public, algorithm="HS256", headers={"kid": "k-1"})

    assert "not valid" in refusal(token)


def test_garbage_is_refused() -> None:
    assert "malformed" in refusal("not-a-token")


def test_a_verified_token_is_not_verified_again_until_it_expires() -> None:
    class CountingKeys(StaticKeySet):
        asked = 0

        def key_for(self, kid: str) -> jwt.PyJWK:
            CountingKeys.asked += 1
            return super().key_for(kid)

    clock = [NOW.timestamp()]
    checker = TokenVerifier(
        CountingKeys(KEY.jwks()),
        issuer=DEFAULT_ISSUER,
        audience=DEFAULT_AUDIENCE,
        clock=lambda: clock[0],
    )
    token = signed(claims())

    checker.verify(token)
    checker.verify(token)
    assert CountingKeys.asked == 1
    clock[0] = (NOW + dt.timedelta(hours=2)).timestamp()
    with pytest.raises(InvalidToken):
        checker.verify(token)


def test_a_minted_development_token_verifies() -> None:
    token = KEY.mint("coach-3", ["coach"], ["site-b"])

    principal = verifier_for(KEY).verify(token)

    assert (principal.subject, principal.roles, principal.sites) == (
        "coach-3",
        frozenset({"coach"}),
        frozenset({"site-b"}),
    )


def test_the_development_key_is_created_once_private_and_published_as_a_jwks(
    tmp_path: Path,
) -> None:
    first = development_key(tmp_path / "security")
    second = development_key(tmp_path / "security")

    assert first.pem() == second.pem()
    assert (tmp_path / "security" / "signing-key.pem").stat().st_mode & 0o777 == 0o600
    keys = FileKeySet(tmp_path / "security" / "jwks.json")
    assert keys.key_for(first.kid).algorithm_name == "EdDSA"


def test_the_mint_command_prints_a_token_for_a_role_and_sites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "security"

    main(
        [
            "mint",
            "--subject",
            "off-1",
            "--role",
            "compliance_officer",
            "--site",
            "site-a",
            "--key-folder",
            str(folder),
        ]
    )

    token = capsys.readouterr().out.strip()
    principal = verifier_for(development_key(folder)).verify(token)
    assert principal.subject == "off-1"
    assert principal.roles == frozenset({"compliance_officer"})
    assert principal.sites == frozenset({"site-a"})
