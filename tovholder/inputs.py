"""Input rules every request model and route parameter can use, written once.

Annotated types, so they work the same in a Pydantic model field, a path or a query parameter, and
show their bounds in the OpenAPI document::

    class NoteIn(BaseModel):
        text: text_field(max_length=2000)
        day: DateSince1900

    @router.get("/plan/versions/{number}")
    async def get_version(number: PositiveInt32, ...): ...

Why these bounds: PostgreSQL stores neither NUL in text nor integers beyond the column's range, and
Python cannot compute with dates near year 1 (a 500 either way); other control characters garble
what a person later reads. Tab, line feed and carriage return (CR LF is how browsers send a
textarea's line breaks) are text.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, Any

from annotated_types import Interval
from pydantic import AfterValidator, PlainSerializer, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
EARLIEST_YEAR = 1900
# Every C0 control character and DEL, except tab, line feed and carriage return.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
DEFAULT_TEXT_MAX_LENGTH = 10_000


def refuse_control_characters(value: str) -> str:
    if CONTROL_CHARACTERS.search(value):
        raise PydanticCustomError("control_character",
                                  "Text must not contain control characters such as NUL (only tab and line breaks).")
    return value


def refuse_before_1900(value: Any) -> Any:
    if value.year < EARLIEST_YEAR:
        raise PydanticCustomError("before_1900", "Dates before {earliest} are not accepted.", {"earliest": EARLIEST_YEAR})
    return value


def text_field(*, max_length: int = DEFAULT_TEXT_MAX_LENGTH, min_length: int = 0, strip: bool = False) -> Any:
    """Text without control characters, between ``min_length`` and ``max_length`` characters
    (never longer than the column that stores it)."""
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length, strip_whitespace=strip),
                     AfterValidator(refuse_control_characters)]


Text = text_field()
ShortText = text_field(max_length=200)

Int32 = Annotated[int, Interval(ge=INT32_MIN, le=INT32_MAX)]
PositiveInt32 = Annotated[int, Interval(ge=1, le=INT32_MAX)]
NonNegativeInt32 = Annotated[int, Interval(ge=0, le=INT32_MAX)]
Year = Annotated[int, Interval(ge=EARLIEST_YEAR, le=9999)]

DateSince1900 = Annotated[date, AfterValidator(refuse_before_1900)]
DateTimeSince1900 = Annotated[datetime, AfterValidator(refuse_before_1900)]


def refuse_offset(value: time) -> time:
    if value.tzinfo is not None:
        raise PydanticCustomError("local_time", "a time of day on the clock in Denmark, without an offset (e.g. 09:30)")
    return value


# A time of day on the clock in Denmark (a depot injection at 10:00, the first slot of a check day).
# OpenAPI's ``format: time`` (RFC 3339) carries an offset; this one has none, and says so.
LocalTime = Annotated[
    time, AfterValidator(refuse_offset), PlainSerializer(lambda t: t.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
                    "description": "Local time of day in Denmark, HH:MM[:SS], no offset", "example": "10:00"}),
]
