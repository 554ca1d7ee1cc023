"""a move to another offer continues the case there: the two cases name each other

Revision ID: c2d5f3b8e012
Revises: b1c4e2a7d901
Create Date: 2026-12-02 10:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision: str = 'c2d5f3b8e012'
down_revision: Union[str, Sequence[str], None] = 'b1c4e2a7d901'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('referral', sa.Column('continued_from_id', postgresql.UUID(), nullable=True))
    op.add_column('referral', sa.Column('continued_in_id', postgresql.UUID(), nullable=True))
    op.create_foreign_key('fk_referral_continued_from', 'referral', 'referral', ['continued_from_id'], ['id'])
    op.create_foreign_key('fk_referral_continued_in', 'referral', 'referral', ['continued_in_id'], ['id'])


def downgrade() -> None:
    op.drop_constraint('fk_referral_continued_in', 'referral', type_='foreignkey')
    op.drop_constraint('fk_referral_continued_from', 'referral', type_='foreignkey')
    op.drop_column('referral', 'continued_in_id')
    op.drop_column('referral', 'continued_from_id')
