"""the drift reasons already signalled for a temporary (section 107) stay

Revision ID: e4f7b5d0a234
Revises: d3e6a4c9f123
Create Date: 2026-12-02 11:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision: str = 'e4f7b5d0a234'
down_revision: Union[str, Sequence[str], None] = 'd3e6a4c9f123'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('referral', sa.Column('drift_signalled', postgresql.JSONB(astext_type=sa.Text()), nullable=True))


def downgrade() -> None:
    op.drop_column('referral', 'drift_signalled')
