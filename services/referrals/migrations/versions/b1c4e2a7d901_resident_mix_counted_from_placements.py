"""resident mix counted from placements: the hand-typed figures go

Revision ID: b1c4e2a7d901
Revises: aa564d6200bb
Create Date: 2026-12-02 10:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'b1c4e2a7d901'
down_revision: Union[str, Sequence[str], None] = 'aa564d6200bb'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.drop_column('offer', 'mix_outward_reacting')
    op.drop_column('offer', 'mix_drug_using')
    op.drop_column('offer', 'mix_withdrawn')


def downgrade() -> None:
    for name in ('mix_withdrawn', 'mix_drug_using', 'mix_outward_reacting'):
        op.add_column('offer', sa.Column(name, sa.Integer(), server_default='0', nullable=False))
