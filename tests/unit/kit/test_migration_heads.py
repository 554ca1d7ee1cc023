"""Each service's migrations form one line: two revisions on the same parent (two branches merged
without re-chaining) would leave `alembic upgrade head` ambiguous and the service unable to start."""

import pytest
from alembic.script import ScriptDirectory

from contracts.topics import SERVICES
from tovholder.migrations import alembic_config


@pytest.mark.parametrize("service", SERVICES)
def test_one_head(service):
    script = ScriptDirectory.from_config(alembic_config(service, "postgresql+asyncpg://unused/unused"))
    assert len(script.get_heads()) == 1, f"{service}: several heads {script.get_heads()}; re-chain the newer revision"
