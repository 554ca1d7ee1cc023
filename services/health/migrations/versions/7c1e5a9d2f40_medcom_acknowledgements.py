"""MedCom acknowledgements kept for the duplicate window

Revision ID: 7c1e5a9d2f40
Revises: 5e4ab9abd980
Create Date: 2026-12-02 10:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision: str = '7c1e5a9d2f40'
down_revision: Union[str, Sequence[str], None] = '5e4ab9abd980'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('medcom_acknowledgement',
    sa.Column('sender_org', sa.String(length=200), nullable=False),
    sa.Column('message_header_id', sa.String(length=64), nullable=False),
    sa.Column('response_code', sa.String(length=20), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('acknowledgement', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('sender_org', 'message_header_id', name=op.f('pk_medcom_acknowledgement'))
    )
    op.create_index(op.f('ix_medcom_acknowledgement_received_at'), 'medcom_acknowledgement', ['received_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_medcom_acknowledgement_received_at'), table_name='medcom_acknowledgement')
    op.drop_table('medcom_acknowledgement')
