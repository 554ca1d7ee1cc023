"""Reading the FHIR R4 API in tests: every answer is validated with ``fhir.resources`` (R4B models, as
``tovholder.fhir`` uses), a search Bundle entry by entry, a refusal as an OperationOutcome."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome


def valid(body: dict[str, Any], resource_type: str | None = None) -> dict[str, Any]:
    """``body`` validated as the FHIR resource it says it is (and as ``resource_type`` when given)."""
    if resource_type is not None:
        assert body.get("resourceType") == resource_type, body
    get_fhir_model_class(body["resourceType"]).model_validate(body)
    if body["resourceType"] == "Bundle":
        for entry in body.get("entry") or []:
            valid(entry["resource"])
    return body


async def fhir_get(client, path: str, headers: dict[str, str], expected: int = 200, **params: Any) -> dict[str, Any]:
    r = await client.get(path, params=params, headers=headers)
    assert r.status_code == expected, r.text
    assert r.headers["content-type"].startswith("application/fhir+json"), r.headers
    if expected == 200:
        return valid(r.json())
    OperationOutcome.model_validate(r.json())
    return r.json()


async def search(client, resource_type: str, headers: dict[str, str], expected: int = 200, **params: Any) -> dict[str, Any]:
    body = await fhir_get(client, f"/fhir/r4/{resource_type}", headers, expected, **params)
    if expected == 200:
        Bundle.model_validate(body)
        assert body["type"] == "searchset"
        assert all(e["resource"]["resourceType"] == resource_type for e in body.get("entry") or [])
    return body


def links(bundle: dict[str, Any]) -> dict[str, str]:
    return {link["relation"]: link["url"] for link in bundle.get("link") or []}


def refusal_text(outcome: dict[str, Any]) -> str:
    return outcome["issue"][0]["details"]["text"]
