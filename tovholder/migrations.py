"""Alembic, driven from code: each service keeps its revisions in services/<svc>/migrations/.

A service's env.py is two lines:

    from services.plans.models import Base
    from tovholder.migrations import run_env
    run_env(Base.metadata)

The kit's own tables (outbox, inbox, audit log, inbound messages) are part of every service's
target metadata, so autogenerate keeps them in step. New revision, against a throwaway database:
`tovholder revision <svc> -m "what changed"`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.ext.asyncio import async_engine_from_config

from tovholder.db import KIT_METADATA

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"


def alembic_config(service: str, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    return config


def upgrade(service: str, database_url: str, revision: str = "head") -> None:
    config = alembic_config(service, database_url)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        command.upgrade(config, revision)
        return
    # Called from async code (tests): migrate in a worker thread with its own event loop.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool_:
        pool_.submit(command.upgrade, config, revision).result()


def make_revision(service: str, database_url: str, message: str) -> None:
    config = alembic_config(service, database_url)
    command.upgrade(config, "head")
    command.revision(config, message=message, autogenerate=True)


def run_env(service_metadata: MetaData) -> None:
    """Body of every service's migrations/env.py."""
    target = [service_metadata, KIT_METADATA]
    config = context.config

    def do_run(connection) -> None:
        context.configure(connection=connection, target_metadata=target, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        engine = async_engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                          poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
        await engine.dispose()

    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(run_async())
        return
    raise RuntimeError("run migrations outside a running event loop (e.g. in a thread)")
