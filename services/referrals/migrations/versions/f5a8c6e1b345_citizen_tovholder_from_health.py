"""the citizen's tovholder, as health publishes it (tovholder-chosen.v1), for EpisodeOfCare.careManager

Revision ID: f5a8c6e1b345
Revises: e4f7b5d0a234
Create Date: 2026-12-01 18:10:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'f5a8c6e1b345'
down_revision: Union[str, Sequence[str], None] = 'e4f7b5d0a234'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('citizen_tovholder',
    sa.Column('citizen_id', sa.UUID(), nullable=False),
    sa.Column('nurse_consultant_sub', sa.String(length=200), nullable=False),
    sa.Column('nurse_consultant_name', sa.String(length=200), nullable=True),
    sa.Column('botilbud_id', sa.String(length=100), nullable=False),
    sa.Column('chosen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('event_id', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('citizen_id', name=op.f('pk_citizen_tovholder'))
    )


def downgrade() -> None:
    op.drop_table('citizen_tovholder')
