"""One route class for the standards' own error shapes (FHIR's OperationOutcome, SCIM's Error): a
client of such an API reads no other error shape, so every refusal — the kit's errors (access
refusals audited like everywhere), an invalid request (400), an HTTP error, the database down (503) —
is answered by the subclass's ``answer``."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from tovholder.errors import TovholderError
from tovholder.infra_errors import is_infrastructure_error

DATABASE_DOWN = "Tovholder cannot reach its database right now; nothing was changed. Retry after a moment."


def where(loc: Sequence[Any]) -> str:
    return ".".join(str(p) for p in loc if p not in ("query", "path", "body")) or "request"


class ProtocolRoute(APIRoute):
    @classmethod
    def answer(cls, status: int, text: str, *, error: TovholderError | None = None,
               expression: str | None = None) -> Response:
        raise NotImplementedError

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        answer = self.answer

        async def protocol_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except TovholderError as exc:
                if exc.audited:  # a refusal is on record however it is answered
                    from tovholder.service import audit_refusal  # the service module imports the kit's modules

                    await audit_refusal(request, exc)
                return answer(exc.status_code, exc.en, error=exc)
            except RequestValidationError as exc:
                problems = [f"{where(err['loc'])}: {err['msg']}" for err in exc.errors()]
                return answer(400, "; ".join(problems) or "The request is not valid.",
                              expression=where(exc.errors()[0]["loc"]) if exc.errors() else None)
            except HTTPException as exc:
                return answer(exc.status_code, str(exc.detail))
            except Exception as exc:
                if is_infrastructure_error(exc):
                    return answer(503, DATABASE_DOWN)
                raise

        return protocol_handler
