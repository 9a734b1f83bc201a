"""Values of every field kind (`contracts.fields`), for the tests that prove what a schema
admits is what its consumers store: one strategy per `Kind` marker, read from a field's
annotation, so a new event or field is covered without a line here.

Each kind's strategy leans on its extremes: the longest ids, labels, references and texts, every
unicode category a kind admits (emoji, CJK, combining marks, right-to-left script; newline and
tab in texts), the first and last days, instants at -14:00 and +14:00 on those days, the 32-bit
bounds.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Iterable
from typing import Annotated, Any, Literal, TypeVar, get_args, get_origin

import annotated_types
from hypothesis import strategies as st
from pydantic import BaseModel

from contracts.fields import (
    EARLIEST_DATE,
    ID_MAX_LENGTH,
    ID_PATTERN,
    INT32_MAX,
    INT32_MIN,
    LABEL_MAX_LENGTH,
    LATEST_DATE,
    REFERENCE_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    Kind,
    check_instant,
)

ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-"
# Characters of the categories people type that a store might mishandle: emoji (astral plane,
# a zero-width joiner sequence), CJK, a combining mark, right-to-left script, a non-breaking
# space, quotes and a backslash.
UNUSUAL = (
    "\U0001f600\U0001f469\u200d\u2695\ufe0f漢字한국어e\u0301"
    "\u05e9\u05dc\u05d5\u05dd\u0645\u0631\u062d\u0628\u0627\u00a0'\"\\%_"
)
M = TypeVar("M", bound=BaseModel)

ZONES = (
    dt.timezone(dt.timedelta(hours=-14)),
    dt.timezone(dt.timedelta(hours=14)),
    dt.UTC,
    dt.timezone(dt.timedelta(hours=5, minutes=45)),
)


def _line(max_size: int) -> st.SearchStrategy[str]:
    """Text on one line: no control character at all."""
    characters = st.one_of(st.characters(exclude_categories=("Cc", "Cs")), st.sampled_from(UNUSUAL))
    return _with_extremes(characters, max_size, min_size=1)


def _text() -> st.SearchStrategy[str]:
    """Free text: no control character but newline and tab."""
    characters = st.one_of(
        st.characters(exclude_categories=("Cc", "Cs")), st.sampled_from(UNUSUAL + "\n\t")
    )
    return _with_extremes(characters, TEXT_MAX_LENGTH, min_size=0)


def _with_extremes(
    characters: st.SearchStrategy[str], max_size: int, min_size: int
) -> st.SearchStrategy[str]:
    """Short texts of those characters, or the longest one admitted."""
    return st.one_of(
        st.text(characters, min_size=min_size, max_size=min(max_size, 20)),
        st.text(characters, min_size=max_size, max_size=max_size),
    )


def ids() -> st.SearchStrategy[str]:
    return st.one_of(
        st.from_regex(ID_PATTERN, fullmatch=True),
        st.text(ID_ALPHABET, min_size=ID_MAX_LENGTH, max_size=ID_MAX_LENGTH),
    )


def dates() -> st.SearchStrategy[dt.date]:
    return st.one_of(
        st.sampled_from((EARLIEST_DATE, LATEST_DATE)),
        st.dates(EARLIEST_DATE, LATEST_DATE),
    )


def _admitted(moment: dt.datetime) -> bool:
    try:
        check_instant(moment)
    except ValueError:
        return False
    return True


def instants() -> st.SearchStrategy[dt.datetime]:
    """Moments in every offset from -14:00 to +14:00, the days at the bounds most of all: the
    first moment of the first day and the last of the last, where the offset allows them."""
    first = dt.datetime.combine(EARLIEST_DATE, dt.time())
    last = dt.datetime.combine(LATEST_DATE, dt.time.max)
    edges = st.builds(
        lambda moment, zone: moment.replace(tzinfo=zone),
        st.sampled_from(
            (first, first + dt.timedelta(hours=14), last, last - dt.timedelta(hours=14))
        ),
        st.sampled_from(ZONES),
    )
    anywhere = st.datetimes(first, last, timezones=st.sampled_from(ZONES))
    return st.one_of(edges, anywhere).filter(_admitted)


def months() -> st.SearchStrategy[str]:
    return st.builds(
        lambda year, month: f"{year:04d}-{month:02d}",
        st.one_of(
            st.sampled_from((EARLIEST_DATE.year, LATEST_DATE.year)),
            st.integers(EARLIEST_DATE.year, LATEST_DATE.year),
        ),
        st.integers(1, 12),
    )


def int32s(metadata: Iterable[Any] = ()) -> st.SearchStrategy[int]:
    """Whole numbers from the 32-bit bounds, or from the field's own tighter ones (`gt=0`)."""
    lowest, highest = INT32_MIN, INT32_MAX
    for item in metadata:
        if isinstance(item, annotated_types.Ge):
            lowest = max(lowest, int(item.ge))
        elif isinstance(item, annotated_types.Gt):
            lowest = max(lowest, int(item.gt) + 1)
        elif isinstance(item, annotated_types.Le):
            highest = min(highest, int(item.le))
        elif isinstance(item, annotated_types.Lt):
            highest = min(highest, int(item.lt) - 1)
    edges = [n for n in (lowest, -1, 0, 1, highest) if lowest <= n <= highest]
    return st.one_of(st.sampled_from(edges), st.integers(lowest, highest))


KINDS: dict[str, st.SearchStrategy[Any]] = {
    "Id": ids(),
    "Label": _line(LABEL_MAX_LENGTH),
    "Reference": _line(REFERENCE_MAX_LENGTH),
    "Text": _text(),
    "Month": months(),
    "Date": dates(),
    "Instant": instants(),
}


def kind_of(annotation: Any, metadata: Iterable[Any] = ()) -> str | None:
    """The kind a field's values are of (of its items, for a tuple; when given, for an
    optional), if it has one."""
    if get_origin(annotation) is Annotated:
        return kind_of(get_args(annotation)[0], annotation.__metadata__)
    kind = next((item.name for item in metadata if isinstance(item, Kind)), None)
    if kind is not None:
        return kind
    if get_origin(annotation) in (types.UnionType, typing.Union, tuple):
        kinds = {kind_of(a) for a in get_args(annotation) if a not in (type(None), Ellipsis)}
        return kinds.pop() if len(kinds) == 1 else None
    return None


def values_of(annotation: Any, metadata: Iterable[Any] = ()) -> st.SearchStrategy[Any]:
    """Values a field of this annotation admits: its kind's, or built from its parts (a literal,
    an optional, a tuple, a nested model). A type of neither is a field the tests cannot reach:
    it fails loudly, naming it."""
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Annotated:
        return values_of(args[0], annotation.__metadata__)
    kind = next((item.name for item in metadata if isinstance(item, Kind)), None)
    if kind == "Int32":
        return int32s(metadata)
    if kind is not None:
        return KINDS[kind]
    if origin is Literal:
        return st.sampled_from(args)
    if origin in (types.UnionType, typing.Union):
        return st.one_of(*(values_of(a) if a is not type(None) else st.none() for a in args))
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        fewest = max(
            (int(item.min_length) for item in metadata if isinstance(item, annotated_types.MinLen)),
            default=0,
        )
        return st.lists(values_of(args[0]), min_size=fewest, max_size=max(3, fewest)).map(tuple)
    if annotation is bool:
        return st.booleans()
    if annotation is dt.time:
        return st.times()
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return models(annotation)
    raise TypeError(f"no values for a field of type {annotation!r}: give it a kind")


def models(schema: type[M]) -> st.SearchStrategy[M]:
    """Instances of the schema, every field drawn from its annotation (defaults too)."""
    fields = {
        name: values_of(info.annotation, info.metadata)
        for name, info in schema.model_fields.items()
    }
    return st.fixed_dictionaries(fields).map(schema.model_validate)


LONGEST: dict[str, Any] = {
    "Id": "i" * ID_MAX_LENGTH,
    "Label": "l" * LABEL_MAX_LENGTH,
    "Reference": "r" * REFERENCE_MAX_LENGTH,
    "Text": "t" * TEXT_MAX_LENGTH,
    "Month": f"{LATEST_DATE.year}-12",
    "Date": LATEST_DATE,
    "Instant": dt.datetime.combine(LATEST_DATE, dt.time(9), tzinfo=dt.UTC),
    "Int32": INT32_MAX,
}


def longest_of(annotation: Any, metadata: Iterable[Any] = ()) -> Any:
    """The longest value a field of this annotation admits (of a tuple: one item, the longest)."""
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Annotated:
        return longest_of(args[0], annotation.__metadata__)
    kind = next((item.name for item in metadata if isinstance(item, Kind)), None)
    if kind is not None:
        return LONGEST[kind]
    if origin is Literal:
        return max(args, key=lambda a: len(str(a)))
    if origin in (types.UnionType, typing.Union):
        return longest_of(next(a for a in args if a is not type(None)))
    if origin is tuple:
        return (longest_of(args[0]),)
    if annotation is bool:
        return True
    if annotation is dt.time:
        return dt.time(23, 59, 59)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return longest(annotation)
    raise TypeError(f"no longest value for a field of type {annotation!r}: give it a kind")


def longest(schema: type[M]) -> M:
    """An instance of the schema whose every field holds its longest value."""
    return schema.model_validate(
        {
            name: longest_of(info.annotation, info.metadata)
            for name, info in schema.model_fields.items()
        }
    )
