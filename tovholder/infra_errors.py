"""Telling infrastructure failures (database or broker unreachable) from bugs and bad data.

An infrastructure failure is nobody's fault and goes away: HTTP answers 503, a consumer keeps
retrying the same event instead of dead-lettering it.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout


def is_infrastructure_error(exc: BaseException) -> bool:
    if isinstance(exc, (OperationalError, InterfaceError, PoolTimeout, ConnectionError, asyncio.TimeoutError, TimeoutError)):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OSError):
        return True
    try:
        import asyncpg

        if isinstance(exc, (asyncpg.exceptions.ConnectionDoesNotExistError, asyncpg.exceptions.CannotConnectNowError,
                            asyncpg.exceptions.InterfaceError)):
            return True
    except ImportError:  # pragma: no cover
        pass
    cause = exc.__cause__ or exc.__context__
    return cause is not None and cause is not exc and isinstance(cause, (OSError, ConnectionError))
