"""A producer's signature covers what its consumers apply: any attribute or data changed on the
way, or a message signed by anyone but the topic's producer, is refused with its reason."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import uuid
from pathlib import Path

import pytest

from contracts.topics import SUPERVISION_EVENTS
from infra.eventstore.model import EventMetadata, OutboxMessage
from infra.messaging.authenticity import (
    CANONICAL_PREFIX,
    SIGNATURE_HEADER,
    SIGNED_ATTRIBUTES,
    SIGNING_KEY_HEADER,
    AuthenticityMisconfigured,
    EventAuthenticitySettings,
    EventKeyring,
    EventSigner,
    InauthenticEvent,
    canonical_bytes,
    development_keyring,
    key_set_document,
)
from infra.messaging.cloudevents import Headers, decode, encode

pytestmark = pytest.mark.unit

SOURCE = SUPERVISION_EVENTS.source or ""
KEYS = EventKeyring.generate([SOURCE, "/continuum/compliance"])


def message() -> OutboxMessage:
    return OutboxMessage(
        event_id=uuid.UUID("6f1c1a3e-8d5b-4c4e-9d55-2b1f0d6a7c01"),
        topic=SUPERVISION_EVENTS.name,
        key="session-42",
        ce_type="continuum.supervision.SessionLogged.v2",
        source=SOURCE,
        subject="session-session-42",
        occurred_at=dt.datetime(2026, 3, 14, 15, 9, 26, 535000, tzinfo=dt.UTC),
        data={"session_id": "session-42", "minutes": 60, "note": "Zoë"},
        metadata=EventMetadata(
            correlation_id="corr-1", causation_id="cmd-7", actor="sup-7", site_id="site-a"
        ),
    )


def verify(key: bytes | None, value: bytes, headers: Headers) -> None:
    KEYS.verifier().verify(SUPERVISION_EVENTS.name, SOURCE, key, value, headers)


def refusal(key: bytes | None, value: bytes, headers: Headers) -> str:
    with pytest.raises(InauthenticEvent) as refused:
        verify(key, value, headers)
    return refused.value.reason


def with_header(headers: Headers, name: str, value: bytes) -> Headers:
    return [(n, value if n == name else v) for n, v in headers]


def test_a_signed_message_is_its_producers_and_reads_as_sent() -> None:
    key, value, headers = encode(message(), KEYS.signer())

    verify(key, value, headers)

    names = [name for name, _ in headers]
    assert names[-2:] == [SIGNATURE_HEADER, SIGNING_KEY_HEADER]
    assert dict(headers)[SIGNING_KEY_HEADER] == b"supervision-1"
    assert decode(key, value, headers).data == message().data  # the extension is read past


def test_the_signed_bytes_are_the_attributes_as_sent_then_the_data_as_sent() -> None:
    attributes = {"id": "e-1", "source": "/continuum/supervision", "type": "t.v1", "actor": "a"}

    signed = canonical_bytes(attributes, b'{"n": 1}')

    assert signed == (
        CANONICAL_PREFIX
        + b'["e-1","/continuum/supervision","t.v1",null,null,null,null,null,"a",null]\n'
        + b'{"n": 1}'
    )


@pytest.mark.parametrize("attribute", [a for a in SIGNED_ATTRIBUTES if a != "partitionkey"])
def test_a_message_with_a_signed_attribute_changed_is_refused(attribute: str) -> None:
    key, value, headers = encode(message(), KEYS.signer())
    header = f"ce_{attribute}"
    assert header in dict(headers)

    changed = with_header(headers, header, dict(headers)[header] + b"x")

    reason = refusal(key, value, changed)
    expected = "the source is not" if attribute == "source" else "the signature does not match"
    assert reason.startswith(expected)


def test_a_message_with_its_kafka_key_changed_is_refused() -> None:
    _, value, headers = encode(message(), KEYS.signer())

    assert refusal(b"session-43", value, headers).startswith("the signature does not match")


def test_a_message_with_a_signed_attribute_added_is_refused() -> None:
    stripped = dataclasses.replace(message(), metadata=EventMetadata("corr-1"))
    key, value, headers = encode(stripped, KEYS.signer())

    added = [*headers, ("ce_actor", b"someone-else")]

    assert refusal(key, value, added).startswith("the signature does not match")


def test_a_repeated_header_is_read_as_the_consumer_reads_it_the_last() -> None:
    key, value, headers = encode(message(), KEYS.signer())

    repeated = [("ce_type", b"continuum.supervision.SessionVoided.v1"), *headers]
    verify(key, value, repeated)  # the consumer reads the later, signed, one

    overridden = [*headers, ("CE_TYPE", b"continuum.supervision.SessionVoided.v1")]
    assert refusal(key, value, overridden).startswith("the signature does not match")


def test_a_message_with_its_data_changed_is_refused() -> None:
    key, value, headers = encode(message(), KEYS.signer())

    changed = value.replace(b'"minutes": 60', b'"minutes": 600')

    assert changed != value
    assert refusal(key, changed, headers).startswith("the signature does not match")


def test_an_unsigned_message_is_refused() -> None:
    key, value, headers = encode(message())

    assert refusal(key, value, headers).startswith("unsigned")


def test_a_signature_that_is_not_one_is_refused() -> None:
    key, value, headers = encode(message(), KEYS.signer())

    truncated = with_header(headers, SIGNATURE_HEADER, dict(headers)[SIGNATURE_HEADER][:40])

    assert refusal(key, value, truncated) == f"{SIGNATURE_HEADER} is not an Ed25519 signature"


def test_a_message_signed_by_another_producer_for_this_topic_is_refused() -> None:
    other = KEYS.keys["/continuum/compliance"]
    key, value, headers = encode(message(), EventSigner.of(SOURCE, other))

    assert refusal(key, value, headers).startswith("signed by a key of another producer")


def test_nothing_on_a_topic_without_a_declared_producer_is_accepted() -> None:
    key, value, headers = encode(message(), KEYS.signer())

    with pytest.raises(InauthenticEvent, match="declares no producer"):
        KEYS.verifier().verify("x.dlt", None, key, value, headers)


def test_a_signer_signs_only_for_the_sources_it_holds_a_key_of() -> None:
    compliance = KEYS.signer_for("/continuum/compliance")

    with pytest.raises(ValueError, match="no event signing key"):
        encode(message(), compliance)


def test_the_development_keys_are_made_once_private_and_published_together(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "events"
    first = development_keyring(folder, [SOURCE, "/continuum/compliance"])

    again = development_keyring(folder, [SOURCE, "/continuum/compliance"])

    assert again.keys[SOURCE].pem() == first.keys[SOURCE].pem()
    assert os.stat(folder).st_mode & 0o777 == 0o700
    for path in folder.iterdir():
        assert os.stat(path).st_mode & 0o777 == 0o600, path
    published = json.loads((folder / "event-keys.json").read_text())
    assert {(k["kid"], k["source"], k["kty"], k["crv"]) for k in published["keys"]} == {
        ("supervision-dev-1", SOURCE, "OKP", "Ed25519"),
        ("compliance-dev-1", "/continuum/compliance", "OKP", "Ed25519"),
    }
    assert all("d" not in k for k in published["keys"])


def test_a_service_signs_and_verifies_with_the_files_its_settings_name(tmp_path: Path) -> None:
    development_keyring(tmp_path, [SOURCE])
    settings = EventAuthenticitySettings(
        signing_key_file=tmp_path / "supervision.pem",
        signing_key_id="supervision-dev-1",
        keys_file=tmp_path / "event-keys.json",
    )
    signer, verifier = settings.signer(SOURCE), settings.verifier()
    assert signer is not None and verifier is not None

    key, value, headers = encode(message(), signer)

    verifier.verify(SUPERVISION_EVENTS.name, SOURCE, key, value, headers)


@pytest.mark.parametrize(
    ("settings", "said"),
    [
        ({"signing_key_id": "k-1"}, "CONTINUUM_EVENT_SIGNING_KEY_ID is set without"),
        ({"signing_key_file": "supervision.pem"}, "CONTINUUM_EVENT_SIGNING_KEY_ID is not set"),
        (
            {"signing_key_file": "missing.pem", "signing_key_id": "k-1"},
            "CONTINUUM_EVENT_SIGNING_KEY_FILE .*missing.pem cannot be used",
        ),
    ],
)
def test_a_signing_key_that_cannot_be_used_names_its_setting(
    tmp_path: Path, settings: dict[str, str], said: str
) -> None:
    development_keyring(tmp_path, [SOURCE])
    if "signing_key_file" in settings:
        settings = settings | {"signing_key_file": str(tmp_path / settings["signing_key_file"])}

    with pytest.raises(AuthenticityMisconfigured, match=said):
        EventAuthenticitySettings.model_validate(settings).signer(SOURCE)


@pytest.mark.parametrize(
    ("document", "said"),
    [
        ("not json", "not JSON"),
        ('{"keys": {}}', "not a JWKS document"),
        ('{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AA"}]}', "needs a kid and a source"),
        ("private", "holds a private key"),
        ("twice", "given twice"),
    ],
)
def test_a_key_set_that_cannot_be_used_names_its_setting(
    tmp_path: Path, document: str, said: str
) -> None:
    public = key_set_document(KEYS.public_keys())
    if document == "private":
        document = json.dumps({"keys": [{**public["keys"][0], "d": "AA"}]})
    elif document == "twice":
        document = json.dumps({"keys": [public["keys"][0], public["keys"][0]]})
    keys_file = tmp_path / "event-keys.json"
    keys_file.write_text(document)

    with pytest.raises(AuthenticityMisconfigured, match=f"CONTINUUM_EVENT_KEYS_FILE .*{said}"):
        EventAuthenticitySettings(keys_file=keys_file).verifier()


def test_the_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTINUUM_EVENT_SIGNING_KEY_FILE", "/run/keys/supervision.pem")
    monkeypatch.setenv("CONTINUUM_EVENT_SIGNING_KEY_ID", "supervision-2027-01")
    monkeypatch.setenv("CONTINUUM_EVENT_KEYS_FILE", "/run/keys/event-keys.json")

    assert EventAuthenticitySettings() == EventAuthenticitySettings(
        signing_key_file=Path("/run/keys/supervision.pem"),
        signing_key_id="supervision-2027-01",
        keys_file=Path("/run/keys/event-keys.json"),
    )


def test_a_key_set_that_gives_the_services_kid_to_another_key_is_a_contradiction(
    tmp_path: Path,
) -> None:
    development_keyring(tmp_path, [SOURCE])
    own = EventAuthenticitySettings(
        signing_key_file=tmp_path / "supervision.pem",
        signing_key_id="supervision-dev-1",
        keys_file=tmp_path / "event-keys.json",
    )
    signer, verifier = own.signer(SOURCE), own.verifier()
    assert signer is not None and verifier is not None
    elsewhere = tmp_path / "elsewhere"
    development_keyring(elsewhere, [SOURCE])  # another key under the same kid
    other = EventAuthenticitySettings(keys_file=elsewhere / "event-keys.json").verifier()
    assert other is not None

    assert verifier.contradiction(signer) is None
    said = other.contradiction(signer)
    assert said is not None
    assert said.startswith("CONTINUUM_EVENT_KEYS_FILE gives the kid supervision-dev-1 to another")
