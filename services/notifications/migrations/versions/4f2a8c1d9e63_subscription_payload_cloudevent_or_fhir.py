"""subscriptions choose their payload: the CloudEvent or the changed resource as FHIR R4

Revision ID: 4f2a8c1d9e63
Revises: 194754180a02
Create Date: 2026-12-01 11:50:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '4f2a8c1d9e63'
down_revision: Union[str, Sequence[str], None] = '194754180a02'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('subscription', sa.Column('payload', sa.String(length=20), server_default=sa.text("'cloudevent'"),
                                            nullable=False))


def downgrade() -> None:
    op.drop_column('subscription', 'payload')
