"""Sealed values opened where a person reads them: in the responses of the services' RPCs.

Stores and read models keep sensitive values as their producer sealed them
(`infra.security.crypto.fields`); the servicers translate what they read as it is, and every
response passes through `ResponseOpener` before it is sent: each string field holding an
envelope is opened, or reads `[erased]` once its subject's keys were destroyed, and so is an
envelope inside a longer text (a finding's detail that quotes a void's reason). One place, so a
new RPC or a new field cannot forget it.
"""

from __future__ import annotations

import re
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from infra.security.crypto.fields import open_field
from infra.security.crypto.keys import SubjectKeys
from infra.security.crypto.sealing import SEALED_PREFIX

_ENVELOPE = re.compile(r"sealed:[0-9]+:[A-Za-z0-9._:-]{1,64}:[1-9][0-9]{0,9}:[A-Za-z0-9_-]+")
_STRING = FieldDescriptor.TYPE_STRING
_MESSAGE = FieldDescriptor.TYPE_MESSAGE


class ResponseOpener:
    """Opens every sealed string of a response message, in place, with `keys`."""

    def __init__(self, keys: SubjectKeys) -> None:
        self._keys = keys

    async def __call__(self, response: Any) -> Any:
        if isinstance(response, Message):
            await self._open(response)
        return response

    async def _open(self, message: Message) -> None:
        for field, value in message.ListFields():
            if field.type == _STRING:
                if _is_repeated(field):
                    for index, item in enumerate(value):
                        if SEALED_PREFIX in item:
                            value[index] = await self._opened(item)
                elif SEALED_PREFIX in value:
                    setattr(message, field.name, await self._opened(value))
            elif field.type == _MESSAGE:
                kind = field.message_type
                if kind is not None and kind.GetOptions().map_entry:
                    await self._open_map(kind, value)
                elif _is_repeated(field):
                    for item in value:
                        await self._open(item)
                else:
                    await self._open(value)

    async def _open_map(self, entry: Descriptor, entries: Any) -> None:
        value_field = entry.fields_by_name["value"]
        if value_field.type == _MESSAGE:
            for item in entries.values():
                await self._open(item)
        elif value_field.type == _STRING:
            for key, item in list(entries.items()):
                if SEALED_PREFIX in item:
                    entries[key] = await self._opened(item)

    async def _opened(self, text: str) -> str:
        """`text` with every envelope in it opened."""
        parts, last = [], 0
        for match in _ENVELOPE.finditer(text):
            parts += [text[last : match.start()], await open_field(self._keys, match.group())]
            last = match.end()
        return "".join([*parts, text[last:]])


def _is_repeated(field: FieldDescriptor) -> bool:
    return bool(field.is_repeated)
