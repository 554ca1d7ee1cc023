"""the citizen's municipality (from citizen-registered), so visitation's reads keep to their own

Visitation staff of another municipality read every citizen's timeline and the whole visitation
board: notifications knew no citizen's municipality. Citizens registered before this revision have
none: they belong to the installation's own municipality (tovholder.scopes).

Revision ID: 5d2e8c0a7f41
Revises: 8d3b6e2a7c15
Create Date: 2026-12-01 11:40:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '5d2e8c0a7f41'
down_revision: Union[str, Sequence[str], None] = '8d3b6e2a7c15'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('citizen', sa.Column('municipality', sa.String(length=100), nullable=True))


def downgrade() -> None:
    op.drop_column('citizen', 'municipality')
