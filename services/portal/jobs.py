"""The portal's one background loop: remove sessions that timed out and sign-ins never finished."""

from __future__ import annotations

import asyncio
import logging

from services.portal import services as sl

log = logging.getLogger(__name__)


async def purge_sessions_job(ctx) -> None:
    while True:
        try:
            async with ctx.uow() as uow:
                await sl.purge_stale(uow, ctx.config.session_policy)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - the database may be away; try again next round
            log.warning("could not purge stale portal sessions: %s", type(error).__name__)
        await asyncio.sleep(ctx.config.purge_interval_s)
