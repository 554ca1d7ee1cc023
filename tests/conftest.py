"""Fixtures on real parts. PostgreSQL (one server for the session, a fresh database per service
instance) and Tansu (a fresh broker per test module, so consumer groups and offsets never leak
between modules) are started only when a test asks for them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts.topics import ALL_TOPICS
from tovholder.infra import EmbeddedPostgres, Tansu, create_topics


@pytest.fixture(scope="session")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    base = tmp_path_factory.mktemp("postgres")
    server = EmbeddedPostgres(base / "pgdata", log_file=base / "postgres.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tansu]:
    broker = Tansu(log_file=tmp_path_factory.mktemp("tansu") / "tansu.log")
    broker.start()
    asyncio.run(create_topics(broker.bootstrap, ALL_TOPICS))
    yield broker
    broker.stop()


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """Where a test's services keep their development signing key."""
    path = tmp_path / "state"
    path.mkdir()
    return path
