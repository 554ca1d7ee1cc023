"""The kit's input rules (tovholder.inputs): the same types in models and in route parameters."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from pydantic import BaseModel, ValidationError

from tovholder.inputs import (
    INT32_MAX, INT32_MIN, DateSince1900, DateTimeSince1900, Int32, PositiveInt32, Text, Year, text_field,
)


class Note(BaseModel):
    text: Text
    title: text_field(max_length=5, min_length=1)
    count: Int32 = 0
    version: PositiveInt32 = 1
    year: Year = 2026
    day: DateSince1900 = date(2026, 1, 1)
    at: DateTimeSince1900 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def errors_of(**fields) -> list[str]:
    with pytest.raises(ValidationError) as invalid:
        Note(**{"text": "ok", "title": "ok", **fields})
    return [e["type"] for e in invalid.value.errors()]


@pytest.mark.parametrize("text", ["a\x00b", "\x07", "\x1b[31m", "del\x7f", "\x0bvertical", "\x0cform feed"])
def test_text_refuses_nul_and_other_control_characters(text):
    assert errors_of(text=text) == ["control_character"]


def test_text_keeps_tab_and_line_breaks_and_any_letter():
    note = Note(text="Linje 1\r\nLinje 2\n\tindrykket: æøå ÆØÅ – “citat” 🙂", title="ok")
    assert note.text.startswith("Linje 1\r\n")


def test_text_length_is_bounded():
    assert errors_of(title="") == ["string_too_short"]
    assert errors_of(title="seks t") == ["string_too_long"]
    assert errors_of(text="x" * 10_001) == ["string_too_long"]


@pytest.mark.parametrize("field, value", [("count", INT32_MAX + 1), ("count", INT32_MIN - 1), ("version", 0),
                                          ("version", 2147483648), ("year", 1899), ("year", 2147483648)])
def test_integers_stay_in_range(field, value):
    assert len(errors_of(**{field: value})) == 1


def test_integer_bounds_themselves_are_accepted():
    note = Note(text="t", title="t", count=INT32_MIN, version=INT32_MAX, year=1900)
    assert (note.count, note.version, note.year) == (INT32_MIN, INT32_MAX, 1900)


@pytest.mark.parametrize("field, value", [("day", "0001-01-01"), ("day", "1899-12-31"),
                                          ("at", "0001-01-01T00:00:00+01:00"), ("at", "1899-12-31T23:59:59Z")])
def test_dates_before_1900_are_refused(field, value):
    assert errors_of(**{field: value}) == ["before_1900"]


def test_dates_from_1900_on_are_accepted():
    note = Note(text="t", title="t", day="1900-01-01", at="1900-01-01T00:00:00Z")
    assert note.day == date(1900, 1, 1) and note.at.year == 1900


def test_bounds_appear_in_the_json_schema():
    schema = Note.model_json_schema()["properties"]
    assert schema["version"]["minimum"] == 1 and schema["version"]["maximum"] == INT32_MAX
    assert schema["title"]["maxLength"] == 5
