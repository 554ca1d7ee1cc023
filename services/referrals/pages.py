"""Referrals' old pages live in the portal now — visitation's case list, intake and flow report, and the
citizen's own case (Min sag, issue 13) — and their addresses redirect there (``old_staff_pages``).
Referrals serves no page of its own any more."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

def old_staff_pages(portal_url: str) -> APIRouter:
    """Visitation's old pages moved to the portal: their addresses send the browser to the portal's page
    (a fixed address from the settings, never one taken from the request)."""
    router = APIRouter(tags=["pages"], include_in_schema=False)
    for old, new in MOVED_TO_PORTAL.items():
        router.add_api_route(old, _redirect(f"{portal_url}{new}"), methods=["GET"], response_class=RedirectResponse)
    return router


# The old pages and where they live in the portal now.
MOVED_TO_PORTAL = {"/visitation": "/visitation", "/visitation/report": "/visitation/flow",
                   "/min-sag": "/min-sag"}  # the citizen's own case: the portal's Min sag (issue 13)


def _redirect(target: str):
    async def moved() -> RedirectResponse:
        return RedirectResponse(target, status_code=302)

    return moved

