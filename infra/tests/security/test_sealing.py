"""Sealed values: any text a person may type comes back as it was; an altered, moved or
mislabelled value is refused; a destroyed subject's values read as erased; the envelope never
shows the text."""

from __future__ import annotations

import asyncio
import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from contracts.fields import TEXT_MAX_LENGTH, Text
from infra.security.crypto import (
    Envelope,
    Erased,
    LocalKeyEncryptionKey,
    MemoryKeyStore,
    MemorySubjectKeys,
    SealedValueRefused,
    SubjectErased,
    is_sealed,
    seal,
    unseal,
)

pytestmark = pytest.mark.unit

CONTEXT = "continuum.supervision.SessionVoided/reason"
SUBJECT = "se-1"
KEK = LocalKeyEncryptionKey.generate()

# Every character a Text admits: any Unicode category but control characters and surrogates,
# and newline and tab.
texts = st.text(
    st.characters(exclude_categories=("Cc", "Cs")) | st.sampled_from("\n\t"),
    max_size=TEXT_MAX_LENGTH,
)
TEXT = TypeAdapter(Text)


def keyring() -> MemorySubjectKeys:
    return MemorySubjectKeys(KEK, store=MemoryKeyStore())


def payload(sealed: str) -> str:
    return sealed.rsplit(":", 1)[1]


@settings(max_examples=200, deadline=None)
@given(texts)
def test_any_text_comes_back_as_it_was_sealed(text: str) -> None:
    async def round_trip() -> tuple[str, str | Erased]:
        keys = keyring()
        sealed = await seal(keys, SUBJECT, text, CONTEXT)
        return sealed, await unseal(keys, sealed, CONTEXT)

    # given a value a published event's Text field admits
    TEXT.validate_python(text)
    # when
    sealed, opened = asyncio.run(round_trip())
    # then
    assert opened == text
    assert sealed.startswith(f"sealed:1:{SUBJECT}:1:")
    if len(text) >= 8:
        assert text not in payload(sealed)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Supervisor on leave; the session was logged twice.",
        "Ünïcödé — «quotes», naïve café",
        "שלום עולם مرحبا",  # right-to-left scripts
        "家族との面談 😀👩‍👩‍👧‍👦🏳️‍🌈",  # CJK, emoji sequences with joiners
        "e\u0301\u0327 a\u20dd",  # combining marks
        "line one\nline two\tand a tab",
        "\U0001f600" * TEXT_MAX_LENGTH,  # the longest Text, every character four bytes
    ],
)
async def test_texts_of_every_script_and_length_come_back(text: str) -> None:
    keys = keyring()
    sealed = await seal(keys, SUBJECT, text, CONTEXT)
    assert await unseal(keys, sealed, CONTEXT) == text


async def test_the_same_text_seals_differently_each_time() -> None:
    keys = keyring()
    first = await seal(keys, SUBJECT, "the same reason", CONTEXT)
    second = await seal(keys, SUBJECT, "the same reason", CONTEXT)
    assert first != second


async def test_a_subject_whose_id_has_colons_seals_and_opens() -> None:
    keys = keyring()
    sealed = await seal(keys, "client:site-a:c-7", "a note", CONTEXT)
    assert Envelope.parse(sealed).subject == "client:site-a:c-7"
    assert await unseal(keys, sealed, CONTEXT) == "a note"


async def test_a_value_put_in_another_field_is_refused() -> None:
    # given
    keys = keyring()
    sealed = await seal(keys, SUBJECT, "voided: logged twice", CONTEXT)
    # when / then
    with pytest.raises(SealedValueRefused, match="another subject or context"):
        await unseal(keys, sealed, "continuum.supervision.MonthReopened/reason")


async def test_a_value_relabelled_for_another_subject_is_refused() -> None:
    # given two subjects with keys, and a value of the first
    keys = keyring()
    sealed = await seal(keys, "se-1", "a correction", CONTEXT)
    await seal(keys, "se-2", "another", CONTEXT)
    # when its subject is changed to the second's
    moved = sealed.replace("sealed:1:se-1:", "sealed:1:se-2:")
    # then
    with pytest.raises(SealedValueRefused, match="does not open"):
        await unseal(keys, moved, CONTEXT)


def _bytes(encoded: str) -> bytearray:
    return bytearray(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))


def _encoded(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _flip(sealed: str, index: int) -> str:
    """`sealed` with one bit of its payload's byte `index` flipped."""
    raw = _bytes(payload(sealed))
    raw[index] ^= 0x01
    return sealed.rsplit(":", 1)[0] + ":" + _encoded(bytes(raw))


def _cut(sealed: str, kept: int) -> str:
    """`sealed` with only the first `kept` bytes of its payload."""
    return sealed.rsplit(":", 1)[0] + ":" + _encoded(bytes(_bytes(payload(sealed))[:kept]))


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda s: s.replace("sealed:1:", "sealed:2:"), "envelope version"),
        (lambda s: s.replace("sealed:1:", "Sealed:1:"), "not a sealed value"),
        (lambda s: s.replace(":se-1:", ":se 1:"), "subject is not an id"),
        (lambda s: s.replace(":se-1:1:", ":se-1:2:"), "a key its subject does not have"),
        (lambda s: s.replace(":se-1:1:", ":se-1:01:"), "key id is not a positive number"),
        (lambda s: s.replace(":se-1:1:", ":se-1:"), "needs a subject, a key id and a payload"),
        (lambda s: _flip(s, 0), "does not open"),  # the nonce
        (lambda s: _flip(s, 13), "does not open"),  # the ciphertext
        (lambda s: _flip(s, -1), "does not open"),  # the tag
        (lambda s: _cut(s, -1), "does not open"),
        (lambda s: _cut(s, 27), "too short"),
        (lambda s: s + "=", "not base64url"),
        (lambda s: s[:-8] + "." + s[-8:], "not base64url"),
        (lambda s: s[:-1] + chr(ord(s[-1]) + 1), "not base64url|does not open"),
        (lambda s: s.replace(payload(s), payload(s) + "+/"), "not base64url"),
    ],
)
async def test_a_value_altered_in_any_part_is_refused(tamper: object, reason: str) -> None:
    # given
    keys = keyring()
    sealed = await seal(keys, SUBJECT, "License suspended pending the board's review.", CONTEXT)
    # when
    altered = tamper(sealed)  # type: ignore[operator]
    # then
    assert altered != sealed
    with pytest.raises(SealedValueRefused, match=reason):
        await unseal(keys, altered, CONTEXT)


async def test_a_value_sealed_by_another_keyring_is_refused() -> None:
    sealed = await seal(keyring(), SUBJECT, "a reason", CONTEXT)
    with pytest.raises(SealedValueRefused, match="a key its subject does not have"):
        await unseal(keyring(), sealed, CONTEXT)


async def test_a_destroyed_subjects_values_read_as_erased_and_no_more_are_sealed() -> None:
    # given
    keys = keyring()
    sealed = [await seal(keys, SUBJECT, text, CONTEXT) for text in ("one", "two")]
    other = await seal(keys, "se-2", "kept", CONTEXT)
    # when
    await keys.destroy(SUBJECT, "retention_ended")
    # then
    assert [await unseal(keys, value, CONTEXT) for value in sealed] == [Erased(SUBJECT)] * 2
    assert str(Erased(SUBJECT)) == "[erased]"
    assert await unseal(keys, other, CONTEXT) == "kept"
    with pytest.raises(SubjectErased):
        await seal(keys, SUBJECT, "three", CONTEXT)


async def test_a_value_needs_a_context() -> None:
    keys = keyring()
    with pytest.raises(ValueError, match="needs a context"):
        await seal(keys, SUBJECT, "a reason", "")


def test_a_sealed_value_is_told_from_clear_text_by_its_prefix() -> None:
    assert is_sealed("sealed:1:se-1:1:AAAA")
    assert is_sealed("sealed:9:whatever")
    assert not is_sealed("Sealed envelope received")
