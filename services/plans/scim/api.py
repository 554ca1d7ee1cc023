"""Plans' SCIM 2.0 routes (``/scim/v2``): the municipality's staff register feeds the staff directory.
Thin: every route hands its request to ``services.plans.scim.services``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Query, Request, Response
from pydantic import BaseModel, ConfigDict

from services.plans.scim import resources as res
from services.plans.scim import services as scim
from tovholder.auth import CurrentUser
from tovholder.fhir import public_origin
from tovholder.scim import SCIM_PREFIX, ScimJSONResponse, ScimRoute, require_scim_client, scim_response
from tovholder.service import UoW

router = APIRouter(prefix=SCIM_PREFIX, tags=["SCIM 2.0 (staff register)"], route_class=ScimRoute,
                   default_response_class=ScimJSONResponse)


class ScimOut(BaseModel):
    """A SCIM resource or message (RFC 7643/7644) as JSON."""

    model_config = ConfigDict(extra="allow")
    schemas: list[str]


class ScimListOut(BaseModel):
    """A list of SCIM resources (the discovery endpoints)."""

    model_config = ConfigDict(extra="allow")
    schemas: list[str]
    totalResults: int
    Resources: list[ScimOut] = []


USER_BODY = Body(..., description="A SCIM User (urn:ietf:params:scim:schemas:core:2.0:User) with Tovholder's "
                                  "extension (role, botilbudId)")


def _base(request: Request) -> str:
    return f"{public_origin(request)}{SCIM_PREFIX}"


def _listed(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": len(resources),
            "itemsPerPage": len(resources), "startIndex": 1, "Resources": resources}


@router.post("/Users", response_model=ScimOut, status_code=201, summary="Provision a staff member")
async def create_user(request: Request, uow: UoW, user: CurrentUser, body: dict[str, Any] = USER_BODY) -> Response:
    created = await scim.create_user(uow, user, body, _base(request))
    return scim_response(created, 201, {"Location": created["meta"]["location"]})


@router.get("/Users", response_model=ScimOut, summary="Search the staff register")
async def list_users(request: Request, uow: UoW, user: CurrentUser,
                     filter: str | None = Query(None, max_length=1000, description='userName eq "…" / externalId eq "…"'),
                     start_index: int = Query(1, alias="startIndex", ge=1, le=2**31 - 1),
                     count: int | None = Query(None, ge=0, le=2**31 - 1)) -> Response:
    return scim_response(await scim.list_users(uow, user, filter=filter, start_index=start_index, count=count,
                                               base=_base(request)))


@router.get("/Users/{user_id}", response_model=ScimOut, summary="One staff member of the register")
async def get_user(request: Request, uow: UoW, user: CurrentUser, user_id: str) -> Response:
    return scim_response(await scim.get_user(uow, user, user_id, _base(request)))


@router.put("/Users/{user_id}", response_model=ScimOut, summary="Replace a staff member")
async def replace_user(request: Request, uow: UoW, user: CurrentUser, user_id: str,
                       body: dict[str, Any] = USER_BODY) -> Response:
    return scim_response(await scim.replace_user(uow, user, user_id, body, _base(request)))


@router.patch("/Users/{user_id}", response_model=ScimOut, summary="Change a staff member (e.g. active: false)")
async def patch_user(request: Request, uow: UoW, user: CurrentUser, user_id: str,
                     body: dict[str, Any] = Body(..., description="A SCIM PatchOp")) -> Response:
    return scim_response(await scim.patch_user(uow, user, user_id, body, _base(request)))


@router.delete("/Users/{user_id}", status_code=204, response_class=Response, response_model=None,
               summary="Remove a staff member (they stay in history, inactive)")
async def delete_user(uow: UoW, user: CurrentUser, user_id: str) -> Response:
    await scim.delete_user(uow, user, user_id)
    return Response(status_code=204)


@router.get("/ServiceProviderConfig", response_model=ScimOut, summary="What this SCIM service supports")
async def service_provider_config(request: Request, user: CurrentUser) -> Response:
    require_scim_client(user)
    return scim_response(res.service_provider_config(_base(request)))


@router.get("/ResourceTypes", response_model=ScimListOut, summary="The resource types (User)")
async def resource_types(request: Request, user: CurrentUser) -> Response:
    require_scim_client(user)
    return scim_response(_listed(res.resource_types(_base(request))))


@router.get("/Schemas", response_model=ScimListOut, summary="The schemas (User and Tovholder's extension)")
async def schemas(request: Request, user: CurrentUser) -> Response:
    require_scim_client(user)
    return scim_response(_listed(res.schemas(_base(request))))
