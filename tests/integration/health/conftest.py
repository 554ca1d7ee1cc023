"""A health service on real PostgreSQL and real Tansu for the module."""

from __future__ import annotations

import pytest
import pytest_asyncio

from tests.support import CPR_ENCRYPTION_KEY, CPR_HASH_KEY, run_service
from tovholder.cpr import CprVault
from tovholder.settings import Settings

@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def health(pg, kafka, tmp_path_factory):
    state = tmp_path_factory.mktemp("health-state")
    async with run_service("health", pg=pg, kafka=kafka, state_dir=state) as svc:
        yield svc


@pytest.fixture(scope="module")
def vault(tmp_path_factory) -> CprVault:
    return CprVault(Settings(service="health", environment="test", state_dir=tmp_path_factory.mktemp("vault"),
                             cpr_hash_key=CPR_HASH_KEY, cpr_encryption_key=CPR_ENCRYPTION_KEY))
