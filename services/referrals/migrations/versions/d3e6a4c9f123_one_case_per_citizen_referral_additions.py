"""one case per citizen: a further referral joins the open case as an addition

Revision ID: d3e6a4c9f123
Revises: c2d5f3b8e012
Create Date: 2026-12-02 11:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision: str = 'd3e6a4c9f123'
down_revision: Union[str, Sequence[str], None] = 'c2d5f3b8e012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'referral_addition',
        sa.Column('id', postgresql.UUID(), nullable=False),
        sa.Column('referral_id', postgresql.UUID(), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('referrer_org', sa.String(length=100), nullable=True),
        sa.Column('referrer_name', sa.String(length=200), nullable=True),
        sa.Column('referrer_sub', sa.String(length=200), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('citizen_wishes', sa.Text(), nullable=True),
        sa.Column('requested_step', sa.Integer(), nullable=True),
        sa.Column('requested_offer', sa.String(length=40), nullable=True),
        sa.Column('requested_offer_id', sa.String(length=100), nullable=True),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['referral_id'], ['referral.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_referral_addition_referral_id', 'referral_addition', ['referral_id'])
    op.create_index('ix_referral_addition_referrer_org', 'referral_addition', ['referrer_org'])


def downgrade() -> None:
    op.drop_index('ix_referral_addition_referrer_org', table_name='referral_addition')
    op.drop_index('ix_referral_addition_referral_id', table_name='referral_addition')
    op.drop_table('referral_addition')
