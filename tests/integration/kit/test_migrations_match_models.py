"""Each service's migrations, run to head on a new database, build exactly the tables its ``models.py``
(and the kit's tables) describe. A model changed without its migration, or a migration renamed by hand
the wrong way, shows here as the difference Alembic's autogenerate would write — before a production
database meets code that expects another schema."""

from __future__ import annotations

import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support import fresh_database
from tovholder.db import KIT_METADATA
from tovholder.settings import PROCESSES

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("service", PROCESSES)
async def test_the_migrations_at_head_are_the_models(pg, service):
    url = fresh_database(pg, service)
    metadata = importlib.import_module(f"services.{service}.models").Base.metadata
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}),
                                              [metadata, KIT_METADATA]))
    finally:
        await engine.dispose()
    assert differences == [], f"{service}: its migrations and models differ: {differences}"
