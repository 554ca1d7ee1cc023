"""What the browser tests share: the system Chromium driven by Playwright (never `playwright
install`), a clear skip when either is missing, and a service served over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tovholder.infra import free_port
from tovholder.service import ServiceSpec, create_service
from tovholder.settings import Settings

CHROMIUM = os.environ.get("TOVHOLDER_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying hosts this closed network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def require_browser() -> None:
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        pytest.skip(f"Chromium is missing: no executable at {CHROMIUM}. Install the Debian package: apt-get install chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("The PyPI package 'playwright' is missing: .venv/bin/pip install playwright (never 'playwright install')")


@contextlib.contextmanager
def live_server(spec: ServiceSpec, settings: Settings, *, wait_for_kafka: bool = False,
                timeout: float = 30) -> Iterator[tuple[str, object]]:
    """Serve the service with uvicorn in a thread of its own; yields (base URL, app)."""
    ready = (lambda app: app.state.ctx.kafka_started.is_set()) if wait_for_kafka else None
    with live_app(lambda: create_service(spec, settings), name=spec.name, ready=ready, timeout=timeout) as served:
        yield served


@contextlib.contextmanager
def live_app(make_app, *, name: str, ready=None, timeout: float = 30,
             port: int | None = None) -> Iterator[tuple[str, object]]:
    """Serve the app ``make_app()`` returns with uvicorn in a thread of its own (the app is made in that
    thread's event loop, where its clients must live); yields (base URL, app)."""
    import uvicorn

    port = port or free_port()
    holder: dict = {}

    def serve() -> None:
        async def main() -> None:
            app = make_app()
            server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
            holder.update(app=app, server=server)
            await server.serve()

        asyncio.run(main())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()

    def started() -> bool:
        server, app = holder.get("server"), holder.get("app")
        return bool(server and server.started and (ready is None or ready(app)))

    deadline = time.monotonic() + timeout
    while not started():
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError(f"{name} did not start within {timeout:.0f} s")
        time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}", holder["app"]
    finally:
        holder["server"].should_exit = True
        thread.join(timeout=15)
