"""The portal's pages, one module per area; ``install`` adds them to the app with the guards and the
Danish error pages."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import Response
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.portal import fhir_forward
from services.portal.pages import citizen, citizens, coordinator, health, operations, sign_in, visitation, work_queue
from services.portal.pages.common import render
from tovholder.guards import install_guards
from tovholder.infra_errors import is_infrastructure_error
from tovholder.telemetry import current_trace_id

log = logging.getLogger(__name__)


def install(app: FastAPI, provider) -> None:
    ctx = app.state.ctx
    install_guards(app, ctx.settings, ctx.verifier)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = "Siden findes ikke." if exc.status_code == 404 else "Forespørgslen kunne ikke gennemføres."
        if exc.status_code == 405:
            message = "Den handling findes ikke her."
        return render(request, "error.html", exc.status_code, user=None, besked=message)

    @app.exception_handler(Exception)
    async def failure(request: Request, exc: Exception) -> Response:
        if is_infrastructure_error(exc):
            log.warning("portal dependency unavailable during %s %s: %s", request.method, request.url.path,
                        type(exc).__name__)
            return render(request, "error.html", 503, user=None,
                          besked="Portalen kan ikke nå sin database lige nu; intet er ændret. Prøv igen om lidt.")
        log.exception("unexpected error during %s %s", request.method, request.url.path)
        return render(request, "error.html", 500, user=None,
                      besked=f"Der skete en fejl hos os; intet er ændret. Reference: {current_trace_id() or 'ingen'}.")

    for module in (sign_in, work_queue, citizens, visitation, coordinator, health, operations, citizen):
        app.include_router(module.router)
    app.include_router(fhir_forward.router)  # one FHIR base URL for partners, forwarded to the owners
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls="healthz,readyz,metrics,static")
