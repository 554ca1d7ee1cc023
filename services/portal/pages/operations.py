"""Static files and the operational endpoints (health, readiness, metrics)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from sqlalchemy import text

from tovholder import metrics
from services.portal.pages.common import STATIC, STATIC_TYPES, ctx_of

router = APIRouter(include_in_schema=False)


# ---------------------------------------------------------------- static files and operations


@router.get("/static/{path:path}")
async def static_file(path: str) -> Response:
    target = (STATIC / path).resolve()
    if STATIC.resolve() not in target.parents or not target.is_file() or target.suffix not in STATIC_TYPES:
        return HTMLResponse("Ikke fundet.", status_code=404)
    cache = "public, max-age=86400, immutable" if path.startswith("vendor/") else "public, max-age=300"
    return FileResponse(target, media_type=STATIC_TYPES[target.suffix], headers={"Cache-Control": cache})


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "alive", "service": "portal"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Ready = the portal's own database answers. The four services are not checked here: a service that
    is down costs its part of a page, not the portal's readiness."""
    try:
        async with ctx_of(request).engine.connect() as conn:
            await metrics.await_at_most(conn.execute(text("SELECT 1")), 0.8)
        state = "ok"
    except Exception as error:  # noqa: BLE001 - reported: this is the health answer
        state = f"unavailable ({type(error).__name__})"
    ready = state == "ok"
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": {"database": state}},
                        status_code=200 if ready else 503)


@router.get("/metrics")
async def prometheus_metrics() -> Response:
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)
