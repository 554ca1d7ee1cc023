"""The portal in-process, with the services it calls in-process too (each reached through its own ASGI
transport, by host name) — or, for a service that is down, a real closed port on loopback."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import fresh_database
from tovholder.infra import free_port
from tovholder.settings import Settings

pytestmark = [pytest.mark.integration]


class Routed(httpx.AsyncBaseTransport):
    """Requests to http://<service>/… go to that service's app; anything else over real HTTP."""

    def __init__(self, apps: dict[str, Any]) -> None:
        self.apps = {host: httpx.ASGITransport(app=app) for host, app in apps.items()}
        self.real = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self.apps.get(request.url.host, self.real)
        return await transport.handle_async_request(request)

    async def aclose(self) -> None:
        await self.real.aclose()


def closed_port_url() -> str:
    return f"http://127.0.0.1:{free_port()}"  # nothing listens there: the service is "down"


def portal_settings(pg, state_dir: Path, **overrides: Any) -> Settings:
    url = fresh_database(pg, "portal")
    return Settings(service="portal", environment="development", database_url=url, state_dir=state_dir,
                    log_format="text", **overrides)


@dataclass
class Portal:
    app: Any
    client: httpx.AsyncClient
    settings: Settings

    async def login_csrf(self) -> str:
        page = await self.client.get("/logind")
        assert page.status_code == 200, page.text
        return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)

    async def sign_in(self, sub: str) -> httpx.Response:
        csrf = await self.login_csrf()
        return await self.client.post("/logind/demo", data={"sub": sub, "csrf": csrf, "naeste": "/"})

    def session_cookie(self) -> str | None:
        return self.client.cookies.get("tovholder_portal")

    async def csrf(self, path: str = "/") -> str:
        page = await self.client.get(path)
        return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


@contextlib.asynccontextmanager
async def run_portal(settings: Settings, *, apps: dict[str, Any] | None = None, **config: Any) -> AsyncIterator[Portal]:
    from services.portal.main import PortalConfig, create_portal

    urls = {f"{name}_url": f"http://{name}" for name in (apps or {})}
    for name in ("referrals", "plans", "health", "notifications"):
        urls.setdefault(f"{name}_url", closed_port_url())
    portal_config = PortalConfig(**{**urls, "request_timeout_s": 2.0, **config})
    app = create_portal(portal_config, settings, transport=Routed(apps or {}))
    async with app.router.lifespan_context(app):
        # https: the session cookie is Secure, and httpx (unlike a browser) sends it over https only.
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://portal.test") as client:
            yield Portal(app, client, settings)
