"""The FHIR read API every service serves the same way: ``resource_router`` makes a service's
``/fhir/r4`` router from the resource types it serves (read, search with the usual parameters, its
``CapabilityStatement``). The pieces are ``tovholder.fhir``'s; this module only wires them to routes
(apart from it because the routes need ``tovholder.service``, which imports ``tovholder.fhir``). No
``from __future__ import annotations`` here: the routes' annotations name each type's path parameter at runtime."""


from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse

from tovholder.auth import CurrentUser
from tovholder.fhir import (FhirResourceOut, SearchParam, SearchQuery, capability_resource, fhir_base, fhir_response,
                            fhir_router, search_answer, service_capability_statement)
from tovholder.service import UoW


@dataclass(frozen=True)
class Served:
    """One resource type a service serves: its read and search use cases (``(uow, user, id)`` and
    ``(uow, user, search)``; with ``ctx=True`` they also get the service context as ``ctx``)."""

    type: str
    read: Callable[..., Any]
    search: Callable[..., Any]
    documentation: str
    params: tuple[SearchParam, ...]
    ctx: bool = False
    id_param: str = "id"  # the path parameter's name (the REST API's, e.g. referral_id, task_id)
    query: Any = None  # the search's parameters as a FastAPI dependency type; None: the usual (``SearchQuery``)


def resource_router(service: str, description: str, served: Sequence[Served]) -> APIRouter:
    """A service's FHIR read API: ``GET /fhir/r4/<Type>/{id}`` and ``GET /fhir/r4/<Type>?…`` for each
    served type, and ``GET /fhir/r4/metadata`` declaring them (the portal merges the four)."""
    router = fhir_router()

    def add(kind: Served) -> None:
        extra = (lambda request: {"ctx": request.app.state.ctx}) if kind.ctx else (lambda request: {})

        async def read(resource_id: Annotated[str, Path(alias=kind.id_param)], request: Request, user: CurrentUser,
                       uow: UoW) -> JSONResponse:
            return fhir_response(await kind.read(uow, user, resource_id, **extra(request)))

        search_query = kind.query or SearchQuery

        async def search(request: Request, user: CurrentUser, uow: UoW, query: search_query) -> JSONResponse:
            resources, total = await kind.search(uow, user, query, **extra(request))
            return search_answer(request, resources, total, query)

        router.add_api_route(f"/{kind.type}/{{{kind.id_param}}}", read, methods=["GET"], response_model=FhirResourceOut,
                             name=f"read_{kind.type}", summary=f"{kind.type}: {kind.documentation} (audited)")
        router.add_api_route(f"/{kind.type}", search, methods=["GET"], response_model=FhirResourceOut,
                             name=f"search_{kind.type}",
                             summary=f"Search {kind.type}: {', '.join(p.name for p in kind.params)} (a searchset Bundle)")

    for kind in served:
        add(kind)

    async def metadata(request: Request, user: CurrentUser) -> JSONResponse:
        return fhir_response(service_capability_statement(
            service=service, description=description, base=fhir_base(request),
            resources=[capability_resource(k.type, k.documentation, k.params) for k in served]))

    router.add_api_route("/metadata", metadata, methods=["GET"], response_model=FhirResourceOut,
                         name=f"{service}_fhir_metadata", summary="CapabilityStatement: the resources served here")
    return router
