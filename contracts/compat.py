"""Is a new JSON Schema of an event version compatible with its published snapshot?

Compatible means every body valid under the old schema's promises stays readable by consumers
built on it, and every consumer of the new schema reads old bodies: fields are only ever *added*,
and only as optional. Removing, renaming, retyping a field, changing whether it is required,
or changing an enum, format or constraint is a breaking change: publish a new version instead.
"""

from __future__ import annotations

from typing import Any

# Keywords that only describe; changing them breaks nobody.
DESCRIPTIVE = {"title", "description", "examples", "default"}


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while "$ref" in schema and seen < 20:
        name = schema["$ref"].split("/")[-1]
        schema = defs.get(name, {})
        seen += 1
    return schema


def incompatibilities(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    _compare(old, new, old.get("$defs", {}), new.get("$defs", {}), "body", problems)
    return problems


def _compare(old: dict, new: dict, old_defs: dict, new_defs: dict, path: str, problems: list[str]) -> None:
    old, new = _resolve(old, old_defs), _resolve(new, new_defs)
    if "properties" in old or "properties" in new:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_req, new_req = set(old.get("required", [])), set(new.get("required", []))
        for name, old_prop in old_props.items():
            if name not in new_props:
                problems.append(f"{path}.{name}: removed (or renamed)")
                continue
            if (name in old_req) != (name in new_req):
                problems.append(f"{path}.{name}: changed from {'required' if name in old_req else 'optional'} "
                                f"to {'required' if name in new_req else 'optional'}")
            _compare(old_prop, new_props[name], old_defs, new_defs, f"{path}.{name}", problems)
        for name in new_props.keys() - old_props.keys():
            if name in new_req:
                problems.append(f"{path}.{name}: added as required (only optional fields may be added)")
        return
    for key in ("anyOf", "oneOf", "allOf"):
        if key in old or key in new:
            old_items, new_items = old.get(key, []), new.get(key, [])
            if len(old_items) != len(new_items):
                problems.append(f"{path}: {key} changed ({len(old_items)} → {len(new_items)} alternatives)")
                return
            for i, (o, n) in enumerate(zip(old_items, new_items)):
                _compare(o, n, old_defs, new_defs, f"{path}[{i}]", problems)
            return
    if "items" in old or "items" in new:
        _compare(old.get("items", {}), new.get("items", {}), old_defs, new_defs, f"{path}[]", problems)
    for key in (old.keys() | new.keys()) - DESCRIPTIVE - {"items", "properties", "required", "$defs"}:
        if old.get(key) != new.get(key):
            problems.append(f"{path}: {key} changed from {old.get(key)!r} to {new.get(key)!r}")
