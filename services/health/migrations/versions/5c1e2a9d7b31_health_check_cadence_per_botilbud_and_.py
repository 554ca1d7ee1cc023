"""health-check cadence per botilbud, and the review date of a decision without a date

Revision ID: 5c1e2a9d7b31
Revises: e0d7cd1b8c35
Create Date: 2026-12-01 12:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = '5c1e2a9d7b31'
down_revision: Union[str, Sequence[str], None] = 'e0d7cd1b8c35'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('health_check_cadence',
    sa.Column('botilbud_id', sa.String(length=100), nullable=False),
    sa.Column('every_years', sa.Integer(), nullable=False),
    sa.Column('extended_every_years', sa.Integer(), nullable=True),
    sa.Column('set_by', sa.String(length=200), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('botilbud_id')
    )
    op.add_column('health_check_decision', sa.Column('review_on', sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column('health_check_decision', 'review_on')
    op.drop_table('health_check_cadence')
