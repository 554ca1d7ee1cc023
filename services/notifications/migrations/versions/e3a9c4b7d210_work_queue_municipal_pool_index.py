"""the work queue's pool of no botilbud (the municipality's visitation pool) in (sort_at, id) order

``ix_task_pool_queue`` is on (pool_role, pool_botilbud, sort_at, id), but PostgreSQL does not take
``pool_botilbud IS NULL`` as an equality when it reasons about order, so for that pool the index gave
no order and the first page sorted every open task in it (measured: 39 ms at 1,000,000 tasks, 20,000
of them in the visitation pool). A partial index of that pool alone is in order by itself.

Revision ID: e3a9c4b7d210
Revises: c7e1f0a2b9d4
Create Date: 2026-12-03 07:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'e3a9c4b7d210'
down_revision: Union[str, Sequence[str], None] = 'c7e1f0a2b9d4'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

WHERE = "pool_botilbud IS NULL AND owner IS NULL AND status = 'open'"


def upgrade() -> None:
    op.create_index('ix_task_municipal_pool_queue', 'task', ['pool_role', 'sort_at', 'id'], unique=False,
                    postgresql_where=sa.text(WHERE))


def downgrade() -> None:
    op.drop_index('ix_task_municipal_pool_queue', table_name='task', postgresql_where=sa.text(WHERE))
