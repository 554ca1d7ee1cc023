"""One world for the contract tests (the authorisation matrix and schemathesis): the four services on
one broker and one PostgreSQL, with the citizen of ``authorization_world``, started once for the package."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from tests.conftest import PREFERRED_BROKER, fresh_broker
from tests.integration.contract.authorization_world import World, build_world, notifications_service_spec
from tests.integration.plans.conftest import outbox_drained
from tests.support import run_service

SERVICES = ("referrals", "plans", "health", "notifications")


@pytest.fixture(scope="package")
def contract_broker(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """A fresh broker for the package (the tests/conftest.py ``kafka`` fixture is per module)."""
    yield from fresh_broker(PREFERRED_BROKER, request, tmp_path_factory)


@contextlib.asynccontextmanager
async def running_world(pg, broker, state) -> AsyncIterator[World]:
    """The four services on ``broker`` and one PostgreSQL, the world of ``authorization_world`` built in them."""
    specs = {"notifications": notifications_service_spec()}
    contexts = {name: run_service(specs.get(name, name), pg=pg, kafka=broker, state_dir=state,
                                  municipality="København", webhook_allow_loopback=True) for name in SERVICES}
    started = await asyncio.gather(*(cm.__aenter__() for cm in contexts.values()), return_exceptions=True)
    running = {name: svc for name, svc in zip(contexts, started) if not isinstance(svc, BaseException)}
    try:
        for svc in started:
            if isinstance(svc, BaseException):
                raise svc
        yield await build_world(running)
    finally:
        for name in reversed(list(running)):
            await outbox_drained(running[name])  # stopping a relay mid-publish can hang the shutdown (kit)
            await contexts[name].__aexit__(None, None, None)


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def world(pg, contract_broker, tmp_path_factory):
    state = tmp_path_factory.mktemp("contract-state")  # one signing key: one token works in every service
    async with running_world(pg, contract_broker, state) as built:
        yield built


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The matrix first: it needs the world as built; schemathesis then changes it at random. (Min log's
    completeness test builds a world of its own: it changes its world much as the matrix does.)"""
    items.sort(key=lambda item: "test_openapi_conformance" in item.nodeid)
