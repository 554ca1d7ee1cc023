"""Published event versions never change incompatibly: every model is checked against its
committed JSON Schema snapshot (contracts/schemas/)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

import contracts
from contracts.compat import incompatibilities
from contracts.snapshot import SCHEMA_DIR, schema_of

SNAPSHOTS = sorted(SCHEMA_DIR.glob("*.json"))


@pytest.mark.parametrize("path", SNAPSHOTS, ids=[p.stem for p in SNAPSHOTS])
def test_published_version_is_unchanged_or_compatibly_extended(path: Path):
    event_type = path.stem
    assert event_type in contracts.EVENT_REGISTRY, f"{event_type} was published and must not disappear"
    problems = incompatibilities(json.loads(path.read_text()), schema_of(event_type))
    assert not problems, f"{event_type} changed incompatibly; publish a new version instead: {problems}"


def test_every_event_type_is_versioned_and_keyed_by_citizen():
    for event_type, model in contracts.EVENT_REGISTRY.items():
        assert event_type.rsplit(".", 1)[-1].startswith("v"), event_type
        if issubclass(model, contracts.UnattributedEventBody):
            assert "subject_id" in model.model_fields, event_type
        else:
            assert issubclass(model, contracts.EventBody), event_type
            assert "citizen_id" in model.model_fields, f"{event_type} needs citizen_id (the Kafka key)"


def test_no_event_carries_a_cpr_number():
    for event_type, model in contracts.EVENT_REGISTRY.items():
        schema = json.dumps(model.model_json_schema()).lower()
        for field in model.model_fields:
            assert field.lower() not in {"cpr", "cpr_number", "cpr_nummer", "personnummer"}, event_type
        assert '"cpr"' not in schema, event_type


BASE = {
    "type": "object",
    "properties": {
        "citizen_id": {"type": "string", "format": "uuid"},
        "decision": {"enum": ["granted", "refused"], "type": "string"},
        "step": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None},
        "where": {"$ref": "#/$defs/Where"},
    },
    "required": ["citizen_id", "decision", "where"],
    "$defs": {"Where": {"type": "object", "properties": {"botilbud": {"type": "string"}}, "required": ["botilbud"]}},
}


def changed(mutate) -> dict:
    schema = copy.deepcopy(BASE)
    mutate(schema)
    return schema


def test_adding_an_optional_field_is_compatible():
    new = changed(lambda s: s["properties"].update(note={"anyOf": [{"type": "string"}, {"type": "null"}]}))
    assert incompatibilities(BASE, new) == []
    assert incompatibilities(BASE, changed(lambda s: s["properties"]["decision"].update(description="why"))) == []


@pytest.mark.parametrize("mutate, expected", [
    (lambda s: s["properties"].pop("step"), "step: removed"),
    (lambda s: s["properties"].update(steps=s["properties"].pop("step")), "step: removed"),
    (lambda s: s["properties"]["citizen_id"].update(type="integer"), "citizen_id: type changed"),
    (lambda s: s["properties"]["decision"].update(enum=["granted", "refused", "deferred"]), "decision: enum changed"),
    (lambda s: s["required"].append("step"), "step: changed from optional to required"),
    (lambda s: s["required"].remove("decision"), "decision: changed from required to optional"),
    (lambda s: (s["properties"].update(extra={"type": "string"}), s["required"].append("extra")), "extra: added as required"),
    (lambda s: s["$defs"]["Where"]["properties"].pop("botilbud"), "where.botilbud: removed"),
    (lambda s: s["properties"]["step"]["anyOf"][0].update(type="string"), "step[0]: type changed"),
])
def test_breaking_changes_are_caught(mutate, expected):
    problems = incompatibilities(BASE, changed(mutate))
    assert any(expected in p for p in problems), problems
