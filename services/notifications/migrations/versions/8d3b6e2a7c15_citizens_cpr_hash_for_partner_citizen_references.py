"""citizens keep the keyed CPR hash from CitizenRegistered, for partners' citizen references

Revision ID: 8d3b6e2a7c15
Revises: 4f2a8c1d9e63
Create Date: 2026-12-01 12:10:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '8d3b6e2a7c15'
down_revision: Union[str, Sequence[str], None] = '4f2a8c1d9e63'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('citizen', sa.Column('cpr_hash', sa.String(length=64), nullable=True))
    op.create_index(op.f('ix_citizen_cpr_hash'), 'citizen', ['cpr_hash'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_citizen_cpr_hash'), table_name='citizen')
    op.drop_column('citizen', 'cpr_hash')
