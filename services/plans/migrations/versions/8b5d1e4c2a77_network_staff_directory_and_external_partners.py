"""network: the staff directory, and external partners as members

``staff_member`` is the smallest honest staff directory (services/plans/domain/staff.py): staff
plans has seen sign in (the identity provider's token claims: sub, role, botilbud) and, in
development, the demo staff. A network member must be found there at the citizen's botilbud, or be a
named external partner: ``network_member`` gains ``kind`` ('staff' | 'external'), ``name`` and
``organisation``.

Existing network members: all become kind 'staff' and stay as they are. Their ids were not checked
when they were added; they are not removed now (the network is the citizen's choice), and the
directory learns each of them the first time they sign in.

Revision ID: 8b5d1e4c2a77
Revises: 3f0c2a7d9b14
Create Date: 2026-12-01 12:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '8b5d1e4c2a77'
down_revision: Union[str, Sequence[str], None] = '3f0c2a7d9b14'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'staff_member',
        sa.Column('staff_id', sa.String(length=200), nullable=False),
        sa.Column('role', sa.String(length=40), nullable=False),
        sa.Column('botilbud_id', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=True),
        sa.Column('source', sa.String(length=10), nullable=False),
        sa.Column('first_seen_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('staff_id'),
    )
    op.create_index(op.f('ix_staff_member_botilbud_id'), 'staff_member', ['botilbud_id'], unique=False)
    op.add_column('network_member', sa.Column('kind', sa.String(length=10), server_default='staff', nullable=False))
    op.add_column('network_member', sa.Column('name', sa.String(length=200), nullable=True))
    op.add_column('network_member', sa.Column('organisation', sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.execute("UPDATE network_member SET removed_at = now(), removed_by = 'downgrade' "
               "WHERE kind = 'external' AND removed_at IS NULL")
    op.drop_column('network_member', 'organisation')
    op.drop_column('network_member', 'name')
    op.drop_column('network_member', 'kind')
    op.drop_index(op.f('ix_staff_member_botilbud_id'), table_name='staff_member')
    op.drop_table('staff_member')
