"""Invalid requests in the reader's language (tovholder.validation): staff and citizens read Pydantic's
errors in Danish, partners (``/integration/``) keep Pydantic's English; the stable code, the status and
the ``field: message`` shape stay what they were."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from tovholder.inputs import DateSince1900, PositiveInt32, text_field
from tovholder.service import _install_error_handlers
from tovholder.validation import DANISH, danish_message, problems


class Body(BaseModel):
    title: text_field(max_length=5)  # type: ignore[valid-type]
    count: PositiveInt32 = 1
    kind: Literal["a", "b"] = "a"
    when: datetime | None = None
    on: DateSince1900 | None = None
    ref: uuid.UUID | None = None
    tags: list[str] = Field(default_factory=list, max_length=2)
    note: str | None = None

    @field_validator("note")
    @classmethod
    def no_shouting(cls, value: str | None) -> str | None:
        if value is not None and value.isupper():
            raise ValueError("skriv uden versaler")
        if value == "tom":
            raise PydanticCustomError("note_empty", "noten må ikke være '{word}'", {"word": value})
        return value


def danish(body: dict) -> dict[str, str]:
    try:
        Body.model_validate(body)
    except ValidationError as exc:
        return {".".join(map(str, e["loc"])): danish_message(e) for e in exc.errors()}
    raise AssertionError("valid")


def test_pydantics_errors_read_in_danish_with_their_limits():
    assert danish({}) == {"title": "skal udfyldes"}
    assert danish({"title": "for lang titel"}) == {"title": "må højst have 5 tegn"}
    assert danish({"title": "x", "count": 0, "kind": "c"}) == {
        "count": "skal være mindst 1", "kind": "skal være en af 'a' eller 'b'"}
    assert danish({"title": "x", "count": 2**31}) == {"count": "må højst være 2147483647"}
    assert danish({"title": "x", "count": "tre"}) == {"count": "skal være et heltal"}
    assert danish({"title": "x", "when": "i morgen", "ref": "nej"}) == {
        "when": "skal være et tidspunkt med tidszone, fx 2027-03-10T09:00:00+01:00", "ref": "skal være et UUID"}
    assert danish({"title": "x", "on": str(date(1899, 12, 31))}) == {"on": "datoer før 1900 modtages ikke"}
    assert danish({"title": "x\u0007"}) == {"title": "må ikke indeholde kontroltegn som NUL (kun tabulator og linjeskift)"}
    assert danish({"title": "x", "tags": ["a", "b", "c"]}) == {"tags": "må højst have 2 element(er)"}
    # A rule checked in the model keeps its own (Danish) message, without Pydantic's "Value error, ";
    # so does a service's own error type.
    assert danish({"title": "x", "note": "RÅB"}) == {"note": "skriv uden versaler"}
    assert danish({"title": "x", "note": "tom"}) == {"note": "noten må ikke være 'tom'"}


def test_every_template_is_danish_and_names_only_limits_pydantic_gives():
    english = ("should", "must", "required", "Input", "valid ")
    assert [t for t in DANISH.values() if any(word in t for word in english)] == []


app = FastAPI()
_install_error_handlers(app)


@app.post("/api/v1/things")
async def staff_route(body: Body) -> dict:
    return {}


@app.post("/integration/v1/things")
async def partner_route(body: Body) -> dict:
    return {}


def test_staff_get_danish_partners_keep_english_and_the_code_and_shape_stay():
    client = TestClient(app)
    staff = client.post("/api/v1/things", json={"count": 0})
    assert staff.status_code == 422
    assert staff.json() == {"code": "invalid-request", "detail": "title: skal udfyldes; count: skal være mindst 1",
                            "errors": ["title: skal udfyldes", "count: skal være mindst 1"]}
    partner = client.post("/integration/v1/things", json={"count": 0})
    assert partner.status_code == 422 and partner.json()["status"] == "fatal-error"
    assert partner.json()["reason"] == "title: Field required; count: Input should be greater than or equal to 1"


def test_problems_name_the_field_without_body():
    errors = [{"type": "missing", "loc": ("body", "goals", 0, "text"), "msg": "Field required"},
              {"type": "int_parsing", "loc": ("query", "limit"), "msg": "Input should be a valid integer"}]
    assert problems(errors, danish=True) == ["goals.0.text: skal udfyldes", "query.limit: skal være et heltal"]
    assert problems(errors, danish=False) == ["goals.0.text: Field required", "query.limit: Input should be a valid integer"]
