"""The error answers every route documents in its service's OpenAPI document: one place, so that
what a route can answer (and the body of each answer) is what the document says.
``create_service`` adds them to every router; a route's own ``responses`` take precedence."""

from __future__ import annotations

from typing import Any

from tovholder.errors import ErrorBody
from tovholder.receipts import RECEIPT_RESPONSES, Receipt


_ERROR_DESCRIPTIONS: dict[int, str] = {
    401: "No valid bearer token (code token-missing, token-expired, token-invalid, token-incomplete, token-role)",
    403: "The caller may not do this (code forbidden); the reason says why",
    404: "No such object, or none the caller may see (code not-found)",
    409: "Conflicts with the object's current state (code conflict)",
    413: "The request body is larger than the service takes (code body-too-large)",
    422: "Invalid request (code invalid-request, with errors; control-character) or a broken rule (rule-violation)",
    503: "A dependency is down; nothing was changed. Retry after Retry-After seconds (code unavailable)",
}


def error_responses(*, receipts: bool = False) -> dict[int | str, dict[str, Any]]:
    """The error answers every route may give, for its OpenAPI ``responses`` (``create_service`` adds
    them to every router). ``receipts``: a partner endpoint, whose 409, 422 and 503 are receipts
    (``tovholder.receipts``)."""
    responses: dict[int | str, dict[str, Any]] = {
        status: {"model": ErrorBody, "description": description} for status, description in _ERROR_DESCRIPTIONS.items()
    }
    if receipts:
        for status in (409, 422, 503):
            responses[status] = {"model": Receipt, "description": RECEIPT_RESPONSES[status]["description"]}
    return responses


_OPERATION_OUTCOME = {"type": "object", "required": ["resourceType", "issue"],
                      "properties": {"resourceType": {"const": "OperationOutcome"}, "issue": {"type": "array"}}}
_FHIR_DESCRIPTIONS = {**_ERROR_DESCRIPTIONS, 400: "An invalid search or request (an OperationOutcome says what to fix)",
                      415: "Not FHIR JSON or XML"}


def fhir_error_responses() -> dict[int | str, dict[str, Any]]:
    """A FHIR route answers errors as an ``OperationOutcome`` (``application/fhir+json``)."""
    return {status: {"description": description, "content": {"application/fhir+json": {"schema": _OPERATION_OUTCOME}}}
            for status, description in _FHIR_DESCRIPTIONS.items()}
